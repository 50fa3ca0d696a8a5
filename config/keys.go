package config

import (
	"errors"
	"math"
	"strings"
	"time"
)

// Keys returns the descriptor of every key, in the order of the reference.
// The slice is a copy: changing it changes nothing in the package.
func Keys() []Key {
	out := make([]Key, len(keys))
	copy(out, keys)
	return out
}

// lookup returns the descriptor of the named key.
func lookup(name string) (Key, bool) {
	i, ok := keyIndex[name]
	if !ok {
		return Key{}, false
	}
	return keys[i], true
}

// keyIndex maps a key's name to its position in keys.
var keyIndex = func() map[string]int {
	m := make(map[string]int, len(keys))
	for i, k := range keys {
		m[k.Name] = i
	}
	return m
}()

// none is the Default of keys without a default value.
const none = ""

// unbounded is the upper limit of integer keys without one.
const unbounded = math.MaxInt32

// keys is the one table that owns every key: its name, default, description,
// the seed setting it replaces and how its value is read. Nothing else in
// the package spells a key's name.
var keys = []Key{
	{
		Name: "addr", Default: "127.0.0.1:8000",
		Description: "address the server listens on, host:port",
		codec:       requiredValue(func(c *Config) *string { return &c.Addr }, checkAddr),
	},
	{
		Name: "log_format", Default: "auto",
		Description: "log format: auto (text on a terminal, JSON otherwise), text or json",
		codec:       enumValue(func(c *Config) *string { return &c.LogFormat }, true, "auto", "text", "json"),
	},
	{
		Name: "database_url", Default: "sqlite:twofactor.db",
		Description: "database: sqlite:PATH (relative to the working directory) or postgres://…",
		codec: func() codec {
			cd := requiredValue(func(c *Config) *string { return &c.DatabaseURL }, checkDatabaseURL)
			cd.urlSecret = true
			return cd
		}(),
	},
	{
		Name: "secret_key", Default: none, Secret: true,
		Description: "key encrypting secrets at rest: 64 hex characters (or base64 of 32 bytes); with SQLite and none set, a key file next to the database is generated",
		Seed:        "SECRET_KEY",
		codec:       stringValue(func(c *Config) *string { return &c.SecretKey }, nil),
	},
	{
		Name: "secret_keys_old", Default: none, Secret: true, List: true,
		Description: "older secret keys still accepted for decryption while rotating",
		Seed:        "SECRET_KEY_FALLBACKS",
		codec:       listValue(func(c *Config) *[]string { return &c.SecretKeysOld }, nil),
	},
	{
		Name: "issuer", Default: none,
		Description: "issuer shown in authenticator apps (no colon); empty: the host name of the request",
		Seed:        "site name (QR issuer)",
		codec:       stringValue(func(c *Config) *string { return &c.Issuer }, checkIssuer),
	},
	{
		Name: "public_url", Default: none,
		Description: "absolute http(s) base URL for links and webhooks sent outside; empty: derived from the request",
		codec:       stringValue(func(c *Config) *string { return &c.PublicURL }, checkHTTPURL),
	},
	{
		Name: "totp.digits", Default: "6",
		Description: "digits of the codes of new TOTP devices: 6 or 8",
		Seed:        "TWO_FACTOR_TOTP_DIGITS, MFA_CODE_NUM_DIGITS",
		codec:       intChoice(func(c *Config) *int { return &c.TOTP.Digits }, 6, 8),
	},
	{
		Name: "totp.step", Default: "30",
		Description: "time step of new TOTP devices, in seconds: 1 to 3600",
		Seed:        "STEP_SIZE",
		codec: durationValue(func(c *Config) *time.Duration { return &c.TOTP.Step },
			durOpts{seconds: true, min: time.Second, max: time.Hour}),
	},
	{
		Name: "totp.tolerance", Default: "1",
		Description: "time steps accepted before and after the current one: 0 to 10",
		Seed:        "TOTPDevice.tolerance",
		codec:       intValue(func(c *Config) *int { return &c.TOTP.Tolerance }, 0, 10),
	},
	{
		Name: "totp.sync_drift", Default: "true",
		Description: "remember the clock drift of a TOTP device on each success",
		Seed:        "OTP_TOTP_SYNC",
		codec:       boolValue(func(c *Config) *bool { return &c.TOTP.SyncDrift }),
	},
	throttleKey("totp", "TOTP devices", "OTP_TOTP_THROTTLE_FACTOR", func(c *Config) *time.Duration { return &c.Throttle.TOTP }),
	throttleKey("hotp", "HOTP devices", "OTP_HOTP_THROTTLE_FACTOR", func(c *Config) *time.Duration { return &c.Throttle.HOTP }),
	throttleKey("static", "backup codes", "OTP_STATIC_THROTTLE_FACTOR", func(c *Config) *time.Duration { return &c.Throttle.Static }),
	throttleKey("phone", "SMS and voice devices", "TWO_FACTOR_PHONE_THROTTLE_FACTOR", func(c *Config) *time.Duration { return &c.Throttle.Phone }),
	throttleKey("email", "email devices", "OTP_EMAIL_THROTTLE_FACTOR", func(c *Config) *time.Duration { return &c.Throttle.Email }),
	throttleKey("webauthn", "WebAuthn devices", "TWO_FACTOR_WEBAUTHN_THROTTLE_FACTOR", func(c *Config) *time.Duration { return &c.Throttle.WebAuthn }),
	throttleKey("yubikey", "YubiKeys", "OTP_YUBIKEY_THROTTLE_FACTOR", func(c *Config) *time.Duration { return &c.Throttle.YubiKey }),
	throttleKey("user", "all devices of a user together", "", func(c *Config) *time.Duration { return &c.Throttle.User }),
	{
		Name: "login_timeout", Default: "600s",
		Description: "time allowed between the password step and the code step of a sign-in; 0 or off: no limit",
		Seed:        "TWO_FACTOR_LOGIN_TIMEOUT",
		codec:       durationValue(func(c *Config) *time.Duration { return &c.LoginTimeout }, durOpts{off: true}),
	},
	{
		Name: "backup_codes.count", Default: "10",
		Description: "backup codes a user gets: 1 to 100",
		Seed:        "static tokens; deux BACKUP_CODE_DIGITS",
		codec:       intValue(func(c *Config) *int { return &c.BackupCodes.Count }, 1, 100),
	},
	{
		Name: "backup_codes.length", Default: "10",
		Description: "characters of a backup code: 8 to 32",
		Seed:        "static tokens; deux BACKUP_CODE_DIGITS",
		codec:       intValue(func(c *Config) *int { return &c.BackupCodes.Length }, 8, 32),
	},
	{
		Name: "remember.age", Default: "off",
		Description: "how long \"remember this browser\" skips the code step; off hides the option",
		Seed:        "TWO_FACTOR_REMEMBER_COOKIE_AGE",
		codec:       durationValue(func(c *Config) *time.Duration { return &c.Remember.Age }, durOpts{off: true}),
	},
	{
		Name: "remember.cookie_prefix", Default: "remember-cookie_",
		Description: "start of the name of remember cookies",
		Seed:        "TWO_FACTOR_REMEMBER_COOKIE_PREFIX",
		codec:       requiredValue(func(c *Config) *string { return &c.Remember.CookiePrefix }, checkCookieName),
	},
	{
		Name: "remember.domain", Default: none,
		Description: "Domain attribute of remember cookies; empty: the host of the request only",
		Seed:        "TWO_FACTOR_REMEMBER_COOKIE_DOMAIN",
		codec:       stringValue(func(c *Config) *string { return &c.Remember.Domain }, checkCookieDomain),
	},
	{
		Name: "remember.path", Default: "/",
		Description: "Path attribute of remember cookies",
		Seed:        "TWO_FACTOR_REMEMBER_COOKIE_PATH",
		codec:       requiredValue(func(c *Config) *string { return &c.Remember.Path }, checkCookiePath),
	},
	{
		Name: "remember.secure", Default: "false",
		Description: "always set the Secure attribute of remember cookies (it is set anyway over TLS)",
		Seed:        "TWO_FACTOR_REMEMBER_COOKIE_SECURE",
		codec:       boolValue(func(c *Config) *bool { return &c.Remember.Secure }),
	},
	{
		Name: "remember.httponly", Default: "true",
		Description: "set the HttpOnly attribute of remember cookies",
		Seed:        "TWO_FACTOR_REMEMBER_COOKIE_HTTPONLY",
		codec:       boolValue(func(c *Config) *bool { return &c.Remember.HTTPOnly }),
	},
	{
		Name: "remember.samesite", Default: "Lax",
		Description: "SameSite attribute of remember cookies: Lax, Strict or None",
		Seed:        "TWO_FACTOR_REMEMBER_COOKIE_SAMESITE",
		codec:       enumValue(func(c *Config) *string { return &c.Remember.SameSite }, true, "Lax", "Strict", "None"),
	},
	{
		Name: "sms.gateway", Default: none,
		Description: "gateway sending codes by SMS: twilio or fake; empty hides the method",
		Seed:        "TWO_FACTOR_SMS_GATEWAY, SEND_MFA_TEXT_FUNC",
		codec:       enumValue(func(c *Config) *string { return &c.SMS.Gateway }, true, "", "twilio", "fake"),
	},
	{
		Name: "call.gateway", Default: none,
		Description: "gateway reading codes out in voice calls: twilio or fake; empty hides the method",
		Seed:        "TWO_FACTOR_CALL_GATEWAY",
		codec:       enumValue(func(c *Config) *string { return &c.Call.Gateway }, true, "", "twilio", "fake"),
	},
	{
		Name: "twilio.account_sid", Default: none,
		Description: "Twilio account SID",
		Seed:        "TWILIO_ACCOUNT_SID",
		codec:       stringValue(func(c *Config) *string { return &c.Twilio.AccountSID }, nil),
	},
	{
		Name: "twilio.auth_token", Default: none, Secret: true,
		Description: "Twilio auth token (also checks the signature of voice webhooks)",
		Seed:        "TWILIO_AUTH_TOKEN",
		codec:       stringValue(func(c *Config) *string { return &c.Twilio.AuthToken }, nil),
	},
	{
		Name: "twilio.caller_id", Default: none,
		Description: "phone number that calls and messages come from",
		Seed:        "TWILIO_CALLER_ID",
		codec:       stringValue(func(c *Config) *string { return &c.Twilio.CallerID }, nil),
	},
	{
		Name: "twilio.messaging_service_sid", Default: none,
		Description: "messaging service that sends SMS instead of the caller id",
		Seed:        "TWILIO_MESSAGING_SERVICE_SID",
		codec:       stringValue(func(c *Config) *string { return &c.Twilio.MessagingServiceSID }, nil),
	},
	{
		Name: "twilio.base_url", Default: none,
		Description: "base URL of the Twilio API, for tests and regional edges; empty: Twilio's own",
		codec:       stringValue(func(c *Config) *string { return &c.Twilio.BaseURL }, checkHTTPURL),
	},
	{
		Name: "phone.default_region", Default: none,
		Description: "two-letter region of phone numbers entered without a country code, such as NL",
		Seed:        "PHONENUMBER_DEFAULT_REGION",
		codec:       stringValue(func(c *Config) *string { return &c.Phone.DefaultRegion }, checkRegion),
	},
	{
		Name: "phone.cooldown", Default: "60s",
		Description: "minimum time between two codes sent to one phone; 0 or off: none",
		codec:       durationValue(func(c *Config) *time.Duration { return &c.Phone.Cooldown }, durOpts{off: true}),
	},
	{
		Name: "phone.daily_limit", Default: "10",
		Description: "codes sent by SMS or call to one user per day; 0: no limit",
		codec:       intValue(func(c *Config) *int { return &c.Phone.DailyLimit }, 0, unbounded),
	},
	{
		Name: "ratelimit.signin", Default: "30/1m",
		Description: "sign-in attempts allowed per client address, COUNT/DURATION; off: no limit",
		codec:       rateValue(func(c *Config) *Rate { return &c.RateLimit.SignIn }),
	},
	{
		Name: "ratelimit.signin_burst", Default: "10",
		Description: "sign-in attempts a client address may make at once",
		codec:       intValue(func(c *Config) *int { return &c.RateLimit.SignInBurst }, 1, unbounded),
	},
	{
		Name: "email.smtp_url", Default: none,
		Description: "mail server: smtp:// (STARTTLS if offered), smtp+starttls:// (STARTTLS required) or smtps://, with optional user:pass@; empty hides the method",
		Seed:        "EMAIL_*",
		codec: func() codec {
			cd := stringValue(func(c *Config) *string { return &c.Email.SMTPURL }, checkSMTPURL)
			cd.urlSecret = true
			return cd
		}(),
	},
	{
		Name: "email.from", Default: none,
		Description: "sender address of emails",
		Seed:        "DEFAULT_FROM_EMAIL, OTP_EMAIL_SENDER",
		codec:       stringValue(func(c *Config) *string { return &c.Email.From }, checkEmail),
	},
	{
		Name: "email.token_validity", Default: "300s",
		Description: "how long an emailed code stays valid",
		Seed:        "OTP_EMAIL_TOKEN_VALIDITY",
		codec:       durationValue(func(c *Config) *time.Duration { return &c.Email.TokenValidity }, durOpts{min: time.Second}),
	},
	{
		Name: "email.cooldown", Default: "60s",
		Description: "minimum time between two codes sent to one address; 0 or off: none",
		Seed:        "OTP_EMAIL_COOLDOWN_DURATION",
		codec:       durationValue(func(c *Config) *time.Duration { return &c.Email.Cooldown }, durOpts{off: true}),
	},
	{
		Name: "webauthn.rp_name", Default: none,
		Description: "relying party name shown by authenticators; setting it enables WebAuthn",
		Seed:        "TWO_FACTOR_WEBAUTHN_RP_NAME",
		codec:       stringValue(func(c *Config) *string { return &c.WebAuthn.RPName }, nil),
	},
	{
		Name: "webauthn.rp_id", Default: none,
		Description: "relying party id, a host name; empty: the request host without port",
		Seed:        "TWO_FACTOR_WEBAUTHN_RP_ID",
		codec:       stringValue(func(c *Config) *string { return &c.WebAuthn.RPID }, checkDomain),
	},
	{
		Name: "webauthn.origins", Default: none, List: true,
		Description: "origins allowed in ceremonies, such as https://example.com; empty: the request origin",
		codec:       listValue(func(c *Config) *[]string { return &c.WebAuthn.Origins }, checkOrigin),
	},
	{
		Name: "webauthn.authenticator_attachment", Default: none,
		Description: "authenticators allowed to register: platform, cross-platform or empty for both",
		Seed:        "TWO_FACTOR_WEBAUTHN_AUTHENTICATOR_ATTACHMENT",
		codec:       enumValue(func(c *Config) *string { return &c.WebAuthn.AuthenticatorAttachment }, true, "", "platform", "cross-platform"),
	},
	{
		Name: "webauthn.preferred_transports", Default: none, List: true,
		Description: "transports hinted at sign-in: usb, nfc, ble, smart-card, hybrid, internal",
		Seed:        "TWO_FACTOR_WEBAUTHN_PREFERRED_TRANSPORTS",
		codec:       listValue(func(c *Config) *[]string { return &c.WebAuthn.PreferredTransports }, checkTransport),
	},
	{
		Name: "webauthn.user_verification", Default: "discouraged",
		Description: "user verification: discouraged, preferred or required (required: enforced)",
		Seed:        "TWO_FACTOR_WEBAUTHN_UV_REQUIREMENT",
		codec:       enumValue(func(c *Config) *string { return &c.WebAuthn.UserVerification }, true, "discouraged", "preferred", "required"),
	},
	{
		Name: "webauthn.attestation", Default: "none",
		Description: "attestation conveyance: none, indirect or direct",
		Seed:        "TWO_FACTOR_WEBAUTHN_ATTESTATION_CONVEYANCE",
		codec:       attestationValue(func(c *Config) *string { return &c.WebAuthn.Attestation }),
	},
	{
		Name: "webauthn.root_certs", Default: none, List: true,
		Description: "PEM files of extra attestation root certificates",
		Seed:        "TWO_FACTOR_WEBAUTHN_PEM_ROOT_CERTS_BYTES_BY_FMT",
		codec:       listValue(func(c *Config) *[]string { return &c.WebAuthn.RootCerts }, nil),
	},
	{
		Name: "yubikey.validation_url", Default: "https://api.yubico.com/wsapi/2.0/verify",
		Description: "YubiCloud protocol 2.0 validation URL for remotely verified YubiKeys",
		Seed:        "ValidationService \"default\" (django-otp-yubikey)",
		codec:       requiredValue(func(c *Config) *string { return &c.YubiKey.ValidationURL }, checkHTTPURL),
	},
	{
		Name: "yubikey.api_id", Default: "1",
		Description: "client id at the validation service",
		Seed:        "ValidationService.api_id",
		codec:       requiredValue(func(c *Config) *string { return &c.YubiKey.APIID }, checkDigits),
	},
	{
		Name: "yubikey.api_key", Default: none, Secret: true,
		Description: "base64 key signing validation requests and responses; empty: unsigned",
		Seed:        "ValidationService.api_key",
		codec:       stringValue(func(c *Config) *string { return &c.YubiKey.APIKey }, checkBase64),
	},
	{
		Name: "policy", Default: "optional",
		Description: "who must use two-factor: optional, required or required_for_staff",
		Seed:        "(seed: not implemented)",
		codec:       enumValue(func(c *Config) *string { return &c.Policy }, true, "optional", "required", "required_for_staff"),
	},
	{
		Name: "policy_grace", Default: "0s",
		Description: "how long a user the policy reaches may still sign in without two-factor",
		codec:       durationValue(func(c *Config) *time.Duration { return &c.PolicyGrace }, durOpts{}),
	},
	{
		Name: "admin.require_verified", Default: "true",
		Description: "staff must have verified a second factor to use the admin console",
		Seed:        "AdminSiteOTPRequired (TWO_FACTOR_PATCH_ADMIN)",
		codec:       boolValue(func(c *Config) *bool { return &c.Admin.RequireVerified }),
	},
	{
		Name: "login_url", Default: "/account/login/",
		Description: "local path of the sign-in page",
		Seed:        "LOGIN_URL",
		codec:       requiredValue(func(c *Config) *string { return &c.LoginURL }, checkLocalPath),
	},
	{
		Name: "login_redirect_url", Default: "/account/two_factor/",
		Description: "local path shown after sign-in when no next is given",
		Seed:        "LOGIN_REDIRECT_URL",
		codec:       requiredValue(func(c *Config) *string { return &c.LoginRedirectURL }, checkLocalPath),
	},
	{
		Name: "logout_redirect_url", Default: "/account/login/",
		Description: "local path shown after sign-out",
		Seed:        "LOGOUT_REDIRECT_URL",
		codec:       requiredValue(func(c *Config) *string { return &c.LogoutRedirectURL }, checkLocalPath),
	},
	{
		Name: "step_up_age", Default: "10m",
		Description: "how recent a verification must be for sensitive actions",
		codec:       durationValue(func(c *Config) *time.Duration { return &c.StepUpAge }, durOpts{min: time.Second}),
	},
	{
		Name: "language", Default: none,
		Description: "language of the user interface, such as de or pt-BR; empty: negotiated from Accept-Language",
		Seed:        "LANGUAGE_CODE",
		codec:       stringValue(func(c *Config) *string { return &c.Language }, checkLanguage),
	},
	{
		Name: "password.argon2_time", Default: "2",
		Description: "argon2id passes of new password hashes: 1 to 100",
		Seed:        "PASSWORD_HASHERS",
		codec:       intValue(func(c *Config) *uint32 { return &c.Password.Argon2Time }, 1, 100),
	},
	{
		Name: "password.argon2_memory_kib", Default: "19456",
		Description: "argon2id memory of new password hashes in KiB: 8 × threads to 4194304",
		Seed:        "PASSWORD_HASHERS",
		codec:       intValue(func(c *Config) *uint32 { return &c.Password.Argon2MemoryKiB }, 8, 4<<20),
	},
	{
		Name: "password.argon2_threads", Default: "1",
		Description: "argon2id parallelism of new password hashes: 1 to 255",
		Seed:        "PASSWORD_HASHERS",
		codec:       intValue(func(c *Config) *uint8 { return &c.Password.Argon2Threads }, 1, 255),
	},
}

// throttleKey describes the backoff factor of one kind of device.
func throttleKey(kind, what, seed string, field func(*Config) *time.Duration) Key {
	return Key{
		Name: "throttle." + kind, Default: "1s",
		Description: "backoff factor of " + what + ": wait factor × 2^(failures−1) after failures; 0: no backoff",
		Seed:        seed,
		codec:       durationValue(field, durOpts{}),
	}
}

// attestationValue is webauthn.attestation, which names the one value it
// refuses on purpose.
func attestationValue(field func(*Config) *string) codec {
	cd := enumValue(field, true, "none", "indirect", "direct")
	set := cd.set
	cd.set = func(c *Config, v input) error {
		if s, err := scalarText(v); err == nil && strings.EqualFold(s, "enterprise") {
			return errEnterprise
		}
		return set(c, v)
	}
	return cd
}

// errEnterprise is the reason given for attestation=enterprise.
var errEnterprise = errors.New("enterprise attestation is not supported: use none, indirect or direct")
