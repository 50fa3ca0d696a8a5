package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Key describes one configuration key. [Keys] returns them all.
type Key struct {
	// Name is the dotted lower-case name, e.g. "totp.digits".
	Name string
	// Default is the built-in value as text, in the syntax the key accepts;
	// empty when the key has no value by default.
	Default string
	// Description is one line telling what the key does and what it accepts.
	Description string
	// Seed names the setting of django-two-factor-auth, django-otp or deux
	// that the key replaces; empty when there is none.
	Seed string
	// Secret marks a key whose value is never shown: not in errors, not in
	// [Config.Redacted], not in help output.
	Secret bool
	// List marks a key that holds a list: comma-separated in the environment
	// and in flags, a native list in files.
	List bool

	codec codec
}

// Env returns the environment variable of the key: TWOFACTOR_ followed by the
// name upper-cased, with dots as underscores.
func (k Key) Env() string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(k.Name, ".", "_"))
}

// display returns the value of the key in c as it may be shown to people.
func (k Key) display(c *Config) string {
	v := k.codec.get(c)
	return k.redact(v)
}

// redact hides what must not be shown of a value of the key.
func (k Key) redact(v string) string {
	switch {
	case v == "":
		return ""
	case k.Secret:
		return redactedText
	case k.codec.urlSecret:
		return redactURL(v)
	}
	return v
}

// redactURL masks the password of a URL and the values of query parameters
// that look secret (pgx accepts ?password=…). A value that does not parse as
// a URL with a scheme is hidden entirely, since nobody can tell which part is
// the password.
func redactURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" {
		return redactedText
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return redactedText
		}
		for name := range q {
			if sensitiveParam(name) {
				q[name] = []string{"xxxxx"}
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// sensitiveParam reports whether a URL query parameter may hold a secret.
func sensitiveParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"pass", "secret", "token", "key"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// input is one value given for a key, before parsing.
type input struct {
	text   string   // the value as text (always set for scalars)
	list   []string // the items of a native list from a file
	isList bool     // the value was a native list
}

// codec reads a key's value into its typed Config field and writes it back
// as text. set returns only the reason of a failure; the loader adds the key
// name, the value and the source.
type codec struct {
	set       func(c *Config, v input) error
	get       func(c *Config) string
	list      bool // the key holds a list
	urlSecret bool // the value is a URL that may contain a password
}

// errList is returned when a native list is given for a key taking one value.
var errList = errors.New("must be a single value, not a list")

// scalarText returns the trimmed text of a value for a key that takes one
// value.
func scalarText(v input) (string, error) {
	if v.isList {
		return "", errList
	}
	return strings.TrimSpace(v.text), nil
}

// checkText rejects control characters, which have no place in any value and
// could otherwise end up in headers, cookies or logs.
func checkText(s string) error {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return errors.New("must not contain control characters")
	}
	return nil
}

// stringValue is a text key; check, when not nil, validates a non-empty value
// and returns it in canonical form.
func stringValue(field func(*Config) *string, check func(string) (string, error)) codec {
	return codec{
		set: func(c *Config, v input) error {
			s, err := scalarText(v)
			if err != nil {
				return err
			}
			if err := checkText(s); err != nil {
				return err
			}
			if s != "" && check != nil {
				if s, err = check(s); err != nil {
					return err
				}
			}
			*field(c) = s
			return nil
		},
		get: func(c *Config) string { return *field(c) },
	}
}

// requiredValue is a text key like stringValue that refuses the empty value.
func requiredValue(field func(*Config) *string, check func(string) (string, error)) codec {
	cd := stringValue(field, check)
	set := cd.set
	cd.set = func(c *Config, v input) error {
		if s, err := scalarText(v); err == nil && s == "" {
			return errors.New("must not be empty")
		}
		return set(c, v)
	}
	return cd
}

// boolValue is a boolean key.
func boolValue(field func(*Config) *bool) codec {
	return codec{
		set: func(c *Config, v input) error {
			s, err := scalarText(v)
			if err != nil {
				return err
			}
			b, err := parseBool(s)
			if err != nil {
				return err
			}
			*field(c) = b
			return nil
		},
		get: func(c *Config) string { return strconv.FormatBool(*field(c)) },
	}
}

// parseBool reads true/false, 1/0, yes/no and on/off in any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, errors.New("must be true or false (or 1/0, yes/no, on/off)")
}

// integer is the set of integer types of Config fields.
type integer interface {
	~int | ~uint8 | ~uint32
}

// intValue is an integer key whose value must lie in [min, max].
func intValue[T integer](field func(*Config) *T, min, max int64) codec {
	return codec{
		set: func(c *Config, v input) error {
			s, err := scalarText(v)
			if err != nil {
				return err
			}
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < min || n > max {
				if max == math.MaxInt32 {
					return fmt.Errorf("must be a whole number, at least %d", min)
				}
				return fmt.Errorf("must be a whole number from %d to %d", min, max)
			}
			*field(c) = T(n)
			return nil
		},
		get: func(c *Config) string { return strconv.FormatInt(int64(*field(c)), 10) },
	}
}

// intChoice is an integer key that takes one of a few values.
func intChoice(field func(*Config) *int, choices ...int) codec {
	return codec{
		set: func(c *Config, v input) error {
			s, err := scalarText(v)
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(s)
			if err != nil || !slices.Contains(choices, n) {
				texts := make([]string, len(choices))
				for i, ch := range choices {
					texts[i] = strconv.Itoa(ch)
				}
				return errors.New("must be " + orList(texts))
			}
			*field(c) = n
			return nil
		},
		get: func(c *Config) string { return strconv.Itoa(*field(c)) },
	}
}

// enumValue is a text key that takes one of the allowed values; fold makes
// the comparison case-insensitive, storing the canonical spelling.
func enumValue(field func(*Config) *string, fold bool, allowed ...string) codec {
	return codec{
		set: func(c *Config, v input) error {
			s, err := scalarText(v)
			if err != nil {
				return err
			}
			for _, a := range allowed {
				if s == a || (fold && strings.EqualFold(s, a)) {
					*field(c) = a
					return nil
				}
			}
			quoted := make([]string, 0, len(allowed))
			empty := false
			for _, a := range allowed {
				if a == "" {
					empty = true
					continue
				}
				quoted = append(quoted, a)
			}
			msg := "must be " + orList(quoted)
			if empty {
				msg += ", or empty"
			}
			return errors.New(msg)
		},
		get: func(c *Config) string { return *field(c) },
	}
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// durOpts restricts a duration key.
type durOpts struct {
	off      bool          // "off" is accepted and means 0
	min, max time.Duration // allowed range; max 0 means no upper limit
	seconds  bool          // must be a whole number of seconds
}

// durationValue is a duration key.
func durationValue(field func(*Config) *time.Duration, o durOpts) codec {
	return codec{
		set: func(c *Config, v input) error {
			s, err := scalarText(v)
			if err != nil {
				return err
			}
			var d time.Duration
			if o.off && strings.EqualFold(s, "off") {
				d = 0
			} else if d, err = parseDuration(s); err != nil {
				if o.off {
					return fmt.Errorf("%v, or off", err)
				}
				return err
			}
			switch {
			case o.seconds && (d%time.Second != 0 || d < o.min || d > o.max):
				return fmt.Errorf("must be a whole number of seconds from %d to %d", o.min/time.Second, o.max/time.Second)
			case d < o.min:
				return fmt.Errorf("must be at least %s", formatDuration(o.min))
			case o.max > 0 && d > o.max:
				return fmt.Errorf("must be at most %s", formatDuration(o.max))
			}
			*field(c) = d
			return nil
		},
		get: func(c *Config) string {
			d := *field(c)
			if o.off && d == 0 {
				return "off"
			}
			if o.seconds {
				return strconv.FormatInt(int64(d/time.Second), 10)
			}
			return formatDuration(d)
		},
	}
}

// Reasons of a duration that does not parse.
var (
	errDuration = errors.New("must be a duration such as 90s or 1h, or a whole number of seconds")
	errNegative = errors.New("must not be negative")
	errTooLong  = errors.New("is too long")
)

// durationRE matches the syntax of Go durations.
var durationRE = regexp.MustCompile(`^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

// parseDuration reads a Go duration string or a whole number of seconds. It
// refuses negative durations.
func parseDuration(s string) (time.Duration, error) {
	if isInteger(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		switch {
		case err != nil && strings.HasPrefix(s, "-"):
			return 0, errNegative
		case err != nil:
			return 0, errTooLong
		case n < 0:
			return 0, errNegative
		case n > math.MaxInt64/int64(time.Second):
			return 0, errTooLong
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if durationRE.MatchString(s) {
			return 0, errTooLong // well formed, so it overflowed
		}
		return 0, errDuration
	}
	if d < 0 {
		return 0, errNegative
	}
	return d, nil
}

// isInteger reports whether s is an optionally signed run of ASCII digits.
func isInteger(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// maxRateCount bounds the count of a rate.
const maxRateCount = 1_000_000

// errRate is the reason of a rate that does not parse.
var errRate = errors.New("must be COUNT/DURATION such as 30/1m, or off")

// rateValue is a rate key.
func rateValue(field func(*Config) *Rate) codec {
	return codec{
		set: func(c *Config, v input) error {
			s, err := scalarText(v)
			if err != nil {
				return err
			}
			r, err := parseRate(s)
			if err != nil {
				return err
			}
			*field(c) = r
			return nil
		},
		get: func(c *Config) string { return field(c).String() },
	}
}

// parseRate reads "COUNT/DURATION" or "off".
func parseRate(s string) (Rate, error) {
	if strings.EqualFold(s, "off") {
		return Rate{}, nil
	}
	count, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, errRate
	}
	count, per = strings.TrimSpace(count), strings.TrimSpace(per)
	if !isInteger(count) || strings.HasPrefix(count, "-") || strings.HasPrefix(count, "+") {
		return Rate{}, errRate
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 || n > maxRateCount {
		return Rate{}, fmt.Errorf("count must be from 1 to %d (use off for no limit)", maxRateCount)
	}
	d, err := parseDuration(per)
	if err == errDuration {
		return Rate{}, errRate
	}
	if err != nil {
		return Rate{}, fmt.Errorf("duration %v", err)
	}
	if d <= 0 {
		return Rate{}, errors.New("duration must be positive")
	}
	return Rate{Count: n, Per: d}, nil
}

// listValue is a list key; check, when not nil, validates each item and
// returns it in canonical form. Its reasons name the item, so they must not
// be used for secret keys.
func listValue(field func(*Config) *[]string, check func(string) (string, error)) codec {
	return codec{
		list: true,
		set: func(c *Config, v input) error {
			items := v.list
			if !v.isList {
				items = strings.Split(v.text, ",")
			}
			var out []string
			for _, it := range items {
				it = strings.TrimSpace(it)
				if it == "" {
					continue
				}
				if err := checkText(it); err != nil {
					return fmt.Errorf("item %d: %v", len(out)+1, err)
				}
				if check != nil {
					canon, err := check(it)
					if err != nil {
						return fmt.Errorf("item %q: %v", it, err)
					}
					it = canon
				}
				out = append(out, it)
			}
			*field(c) = out
			return nil
		},
		get: func(c *Config) string { return strings.Join(*field(c), ",") },
	}
}

// The checks below validate a non-empty trimmed value and return it in
// canonical form. Their reasons never repeat the value, so they are safe for
// values that may carry secrets.

// checkAddr accepts host:port with a numeric port.
func checkAddr(s string) (string, error) {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", errors.New("must be host:port, such as 127.0.0.1:8000 or :8000")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", errors.New("port must be a number from 0 to 65535")
	}
	return s, nil
}

// checkDatabaseURL accepts sqlite:PATH and postgres:// URLs.
func checkDatabaseURL(s string) (string, error) {
	switch {
	case strings.HasPrefix(s, "sqlite:"):
		if len(s) == len("sqlite:") {
			return "", errors.New("sqlite: needs a file path, such as sqlite:twofactor.db")
		}
		return s, nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			return "", errors.New("is not a valid postgres:// URL")
		}
		return s, nil
	}
	return "", errors.New("must be sqlite:PATH or postgres://…")
}

// checkHTTPURL accepts absolute http and https URLs without a fragment.
func checkHTTPURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || u.User != nil {
		return "", errors.New("must be an absolute http:// or https:// URL")
	}
	return s, nil
}

// checkSMTPURL accepts smtp://, smtps:// and smtp+starttls:// URLs with a
// host, an optional port and optional credentials.
func checkSMTPURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", errors.New("is not a valid URL")
	}
	switch u.Scheme {
	case "smtp", "smtps", "smtp+starttls":
	default:
		return "", errors.New("scheme must be smtp, smtps or smtp+starttls")
	}
	if u.Hostname() == "" {
		return "", errors.New("must name a host, such as smtp://mail.example.com:587")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", errors.New("port must be a number from 1 to 65535")
		}
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("must not have a path, query or fragment")
	}
	return s, nil
}

// checkLocalPath accepts a path on this site: it starts with a single "/",
// so that it cannot send anyone to another host.
func checkLocalPath(s string) (string, error) {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, `/\`) || strings.Contains(s, " ") {
		return "", errors.New(`must be a local path starting with "/" (not "//")`)
	}
	if u, err := url.Parse(s); err != nil || u.Scheme != "" || u.Host != "" {
		return "", errors.New(`must be a local path starting with "/" (not "//")`)
	}
	return s, nil
}

// checkIssuer refuses the colon, which separates issuer and account in
// authenticator apps.
func checkIssuer(s string) (string, error) {
	if strings.Contains(s, ":") {
		return "", errors.New(`must not contain ":"`)
	}
	return s, nil
}

// checkEmail accepts one address, with or without a display name.
func checkEmail(s string) (string, error) {
	if _, err := mail.ParseAddress(s); err != nil {
		return "", errors.New("must be an email address, such as Example <2fa@example.com>")
	}
	return s, nil
}

var (
	languageRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
	regionRE   = regexp.MustCompile(`^[A-Za-z]{2}$`)
	domainRE   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
	digitsRE   = regexp.MustCompile(`^[0-9]+$`)
)

// checkLanguage accepts a BCP 47 language tag such as "de" or "pt-BR".
func checkLanguage(s string) (string, error) {
	if !languageRE.MatchString(s) {
		return "", errors.New("must be a language tag such as en, de or pt-BR")
	}
	return s, nil
}

// checkRegion accepts a two-letter region code, stored upper case.
func checkRegion(s string) (string, error) {
	if !regionRE.MatchString(s) {
		return "", errors.New("must be a two-letter region code such as NL or US")
	}
	return strings.ToUpper(s), nil
}

// checkDomain accepts a host name, stored lower case.
func checkDomain(s string) (string, error) {
	d := strings.ToLower(s)
	if len(d) > 253 || !domainRE.MatchString(d) {
		return "", errors.New("must be a host name such as example.com (no scheme or port)")
	}
	return d, nil
}

// checkCookieDomain accepts a host name with an optional leading dot.
func checkCookieDomain(s string) (string, error) {
	d, err := checkDomain(strings.TrimPrefix(s, "."))
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(s, ".") {
		d = "." + d
	}
	return d, nil
}

// checkCookiePath accepts a path starting with "/" without ";".
func checkCookiePath(s string) (string, error) {
	if !strings.HasPrefix(s, "/") || strings.ContainsAny(s, "; ") {
		return "", errors.New(`must start with "/" and contain no ";" or spaces`)
	}
	return s, nil
}

// checkCookieName accepts the characters of an HTTP token (RFC 6265).
func checkCookieName(s string) (string, error) {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch <= ' ' || ch >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, ch) >= 0 {
			return "", errors.New("may contain only letters, digits and !#$%&'*+-.^_`|~")
		}
	}
	return s, nil
}

// checkOrigin accepts a web origin, scheme://host[:port], and drops a
// trailing "/".
func checkOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", errors.New("must be an origin such as https://example.com")
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host), nil
}

// transports are the WebAuthn authenticator transports.
var transports = []string{"usb", "nfc", "ble", "smart-card", "hybrid", "internal"}

// checkTransport accepts one WebAuthn transport.
func checkTransport(s string) (string, error) {
	t := strings.ToLower(s)
	if !slices.Contains(transports, t) {
		return "", errors.New("must be " + orList(transports))
	}
	return t, nil
}

// checkDigits accepts a run of digits.
func checkDigits(s string) (string, error) {
	if !digitsRE.MatchString(s) {
		return "", errors.New("must be a number")
	}
	return s, nil
}

// checkBase64 accepts standard base64, with or without padding.
func checkBase64(s string) (string, error) {
	if _, err := base64.StdEncoding.DecodeString(s); err != nil {
		if _, err := base64.RawStdEncoding.DecodeString(s); err != nil {
			return "", errors.New("must be base64, as issued by Yubico")
		}
	}
	return s, nil
}
