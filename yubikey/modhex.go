package yubikey

import "fmt"

// modhexAlphabet maps the nibbles 0x0–0xf to the characters a YubiKey types.
// They sit on the same keys in most keyboard layouts, so a token survives
// whatever layout the user's computer is set to.
const modhexAlphabet = "cbdefghijklnrtuv"

// modhexValue maps a byte to its nibble value plus one, or 0 when the byte is
// not a modhex character. Upper-case letters are accepted.
var modhexValue = func() (t [256]uint8) {
	for i := range len(modhexAlphabet) {
		c := modhexAlphabet[i]
		t[c] = uint8(i) + 1
		t[c-'a'+'A'] = uint8(i) + 1
	}
	return t
}()

// EncodeModhex returns the modhex encoding of b: each byte becomes two
// characters, high nibble first, from the alphabet "cbdefghijklnrtuv" (in
// place of hex's "0123456789abcdef"). The output is lower case.
func EncodeModhex(b []byte) string {
	out := make([]byte, 2*len(b))
	for i, v := range b {
		out[2*i] = modhexAlphabet[v>>4]
		out[2*i+1] = modhexAlphabet[v&0x0f]
	}
	return string(out)
}

// DecodeModhex decodes modhex text. Input is case-insensitive (a YubiKey
// types upper case when Caps Lock is on); the length must be even. The empty
// string decodes to zero bytes. Errors wrap ErrMalformed and name the first
// offending position, never the input itself.
func DecodeModhex(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("%w: modhex length %d is odd", ErrMalformed, len(s))
	}
	out := make([]byte, len(s)/2)
	if i := decodeModhexInto(out, s); i >= 0 {
		return nil, fmt.Errorf("%w: character %d is not modhex (want one of %s)", ErrMalformed, i+1, modhexAlphabet)
	}
	return out, nil
}

// decodeModhexInto decodes s, of length 2*len(dst), into dst. It returns the
// index of the first character that is not modhex, or -1.
func decodeModhexInto(dst []byte, s string) int {
	for i := range dst {
		hi, lo := modhexValue[s[2*i]], modhexValue[s[2*i+1]]
		if hi == 0 {
			return 2 * i
		}
		if lo == 0 {
			return 2*i + 1
		}
		dst[i] = (hi-1)<<4 | (lo - 1)
	}
	return -1
}

// IsModhex reports whether s is modhex text: an even number of characters,
// each from "cbdefghijklnrtuv" in either case. The empty string is modhex
// (it encodes zero bytes).
func IsModhex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if modhexValue[s[i]] == 0 {
			return false
		}
	}
	return true
}

// firstNonModhex returns the index of the first byte of s that is not a
// modhex character, or -1, whatever the length of s.
func firstNonModhex(s string) int {
	for i := 0; i < len(s); i++ {
		if modhexValue[s[i]] == 0 {
			return i
		}
	}
	return -1
}

// lowerASCII returns s with A–Z mapped to a–z, without allocating when s
// has no upper-case letter.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
