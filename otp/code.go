package otp

import "errors"

// Errors returned by ParseCode. Test for them with errors.Is.
var (
	// ErrCodeEmpty means the input was empty or only whitespace.
	ErrCodeEmpty = errors.New("code is empty")
	// ErrCodeMalformed means the input held a character other than an ASCII
	// digit or a space between digits (letters, signs, '_', '-', non-ASCII
	// digits and so on).
	ErrCodeMalformed = errors.New("code may contain only the digits 0-9")
	// ErrCodeLength means the input had the wrong number of digits.
	ErrCodeLength = errors.New("code has the wrong number of digits")
	// ErrDigits means a code length outside MinDigits..MaxDigits was asked
	// for.
	ErrDigits = errors.New("number of digits must be between 6 and 8")
)

// Format renders code with leading zeros to digits characters, as a user
// sees it: Format(5428, 6) is "005428". A code with more digits than asked
// for is printed in full, never truncated. digits below 1 count as 1 and
// above 10 (the length of the largest uint32) as 10.
func Format(code uint32, digits int) string {
	var buf [10]byte
	digits = max(1, min(digits, len(buf)))
	i := len(buf)
	for code > 0 || len(buf)-i < digits {
		i--
		buf[i] = byte('0' + code%10)
		code /= 10
	}
	return string(buf[i:])
}

// ParseCode parses a code typed by a user. Surrounding ASCII whitespace is
// removed, as are spaces between digit groups ("123 456"); what remains must
// be exactly digits ASCII digits. Leading zeros are kept in the sense that
// "005428" is the code 5428 of length 6 (render it again with Format).
//
// Everything else is refused, so that a form never accepts what the user
// did not mean: letters, signs ('+', '-'), separators such as '_' or tabs
// inside the code, Unicode digits, too few or too many digits. The errors
// are ErrCodeEmpty, ErrCodeMalformed and ErrCodeLength (a character error is
// reported before a length error), or ErrDigits when digits itself is
// outside MinDigits..MaxDigits (0 means DefaultDigits). ParseCode makes no
// heap allocations.
func ParseCode(s string, digits int) (uint32, error) {
	if digits == 0 {
		digits = DefaultDigits
	}
	if digits < MinDigits || digits > MaxDigits {
		return 0, ErrDigits
	}
	s = trimASCIISpace(s)
	if s == "" {
		return 0, ErrCodeEmpty
	}
	var v uint32
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			// a separator between digit groups
		case '0' <= c && c <= '9':
			if n < digits {
				v = v*10 + uint32(c-'0')
			}
			n++
		default:
			return 0, ErrCodeMalformed
		}
	}
	if n != digits {
		return 0, ErrCodeLength
	}
	return v, nil
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func trimASCIISpace(s string) string {
	for len(s) > 0 && isASCIISpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isASCIISpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
