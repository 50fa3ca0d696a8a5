package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeFile writes content to a file of the given name in a fresh directory
// and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPrecedence checks file < environment < flags for one key of each type.
func TestPrecedence(t *testing.T) {
	tests := []struct {
		key              string
		toml, yaml       string // the key set in a file
		env, flag        string
		file, fromEnv, f string // Redacted value expected from each layer
	}{
		{"issuer", `issuer = "File"`, `issuer: File`, "Env", "Flag", "File", "Env", "Flag"},
		{"totp.digits", "[totp]\ndigits = 8", "totp:\n  digits: 8", "6", "8", "8", "6", "8"},
		{"backup_codes.count", "backup_codes.count = 20", "backup_codes.count: 20", "30", "40", "20", "30", "40"},
		{"totp.sync_drift", "[totp]\nsync_drift = false", "totp: {sync_drift: false}", "yes", "off", "false", "true", "false"},
		{"login_timeout", "login_timeout = 120", "login_timeout: 120", "5m", "off", "2m", "5m", "off"},
		{"remember.samesite", `remember.samesite = "strict"`, "remember:\n  samesite: None", "lax", "STRICT", "", "Lax", "Strict"},
		{"webauthn.preferred_transports", `webauthn.preferred_transports = ["usb", "nfc"]`, "webauthn:\n  preferred_transports: [usb, nfc]", "ble", "internal,hybrid", "usb,nfc", "ble", "internal,hybrid"},
		{"ratelimit.signin", `ratelimit.signin = "10/1s"`, "ratelimit:\n  signin: 10/1s", "off", "100/1h", "10/1s", "off", "100/1h"},
		{"password.argon2_threads", "password.argon2_threads = 2", "password: {argon2_threads: 2}", "3", "4", "2", "3", "4"},
	}
	for _, tt := range tests {
		k, _ := lookup(tt.key)
		extra := map[string]string{}
		if strings.HasPrefix(tt.key, "webauthn.") {
			extra["webauthn.rp_name"] = "Example"
		}
		for _, file := range []struct{ name, content string }{{"c.toml", tt.toml}, {"c.yaml", tt.yaml}} {
			path := writeFile(t, file.name, file.content)
			envs := map[string]string{"TWOFACTOR_WEBAUTHN_RP_NAME": "Example"}
			layers := []struct {
				name   string
				opts   LoadOptions
				want   string
				source Source
			}{
				{"file", LoadOptions{File: path, Env: env(envs)}, tt.file, FromFile},
				{"file+env", LoadOptions{File: path, Env: env(map[string]string{k.Env(): tt.env, "TWOFACTOR_WEBAUTHN_RP_NAME": "X"})}, tt.fromEnv, FromEnv},
				{"file+env+flag", LoadOptions{File: path, Env: env(map[string]string{k.Env(): tt.env, "TWOFACTOR_WEBAUTHN_RP_NAME": "X"}), Flags: merge(extra, tt.key, tt.flag)}, tt.f, FromFlag},
				{"file+flag", LoadOptions{File: path, Flags: merge(extra, tt.key, tt.flag)}, tt.f, FromFlag},
				{"env+flag", LoadOptions{Env: env(map[string]string{k.Env(): tt.env}), Flags: merge(extra, tt.key, tt.flag)}, tt.f, FromFlag},
			}
			for _, l := range layers {
				want := l.want
				if want == "" { // the YAML and TOML cases differ
					want = map[string]string{"c.toml": "Strict", "c.yaml": "None"}[file.name]
				}
				c, err := Load(l.opts)
				if err != nil {
					t.Errorf("%s %s %s: %v", tt.key, file.name, l.name, err)
					continue
				}
				if got := c.Redacted()[tt.key]; got != want {
					t.Errorf("%s %s %s: got %q, want %q", tt.key, file.name, l.name, got, want)
				}
				if got := c.SourceOf(tt.key); got != l.source {
					t.Errorf("%s %s %s: source %v, want %v", tt.key, file.name, l.name, got, l.source)
				}
			}
		}
	}
}

// merge returns a copy of m with key set to v.
func merge(m map[string]string, key, v string) map[string]string {
	out := map[string]string{key: v}
	for k, x := range m {
		out[k] = x
	}
	return out
}

// TestEmptyEnvOverrides checks that a variable set to "" sets the key to
// empty instead of falling back to the file.
func TestEmptyEnvOverrides(t *testing.T) {
	path := writeFile(t, "c.toml", "issuer = \"File\"\ntotp.digits = 8\n")
	c, err := Load(LoadOptions{File: path, Env: env(map[string]string{"TWOFACTOR_ISSUER": ""})})
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "" || c.SourceOf("issuer") != FromEnv {
		t.Errorf("issuer = %q from %v, want empty from the environment", c.Issuer, c.SourceOf("issuer"))
	}
	_, err = Load(LoadOptions{File: path, Env: env(map[string]string{"TWOFACTOR_TOTP_DIGITS": ""})})
	want := `config: totp.digits: must be 6 or 8 (got "" from TWOFACTOR_TOTP_DIGITS)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestOverriddenFileValueStillValidated: a bad value in a lower layer is an
// error even when a higher layer overrides it.
func TestOverriddenFileValueStillValidated(t *testing.T) {
	path := writeFile(t, "c.toml", "totp.digits = 7\n")
	_, err := Load(LoadOptions{File: path, Flags: map[string]string{"totp.digits": "8"}})
	if err == nil || !strings.Contains(err.Error(), "totp.digits: must be 6 or 8") {
		t.Errorf("got %v", err)
	}
}

const fullTOML = `# every kind of value
addr = "0.0.0.0:8080"
secret_keys_old = ["k1", "k2"]
login_timeout = "90s"
step_up_age = 600
policy_grace = 0

[totp]
digits = 8
step = 60
tolerance = 2

[throttle]
totp = 0
user = "2s"

[remember]
age = "720h"
secure = true

[webauthn]
rp_name = "Example"
origins = ["https://example.com"]

[ratelimit]
signin = "off"
signin_burst = 5

[password]
argon2_memory_kib = 65536
`

const fullYAML = `# every kind of value
addr: 0.0.0.0:8080
secret_keys_old: [k1, k2]
login_timeout: 90s
step_up_age: 600
policy_grace: 0
totp:
  digits: 8
  step: 60
  tolerance: 2
throttle:
  totp: 0
  user: 2s
remember:
  age: 720h
  secure: true
webauthn:
  rp_name: Example
  origins:
    - https://example.com
ratelimit:
  signin: "off"
  signin_burst: 5
password:
  argon2_memory_kib: 65536
`

// fullYAMLDotted is fullYAML with dotted keys instead of nested mappings.
const fullYAMLDotted = `addr: 0.0.0.0:8080
secret_keys_old: k1,k2
login_timeout: 90s
step_up_age: 600
policy_grace: 0
totp.digits: 8
totp.step: 60
totp.tolerance: 2
throttle.totp: 0
throttle.user: 2s
remember.age: 720h
remember.secure: yes
webauthn.rp_name: Example
webauthn.origins: [https://example.com]
ratelimit.signin: off
ratelimit.signin_burst: 5
password.argon2_memory_kib: 65536
`

// fullTOMLDotted is fullTOML with dotted keys.
const fullTOMLDotted = `addr = "0.0.0.0:8080"
secret_keys_old = "k1, k2"
login_timeout = "90s"
step_up_age = 600
policy_grace = 0
totp.digits = 8
totp.step = 60.0
totp.tolerance = 2
throttle.totp = 0
throttle.user = "2s"
remember.age = "720h"
remember.secure = "on"
webauthn.rp_name = "Example"
webauthn.origins = ["https://example.com"]
ratelimit.signin = "off"
ratelimit.signin_burst = 5
password.argon2_memory_kib = 65536
`

func TestFiles(t *testing.T) {
	want := Default()
	want.Addr = "0.0.0.0:8080"
	want.SecretKeysOld = []string{"k1", "k2"}
	want.LoginTimeout = 90 * time.Second
	want.StepUpAge = 10 * time.Minute
	want.PolicyGrace = 0
	want.TOTP.Digits, want.TOTP.Step, want.TOTP.Tolerance = 8, time.Minute, 2
	want.Throttle.TOTP, want.Throttle.User = 0, 2*time.Second
	want.Remember.Age, want.Remember.Secure = 720*time.Hour, true
	want.WebAuthn.RPName, want.WebAuthn.Origins = "Example", []string{"https://example.com"}
	want.RateLimit.SignIn, want.RateLimit.SignInBurst = Rate{}, 5
	want.Password.Argon2MemoryKiB = 65536

	for _, f := range []struct{ name, content string }{
		{"nested.toml", fullTOML},
		{"dotted.toml", fullTOMLDotted},
		{"nested.yaml", fullYAML},
		{"dotted.yml", fullYAMLDotted},
		{"UPPER.YAML", fullYAML},
	} {
		c, err := Load(LoadOptions{File: writeFile(t, f.name, f.content)})
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		for _, name := range []string{"addr", "totp.digits", "webauthn.origins", "password.argon2_memory_kib"} {
			if c.SourceOf(name) != FromFile {
				t.Errorf("%s: %s source %v", f.name, name, c.SourceOf(name))
			}
		}
		if c.SourceOf("issuer") != FromDefault {
			t.Errorf("%s: issuer source %v", f.name, c.SourceOf("issuer"))
		}
		c.sources = nil
		if !reflect.DeepEqual(c, want) {
			t.Errorf("%s:\n got %v\nwant %v", f.name, c, want)
		}
	}
}

func TestEmptyFiles(t *testing.T) {
	for name, content := range map[string]string{
		"a.toml": "", "b.toml": "# nothing\n", "c.yaml": "", "d.yaml": "# nothing\n", "e.yml": "~\n", "f.yaml": "---\n",
	} {
		c, err := Load(LoadOptions{File: writeFile(t, name, content)})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		c.sources = nil
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("%s: not the defaults", name)
		}
	}
}

// TestFileErrors is the golden list of file errors; FILE stands for the
// file's path.
func TestFileErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"c.toml", "[totp]\ndigit = 8\n", `config: unknown key "totp.digit" in FILE (did you mean "totp.digits"?)`},
		{"c.yaml", "totp:\n  digit: 8\n", `config: unknown key "totp.digit" in FILE:2 (did you mean "totp.digits"?)`},
		{"c.toml", "nothing_like_it = 1\n", `config: unknown key "nothing_like_it" in FILE`},
		{"c.toml", "totp = 8\n", `config: unknown key "totp" in FILE`},
		{"c.yaml", "TOTP:\n  Digits: 8\n", `config: unknown key "TOTP.Digits" in FILE:2 (did you mean "totp.digits"?)`},
		{"c.toml", "[issuer]\nname = \"x\"\n", `config: unknown key "issuer.name" in FILE`},
		{"c.toml", "[[totp]]\ndigits = 8\n", `config: unknown key "totp" in FILE`},
		{"c.toml", "[totp]\ndigits = \"x\"\n", `config: totp.digits: must be 6 or 8 (got "x" from FILE)`},
		{"c.yaml", "totp:\n  digits: x\n", `config: totp.digits: must be 6 or 8 (got "x" from FILE:2)`},
		{"c.toml", "totp.digits = true\n", `config: totp.digits: must be 6 or 8 (got "true" from FILE)`},
		{"c.toml", "totp.digits = [6]\n", `config: totp.digits: must be a single value, not a list (from FILE)`},
		{"c.yaml", "totp:\n  digits: [6, 8]\n", `config: totp.digits: must be a single value, not a list (from FILE:2)`},
		{"c.toml", "totp.step = 1.5\n", `config: totp.step: must be a duration such as 90s or 1h, or a whole number of seconds (got "1.5" from FILE)`},
		{"c.toml", "login_timeout = -5\n", `config: login_timeout: must not be negative, or off (got "-5" from FILE)`},
		{"c.toml", "login_timeout = 1979-05-27\n", `config: login_timeout: must not be a date or time (write durations as "90s" or a number of seconds) (in FILE)`},
		{"c.toml", "webauthn.origins = [[\"a\"]]\n", `config: webauthn.origins: list items must be values, not lists (in FILE)`},
		{"c.yaml", "webauthn:\n  origins:\n    - [a]\n", `config: webauthn.origins: list items must be values, not lists or mappings (in FILE:3)`},
		{"c.toml", "[totp\ndigits = 8\n", `config: FILE: line 2: expected '.' or ']' to end table name, but got '\n' instead`},
		{"c.toml", "totp.digits = 6\ntotp.digits = 8\n", `config: FILE: line 2: Key 'totp.digits' has already been defined.`},
		{"c.yaml", "totp:\n  digits: 8\n bad\n", `config: FILE: line 2: did not find expected key`},
		{"c.yaml", "- a\n- b\n", `config: FILE:1: the file must be a mapping of keys to values`},
		{"c.yaml", "totp.digits: 6\ntotp:\n  digits: 8\n", `config: totp.digits: set twice (FILE:1 and FILE:3)`},
		{"c.yaml", "totp:\n  digits: 6\ntotp:\n  digits: 8\n", `config: totp.digits: set twice (FILE:2 and FILE:4)`},
		{"c.toml", "\"totp.digits\" = 6\n[totp]\ndigits = 8\n", `config: totp.digits: set twice (FILE and FILE)`},
		{"c.yaml", "? [a, b]\n: 1\n", `config: FILE:1: keys must be non-empty names`},
		{"c.json", "{}", `config: FILE: unknown file type: the name must end in .toml, .yaml or .yml`},
		{"c", "", `config: FILE: unknown file type: the name must end in .toml, .yaml or .yml`},
	}
	for _, tt := range tests {
		path := writeFile(t, tt.name, tt.content)
		_, err := Load(LoadOptions{File: path})
		want := strings.ReplaceAll(tt.want, "FILE", path)
		if err == nil || err.Error() != want {
			t.Errorf("%s %q:\n got %v\nwant %s", tt.name, tt.content, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s %q: error has more than one line: %q", tt.name, tt.content, err)
		}
	}
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.toml")
	_, err := Load(LoadOptions{File: path})
	if err == nil || !strings.HasPrefix(err.Error(), "config: open "+path+": ") {
		t.Errorf("got %v", err)
	}
	if !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("error %v does not wrap the not-exist error", err)
	}
}

// unwrapAll returns the innermost wrapped error.
func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// TestYAMLAliases checks that aliases work and that an alias bomb is refused
// quickly.
func TestYAMLAliases(t *testing.T) {
	c, err := Load(LoadOptions{File: writeFile(t, "a.yaml", "x: &d 8\ntotp:\n  digits: *d\n")})
	if err == nil || !strings.Contains(err.Error(), `unknown key "x"`) {
		t.Errorf("got %v, %v", c.TOTP.Digits, err)
	}
	c, err = Load(LoadOptions{File: writeFile(t, "b.yaml", "totp: &t\n  digits: 8\n")})
	if err != nil || c.TOTP.Digits != 8 {
		t.Errorf("got %v, %v", c.TOTP.Digits, err)
	}
	var b strings.Builder
	b.WriteString("a0: &a0 {}\n")
	for i := 1; i < 12; i++ {
		b.WriteString("a" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " {")
		for j := 0; j < 8; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("k" + strconv.Itoa(j) + ": *a" + strconv.Itoa(i-1))
		}
		b.WriteString("}\n")
	}
	start := time.Now()
	_, err = Load(LoadOptions{File: writeFile(t, "bomb.yaml", b.String())})
	if err == nil || !strings.Contains(err.Error(), "too many keys") {
		t.Errorf("alias bomb: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("alias bomb took %v", d)
	}
}
