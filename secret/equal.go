package secret

import "crypto/subtle"

// Equal reports whether a and b are equal, in time that depends only on their
// lengths and not on their contents. Use it for every comparison that
// involves a secret or a hash of one: == and bytes.Equal return at the first
// differing byte, and the time they take lets an attacker recover a secret
// one byte at a time (timing attack). Values of different lengths are never
// equal.
func Equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

// EqualString is [Equal] for strings.
func EqualString(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
