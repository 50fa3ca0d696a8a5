package secret

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// Alphabets for [RandomString].
const (
	// BackupAlphabet is the alphabet of backup codes: digits and lower-case
	// letters without 0, 1, i, l and o, which are easily confused with one
	// another when a code is read from paper and typed back.
	BackupAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

	// DigitAlphabet is the alphabet of numeric codes sent by SMS, voice or
	// email, and of deux-style numeric backup codes.
	DigitAlphabet = "0123456789"
)

// TokenSize is the number of random bytes in a [Token].
const TokenSize = 32

// reader returns r, or crypto/rand when r is nil. Only crypto/rand (or a
// reader a test injects) is ever used: math/rand output can be predicted from
// a few samples, and so could every code and token made from it.
func reader(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

// RandomBytes returns n bytes read from r (crypto/rand when r is nil). It
// reads with io.ReadFull and returns an error rather than fewer bytes: a
// short secret is a weak secret.
func RandomBytes(r io.Reader, n int) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("random bytes: negative length %d", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(reader(r), b); err != nil {
		return nil, fmt.Errorf("read random bytes: %w", err)
	}
	return b, nil
}

// RandomString returns n symbols drawn uniformly and independently from
// alphabet, using random bytes from r (crypto/rand when r is nil).
//
// The alphabet must hold between 2 and 256 distinct ASCII characters. Bytes
// that would make some symbols likelier than others (the remainder when 256
// is not a multiple of the alphabet size) are rejected and drawn again, so a
// code has its full entropy: a modulo bias would let an attacker try the
// likelier codes first.
func RandomString(r io.Reader, alphabet string, n int) (string, error) {
	if err := checkAlphabet(alphabet); err != nil {
		return "", err
	}
	if n < 0 {
		return "", fmt.Errorf("random string: negative length %d", n)
	}
	src := reader(r)
	m := len(alphabet)
	// Bytes at or above limit would bias the result; limit is the largest
	// multiple of m not above 256.
	limit := 256 - 256%m
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	// A genuine source rejects fewer than half of its bytes; one that makes
	// no progress over this many bytes is broken, and looping forever on it
	// would hang the caller.
	budget := 64*n + 1024
	for len(out) < n {
		if budget <= 0 {
			return "", errors.New("random string: random source keeps returning rejected bytes")
		}
		chunk := buf[:min(len(buf), budget)]
		if _, err := io.ReadFull(src, chunk); err != nil {
			return "", fmt.Errorf("read random bytes: %w", err)
		}
		budget -= len(chunk)
		for _, b := range chunk {
			if int(b) < limit {
				out = append(out, alphabet[int(b)%m])
				if len(out) == n {
					break
				}
			}
		}
	}
	clear(buf)
	return string(out), nil
}

// checkAlphabet validates an alphabet for RandomString. Repeated symbols
// would be drawn more often than others, and multi-byte characters would be
// cut in half, so both are refused.
func checkAlphabet(alphabet string) error {
	if len(alphabet) < 2 || len(alphabet) > 256 {
		return fmt.Errorf("random string: alphabet must have 2 to 256 symbols, not %d", len(alphabet))
	}
	var seen [256]bool
	for i := 0; i < len(alphabet); i++ {
		c := alphabet[i]
		if c >= 0x80 {
			return errors.New("random string: alphabet must be ASCII")
		}
		if seen[c] {
			return fmt.Errorf("random string: alphabet repeats the symbol %q", c)
		}
		seen[c] = true
	}
	return nil
}

// Token returns a new opaque token: [TokenSize] random bytes from r
// (crypto/rand when r is nil) encoded as unpadded base64url, 43 characters.
// It suits bearer tokens, remember-browser secrets and login challenge ids,
// which must be unguessable (256 bits) and safe in URLs and cookies.
func Token(r io.Reader) (string, error) {
	b, err := RandomBytes(r, TokenSize)
	if err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
