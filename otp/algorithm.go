package otp

import (
	"errors"
	"strconv"
)

// Algorithm is the hash function used inside HMAC to compute one-time
// passwords. The zero value is SHA1, the algorithm of RFC 4226 and the only
// one most authenticator apps implement.
type Algorithm uint8

// The hash functions allowed by RFC 6238.
const (
	// SHA1 is HMAC-SHA-1, the default for HOTP and TOTP.
	SHA1 Algorithm = iota
	// SHA256 is HMAC-SHA-256 (RFC 6238 only).
	SHA256
	// SHA512 is HMAC-SHA-512 (RFC 6238 only).
	SHA512
)

// ErrAlgorithm is returned by ParseAlgorithm for a name it does not know.
var ErrAlgorithm = errors.New("unsupported algorithm: want SHA1, SHA256 or SHA512")

// String returns the name used in otpauth URIs: "SHA1", "SHA256" or
// "SHA512". An undefined value prints as "Algorithm(n)".
func (a Algorithm) String() string {
	switch a {
	case SHA1:
		return "SHA1"
	case SHA256:
		return "SHA256"
	case SHA512:
		return "SHA512"
	}
	return "Algorithm(" + strconv.Itoa(int(a)) + ")"
}

// valid reports whether a is one of the three defined algorithms.
func (a Algorithm) valid() bool { return a <= SHA512 }

// ParseAlgorithm returns the Algorithm named by s. Matching ignores ASCII
// case and accepts an optional hyphen after "SHA", so "SHA1", "sha1" and
// "SHA-1" all name SHA1 (the hyphenated spelling is what RFC 6238 and some
// exporters write). Surrounding spaces and every other spelling, including
// the empty string, return ErrAlgorithm.
func ParseAlgorithm(s string) (Algorithm, error) {
	if len(s) < 4 || len(s) > 7 {
		return 0, ErrAlgorithm
	}
	if lower(s[0]) != 's' || lower(s[1]) != 'h' || lower(s[2]) != 'a' {
		return 0, ErrAlgorithm
	}
	rest := s[3:]
	if rest[0] == '-' {
		rest = rest[1:]
	}
	switch rest {
	case "1":
		return SHA1, nil
	case "256":
		return SHA256, nil
	case "512":
		return SHA512, nil
	}
	return 0, ErrAlgorithm
}

// lower maps an ASCII upper-case letter to lower case.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
