package config

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Config is the effective configuration of the server. The comment of each
// field names its key; [Keys] describes every key in full. The zero value is
// not a usable configuration: start from [Default] or [Load].
type Config struct {
	// Addr is the listen address, host:port (key addr).
	Addr string
	// LogFormat is "auto" (text on a terminal, JSON otherwise), "text" or
	// "json" (key log_format).
	LogFormat string
	// DatabaseURL selects the store: "sqlite:PATH" or "postgres://…"
	// (key database_url).
	DatabaseURL string
	// SecretKey is the current encryption and hashing key as configured,
	// unparsed; empty means none configured (key secret_key). Never log it.
	SecretKey string
	// SecretKeysOld are older keys still accepted for decryption during a
	// rotation, unparsed (key secret_keys_old). Never log them.
	SecretKeysOld []string
	// Issuer is the issuer shown in authenticator apps; empty means the host
	// name of the request (key issuer).
	Issuer string
	// PublicURL is the absolute base URL for links and webhooks sent outside;
	// empty means derived from the request (key public_url).
	PublicURL string

	// TOTP holds the settings of new TOTP devices (keys totp.*).
	TOTP TOTP
	// Throttle holds the backoff factors (keys throttle.*).
	Throttle Throttle
	// LoginTimeout is how long the code step of a sign-in may take after the
	// password step; 0 turns the limit off (key login_timeout).
	LoginTimeout time.Duration
	// BackupCodes holds the backup code settings (keys backup_codes.*).
	BackupCodes BackupCodes
	// Remember holds the remember-this-browser settings (keys remember.*).
	Remember Remember

	// SMS selects the text message gateway (key sms.gateway).
	SMS SMS
	// Call selects the voice call gateway (key call.gateway).
	Call Call
	// Twilio holds the Twilio credentials (keys twilio.*).
	Twilio Twilio
	// Phone holds the phone number and sending limits (keys phone.*).
	Phone Phone
	// RateLimit holds the per-address sign-in rate limit (keys ratelimit.*).
	RateLimit RateLimit
	// Email holds the email method settings (keys email.*).
	Email Email
	// WebAuthn holds the WebAuthn settings (keys webauthn.*).
	WebAuthn WebAuthn
	// YubiKey holds the YubiCloud validation service (keys yubikey.*).
	YubiKey YubiKey

	// Policy is "optional", "required" or "required_for_staff" (key policy).
	Policy string
	// PolicyGrace is how long a user the policy reaches may still sign in
	// without two-factor (key policy_grace).
	PolicyGrace time.Duration
	// Admin holds the staff console settings (keys admin.*).
	Admin Admin

	// LoginURL is the local path of the sign-in page (key login_url).
	LoginURL string
	// LoginRedirectURL is the local path users go to after signing in when no
	// "next" is given (key login_redirect_url).
	LoginRedirectURL string
	// LogoutRedirectURL is the local path users go to after signing out
	// (key logout_redirect_url).
	LogoutRedirectURL string
	// StepUpAge is how recent a verification must be for sensitive actions
	// (key step_up_age).
	StepUpAge time.Duration
	// Language is a BCP 47 tag forcing the user interface language; empty
	// means negotiated from Accept-Language (key language).
	Language string
	// Password holds the argon2id parameters of new password hashes
	// (keys password.*).
	Password Password

	// sources records where each key's value came from; nil means every
	// key has its default.
	sources map[string]Source
}

// TOTP holds the settings of new TOTP devices.
type TOTP struct {
	// Digits is the code length, 6 or 8 (key totp.digits).
	Digits int
	// Step is the time step, a whole number of seconds from 1s to 1h
	// (key totp.step).
	Step time.Duration
	// Tolerance is how many steps before and after the current one are
	// accepted, 0 to 10 (key totp.tolerance).
	Tolerance int
	// SyncDrift records the clock drift of a device on success
	// (key totp.sync_drift).
	SyncDrift bool
}

// Throttle holds the backoff factors: after n consecutive failures a device
// (or a user) must wait factor × 2^(n−1) before the next attempt. Zero turns
// that backoff off.
type Throttle struct {
	TOTP     time.Duration // key throttle.totp
	HOTP     time.Duration // key throttle.hotp
	Static   time.Duration // key throttle.static (backup codes)
	Phone    time.Duration // key throttle.phone (SMS and voice)
	Email    time.Duration // key throttle.email
	WebAuthn time.Duration // key throttle.webauthn
	YubiKey  time.Duration // key throttle.yubikey
	User     time.Duration // key throttle.user (all devices of a user)
}

// BackupCodes holds the backup code settings.
type BackupCodes struct {
	// Count is how many codes a user gets, 1 to 100 (key backup_codes.count).
	Count int
	// Length is the number of characters of a code, 8 to 32
	// (key backup_codes.length).
	Length int
}

// Remember holds the remember-this-browser settings.
type Remember struct {
	// Age is how long a browser stays remembered; 0 turns the feature off
	// (key remember.age).
	Age time.Duration
	// CookiePrefix starts the name of each remember cookie
	// (key remember.cookie_prefix).
	CookiePrefix string
	// Domain is the cookie's Domain attribute; empty means none
	// (key remember.domain).
	Domain string
	// Path is the cookie's Path attribute (key remember.path).
	Path string
	// Secure forces the Secure attribute; it is set anyway when the request
	// came over TLS (key remember.secure).
	Secure bool
	// HTTPOnly sets the HttpOnly attribute (key remember.httponly).
	HTTPOnly bool
	// SameSite is "Lax", "Strict" or "None" (key remember.samesite).
	SameSite string
}

// SameSiteMode returns SameSite as an [http.SameSite] value.
func (r Remember) SameSiteMode() http.SameSite {
	switch r.SameSite {
	case "Strict":
		return http.SameSiteStrictMode
	case "None":
		return http.SameSiteNoneMode
	default:
		return http.SameSiteLaxMode
	}
}

// SMS selects the gateway that sends codes by text message.
type SMS struct {
	// Gateway is "twilio", "fake" or empty (method hidden) (key sms.gateway).
	Gateway string
}

// Call selects the gateway that reads codes out in voice calls.
type Call struct {
	// Gateway is "twilio", "fake" or empty (method hidden) (key call.gateway).
	Gateway string
}

// Twilio holds the Twilio account used by the twilio gateway.
type Twilio struct {
	AccountSID          string // key twilio.account_sid
	AuthToken           string // key twilio.auth_token; never log it
	CallerID            string // key twilio.caller_id: the number calls and messages come from
	MessagingServiceSID string // key twilio.messaging_service_sid: sends messages through this service instead of CallerID
	BaseURL             string // key twilio.base_url: API base URL; empty means Twilio's own
}

// Phone holds the phone number and code sending settings.
type Phone struct {
	// DefaultRegion is the ISO 3166-1 alpha-2 region, upper case, of numbers
	// entered without a country code; empty means none
	// (key phone.default_region).
	DefaultRegion string
	// Cooldown is the minimum time between two codes sent to one device; 0
	// turns it off (key phone.cooldown).
	Cooldown time.Duration
	// DailyLimit is the maximum number of codes sent to one user per day; 0
	// means no limit (key phone.daily_limit).
	DailyLimit int
}

// RateLimit holds the per-client-address sign-in rate limit.
type RateLimit struct {
	// SignIn is the sustained rate; the zero Rate means off
	// (key ratelimit.signin).
	SignIn Rate
	// SignInBurst is the number of attempts allowed at once
	// (key ratelimit.signin_burst).
	SignInBurst int
}

// Rate is a number of events per period. The zero Rate means no limit.
type Rate struct {
	Count int           // events allowed per Per; 0 means no limit
	Per   time.Duration // length of the period
}

// Off reports whether the rate imposes no limit.
func (r Rate) Off() bool { return r.Count == 0 }

// String returns the rate as it is written in configuration: "30/1m" or "off".
func (r Rate) String() string {
	if r.Off() {
		return "off"
	}
	return strconv.Itoa(r.Count) + "/" + formatDuration(r.Per)
}

// Email holds the email method settings.
type Email struct {
	// SMTPURL is smtp://, smtps:// or smtp+starttls:// with optional
	// credentials; empty hides the method (key email.smtp_url). It may hold
	// a password: never log it unredacted.
	SMTPURL string
	// From is the sender address (key email.from).
	From string
	// TokenValidity is how long an emailed code stays valid
	// (key email.token_validity).
	TokenValidity time.Duration
	// Cooldown is the minimum time between two codes sent to one address; 0
	// turns it off (key email.cooldown).
	Cooldown time.Duration
}

// WebAuthn holds the WebAuthn relying party settings. WebAuthn is enabled
// when RPName is set.
type WebAuthn struct {
	RPName                  string   // key webauthn.rp_name
	RPID                    string   // key webauthn.rp_id; empty means the request host without port
	Origins                 []string // key webauthn.origins; empty means the request origin
	AuthenticatorAttachment string   // key webauthn.authenticator_attachment: "platform", "cross-platform" or empty
	PreferredTransports     []string // key webauthn.preferred_transports
	UserVerification        string   // key webauthn.user_verification: "discouraged", "preferred" or "required"
	Attestation             string   // key webauthn.attestation: "none", "indirect" or "direct"
	RootCerts               []string // key webauthn.root_certs: PEM files of extra attestation roots
}

// YubiKey holds the validation service used for YubiKeys verified remotely.
type YubiKey struct {
	ValidationURL string // key yubikey.validation_url
	APIID         string // key yubikey.api_id: the client id, digits
	APIKey        string // key yubikey.api_key: base64 signing key, empty for unsigned requests; never log it
}

// Admin holds the staff console settings.
type Admin struct {
	// RequireVerified requires staff to have verified a second factor
	// (key admin.require_verified).
	RequireVerified bool
}

// Password holds the argon2id parameters of new password hashes; existing
// hashes keep their own.
type Password struct {
	Argon2Time      uint32 // key password.argon2_time: passes
	Argon2MemoryKiB uint32 // key password.argon2_memory_kib
	Argon2Threads   uint8  // key password.argon2_threads
}

// Source tells where the value of a key came from.
type Source int

// The sources of a value, from the lowest precedence to the highest.
const (
	FromDefault Source = iota // the built-in default
	FromFile                  // the configuration file
	FromEnv                   // an environment variable
	FromFlag                  // a command-line flag
)

// String returns "default", "file", "environment" or "flag".
func (s Source) String() string {
	switch s {
	case FromDefault:
		return "default"
	case FromFile:
		return "file"
	case FromEnv:
		return "environment"
	case FromFlag:
		return "flag"
	}
	return "Source(" + strconv.Itoa(int(s)) + ")"
}

// SourceOf reports where the value of the named key came from. It reports
// FromDefault for unknown keys and for a Config not made by [Load].
func (c Config) SourceOf(key string) Source {
	return c.sources[key]
}

// Default returns the built-in configuration, as described by [Keys]. It
// panics only if the built-in table itself is broken, which the package's
// tests rule out.
func Default() Config {
	var c Config
	for _, k := range keys {
		if err := k.codec.set(&c, input{text: k.Default}); err != nil {
			panic(fmt.Sprintf("config: built-in default of %s: %v", k.Name, err))
		}
	}
	return c
}

// redactedText replaces a secret value in output meant for people and logs.
const redactedText = "[redacted]"

// Redacted returns the effective value of every key as text, in the syntax
// the key accepts. Secret values are replaced by "[redacted]" (empty stays
// empty) and passwords inside URLs are masked, so the map is safe to log.
func (c Config) Redacted() map[string]string {
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k.Name] = k.display(&c)
	}
	return m
}

// String returns the redacted configuration as key=value pairs in the order
// of [Keys], separated by spaces. Secrets never appear in it.
func (c Config) String() string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k.Name)
		b.WriteByte('=')
		v := k.display(&c)
		if v == "" || strings.ContainsAny(v, " \"=") {
			v = strconv.Quote(v)
		}
		b.WriteString(v)
	}
	return b.String()
}

// GoString makes %#v print the redacted form too, so that no verb of the fmt
// package prints a secret.
func (c Config) GoString() string { return "config.Config{" + c.String() + "}" }

// LogValue implements [slog.LogValuer]: logging a Config logs the redacted
// value of every key as a group.
func (c Config) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.String(k.Name, k.display(&c)))
	}
	return slog.GroupValue(attrs...)
}

// formatDuration writes d the way it is best written in configuration:
// "10m" rather than "10m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
