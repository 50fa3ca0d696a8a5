package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSafeNext(t *testing.T) {
	const login, fallback = "/account/login/", "/account/two_factor/"
	tests := map[string]string{
		"/secret/":                      "/secret/",
		"/secret/?a=1&b=%2F%2F":         "/secret/?a=1&b=%2F%2F",
		"/":                             "/",
		"/a#frag":                       "/a#frag",
		"/%2F%2Fevil.example":           "/%2F%2Fevil.example", // a path, not a host
		"":                              fallback,
		"secret/":                       fallback,
		"//evil.example":                fallback,
		"///evil.example":               fallback,
		"/\\evil.example":               fallback,
		"\\\\evil.example":              fallback,
		"/a\\b":                         fallback,
		"https://evil.example/":         fallback,
		"http:/evil.example":            fallback,
		"javascript:alert(1)":           fallback,
		"data:text/html,x":              fallback,
		"/\t/evil.example":              fallback,
		"/\n/evil.example":              fallback,
		"/\x00":                         fallback,
		"/a b":                          fallback,
		" /a":                           fallback,
		"/a\u00a0b":                     fallback,
		"/a\u2028b":                     fallback,
		"/\xff":                         fallback,
		"/account/login/":               fallback,
		"/account/login":                fallback,
		"/account/login/?next=/x/":      fallback,
		"/account/./login/":             fallback,
		"/account/login/extra/":         "/account/login/extra/",
		"/" + strings.Repeat("a", 3000): fallback,
	}
	for in, want := range tests {
		if got := safeNext(in, login, fallback); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSafeNext: whatever comes in, what goes out is the fallback or a path
// that every URL parser resolves on this host.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/secret/", "//evil", "/\\evil", "https://x", "/a?b#c", "/account/login/", "/\t/x", "/%2f%2fx", "/@evil", "/.//evil"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://site.example/account/login/")
	f.Fuzz(func(t *testing.T, next string) {
		const fallback = "/account/two_factor/"
		got := safeNext(next, "/account/login/", fallback)
		if got == fallback {
			return
		}
		if got != next {
			t.Fatalf("safeNext(%q) = %q: neither the input nor the fallback", next, got)
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\x00\t\r\n ") || !utf8.ValidString(got) {
			t.Fatalf("accepted %q", got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" {
			t.Fatalf("accepted %q (%v)", got, err)
		}
		if r := base.ResolveReference(u); r.Host != "site.example" || r.Scheme != "https" {
			t.Fatalf("%q resolves to %s", got, r)
		}
		if samePath(got, "/account/login/") {
			t.Fatalf("accepted the login page %q", got)
		}
	})
}

func TestParseRememberCookie(t *testing.T) {
	const prefix = "remember-cookie_"
	secret := strings.Repeat("A", 43)
	tests := []struct {
		name, value string
		ok          bool
	}{
		{prefix + "abcdefghijklmnopqrstuvwxyz", secret, true},
		{prefix + "a-b_C9", secret, true},
		{prefix, secret, false},
		{prefix + strings.Repeat("a", 65), secret, false},
		{prefix + "a.b", secret, false},
		{prefix + "abc", "short", false},
		{prefix + "abc", strings.Repeat("A", 257), false},
		{prefix + "abc", "AAAAAAAAAAAAAAAAA=", false},
		{prefix + "abc", "AAAA AAAAAAAAAAAAA", false},
		{"other_abc", secret, false},
		{"", "", false},
	}
	for _, tt := range tests {
		id, sec, ok := parseRememberCookie(prefix, tt.name, tt.value)
		if ok != tt.ok || (ok && (id != tt.name[len(prefix):] || sec != tt.value)) {
			t.Errorf("parseRememberCookie(%q, %q) = %q, %q, %v", tt.name, tt.value, id, sec, ok)
		}
	}
}

func FuzzParseRememberCookie(f *testing.F) {
	f.Add("remember-cookie_abcdefghijklmnopqrstuvwxyz", strings.Repeat("A", 43))
	f.Add("remember-cookie_", "")
	f.Add("remember-cookie_\xff", "\x00")
	f.Fuzz(func(t *testing.T, name, value string) {
		id, sec, ok := parseRememberCookie("remember-cookie_", name, value)
		if !ok {
			if id != "" || sec != "" {
				t.Fatal("a refused cookie returned parts")
			}
			return
		}
		if name != "remember-cookie_"+id || sec != value || !token(id, 1, 64) || !token(sec, 16, 256) {
			t.Fatalf("accepted %q=%q as %q/%q", name, value, id, sec)
		}
		if !validCookieName(name) {
			t.Fatalf("accepted a name we cannot write back: %q", name)
		}
	})
}

// FuzzWebAuthnCredential posts anything as a security key's credential at
// the sign-in's code step, the setup's key step and a step-up form: each
// answers with a page or a redirect, never a server error, and only the
// right key's answer signs in.
func FuzzWebAuthnCredential(f *testing.F) {
	for _, s := range []string{"", "{}", "null", `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}`,
		`{"id":"x","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`,
		`{"response":{"attestationObject":"oA"}}`, "\xff\x00", strings.Repeat("[", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cred string) {
		e := waEnv(t)
		u := e.user("alice")
		k, _ := e.key(u, "")
		c := e.client()
		c.login("alice", "correct horse")
		if r := c.credential(cred); r.status >= 500 || r.status == http.StatusFound {
			t.Fatalf("sign-in: status %d", r.status)
		}
		e.user("bob")
		b := e.client()
		chooseMethod(t, b, "bob", "webauthn")
		if r := b.post("/account/two_factor/setup/", url.Values{"step": {"webauthn"}, "credential": {cred}}); r.status >= 500 {
			t.Fatalf("setup: status %d", r.status)
		}
		e.clock.Add(time.Minute) // past the backoff of the failure above
		s := e.client()
		r := s.login("alice", "correct horse")
		if r = s.credential(k.get(t, optionsOf(r))); r.status != http.StatusFound {
			t.Fatalf("sign-in with the key: status %d", r.status)
		}
		e.clock.Add(time.Hour)
		r = s.get("/account/two_factor/disable/")
		if r := s.post("/account/two_factor/disable/", url.Values{"understand": {"on"}, "credential": {cred}, "ceremony": {ceremonyOf(r)}}); r.status != http.StatusOK {
			t.Fatalf("step-up: status %d", r.status)
		}
	})
}
