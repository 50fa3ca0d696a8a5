package web

import (
	"net/url"
	"path"
	"strings"
	"unicode/utf8"
)

// maxNext bounds the length of a "next" path.
const maxNext = 2048

// safeNext is the one check of every "next" parameter (SPEC §10.7, open
// redirects): it returns next when it is a local path other than the login
// page, else fallback. A local path starts with one "/" and has no host, no
// scheme, no backslash (browsers read "/\evil.example" as "//evil.example"),
// no control character or space (browsers drop some of them, which can turn
// "/\t/evil.example" into "//evil.example"), and is valid UTF-8. The login
// page is refused so that signing in cannot loop back to it.
func safeNext(next, loginURL, fallback string) string {
	if !isLocalPath(next) || samePath(next, loginURL) {
		return fallback
	}
	return next
}

// isLocalPath reports whether s is a path on this site that a browser
// cannot read as another host.
func isLocalPath(s string) bool {
	if s == "" || len(s) > maxNext || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return false
		}
	}
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		// Unicode spaces and format characters that some browsers strip
		// or fold are as suspect as their ASCII cousins.
		if r == 0x85 || r == 0xa0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200f) || r == 0x2028 || r == 0x2029 ||
			r == 0x202f || r == 0x205f || r == 0x3000 || r == 0xfeff || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	return true
}

// samePath reports whether a and b name the same path, ignoring the query,
// the fragment and dot segments.
func samePath(a, b string) bool {
	return cleanPath(a) == cleanPath(b)
}

func cleanPath(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "/"
	}
	c := path.Clean(s)
	if c != "/" {
		c += "/"
	}
	return c
}
