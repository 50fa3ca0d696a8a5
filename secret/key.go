package secret

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// KeySize is the size in bytes of a secret key (secret_key, secret_keys_old).
const KeySize = 32

// keyFormatHelp ends every key format error. It never contains the value
// itself: a key in an error message would end up in logs (secret disclosure).
const keyFormatHelp = "secret key must be 32 bytes as 64 hex characters or base64"

// base64Encodings are the base64 forms a key may be written in, tried in
// order. Strict decoding refuses non-canonical trailing bits, so one key has
// exactly one spelling per form.
var base64Encodings = []*base64.Encoding{
	base64.StdEncoding.Strict(),
	base64.RawStdEncoding.Strict(),
	base64.URLEncoding.Strict(),
	base64.RawURLEncoding.Strict(),
}

// ParseKey decodes a secret key written as 64 hexadecimal characters (either
// case) or as standard or URL-safe base64, padded or not, of exactly
// [KeySize] bytes. Surrounding whitespace, such as the trailing newline of a
// key file, is ignored.
//
// Errors describe what is wrong (the length found, the characters expected)
// but never repeat the value, so that a mistyped key does not end up in logs.
// An all-zero key is refused: it is a placeholder, not a secret.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New(keyFormatHelp + " (got an empty value)")
	}
	key, err := decodeKey(s)
	if err != nil {
		return nil, err
	}
	if isZero(key) {
		return nil, errors.New("secret key is all zeros, a placeholder: generate one with `twofactor key generate`")
	}
	return key, nil
}

// decodeKey does the work of ParseKey on a trimmed, non-empty string.
func decodeKey(s string) ([]byte, error) {
	// Hex first: 64 hex characters are also valid base64 (of 48 bytes), and
	// hex is the documented form.
	if len(s)%2 == 0 && isHex(s) {
		if len(s) != 2*KeySize {
			return nil, fmt.Errorf("%s (got %d bytes)", keyFormatHelp, len(s)/2)
		}
		key, err := hex.DecodeString(s)
		if err != nil {
			// Unreachable after isHex; kept so no path returns a nil key.
			return nil, fmt.Errorf("%s (not valid hex)", keyFormatHelp)
		}
		return key, nil
	}
	decodedLen := -1
	for _, enc := range base64Encodings {
		key, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) == KeySize {
			return key, nil
		}
		decodedLen = len(key)
	}
	if decodedLen >= 0 {
		return nil, fmt.Errorf("%s (got %d bytes)", keyFormatHelp, decodedLen)
	}
	return nil, fmt.Errorf("%s (got %d characters that are neither hex nor base64)", keyFormatHelp, len(s))
}

// isHex reports whether s consists only of hexadecimal digits.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// isZero reports whether every byte of b is zero, in time independent of
// where the first non-zero byte is.
func isZero(b []byte) bool {
	var acc byte
	for _, c := range b {
		acc |= c
	}
	return acc == 0
}

// GenerateKey returns a new secret key: [KeySize] random bytes as 64
// lower-case hexadecimal characters, the form `twofactor key generate`
// prints and [ParseKey] accepts. A nil r means crypto/rand.
func GenerateKey(r io.Reader) (string, error) {
	key, err := RandomBytes(r, KeySize)
	if err != nil {
		return "", fmt.Errorf("generate secret key: %w", err)
	}
	// A broken reader that returns only zeros must not produce a key that
	// everyone can guess (and that ParseKey would refuse anyway); crypto/rand
	// never does this.
	if isZero(key) {
		return "", errors.New("generate secret key: random source returned only zeros")
	}
	return hex.EncodeToString(key), nil
}
