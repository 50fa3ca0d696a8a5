package twofactor

import (
	"io"

	"github.com/twofactor/twofactor/secret"
)

// newRandomID returns 130 random bits as 26 lower-case base32 characters.
func newRandomID(r io.Reader) (string, error) {
	return secret.RandomString(r, idAlphabet, 26)
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz234567"
