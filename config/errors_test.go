package config

import (
	"strings"
	"testing"
	"time"
)

// loadEnv loads with one environment variable per key in vars.
func loadEnv(vars map[string]string) (Config, error) {
	m := map[string]string{}
	for key, v := range vars {
		k, ok := lookup(key)
		if !ok {
			panic("test names unknown key " + key)
		}
		m[k.Env()] = v
	}
	return Load(LoadOptions{Env: env(m)})
}

// TestValueErrors is the golden list of the error of every enumeration and
// range, as the user sees it.
func TestValueErrors(t *testing.T) {
	tests := []struct {
		key, value, want string
	}{
		{"addr", "8000", `config: addr: must be host:port, such as 127.0.0.1:8000 or :8000 (got "8000" from TWOFACTOR_ADDR)`},
		{"addr", ":http", `config: addr: port must be a number from 0 to 65535 (got ":http" from TWOFACTOR_ADDR)`},
		{"addr", "", `config: addr: must not be empty (got "" from TWOFACTOR_ADDR)`},
		{"log_format", "xml", `config: log_format: must be auto, text or json (got "xml" from TWOFACTOR_LOG_FORMAT)`},
		{"database_url", "mysql://x", `config: database_url: must be sqlite:PATH or postgres://… (got "mysql://x" from TWOFACTOR_DATABASE_URL)`},
		{"database_url", "sqlite:", `config: database_url: sqlite: needs a file path, such as sqlite:twofactor.db (got "sqlite:" from TWOFACTOR_DATABASE_URL)`},
		{"issuer", "Acme:Corp", `config: issuer: must not contain ":" (got "Acme:Corp" from TWOFACTOR_ISSUER)`},
		{"issuer", "a\x00b", `config: issuer: must not contain control characters (got "a\x00b" from TWOFACTOR_ISSUER)`},
		{"public_url", "example.com", `config: public_url: must be an absolute http:// or https:// URL (got "example.com" from TWOFACTOR_PUBLIC_URL)`},
		{"public_url", "ftp://example.com", `config: public_url: must be an absolute http:// or https:// URL (got "ftp://example.com" from TWOFACTOR_PUBLIC_URL)`},
		{"totp.digits", "7", `config: totp.digits: must be 6 or 8 (got "7" from TWOFACTOR_TOTP_DIGITS)`},
		{"totp.digits", "six", `config: totp.digits: must be 6 or 8 (got "six" from TWOFACTOR_TOTP_DIGITS)`},
		{"totp.step", "0", `config: totp.step: must be a whole number of seconds from 1 to 3600 (got "0" from TWOFACTOR_TOTP_STEP)`},
		{"totp.step", "3601", `config: totp.step: must be a whole number of seconds from 1 to 3600 (got "3601" from TWOFACTOR_TOTP_STEP)`},
		{"totp.step", "1500ms", `config: totp.step: must be a whole number of seconds from 1 to 3600 (got "1500ms" from TWOFACTOR_TOTP_STEP)`},
		{"totp.tolerance", "11", `config: totp.tolerance: must be a whole number from 0 to 10 (got "11" from TWOFACTOR_TOTP_TOLERANCE)`},
		{"totp.tolerance", "-1", `config: totp.tolerance: must be a whole number from 0 to 10 (got "-1" from TWOFACTOR_TOTP_TOLERANCE)`},
		{"totp.sync_drift", "maybe", `config: totp.sync_drift: must be true or false (or 1/0, yes/no, on/off) (got "maybe" from TWOFACTOR_TOTP_SYNC_DRIFT)`},
		{"throttle.totp", "-1", `config: throttle.totp: must not be negative (got "-1" from TWOFACTOR_THROTTLE_TOTP)`},
		{"throttle.user", "-2s", `config: throttle.user: must not be negative (got "-2s" from TWOFACTOR_THROTTLE_USER)`},
		{"throttle.yubikey", "x", `config: throttle.yubikey: must be a duration such as 90s or 1h, or a whole number of seconds (got "x" from TWOFACTOR_THROTTLE_YUBIKEY)`},
		{"login_timeout", "-5", `config: login_timeout: must not be negative, or off (got "-5" from TWOFACTOR_LOGIN_TIMEOUT)`},
		{"login_timeout", "soon", `config: login_timeout: must be a duration such as 90s or 1h, or a whole number of seconds, or off (got "soon" from TWOFACTOR_LOGIN_TIMEOUT)`},
		{"backup_codes.count", "0", `config: backup_codes.count: must be a whole number from 1 to 100 (got "0" from TWOFACTOR_BACKUP_CODES_COUNT)`},
		{"backup_codes.count", "101", `config: backup_codes.count: must be a whole number from 1 to 100 (got "101" from TWOFACTOR_BACKUP_CODES_COUNT)`},
		{"backup_codes.length", "7", `config: backup_codes.length: must be a whole number from 8 to 32 (got "7" from TWOFACTOR_BACKUP_CODES_LENGTH)`},
		{"backup_codes.length", "33", `config: backup_codes.length: must be a whole number from 8 to 32 (got "33" from TWOFACTOR_BACKUP_CODES_LENGTH)`},
		{"remember.age", "forever", `config: remember.age: must be a duration such as 90s or 1h, or a whole number of seconds, or off (got "forever" from TWOFACTOR_REMEMBER_AGE)`},
		{"remember.cookie_prefix", "a b", `config: remember.cookie_prefix: may contain only letters, digits and !#$%&'*+-.^_` + "`" + `|~ (got "a b" from TWOFACTOR_REMEMBER_COOKIE_PREFIX)`},
		{"remember.domain", "https://example.com", `config: remember.domain: must be a host name such as example.com (no scheme or port) (got "https://example.com" from TWOFACTOR_REMEMBER_DOMAIN)`},
		{"remember.path", "account", `config: remember.path: must start with "/" and contain no ";" or spaces (got "account" from TWOFACTOR_REMEMBER_PATH)`},
		{"remember.secure", "2", `config: remember.secure: must be true or false (or 1/0, yes/no, on/off) (got "2" from TWOFACTOR_REMEMBER_SECURE)`},
		{"remember.samesite", "lazy", `config: remember.samesite: must be Lax, Strict or None (got "lazy" from TWOFACTOR_REMEMBER_SAMESITE)`},
		{"sms.gateway", "nexmo", `config: sms.gateway: must be twilio or fake, or empty (got "nexmo" from TWOFACTOR_SMS_GATEWAY)`},
		{"call.gateway", "twilio-voice", `config: call.gateway: must be twilio or fake, or empty (got "twilio-voice" from TWOFACTOR_CALL_GATEWAY)`},
		{"twilio.base_url", "api.twilio.com", `config: twilio.base_url: must be an absolute http:// or https:// URL (got "api.twilio.com" from TWOFACTOR_TWILIO_BASE_URL)`},
		{"phone.default_region", "NLD", `config: phone.default_region: must be a two-letter region code such as NL or US (got "NLD" from TWOFACTOR_PHONE_DEFAULT_REGION)`},
		{"phone.cooldown", "-1m", `config: phone.cooldown: must not be negative, or off (got "-1m" from TWOFACTOR_PHONE_COOLDOWN)`},
		{"phone.daily_limit", "-1", `config: phone.daily_limit: must be a whole number, at least 0 (got "-1" from TWOFACTOR_PHONE_DAILY_LIMIT)`},
		{"ratelimit.signin", "30", `config: ratelimit.signin: must be COUNT/DURATION such as 30/1m, or off (got "30" from TWOFACTOR_RATELIMIT_SIGNIN)`},
		{"ratelimit.signin", "30/minute", `config: ratelimit.signin: must be COUNT/DURATION such as 30/1m, or off (got "30/minute" from TWOFACTOR_RATELIMIT_SIGNIN)`},
		{"ratelimit.signin", "0/1m", `config: ratelimit.signin: count must be from 1 to 1000000 (use off for no limit) (got "0/1m" from TWOFACTOR_RATELIMIT_SIGNIN)`},
		{"ratelimit.signin", "30/0s", `config: ratelimit.signin: duration must be positive (got "30/0s" from TWOFACTOR_RATELIMIT_SIGNIN)`},
		{"ratelimit.signin", "30/-1m", `config: ratelimit.signin: duration must not be negative (got "30/-1m" from TWOFACTOR_RATELIMIT_SIGNIN)`},
		{"ratelimit.signin", "-3/1m", `config: ratelimit.signin: must be COUNT/DURATION such as 30/1m, or off (got "-3/1m" from TWOFACTOR_RATELIMIT_SIGNIN)`},
		{"ratelimit.signin_burst", "0", `config: ratelimit.signin_burst: must be a whole number, at least 1 (got "0" from TWOFACTOR_RATELIMIT_SIGNIN_BURST)`},
		{"email.smtp_url", "http://mail.example.com", `config: email.smtp_url: scheme must be smtp, smtps or smtp+starttls (got "http://mail.example.com" from TWOFACTOR_EMAIL_SMTP_URL)`},
		{"email.smtp_url", "smtp://", `config: email.smtp_url: must name a host, such as smtp://mail.example.com:587 (got "smtp:" from TWOFACTOR_EMAIL_SMTP_URL)`},
		{"email.smtp_url", "smtp://mail.example.com:x", `config: email.smtp_url: is not a valid URL (from TWOFACTOR_EMAIL_SMTP_URL)`},
		{"email.from", "not an address", `config: email.from: must be an email address, such as Example <2fa@example.com> (got "not an address" from TWOFACTOR_EMAIL_FROM)`},
		{"email.token_validity", "0", `config: email.token_validity: must be at least 1s (got "0" from TWOFACTOR_EMAIL_TOKEN_VALIDITY)`},
		{"email.cooldown", "a while", `config: email.cooldown: must be a duration such as 90s or 1h, or a whole number of seconds, or off (got "a while" from TWOFACTOR_EMAIL_COOLDOWN)`},
		{"webauthn.rp_id", "https://example.com", `config: webauthn.rp_id: must be a host name such as example.com (no scheme or port) (got "https://example.com" from TWOFACTOR_WEBAUTHN_RP_ID)`},
		{"webauthn.origins", "https://a.example.com,example.com", `config: webauthn.origins: item "example.com": must be an origin such as https://example.com (from TWOFACTOR_WEBAUTHN_ORIGINS)`},
		{"webauthn.origins", "https://example.com/path", `config: webauthn.origins: item "https://example.com/path": must be an origin such as https://example.com (from TWOFACTOR_WEBAUTHN_ORIGINS)`},
		{"webauthn.authenticator_attachment", "roaming", `config: webauthn.authenticator_attachment: must be platform or cross-platform, or empty (got "roaming" from TWOFACTOR_WEBAUTHN_AUTHENTICATOR_ATTACHMENT)`},
		{"webauthn.preferred_transports", "usb,bluetooth", `config: webauthn.preferred_transports: item "bluetooth": must be usb, nfc, ble, smart-card, hybrid or internal (from TWOFACTOR_WEBAUTHN_PREFERRED_TRANSPORTS)`},
		{"webauthn.user_verification", "always", `config: webauthn.user_verification: must be discouraged, preferred or required (got "always" from TWOFACTOR_WEBAUTHN_USER_VERIFICATION)`},
		{"webauthn.attestation", "enterprise", `config: webauthn.attestation: enterprise attestation is not supported: use none, indirect or direct (got "enterprise" from TWOFACTOR_WEBAUTHN_ATTESTATION)`},
		{"webauthn.attestation", "Enterprise", `config: webauthn.attestation: enterprise attestation is not supported: use none, indirect or direct (got "Enterprise" from TWOFACTOR_WEBAUTHN_ATTESTATION)`},
		{"webauthn.attestation", "full", `config: webauthn.attestation: must be none, indirect or direct (got "full" from TWOFACTOR_WEBAUTHN_ATTESTATION)`},
		{"yubikey.validation_url", "", `config: yubikey.validation_url: must not be empty (got "" from TWOFACTOR_YUBIKEY_VALIDATION_URL)`},
		{"yubikey.validation_url", "api.yubico.com/wsapi/2.0/verify", `config: yubikey.validation_url: must be an absolute http:// or https:// URL (got "api.yubico.com/wsapi/2.0/verify" from TWOFACTOR_YUBIKEY_VALIDATION_URL)`},
		{"yubikey.api_id", "abc", `config: yubikey.api_id: must be a number (got "abc" from TWOFACTOR_YUBIKEY_API_ID)`},
		{"yubikey.api_key", "not base64!", `config: yubikey.api_key: must be base64, as issued by Yubico (from TWOFACTOR_YUBIKEY_API_KEY)`},
		{"policy", "always", `config: policy: must be optional, required or required_for_staff (got "always" from TWOFACTOR_POLICY)`},
		{"policy_grace", "-1h", `config: policy_grace: must not be negative (got "-1h" from TWOFACTOR_POLICY_GRACE)`},
		{"admin.require_verified", "si", `config: admin.require_verified: must be true or false (or 1/0, yes/no, on/off) (got "si" from TWOFACTOR_ADMIN_REQUIRE_VERIFIED)`},
		{"login_url", "https://evil.example/", `config: login_url: must be a local path starting with "/" (not "//") (got "https://evil.example/" from TWOFACTOR_LOGIN_URL)`},
		{"login_redirect_url", "//evil.example/", `config: login_redirect_url: must be a local path starting with "/" (not "//") (got "//evil.example/" from TWOFACTOR_LOGIN_REDIRECT_URL)`},
		{"logout_redirect_url", `/\evil.example`, `config: logout_redirect_url: must be a local path starting with "/" (not "//") (got "/\\evil.example" from TWOFACTOR_LOGOUT_REDIRECT_URL)`},
		{"logout_redirect_url", "account/login/", `config: logout_redirect_url: must be a local path starting with "/" (not "//") (got "account/login/" from TWOFACTOR_LOGOUT_REDIRECT_URL)`},
		{"step_up_age", "0", `config: step_up_age: must be at least 1s (got "0" from TWOFACTOR_STEP_UP_AGE)`},
		{"language", "Portuguese", `config: language: must be a language tag such as en, de or pt-BR (got "Portuguese" from TWOFACTOR_LANGUAGE)`},
		{"password.argon2_time", "0", `config: password.argon2_time: must be a whole number from 1 to 100 (got "0" from TWOFACTOR_PASSWORD_ARGON2_TIME)`},
		{"password.argon2_memory_kib", "4294967296", `config: password.argon2_memory_kib: must be a whole number from 8 to 4194304 (got "4294967296" from TWOFACTOR_PASSWORD_ARGON2_MEMORY_KIB)`},
		{"password.argon2_threads", "256", `config: password.argon2_threads: must be a whole number from 1 to 255 (got "256" from TWOFACTOR_PASSWORD_ARGON2_THREADS)`},
	}
	for _, tt := range tests {
		_, err := loadEnv(map[string]string{tt.key: tt.value})
		if err == nil {
			t.Errorf("%s=%q: no error, want %s", tt.key, tt.value, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%s=%q:\n got %s\nwant %s", tt.key, tt.value, err, tt.want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error has more than one line", tt.key)
		}
	}
}

// TestEveryKeyHasAnError checks that each key except the free-text ones
// refuses something.
func TestEveryKeyHasAnError(t *testing.T) {
	freeText := map[string]bool{
		"secret_key": true, "secret_keys_old": true, "twilio.account_sid": true, "issuer": true,
		"twilio.auth_token": true, "twilio.caller_id": true, "twilio.messaging_service_sid": true,
		"webauthn.rp_name": true, "webauthn.root_certs": true,
	}
	for _, k := range Keys() {
		bad := "\x01bad value\x7f"
		_, err := loadEnv(map[string]string{k.Name: bad})
		if err == nil {
			t.Errorf("%s accepts %q", k.Name, bad)
			continue
		}
		if !strings.HasPrefix(err.Error(), "config: "+k.Name+": ") || !strings.HasSuffix(err.Error(), "from "+k.Env()+")") {
			t.Errorf("%s: error %q does not name the key and the source", k.Name, err)
		}
		if freeText[k.Name] {
			continue
		}
		bad = "bad value"
		if _, err := loadEnv(map[string]string{k.Name: bad}); err == nil {
			t.Errorf("%s accepts %q", k.Name, bad)
		}
	}
}

func TestFlagAndFileSourcesInErrors(t *testing.T) {
	_, err := Load(LoadOptions{Flags: map[string]string{"totp.digits": "7"}})
	want := `config: totp.digits: must be 6 or 8 (got "7" from the command line)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	_, err = Load(LoadOptions{Flags: map[string]string{"totp.digit": "8"}})
	want = `config: unknown key "totp.digit" on the command line (did you mean "totp.digits"?)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestDurations(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"90s", 90 * time.Second, ""},
		{"1h", time.Hour, ""},
		{"600", 600 * time.Second, ""},
		{"0", 0, ""},
		{"+5", 5 * time.Second, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"250ms", 250 * time.Millisecond, ""},
		{" 42 ", 42 * time.Second, ""},
		{"-5", 0, "must not be negative"},
		{"-5s", 0, "must not be negative"},
		{"abc", 0, "must be a duration such as 90s or 1h, or a whole number of seconds"},
		{"", 0, "must be a duration such as 90s or 1h, or a whole number of seconds"},
		{"1.5", 0, "must be a duration such as 90s or 1h, or a whole number of seconds"},
		{"10 s", 0, "must be a duration such as 90s or 1h, or a whole number of seconds"},
		{"9223372037", 0, "is too long"},
		{"99999999999999999999", 0, "is too long"},
		{"-99999999999999999999", 0, "must not be negative"},
		{"3000000h", 0, "is too long"},
	}
	for _, tt := range tests {
		c, err := loadEnv(map[string]string{"policy_grace": tt.in})
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%q: %v", tt.in, err)
		case tt.err == "" && c.PolicyGrace != tt.want:
			t.Errorf("%q = %v, want %v", tt.in, c.PolicyGrace, tt.want)
		case tt.err != "":
			want := "config: policy_grace: " + tt.err + " (got "
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("%q: error %v, want prefix %s", tt.in, err, want)
			}
		}
	}
}

func TestBooleans(t *testing.T) {
	for in, want := range map[string]bool{
		"true": true, "TRUE": true, "1": true, "yes": true, "Yes": true, "on": true,
		"false": false, "False": false, "0": false, "no": false, "off": false, "OFF": false,
	} {
		c, err := loadEnv(map[string]string{"remember.secure": in})
		if err != nil || c.Remember.Secure != want {
			t.Errorf("%q: %v, %v; want %v", in, c.Remember.Secure, err, want)
		}
	}
	for _, in := range []string{"", "y", "t", "2", "enabled", "truee"} {
		if _, err := loadEnv(map[string]string{"remember.secure": in}); err == nil {
			t.Errorf("%q accepted as a boolean", in)
		}
	}
}

func TestLists(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a.pem", []string{"a.pem"}},
		{"a.pem,b.pem", []string{"a.pem", "b.pem"}},
		{" a.pem , b.pem ,", []string{"a.pem", "b.pem"}},
		{",,,", nil},
	}
	for _, tt := range tests {
		c, err := loadEnv(map[string]string{"webauthn.root_certs": tt.in, "webauthn.rp_name": "X"})
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if len(c.WebAuthn.RootCerts) != len(tt.want) || strings.Join(c.WebAuthn.RootCerts, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%q = %q, want %q", tt.in, c.WebAuthn.RootCerts, tt.want)
		}
	}
}

// TestCrossKeyErrors checks the keys that need one another.
func TestCrossKeyErrors(t *testing.T) {
	tests := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"sms.gateway": "twilio"}, `config: twilio.account_sid: required when sms.gateway is "twilio"`},
		{map[string]string{"call.gateway": "twilio", "twilio.account_sid": "AC1"}, `config: twilio.auth_token: required when call.gateway is "twilio"`},
		{map[string]string{"call.gateway": "twilio", "twilio.account_sid": "AC1", "twilio.auth_token": "t", "twilio.messaging_service_sid": "MG1"}, `config: twilio.caller_id: required when call.gateway is "twilio"`},
		{map[string]string{"sms.gateway": "twilio", "twilio.account_sid": "AC1", "twilio.auth_token": "t"}, `config: twilio.caller_id: required (or twilio.messaging_service_sid) when sms.gateway is "twilio"`},
		{map[string]string{"email.smtp_url": "smtp://mail.example.com"}, `config: email.from: required when email.smtp_url is set`},
		{map[string]string{"webauthn.origins": "https://example.com"}, `config: webauthn.rp_name: required when webauthn.origins is set (WebAuthn is enabled by webauthn.rp_name)`},
		{map[string]string{"password.argon2_threads": "4", "password.argon2_memory_kib": "16"}, `config: password.argon2_memory_kib: must be at least 8 × password.argon2_threads (32)`},
	}
	for _, tt := range tests {
		_, err := loadEnv(tt.vars)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%v:\n got %v\nwant %s", tt.vars, err, tt.want)
		}
	}
	// The valid combinations load.
	for _, vars := range []map[string]string{
		{"sms.gateway": "twilio", "twilio.account_sid": "AC1", "twilio.auth_token": "t", "twilio.messaging_service_sid": "MG1"},
		{"sms.gateway": "fake", "call.gateway": "fake"},
		{"email.smtp_url": "smtp://mail.example.com", "email.from": "a@example.com"},
		{"webauthn.origins": "https://example.com", "webauthn.rp_name": "Example"},
		{"webauthn.attestation": "none", "webauthn.user_verification": "discouraged"}, // defaults, said again
	} {
		if _, err := loadEnv(vars); err != nil {
			t.Errorf("%v: %v", vars, err)
		}
	}
}

// TestSecretsNeverInErrors makes secret keys fail and checks that their
// values stay out of the message.
func TestSecretsNeverInErrors(t *testing.T) {
	tests := []map[string]string{
		{"yubikey.api_key": "APIKEYSECRET!"},
		{"secret_key": "SECRETKEY\x00"},
		{"secret_keys_old": "OLDKEY1SECRET,OLDKEY2SECRET\x01"},
		{"twilio.auth_token": "AUTHTOKENSECRET\x01"},
		{"database_url": "host=db password=DBPASSWORDSECRET"},
		{"database_url": "sqlite:x\x01?password=DBPASSWORDSECRET"},
		{"email.smtp_url": "smtp://u:SMTPPASSWORDSECRET@host:bad"},
		{"email.smtp_url": "http://u:SMTPPASSWORDSECRET@host"},
		{"database_url": "mysql://u:DBPASSWORDSECRET@host/db"},
		{"database_url": "postgres://u:DBPASSWORDSECRET@host:port/db"},
	}
	for _, vars := range tests {
		_, err := loadEnv(vars)
		if err == nil {
			t.Errorf("%v: no error", vars)
			continue
		}
		for _, w := range append(secretWords, "APIKEYSECRET") {
			if strings.Contains(err.Error(), w) {
				t.Errorf("error shows a secret: %v", err)
			}
		}
	}
	// A redacted URL is still shown where it helps.
	_, err := loadEnv(map[string]string{"email.smtp_url": "http://u:SMTPPASSWORDSECRET@host"})
	want := `config: email.smtp_url: scheme must be smtp, smtps or smtp+starttls (got "http://u:xxxxx@host" from TWOFACTOR_EMAIL_SMTP_URL)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestUnknownEnv(t *testing.T) {
	got := UnknownEnv([]string{
		"PATH=/bin", "TWOFACTOR_TOTP_DIGITS=8", "TWOFACTOR_TOTP_DIGIT=8", "TWOFACTOR_DATABASE=x",
		"TWOFACTOR_DATABASE=y", "twofactor_addr=z", "TWOFACTOR_ADDR",
	})
	want := []string{"TWOFACTOR_DATABASE", "TWOFACTOR_TOTP_DIGIT"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("UnknownEnv = %q, want %q", got, want)
	}
}
