package otp

import (
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bounds that ParseKeyURI enforces.
const (
	// MinSecretLen is the shortest secret accepted from a URI, in bytes:
	// 80 bits, the 16-character base32 secrets many services still issue.
	// RFC 4226 asks for at least 128 bits; new keys should have 20 bytes.
	MinSecretLen = 10
	// MaxSecretLen is the longest secret accepted from a URI, in bytes: the
	// size of a SHA-512 digest and of the RFC 6238 SHA-512 test key.
	MaxSecretLen = 64
	// MaxPeriod is the longest TOTP period accepted from a URI, in seconds.
	MaxPeriod = 3600
)

// ErrKeyURI is wrapped by every error ParseKeyURI returns; the message
// after "invalid otpauth uri: " says what is wrong.
var ErrKeyURI = errors.New("invalid otpauth uri")

// b32 is the base32 encoding of key URIs: standard alphabet, no padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// KeyURI is the content of an otpauth:// URI, the format authenticator apps
// read from a QR code to enrol a key.
type KeyURI struct {
	// Type is "totp" or "hotp". String and IssuerPrefixed write an HOTP URI
	// for "hotp" (in any case) and a TOTP URI for anything else.
	Type string
	// Issuer names the service; Account names the user. Both are shown by
	// the app.
	Issuer, Account string
	// Secret is the shared key.
	Secret []byte
	// Algorithm is the HMAC hash; the zero value is SHA1.
	Algorithm Algorithm
	// Digits is the code length; 0 means DefaultDigits.
	Digits int
	// Period is the TOTP step in seconds; 0 means DefaultStep. Not used for
	// HOTP.
	Period int64
	// Counter is the HOTP counter the app starts from: the next counter the
	// server expects (django-otp HOTPDevice.counter). Not used for TOTP.
	Counter uint64
	// Image is the URL of a logo some apps show (TOTP only, String only).
	Image string
}

func (k KeyURI) isHOTP() bool { return strings.EqualFold(k.Type, "hotp") }

func (k KeyURI) typ() string {
	if k.isHOTP() {
		return "hotp"
	}
	return "totp"
}

func (k KeyURI) digits() int {
	if k.Digits == 0 {
		return DefaultDigits
	}
	return k.Digits
}

func (k KeyURI) period() int64 {
	if k.Period == 0 {
		return DefaultStep
	}
	return k.Period
}

// label joins issuer and account with sep. Without an issuer the label is
// the account alone, except that an account containing ':' is written after
// an empty issuer (":a:b") so that a reader does not take the part before
// its first colon for an issuer.
func label(issuer, sep, account string) string {
	if issuer != "" {
		return issuer + sep + account
	}
	if strings.IndexByte(account, ':') >= 0 {
		return ":" + account
	}
	return account
}

// String returns the URI in the form django-otp's config_url produces:
//
//	otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&algorithm=SHA1&digits=6&period=30&issuer=ISSUER&image=URL
//	otpauth://hotp/ISSUER:ACCOUNT?secret=BASE32&algorithm=SHA1&digits=6&counter=0&issuer=ISSUER
//
// Every ':' is removed from the issuer, which then prefixes the label
// followed by ':'. The label and the issuer are percent-encoded as RFC 3986
// requires (space is %20, ':' is %3A, '@' is %40, '/' is %2F); the image URL
// keeps its ':' and '/'. Without an issuer the label is the account and no
// issuer parameter is written; image is written for TOTP only. The secret is
// upper-case base32 without padding. String does not validate: zero Digits
// and Period are written as their defaults, other values as they are.
func (k KeyURI) String() string {
	var b strings.Builder
	issuer := strings.ReplaceAll(k.Issuer, ":", "")
	b.WriteString("otpauth://")
	b.WriteString(k.typ())
	b.WriteByte('/')
	escape(&b, label(issuer, ":", k.Account), "", false)
	b.WriteString("?secret=")
	b.WriteString(b32.EncodeToString(k.Secret))
	b.WriteString("&algorithm=")
	escape(&b, k.Algorithm.String(), "", false)
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(k.digits()))
	if k.isHOTP() {
		b.WriteString("&counter=")
		b.WriteString(strconv.FormatUint(k.Counter, 10))
	} else {
		b.WriteString("&period=")
		b.WriteString(strconv.FormatInt(k.period(), 10))
	}
	if issuer != "" {
		b.WriteString("&issuer=")
		escape(&b, issuer, "", false)
	}
	if k.Image != "" && !k.isHOTP() {
		b.WriteString("&image=")
		escape(&b, k.Image, ":/", false)
	}
	return b.String()
}

// IssuerPrefixed returns the URI in the form django-two-factor-auth shows
// on its setup page:
//
//	otpauth://totp/ISSUER%3A%20ACCOUNT?secret=BASE32&digits=6&issuer=ISSUER
//
// The label is issuer, ": " and account, percent-encoded as UTF-8 (RFC
// 3986); the issuer parameter is form-encoded (space is '+'). The secret
// comes first because Microsoft Authenticator reads only URIs that start
// with it. The algorithm and period are written only when they differ from
// SHA1 and 30 seconds: apps assume exactly those defaults when the
// parameters are missing, so the usual URI keeps django-two-factor-auth's
// exact form, while a non-default value is always written because an app
// that assumed the default would compute wrong codes. HOTP URIs carry the
// counter. Without an issuer the label is the account (see String for
// accounts containing ':') and no issuer parameter is written. The image is
// never written.
func (k KeyURI) IssuerPrefixed() string {
	var b strings.Builder
	b.WriteString("otpauth://")
	b.WriteString(k.typ())
	b.WriteByte('/')
	escape(&b, label(k.Issuer, ": ", k.Account), "", false)
	b.WriteString("?secret=")
	b.WriteString(b32.EncodeToString(k.Secret))
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(k.digits()))
	if k.Algorithm != SHA1 {
		b.WriteString("&algorithm=")
		escape(&b, k.Algorithm.String(), "", true)
	}
	if k.isHOTP() {
		b.WriteString("&counter=")
		b.WriteString(strconv.FormatUint(k.Counter, 10))
	} else if p := k.period(); p != DefaultStep {
		b.WriteString("&period=")
		b.WriteString(strconv.FormatInt(p, 10))
	}
	if k.Issuer != "" {
		b.WriteString("&issuer=")
		escape(&b, k.Issuer, "", true)
	}
	return b.String()
}

// escape writes s percent-encoded: RFC 3986 unreserved characters and the
// bytes in keep are written as they are, every other byte as %XX. With
// plus, a space is written as '+' (HTML form encoding).
func escape(b *strings.Builder, s, keep string, plus bool) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == ' ' && plus:
			b.WriteByte('+')
		case strings.IndexByte(keep, c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0x0f])
		}
	}
}

func uriError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrKeyURI}, args...)...)
}

// ParseKeyURI reads an otpauth:// URI in either form this package writes
// and in the forms common apps and services produce. It accepts:
//
//   - the scheme "otpauth" and the type "totp" or "hotp" in any case;
//   - a label "Account", "Issuer:Account" or "Issuer: Account" (spaces
//     after the colon are dropped, and leading spaces of the account are
//     dropped whenever there is an issuer); the issuer parameter, when
//     present, wins over the label prefix;
//   - a base32 secret in upper or lower case, with or without '=' padding,
//     decoding to MinSecretLen..MaxSecretLen bytes (10 to 64);
//   - algorithm SHA1, SHA256 or SHA512 as ParseAlgorithm reads them
//     (default SHA1); digits 6 or 8 (default 6); for TOTP a period of 1 to
//     MaxPeriod seconds (default 30); for HOTP a decimal counter, which is
//     required; an image URL.
//
// Parameters with an empty value count as absent; unknown parameters are
// ignored; a known parameter given twice, a fragment, bad percent-encoding
// and labels or issuers that are not UTF-8 are refused. The result has Type
// "totp" or "hotp", Digits and Algorithm filled in, Period set for TOTP only
// and Counter for HOTP only. Errors wrap ErrKeyURI.
func ParseKeyURI(s string) (KeyURI, error) {
	const scheme = "otpauth://"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return KeyURI{}, uriError("scheme must be otpauth://")
	}
	rest := s[len(scheme):]
	if strings.IndexByte(rest, '#') >= 0 {
		return KeyURI{}, uriError("a fragment (#) is not allowed")
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	typ, rawLabel, _ := strings.Cut(rest, "/")
	var k KeyURI
	switch strings.ToLower(typ) {
	case "totp":
		k.Type = "totp"
	case "hotp":
		k.Type = "hotp"
	default:
		return KeyURI{}, uriError("type must be totp or hotp")
	}
	lbl, err := url.PathUnescape(rawLabel)
	if err != nil {
		return KeyURI{}, uriError("label is not correctly percent-encoded")
	}
	if !utf8.ValidString(lbl) {
		return KeyURI{}, uriError("label is not valid UTF-8")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return KeyURI{}, uriError("query is not correctly encoded")
	}
	get := func(name string) (string, error) {
		v := q[name]
		if len(v) > 1 {
			return "", uriError("parameter %s is given more than once", name)
		}
		if len(v) == 0 {
			return "", nil
		}
		return v[0], nil
	}

	secret, err := get("secret")
	if err != nil {
		return KeyURI{}, err
	}
	if secret == "" {
		return KeyURI{}, uriError("secret is missing")
	}
	if k.Secret, err = decodeSecret(secret); err != nil {
		return KeyURI{}, err
	}

	issuer, err := get("issuer")
	if err != nil {
		return KeyURI{}, err
	}
	if !utf8.ValidString(issuer) {
		return KeyURI{}, uriError("issuer is not valid UTF-8")
	}
	k.Issuer, k.Account = splitLabel(lbl, issuer)

	alg, err := get("algorithm")
	if err != nil {
		return KeyURI{}, err
	}
	if alg != "" {
		if k.Algorithm, err = ParseAlgorithm(alg); err != nil {
			return KeyURI{}, uriError("algorithm must be SHA1, SHA256 or SHA512")
		}
	}

	digits, err := get("digits")
	if err != nil {
		return KeyURI{}, err
	}
	k.Digits = DefaultDigits
	if digits != "" {
		switch digits {
		case "6":
			k.Digits = 6
		case "8":
			k.Digits = 8
		default:
			return KeyURI{}, uriError("digits must be 6 or 8")
		}
	}

	if k.Type == "totp" {
		period, err := get("period")
		if err != nil {
			return KeyURI{}, err
		}
		k.Period = DefaultStep
		if period != "" {
			p, ok := parseDecimal(period)
			if !ok || p < 1 || p > MaxPeriod {
				return KeyURI{}, uriError("period must be between 1 and %d seconds", MaxPeriod)
			}
			k.Period = int64(p)
		}
	} else {
		counter, err := get("counter")
		if err != nil {
			return KeyURI{}, err
		}
		if counter == "" {
			return KeyURI{}, uriError("counter is missing (required for hotp)")
		}
		c, ok := parseDecimal(counter)
		if !ok {
			return KeyURI{}, uriError("counter must be a decimal number below 2^64")
		}
		k.Counter = c
	}

	if k.Image, err = get("image"); err != nil {
		return KeyURI{}, err
	}
	return k, nil
}

// splitLabel finds issuer and account in a label. A non-empty issuer
// parameter wins; a label prefix equal to it, or else everything up to the
// label's first colon, is removed from the account.
func splitLabel(lbl, issuerParam string) (issuer, account string) {
	switch {
	case issuerParam != "" && strings.HasPrefix(lbl, issuerParam+":"):
		issuer, account = issuerParam, lbl[len(issuerParam)+1:]
	case strings.IndexByte(lbl, ':') >= 0:
		issuer, account, _ = strings.Cut(lbl, ":")
		if issuerParam != "" {
			issuer = issuerParam
		}
		account = strings.TrimLeft(account, " ")
	default:
		issuer, account = issuerParam, lbl
	}
	if issuer != "" {
		account = strings.TrimLeft(account, " ")
	}
	return issuer, account
}

// decodeSecret decodes a base32 secret in either case, with or without
// padding, and checks its length.
func decodeSecret(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '2' <= c && c <= '7' || c == '=') {
			return nil, uriError("secret is not valid base32")
		}
	}
	// Each 8 base32 characters hold 5 bytes; refuse absurd lengths before
	// decoding them.
	if len(s) > (MaxSecretLen/5+1)*8+8 {
		return nil, uriError("secret must be %d to %d bytes", MinSecretLen, MaxSecretLen)
	}
	s = strings.TrimRight(s, "=")
	// A final group of 1, 3 or 6 characters cannot end on a byte boundary:
	// the input was cut or has a stray character.
	switch len(s) % 8 {
	case 1, 3, 6:
		return nil, uriError("secret is not valid base32")
	}
	key, err := b32.DecodeString(strings.ToUpper(s))
	if err != nil {
		return nil, uriError("secret is not valid base32")
	}
	if len(key) < MinSecretLen || len(key) > MaxSecretLen {
		return nil, uriError("secret must be %d to %d bytes, got %d", MinSecretLen, MaxSecretLen, len(key))
	}
	return key, nil
}

// parseDecimal parses a non-empty string of ASCII digits (no sign) that fits
// in a uint64.
func parseDecimal(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}
