package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// env returns an Env function reading from a map.
func env(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// TestDefaults lists every default of SPEC §3 once.
func TestDefaults(t *testing.T) {
	want := Config{
		Addr:        "127.0.0.1:8000",
		LogFormat:   "auto",
		DatabaseURL: "sqlite:twofactor.db",
		TOTP:        TOTP{Digits: 6, Step: 30 * time.Second, Tolerance: 1, SyncDrift: true},
		Throttle: Throttle{
			TOTP: time.Second, HOTP: time.Second, Static: time.Second, Phone: time.Second,
			Email: time.Second, WebAuthn: time.Second, YubiKey: time.Second, User: time.Second,
		},
		LoginTimeout: 600 * time.Second,
		BackupCodes:  BackupCodes{Count: 10, Length: 10},
		Remember: Remember{
			Age: 0, CookiePrefix: "remember-cookie_", Path: "/",
			Secure: false, HTTPOnly: true, SameSite: "Lax",
		},
		Phone:     Phone{Cooldown: 60 * time.Second, DailyLimit: 10},
		RateLimit: RateLimit{SignIn: Rate{Count: 30, Per: time.Minute}, SignInBurst: 10},
		Email:     Email{TokenValidity: 300 * time.Second, Cooldown: 60 * time.Second},
		WebAuthn:  WebAuthn{UserVerification: "discouraged", Attestation: "none"},
		YubiKey:   YubiKey{ValidationURL: "https://api.yubico.com/wsapi/2.0/verify", APIID: "1"},
		Policy:    "optional",
		Admin:     Admin{RequireVerified: true},

		LoginURL:          "/account/login/",
		LoginRedirectURL:  "/account/two_factor/",
		LogoutRedirectURL: "/account/login/",
		StepUpAge:         10 * time.Minute,
		Password:          Password{Argon2Time: 2, Argon2MemoryKiB: 19456, Argon2Threads: 1},
	}
	if got := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default() =\n%#v\nwant\n%#v", got.Redacted(), want.Redacted())
	}
	// Loading nothing gives the defaults too.
	got, err := Load(LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got.sources = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load(nothing) differs from the defaults: %v", got)
	}
}

// specKeys is every key of SPEC §3, plus addr and log_format.
var specKeys = []string{
	"addr", "log_format", "database_url", "secret_key", "secret_keys_old", "issuer", "public_url",
	"totp.digits", "totp.step", "totp.tolerance", "totp.sync_drift",
	"throttle.totp", "throttle.hotp", "throttle.static", "throttle.phone", "throttle.email",
	"throttle.webauthn", "throttle.yubikey", "throttle.user",
	"login_timeout", "backup_codes.count", "backup_codes.length",
	"remember.age", "remember.cookie_prefix", "remember.domain", "remember.path",
	"remember.secure", "remember.httponly", "remember.samesite",
	"sms.gateway", "call.gateway",
	"twilio.account_sid", "twilio.auth_token", "twilio.caller_id", "twilio.messaging_service_sid", "twilio.base_url",
	"phone.default_region", "phone.cooldown", "phone.daily_limit",
	"ratelimit.signin", "ratelimit.signin_burst",
	"email.smtp_url", "email.from", "email.token_validity", "email.cooldown",
	"webauthn.rp_name", "webauthn.rp_id", "webauthn.origins", "webauthn.authenticator_attachment",
	"webauthn.preferred_transports", "webauthn.user_verification", "webauthn.attestation", "webauthn.root_certs",
	"yubikey.validation_url", "yubikey.api_id", "yubikey.api_key",
	"policy", "policy_grace", "admin.require_verified",
	"login_url", "login_redirect_url", "logout_redirect_url", "step_up_age", "language",
	"password.argon2_time", "password.argon2_memory_kib", "password.argon2_threads",
}

func TestKeysAreTheSpecKeys(t *testing.T) {
	var names []string
	for _, k := range Keys() {
		names = append(names, k.Name)
	}
	if !slices.Equal(names, specKeys) {
		t.Errorf("keys = %q\nwant  %q", names, specKeys)
	}
	nameRE := regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$`)
	for _, k := range Keys() {
		if !nameRE.MatchString(k.Name) {
			t.Errorf("key %q is not dotted lower case", k.Name)
		}
		if k.Description == "" || strings.Contains(k.Description, "\n") {
			t.Errorf("key %q: description must be one non-empty line", k.Name)
		}
		if k.List != k.codec.list {
			t.Errorf("key %q: List=%v but its codec list=%v", k.Name, k.List, k.codec.list)
		}
	}
}

func TestKeysIsACopy(t *testing.T) {
	ks := Keys()
	ks[0].Name = "changed"
	if Keys()[0].Name == "changed" {
		t.Error("Keys returned the package's own slice")
	}
}

func TestEnvNames(t *testing.T) {
	seen := map[string]string{}
	for _, k := range Keys() {
		want := "TWOFACTOR_" + strings.ToUpper(strings.ReplaceAll(k.Name, ".", "_"))
		if k.Env() != want {
			t.Errorf("%s: Env() = %s, want %s", k.Name, k.Env(), want)
		}
		if other, dup := seen[k.Env()]; dup {
			t.Errorf("%s and %s share %s", k.Name, other, k.Env())
		}
		seen[k.Env()] = k.Name
	}
	for key, want := range map[string]string{
		"twilio.account_sid":         "TWOFACTOR_TWILIO_ACCOUNT_SID",
		"database_url":               "TWOFACTOR_DATABASE_URL",
		"totp.digits":                "TWOFACTOR_TOTP_DIGITS",
		"remember.cookie_prefix":     "TWOFACTOR_REMEMBER_COOKIE_PREFIX",
		"password.argon2_memory_kib": "TWOFACTOR_PASSWORD_ARGON2_MEMORY_KIB",
		"webauthn.rp_id":             "TWOFACTOR_WEBAUTHN_RP_ID",
	} {
		k, ok := lookup(key)
		if !ok || k.Env() != want {
			t.Errorf("env of %s = %q, want %q", key, k.Env(), want)
		}
	}
}

// nonDefault holds a valid value, different from the default, for every key.
var nonDefault = map[string]string{
	"addr":                              "0.0.0.0:9000",
	"log_format":                        "json",
	"database_url":                      "postgres://db.example.com/twofactor",
	"secret_key":                        strings.Repeat("ab", 32),
	"secret_keys_old":                   strings.Repeat("cd", 32) + "," + strings.Repeat("ef", 32),
	"issuer":                            "Example Corp",
	"public_url":                        "https://2fa.example.com/base",
	"totp.digits":                       "8",
	"totp.step":                         "60",
	"totp.tolerance":                    "2",
	"totp.sync_drift":                   "false",
	"throttle.totp":                     "2s",
	"throttle.hotp":                     "3s",
	"throttle.static":                   "4s",
	"throttle.phone":                    "5s",
	"throttle.email":                    "6s",
	"throttle.webauthn":                 "7s",
	"throttle.yubikey":                  "0s",
	"throttle.user":                     "500ms",
	"login_timeout":                     "5m",
	"backup_codes.count":                "12",
	"backup_codes.length":               "16",
	"remember.age":                      "720h",
	"remember.cookie_prefix":            "__Host-remember_",
	"remember.domain":                   ".example.com",
	"remember.path":                     "/account/",
	"remember.secure":                   "true",
	"remember.httponly":                 "false",
	"remember.samesite":                 "Strict",
	"sms.gateway":                       "fake",
	"call.gateway":                      "twilio",
	"twilio.account_sid":                "AC0123",
	"twilio.auth_token":                 "tok-secret-1234",
	"twilio.caller_id":                  "+15005550006",
	"twilio.messaging_service_sid":      "MG0123",
	"twilio.base_url":                   "http://127.0.0.1:9999",
	"phone.default_region":              "NL",
	"phone.cooldown":                    "30s",
	"phone.daily_limit":                 "0",
	"ratelimit.signin":                  "5/10s",
	"ratelimit.signin_burst":            "3",
	"email.smtp_url":                    "smtps://mail.example.com:465",
	"email.from":                        "2fa@example.com",
	"email.token_validity":              "10m",
	"email.cooldown":                    "off",
	"webauthn.rp_name":                  "Example",
	"webauthn.rp_id":                    "example.com",
	"webauthn.origins":                  "https://example.com,https://login.example.com",
	"webauthn.authenticator_attachment": "cross-platform",
	"webauthn.preferred_transports":     "usb,nfc",
	"webauthn.user_verification":        "required",
	"webauthn.attestation":              "direct",
	"webauthn.root_certs":               "roots/a.pem,roots/b.pem",
	"yubikey.validation_url":            "https://yubico.example.com/wsapi/2.0/verify",
	"yubikey.api_id":                    "12345",
	"yubikey.api_key":                   "c2VjcmV0LWtleS1ieXRlcw==",
	"policy":                            "required_for_staff",
	"policy_grace":                      "168h",
	"admin.require_verified":            "false",
	"login_url":                         "/login/",
	"login_redirect_url":                "/home/",
	"logout_redirect_url":               "/bye/",
	"step_up_age":                       "5m",
	"language":                          "pt-BR",
	"password.argon2_time":              "3",
	"password.argon2_memory_kib":        "65536",
	"password.argon2_threads":           "4",
}

// TestEveryKeyRoundTrips sets every key to a non-default value through the
// flags and through the environment, and checks that the value took, that its
// source is recorded and that the redacted output reads back to the same
// configuration.
func TestEveryKeyRoundTrips(t *testing.T) {
	if len(nonDefault) != len(keys) {
		t.Fatalf("nonDefault has %d keys, the table %d", len(nonDefault), len(keys))
	}
	fromFlags, err := Load(LoadOptions{Flags: nonDefault})
	if err != nil {
		t.Fatal(err)
	}
	envMap := map[string]string{}
	for _, k := range keys {
		envMap[k.Env()] = nonDefault[k.Name]
	}
	fromEnv, err := Load(LoadOptions{Env: env(envMap)})
	if err != nil {
		t.Fatal(err)
	}
	def := Default().Redacted()
	got := fromFlags.Redacted()
	for _, k := range keys {
		if k.Secret {
			if got[k.Name] != redactedText {
				t.Errorf("%s: Redacted = %q, want %q", k.Name, got[k.Name], redactedText)
			}
		} else if got[k.Name] == def[k.Name] {
			t.Errorf("%s: value %q did not change the default", k.Name, nonDefault[k.Name])
		}
		if s := fromFlags.SourceOf(k.Name); s != FromFlag {
			t.Errorf("%s: source %v, want flag", k.Name, s)
		}
		if s := fromEnv.SourceOf(k.Name); s != FromEnv {
			t.Errorf("%s: source %v, want environment", k.Name, s)
		}
	}
	fromFlags.sources, fromEnv.sources = nil, nil
	if !reflect.DeepEqual(fromFlags, fromEnv) {
		t.Error("the same values through flags and environment differ")
	}

	// The redacted text of every non-secret key parses back to the same value.
	back := map[string]string{}
	for name, v := range got {
		if k, _ := lookup(name); !k.Secret {
			back[name] = v
		}
	}
	for _, name := range []string{"secret_key", "secret_keys_old", "twilio.auth_token", "yubikey.api_key"} {
		back[name] = nonDefault[name]
	}
	again, err := Load(LoadOptions{Flags: back})
	if err != nil {
		t.Fatal(err)
	}
	again.sources = nil
	if !reflect.DeepEqual(again, fromFlags) {
		t.Errorf("round trip through Redacted changed the configuration:\n%v\n%v", again, fromFlags)
	}
}

func TestTypedValues(t *testing.T) {
	c, err := Load(LoadOptions{Flags: nonDefault})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"totp.step", c.TOTP.Step, time.Minute},
		{"throttle.user", c.Throttle.User, 500 * time.Millisecond},
		{"remember.age", c.Remember.Age, 720 * time.Hour},
		{"remember.samesite", c.Remember.SameSiteMode(), http.SameSiteStrictMode},
		{"ratelimit.signin", c.RateLimit.SignIn, Rate{Count: 5, Per: 10 * time.Second}},
		{"email.cooldown", c.Email.Cooldown, time.Duration(0)},
		{"secret_keys_old", c.SecretKeysOld, []string{strings.Repeat("cd", 32), strings.Repeat("ef", 32)}},
		{"webauthn.origins", c.WebAuthn.Origins, []string{"https://example.com", "https://login.example.com"}},
		{"webauthn.preferred_transports", c.WebAuthn.PreferredTransports, []string{"usb", "nfc"}},
		{"password.argon2_memory_kib", c.Password.Argon2MemoryKiB, uint32(65536)},
		{"password.argon2_threads", c.Password.Argon2Threads, uint8(4)},
		{"phone.default_region", c.Phone.DefaultRegion, "NL"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
}

func TestCanonicalForms(t *testing.T) {
	tests := []struct{ key, in, want string }{
		{"remember.samesite", "strict", "Strict"},
		{"remember.samesite", "NONE", "None"},
		{"remember.samesite", "lax", "Lax"},
		{"log_format", "JSON", "json"},
		{"policy", "Required", "required"},
		{"sms.gateway", "Twilio", "twilio"},
		{"phone.default_region", "nl", "NL"},
		{"webauthn.rp_id", "Example.COM", "example.com"},
		{"webauthn.origins", " https://Example.com/ , ,https://b.example.com:8443", "https://example.com,https://b.example.com:8443"},
		{"webauthn.preferred_transports", "USB, Hybrid", "usb,hybrid"},
		{"remember.domain", ".Example.com", ".example.com"},
		{"totp.step", "1m", "60"},
		{"login_timeout", "0", "off"},
		{"login_timeout", "OFF", "off"},
		{"login_timeout", "1h30m", "1h30m"},
		{"policy_grace", "86400", "24h"},
		{"ratelimit.signin", "OFF", "off"},
		{"ratelimit.signin", "100/60", "100/1m"},
		{"ratelimit.signin", " 7 / 1h ", "7/1h"},
		{"totp.sync_drift", "No", "false"},
		{"totp.sync_drift", "ON", "true"},
		{"totp.sync_drift", "1", "true"},
		{"totp.digits", " 8 ", "8"},
		{"issuer", "  Example  ", "Example"},
		{"database_url", "postgresql://u@h/db", "postgresql://u@h/db"},
		{"email.smtp_url", "smtp+starttls://u:p@mail.example.com:587", "smtp+starttls://u:xxxxx@mail.example.com:587"},
	}
	for _, tt := range tests {
		flags := map[string]string{tt.key: tt.in}
		if strings.HasPrefix(tt.key, "webauthn.") {
			flags["webauthn.rp_name"] = "Example"
		}
		if tt.key == "sms.gateway" {
			flags["twilio.account_sid"], flags["twilio.auth_token"], flags["twilio.caller_id"] = "AC1", "t", "+1"
		}
		if tt.key == "email.smtp_url" {
			flags["email.from"] = "a@example.com"
		}
		c, err := Load(LoadOptions{Flags: flags})
		if err != nil {
			t.Errorf("%s=%q: %v", tt.key, tt.in, err)
			continue
		}
		if got := c.Redacted()[tt.key]; got != tt.want {
			t.Errorf("%s=%q: got %q, want %q", tt.key, tt.in, got, tt.want)
		}
	}
}

func TestSameSiteMode(t *testing.T) {
	for in, want := range map[string]http.SameSite{
		"Lax": http.SameSiteLaxMode, "Strict": http.SameSiteStrictMode, "None": http.SameSiteNoneMode,
	} {
		if got := (Remember{SameSite: in}).SameSiteMode(); got != want {
			t.Errorf("%s: %v, want %v", in, got, want)
		}
	}
}

func TestSourceString(t *testing.T) {
	for s, want := range map[Source]string{
		FromDefault: "default", FromFile: "file", FromEnv: "environment", FromFlag: "flag", Source(9): "Source(9)",
	} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", int(s), s.String(), want)
		}
	}
	if got := Default().SourceOf("totp.digits"); got != FromDefault {
		t.Errorf("SourceOf on Default() = %v", got)
	}
}

func TestRate(t *testing.T) {
	if !(Rate{}).Off() || (Rate{}).String() != "off" {
		t.Error("zero Rate must be off")
	}
	if r := (Rate{Count: 30, Per: time.Minute}); r.Off() || r.String() != "30/1m" {
		t.Errorf("Rate 30/1m: off=%v string=%q", r.Off(), r.String())
	}
}

// secretValues are set in TestRedaction; none may appear in any output.
var secretValues = map[string]string{
	"secret_key":        "SECRETKEY" + strings.Repeat("0", 55),
	"secret_keys_old":   "OLDKEY1SECRET,OLDKEY2SECRET",
	"twilio.auth_token": "AUTHTOKENSECRET",
	"yubikey.api_key":   "QVBJS0VZU0VDUkVU", // base64 of "APIKEYSECRET"
	"email.smtp_url":    "smtp://user:SMTPPASSWORDSECRET@mail.example.com:587",
	"database_url":      "postgres://u:DBPASSWORDSECRET@db.example.com/tf",
}

// secretWords are the parts of secretValues that must never be shown.
var secretWords = []string{"SECRETKEY", "OLDKEY1SECRET", "OLDKEY2SECRET", "AUTHTOKENSECRET", "QVBJS0VZU0VDUkVU", "SMTPPASSWORDSECRET", "DBPASSWORDSECRET"}

func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, w := range secretWords {
		if strings.Contains(s, w) {
			t.Errorf("%s shows the secret %s: %s", what, w, s)
		}
	}
}

func TestRedaction(t *testing.T) {
	flags := map[string]string{"email.from": "a@example.com"}
	for k, v := range secretValues {
		flags[k] = v
	}
	c, err := Load(LoadOptions{Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretKey != secretValues["secret_key"] || c.Twilio.AuthToken != "AUTHTOKENSECRET" {
		t.Fatal("secrets were not loaded")
	}
	red := c.Redacted()
	for _, k := range []string{"secret_key", "secret_keys_old", "twilio.auth_token", "yubikey.api_key"} {
		if red[k] != redactedText {
			t.Errorf("Redacted()[%s] = %q", k, red[k])
		}
	}
	if red["email.smtp_url"] != "smtp://user:xxxxx@mail.example.com:587" {
		t.Errorf("smtp_url redacted as %q", red["email.smtp_url"])
	}
	if red["database_url"] != "postgres://u:xxxxx@db.example.com/tf" {
		t.Errorf("database_url redacted as %q", red["database_url"])
	}
	for k, v := range red {
		assertNoSecret(t, "Redacted()["+k+"]", v)
	}
	c2, err := Load(LoadOptions{Flags: map[string]string{"database_url": "postgres://u@db/tf?sslmode=disable&password=DBPASSWORDSECRET"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c2.Redacted()["database_url"], "postgres://u@db/tf?password=xxxxx&sslmode=disable"; got != want {
		t.Errorf("database_url with a password parameter redacted as %q, want %q", got, want)
	}
	assertNoSecret(t, "String()", c.String())
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assertNoSecret(t, verb, sprintf(verb, c))
		assertNoSecret(t, verb+" of a pointer", sprintf(verb, &c))
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("start", "config", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("start", "config", c)
	assertNoSecret(t, "slog output", buf.String())
	if !strings.Contains(buf.String(), `"totp.digits":"6"`) {
		t.Errorf("slog JSON output lacks the keys: %s", buf.String())
	}
	buf.Reset()
	if err := Usage(&buf); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&buf); err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "help output", buf.String())
}

// TestSecretKeysMarked checks that every key whose name says it holds a
// secret is marked Secret.
func TestSecretKeysMarked(t *testing.T) {
	secretName := regexp.MustCompile(`^secret|_key$|_token$|password$|_pass$`)
	for _, k := range Keys() {
		leaf := k.Name[strings.LastIndex(k.Name, ".")+1:]
		if secretName.MatchString(leaf) && !k.Secret {
			t.Errorf("%s looks secret but is not marked Secret", k.Name)
		}
	}
	for _, name := range []string{"secret_key", "secret_keys_old", "twilio.auth_token", "yubikey.api_key"} {
		if k, _ := lookup(name); !k.Secret {
			t.Errorf("%s must be Secret", name)
		}
	}
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", time.Second: "1s", 90 * time.Second: "1m30s", time.Minute: "1m", time.Hour: "1h",
		90 * time.Minute: "1h30m", 500 * time.Millisecond: "500ms", time.Hour + time.Second: "1h0m1s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
