// Package phone parses, formats and masks phone numbers (and masks email
// addresses) for the sms, call and email devices.
//
// Numbers are checked with libphonenumber (github.com/nyaruka/phonenumbers):
// only valid numbers are accepted and they are stored in E.164 form
// ("+41524204242"). Pages show them in the international format
// ("+41 52 420 42 42") or, where the person looking is not yet known to own
// the number (the sign-in page, notices), masked ("+41 ** *** ** 42").
//
// Nothing here logs, and errors never repeat the number that was typed:
// phone numbers are personal data.
package phone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalid is wrapped by every error Parse returns. Its text is the
// message to show next to the phone number field.
var ErrInvalid = errors.New("Please enter a valid phone number, including your country code starting with + or 00.")

// ErrRegion is returned by Parse and CheckRegion for a default region that
// libphonenumber does not know. It is a configuration error
// (phone.default_region), not the user's.
var ErrRegion = errors.New("phone: unknown region code")

// maxInput bounds what Parse looks at; the longest E.164 number has 16
// characters, so 64 leaves room for any amount of formatting.
const maxInput = 64

// Parse checks a phone number typed by a user and returns it in E.164 form.
//
// Spaces, dashes, dots and parentheses are ignored. A number starts with +
// or with the international prefix 00 followed by the country code; with a
// defaultRegion (an ISO 3166-1 region code such as "NL", case-insensitive)
// a national number is accepted too and read as a number of that region.
// Letters, extensions and anything libphonenumber does not consider a valid
// number are refused with an error wrapping ErrInvalid.
func Parse(input, defaultRegion string) (string, error) {
	region, err := checkRegion(defaultRegion)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(input)
	if s == "" {
		return "", invalid("empty")
	}
	if len(s) > maxInput {
		return "", invalid("too long")
	}
	var digits strings.Builder
	plus := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+':
			if i != 0 {
				return "", invalid("+ is only allowed at the start")
			}
			plus = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", invalid("only digits, +, spaces, dashes, dots and parentheses are allowed")
		}
	}
	d := digits.String()
	if !plus && strings.HasPrefix(d, "00") {
		plus, d = true, d[2:]
	}
	if d == "" {
		return "", invalid("no digits")
	}
	if len(d) > 17 {
		return "", invalid("too many digits")
	}
	if !plus && region == "" {
		return "", invalid("no country code")
	}
	toParse, parseRegion := d, region
	if plus {
		toParse, parseRegion = "+"+d, "ZZ"
	}
	num, err := phonenumbers.Parse(toParse, parseRegion)
	if err != nil {
		return "", invalid("not a phone number")
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", invalid("not a valid number")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// CheckRegion reports whether region (case-insensitive) is a region code
// libphonenumber knows; "" is accepted and means no default region. Use it
// to check phone.default_region at start-up.
func CheckRegion(region string) error {
	_, err := checkRegion(region)
	return err
}

func checkRegion(region string) (string, error) {
	if region == "" {
		return "", nil
	}
	r := strings.ToUpper(strings.TrimSpace(region))
	if len(r) != 2 || !phonenumbers.GetSupportedRegions()[r] {
		return "", fmt.Errorf("%w: %q (want an ISO 3166-1 code such as NL or US)", ErrRegion, region)
	}
	return r, nil
}

func invalid(reason string) error {
	return fmt.Errorf("invalid phone number (%s): %w", reason, ErrInvalid)
}

// IsE164 reports whether s has the shape of an E.164 number: + and 2 to 15
// digits, the first not 0. It does not check that the number exists.
func IsE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Format returns an E.164 number in the international format
// ("+41524204242" → "+41 52 420 42 42"). Anything libphonenumber cannot read
// is returned unchanged.
func Format(e164 string) string {
	if len(e164) > maxInput || !strings.HasPrefix(e164, "+") {
		return e164
	}
	num, err := phonenumbers.Parse(e164, "ZZ")
	if err != nil {
		return e164
	}
	return phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
}

// Mask formats a number like Format and hides every digit that has at least
// three characters before it and two after it, so only the start of the
// country code and the last two digits stay visible:
// "+41524204242" → "+41 ** *** ** 42", "+31101234567" → "+31 ** *** **67".
// Input that is not an E.164 number is masked as it is, without
// reformatting ("+41 524 204 242" → "+41 *** *** *42").
func Mask(s string) string {
	if IsE164(s) {
		s = Format(s)
	}
	return maskDigits(s)
}

// maskDigits applies the seed's rule: an ASCII digit preceded by at least
// three characters and followed by at least two becomes '*'.
func maskDigits(s string) string {
	rs := []rune(s)
	for i, r := range rs {
		if r >= '0' && r <= '9' && i >= 3 && len(rs)-i-1 >= 2 {
			rs[i] = '*'
		}
	}
	return string(rs)
}

// MaskEmail hides the local part of an email address and keeps the domain:
// a local part shorter than four characters keeps its first character
// ("tim@example.org" → "t**@example.org"), a longer one its first and last
// ("bouke@example.org" → "b***e@example.org"). The address is split at its
// last @; a string without @ is masked as a local part.
func MaskEmail(addr string) string {
	local, domain, hasAt := addr, "", false
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		local, domain, hasAt = addr[:i], addr[i+1:], true
	}
	rs := []rune(local)
	var b strings.Builder
	switch n := len(rs); {
	case n == 0:
	case n < 4:
		b.WriteRune(rs[0])
		b.WriteString(strings.Repeat("*", n-1))
	default:
		b.WriteRune(rs[0])
		b.WriteString(strings.Repeat("*", n-2))
		b.WriteRune(rs[n-1])
	}
	if hasAt {
		b.WriteByte('@')
		b.WriteString(domain)
	}
	return b.String()
}

// ValidDeux reports whether s is a phone number as the deux API stores it:
// 7 to 15 ASCII digits and nothing else (no +, no spaces).
func ValidDeux(s string) bool {
	if len(s) < 7 || len(s) > 15 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Digits splits a code into its ASCII digits, one string each, in order
// and with leading zeros kept ("012345" → "0", "1", …, "5"), for a voice
// call that reads them out one by one. Other characters are skipped.
func Digits(code string) []string {
	out := make([]string, 0, len(code))
	for i := 0; i < len(code); i++ {
		if c := code[i]; c >= '0' && c <= '9' {
			out = append(out, code[i:i+1])
		}
	}
	return out
}
