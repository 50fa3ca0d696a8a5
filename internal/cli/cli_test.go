package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, to tamper with a database

	"github.com/twofactor/twofactor"
)

// testKey is the RFC 6238 SHA-1 test key "12345678901234567890" in hex.
const testKey = "3132333435363738393031323334353637383930"

func TestUsageErrors(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name string
		args []string
		want string // first stderr line
	}{
		{"no command", nil, "usage: twofactor [--database URL] [--config FILE] COMMAND [ARGS] [FLAGS]"},
		{"unknown command", []string{"bogus"}, `twofactor: unknown command "bogus"`},
		{"unknown global flag", []string{"--bogus", "status", "bob"}, "twofactor: flag provided but not defined: --bogus"},
		{"group without subcommand", []string{"user"}, "twofactor: user: missing subcommand"},
		{"unknown subcommand", []string{"user", "delete", "bob"}, `twofactor: unknown command "user delete"`},
		{"key without subcommand", []string{"key"}, "twofactor: key: missing subcommand"},
		{"unknown flag", []string{"status", "bob", "--bogus"}, "twofactor: flag provided but not defined: --bogus"},
		{"flag without value", []string{"verify", "bob", "123456", "--device"}, "twofactor: flag needs an argument: --device"},
		{"missing name", []string{"status"}, "twofactor: missing argument NAME"},
		{"missing names", []string{"disable"}, "twofactor: missing argument NAME"},
		{"missing code", []string{"verify", "bob"}, "twofactor: missing argument CODE"},
		{"extra argument", []string{"verify", "bob", "123", "456"}, `twofactor: unexpected argument "456"`},
		{"extra argument to key generate", []string{"key", "generate", "now"}, `twofactor: unexpected argument "now"`},
		{"extra argument to migrate", []string{"migrate", "up"}, `twofactor: unexpected argument "up"`},
		{"extra argument to user create", []string{"user", "create", "a", "b"}, `twofactor: unexpected argument "b"`},
		{"non-integer digits", []string{"totp", "add", "bob", "--digits", "x"}, `twofactor: invalid value "x" for flag --digits: parse error`},
		{"non-integer step", []string{"totp", "add", "bob", "--step", "abc"}, `twofactor: invalid value "abc" for flag --step: parse error`},
		{"serve with an argument", []string{"serve", "now"}, `twofactor: unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.runRaw("", tt.args...)
			if r.code != 2 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q; want exit 2 and no stdout (stderr %q)", r.code, r.stdout, r.stderr)
			}
			first, rest, _ := strings.Cut(r.stderr, "\n")
			if first != tt.want {
				t.Errorf("stderr starts %q, want %q", first, tt.want)
			}
			if !strings.Contains(r.stderr, "usage: twofactor") {
				t.Errorf("no usage in stderr: %q", rest)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(h.dir, "t.db")); !os.IsNotExist(err) {
		t.Errorf("a usage error opened the database (stat: %v)", err)
	}
}

func TestHelp(t *testing.T) {
	h := newHarness(t)
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			for _, flag := range []string{"--help", "-h"} {
				args := append(strings.Fields(c.name), flag)
				r := h.runRaw("", args...)
				want := "usage: twofactor " + strings.TrimSpace(c.name+" "+c.args) + " [FLAGS]\n"
				if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, want) {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 0 and stdout starting %q", args, r.code, r.stdout, r.stderr, want)
				}
				if !strings.Contains(r.stdout, "--database URL") {
					t.Errorf("%s: the global flags are not listed:\n%s", args, r.stdout)
				}
			}
		})
	}
	t.Run("serve lists every key", func(t *testing.T) {
		r := h.runRaw("", "serve", "--help")
		for _, want := range []string{"--addr ADDRESS", "--log-format FORMAT", "totp.digits", "TWOFACTOR_TOTP_DIGITS", "password.argon2_threads"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("serve --help lacks %q", want)
			}
		}
	})
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		r := h.runRaw("", args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "usage: twofactor ") || !strings.Contains(r.stdout, "backup-codes NAME") {
			t.Errorf("%s: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
	r := h.runRaw("", "user", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "user passwd NAME") {
		t.Errorf("user --help: exit %d, stdout %q", r.code, r.stdout)
	}
	r = h.runRaw("")
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "totp add NAME") {
		t.Errorf("no arguments: exit %d, stdout %q, stderr %q; want the command list on stderr, exit 2", r.code, r.stdout, r.stderr)
	}
}

func TestKeyGenerate(t *testing.T) {
	h := newHarness(t)
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}\n$`)
	a := h.run("", "key", "generate")
	b := h.run("", "key", "generate")
	for _, r := range []result{a, b} {
		if r.code != 0 || r.stderr != "" || !hex64.MatchString(r.stdout) {
			t.Fatalf("key generate: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	}
	if a.stdout == b.stdout {
		t.Error("two keys are equal")
	}
	// It needs no database: none is opened, and broken settings do not matter.
	if entries, _ := os.ReadDir(h.dir); len(entries) != 0 {
		t.Errorf("key generate created files: %v", entries)
	}
	h.env["TWOFACTOR_TOTP_DIGITS"] = "7"
	if r := h.runRaw("", "key", "generate", "--database", "mysql://x"); r.code != 0 {
		t.Errorf("key generate with a broken configuration: exit %d, %q", r.code, r.stderr)
	}
}

func TestMigrate(t *testing.T) {
	h := newHarness(t)
	for range 2 { // a second run finds nothing to do
		out := h.ok("", "migrate")
		if !regexp.MustCompile(`^database schema is at version [1-9][0-9]*\n$`).MatchString(out) {
			t.Errorf("migrate printed %q", out)
		}
	}
	info, err := os.Stat(filepath.Join(h.dir, "twofactor.key"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
}

func TestUserCommands(t *testing.T) {
	h := newHarness(t)
	if out := h.ok("password-bob\n", "user", "create", "bob", "--password-stdin", "--email", "bob@example.com", "--staff"); out != "created user \"bob\"\n" {
		t.Errorf("user create printed %q", out)
	}
	// Flags before the name, CRLF line ending, no final newline.
	if out := h.ok("password-alice\r\n", "user", "create", "--password-stdin", "alice"); out != "created user \"alice\"\n" {
		t.Errorf("user create printed %q", out)
	}
	if out := h.ok("password-carol", "user", "create", "carol", "--password-stdin"); out != "created user \"carol\"\n" {
		t.Errorf("user create printed %q", out)
	}
	a := h.open()
	for name, pw := range map[string]string{"bob": "password-bob", "alice": "password-alice", "carol": "password-carol"} {
		if _, err := a.Service.Users().Authenticate(context.Background(), name, pw); err != nil {
			t.Errorf("%s cannot sign in with the password given: %v", name, err)
		}
	}

	failures := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"duplicate", "password-x\n", []string{"user", "create", "bob", "--password-stdin"}, `twofactor: user "bob" already exists`},
		{"bad username", "password-x\n", []string{"user", "create", "bob smith", "--password-stdin"},
			"twofactor: invalid username: Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters"},
		{"short password", "short\n", []string{"user", "create", "dave", "--password-stdin"},
			"twofactor: invalid password: This password is too short. It must contain at least 8 characters"},
		{"bad email", "password-x\n", []string{"user", "create", "dave", "--password-stdin", "--email", "nope"},
			"twofactor: invalid --email: Enter a valid email address"},
		{"empty stdin", "", []string{"user", "create", "dave", "--password-stdin"}, "twofactor: no password on standard input"},
		{"no terminal", "password-x\n", []string{"user", "create", "dave"},
			"twofactor: standard input is not a terminal: use --password-stdin to read the password from it"},
		{"passwd no terminal", "password-x\n", []string{"user", "passwd", "bob"},
			"twofactor: standard input is not a terminal: use --password-stdin to read the password from it"},
		{"passwd unknown user", "password-x\n", []string{"user", "passwd", "nobody", "--password-stdin"}, `twofactor: user "nobody" does not exist`},
		{"passwd short", "short\n", []string{"user", "passwd", "bob", "--password-stdin"},
			"twofactor: invalid password: This password is too short. It must contain at least 8 characters"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			checkFailure(t, h.run(tt.stdin, tt.args...), tt.want, tt.args)
		})
	}
	if _, err := a.Service.Users().UserByName(context.Background(), "dave"); err == nil {
		t.Error("a failed user create created the user")
	}

	if out := h.ok("new-password\n", "user", "passwd", "bob", "--password-stdin"); out != "password changed for user \"bob\"\n" {
		t.Errorf("user passwd printed %q", out)
	}
	if _, err := a.Service.Users().Authenticate(context.Background(), "bob", "new-password"); err != nil {
		t.Errorf("bob cannot sign in with the new password: %v", err)
	}
	if _, err := a.Service.Users().Authenticate(context.Background(), "bob", "password-bob"); err == nil {
		t.Error("bob can still sign in with the old password")
	}

	h.addTOTP("alice", testKey)
	wantList := "USERNAME  EMAIL            STAFF  TWO-FACTOR\n" +
		"alice     -                no     enabled\n" +
		"bob       bob@example.com  yes    disabled\n" +
		"carol     -                no     disabled\n"
	if out := h.ok("", "user", "list"); out != wantList {
		t.Errorf("user list:\n%s\nwant:\n%s", out, wantList)
	}
	var list []userJSON
	if err := json.Unmarshal([]byte(h.ok("", "user", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	wantJSON := []userJSON{
		{Username: "alice", Active: true, Enabled: true},
		{Username: "bob", Email: "bob@example.com", Staff: true, Active: true},
		{Username: "carol", Active: true},
	}
	if !reflect.DeepEqual(list, wantJSON) {
		t.Errorf("user list --json = %+v, want %+v", list, wantJSON)
	}
}

// TestStatusAndDisable ports the seed's test_commands.py: unknown users are
// reported with the exact message and change nothing; disabling one and then
// two of three users; status lines in the order of the arguments.
func TestStatusAndDisable(t *testing.T) {
	h := newHarness(t)
	for _, name := range []string{"alice", "bob", "carol"} {
		h.createUser(name)
	}
	h.createUser("dave") // never enabled
	if out := h.ok("", "status", "dave"); out != "dave: disabled\n" {
		t.Errorf("status dave = %q", out)
	}
	for _, name := range []string{"alice", "bob", "carol"} {
		h.addTOTP(name, testKey)
	}
	status := func(names ...string) string { return h.ok("", append([]string{"status"}, names...)...) }

	if got, want := status("alice", "bob", "carol"), "alice: enabled\nbob: enabled\ncarol: enabled\n"; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	if got, want := status("carol", "alice", "dave", "bob"), "carol: enabled\nalice: enabled\ndave: disabled\nbob: enabled\n"; got != want {
		t.Errorf("status keeps the argument order: got %q, want %q", got, want)
	}

	// Unknown users: the exact message, nothing printed, nothing changed.
	h.fails(`twofactor: user "nobody" does not exist`, "status", "nobody")
	h.fails(`twofactor: user "nobody" does not exist`, "status", "alice", "nobody", "bob")
	h.fails(`twofactor: user "nobody" does not exist`, "disable", "nobody")
	h.fails(`twofactor: user "nobody" does not exist`, "disable", "alice", "bob", "nobody", "ghost")
	if got, want := status("alice", "bob", "carol"), "alice: enabled\nbob: enabled\ncarol: enabled\n"; got != want {
		t.Errorf("a refused disable changed something: %q", got)
	}

	if out := h.ok("", "disable", "alice"); out != "" {
		t.Errorf("disable printed %q", out)
	}
	if got, want := status("alice", "bob", "carol"), "alice: disabled\nbob: enabled\ncarol: enabled\n"; got != want {
		t.Errorf("after disabling one: %q, want %q", got, want)
	}
	h.ok("", "disable", "bob", "carol")
	if got, want := status("alice", "bob", "carol"), "alice: disabled\nbob: disabled\ncarol: disabled\n"; got != want {
		t.Errorf("after disabling two more: %q, want %q", got, want)
	}
	if out := h.ok("", "devices", "bob"); out != "ID  KIND  NAME  PRIMARY  CONFIRMED  LAST USED\n" {
		t.Errorf("a disabled user still has devices:\n%s", out)
	}
	h.ok("", "disable", "alice") // disabling again is fine

	var got []statusJSON
	if err := json.Unmarshal([]byte(h.ok("", "status", "--json", "dave", "alice")), &got); err != nil {
		t.Fatal(err)
	}
	if want := []statusJSON{{"dave", false}, {"alice", false}}; !reflect.DeepEqual(got, want) {
		t.Errorf("status --json = %+v, want %+v", got, want)
	}
}

func TestTOTPAddAndVerify(t *testing.T) {
	h := newHarness(t, noThrottle)
	h.createUser("bob")
	h.createUser("alice")
	h.createUser("carol")

	out := h.ok("", "totp", "add", "bob", "--key", testKey)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	uri := lines[0]
	if want := "otpauth://totp/twofactor%3A%20bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=6&issuer=twofactor"; uri != want {
		t.Errorf("URI = %q, want %q", uri, want)
	}
	m := regexp.MustCompile(`^device id: ([a-z2-7]{26})$`).FindStringSubmatch(lines[len(lines)-1])
	if m == nil {
		t.Fatalf("last line %q is not the device id", lines[len(lines)-1])
	}
	bobDevice := m[1]
	if got := zbar(t, halfBlocks(t, lines[1:len(lines)-1])); got != uri {
		t.Errorf("the QR code decodes to %q, want the URI %q", got, uri)
	}

	code := oathtool(t, testKey, 6, 30, 0)
	if out := h.ok("", "verify", "bob", code); out != "accepted (device "+bobDevice+", totp)\n" {
		t.Errorf("verify printed %q", out)
	}
	h.fails("twofactor: code rejected: code already used (replay)", "verify", "bob", code)
	h.fails("twofactor: code rejected: wrong code", "verify", "bob", wrongCode(code))
	h.fails("twofactor: code rejected: malformed code", "verify", "bob", "12a456")
	h.fails("twofactor: code rejected: malformed code", "verify", "bob", "1234567")
	// The next step's code, typed with a space, on the device named.
	next := oathtool(t, testKey, 6, 30, 30*time.Second)
	if out := h.ok("", "verify", "bob", next[:3]+" "+next[3:], "--device", bobDevice); out != "accepted (device "+bobDevice+", totp)\n" {
		t.Errorf("verify --device printed %q", out)
	}

	aliceDevice := h.addTOTP("alice", testKey)
	h.fails(`twofactor: device "`+bobDevice+`" not found for user "alice"`, "verify", "alice", code, "--device", bobDevice)
	h.fails(`twofactor: device "nope" not found for user "alice"`, "verify", "alice", code, "--device", "nope")
	h.fails(`twofactor: user "carol" has no two-factor device (two-factor is disabled)`, "verify", "carol", code)
	h.fails(`twofactor: user "carol" has no backup codes`, "verify", "carol", "abcde-fghjk")
	h.fails(`twofactor: user "nobody" does not exist`, "verify", "nobody", code)
	if out := h.ok("", "verify", "alice", oathtool(t, testKey, 6, 30, 0), "--device", aliceDevice); !strings.HasPrefix(out, "accepted") {
		t.Errorf("alice: %q", out)
	}

	// 8 digits and a 60-second step.
	key8 := "00112233445566778899aabbccddeeff"
	out = h.ok("", "totp", "add", "carol", "--key", key8, "--digits", "8", "--step", "60", "--name", "Phone")
	if !strings.HasPrefix(out, "otpauth://totp/twofactor%3A%20carol?secret=") || !strings.Contains(strings.SplitN(out, "\n", 2)[0], "&digits=8&period=60&issuer=twofactor") {
		t.Errorf("URI line: %q", strings.SplitN(out, "\n", 2)[0])
	}
	if out := h.ok("", "verify", "carol", oathtool(t, key8, 8, 60, 0)); !strings.HasPrefix(out, "accepted (device ") {
		t.Errorf("8-digit code: %q", out)
	}
	if out := h.ok("", "devices", "carol"); !strings.Contains(out, " Phone ") {
		t.Errorf("the device name is not listed:\n%s", out)
	}
}

// wrongCode returns a code of the same length that is not code.
func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+5)%10
	return string(b)
}

func TestTOTPAddJSONAndIssuer(t *testing.T) {
	h := newHarness(t, map[string]string{"TWOFACTOR_PUBLIC_URL": "https://auth.example.com/"})
	h.createUser("bob")
	var got enrollmentJSON
	if err := json.Unmarshal([]byte(h.ok("", "totp", "add", "bob", "--key", testKey, "--json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.URI != "otpauth://totp/auth.example.com%3A%20bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=6&issuer=auth.example.com" ||
		got.Secret != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" || len(got.DeviceID) != 26 {
		t.Errorf("totp add --json = %+v", got)
	}
	h.env["TWOFACTOR_ISSUER"] = "Example Corp"
	out := h.ok("", "totp", "add", "bob")
	if !strings.HasPrefix(out, "otpauth://totp/Example%20Corp%3A%20bob?secret=") || !strings.Contains(strings.SplitN(out, "\n", 2)[0], "&issuer=Example+Corp") {
		t.Errorf("configured issuer not used: %q", strings.SplitN(out, "\n", 2)[0])
	}
}

func TestThrottled(t *testing.T) {
	h := newHarness(t) // default throttles: 1 s factor
	h.createUser("bob")
	h.addTOTP("bob", testKey)
	code := oathtool(t, testKey, 6, 30, 0)
	h.fails("twofactor: code rejected: wrong code", "verify", "bob", wrongCode(code))
	r := h.run("", "verify", "bob", code)
	re := regexp.MustCompile(`^twofactor: throttled: 1 failed attempt, retry in [12]s \(at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\n$`)
	if r.code != 1 || r.stdout != "" || !re.MatchString(r.stderr) {
		t.Errorf("immediate retry: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestBackupCodes(t *testing.T) {
	h := newHarness(t, noThrottle)
	h.createUser("bob")
	h.fails(`twofactor: user "bob" has no two-factor device (two-factor is disabled)`, "backup-codes", "bob")
	h.fails(`twofactor: user "nobody" does not exist`, "backup-codes", "nobody")
	h.addTOTP("bob", testKey)

	old := strings.Fields(h.ok("", "backup-codes", "bob"))
	codes := strings.Split(strings.TrimSuffix(h.ok("", "backup-codes", "bob"), "\n"), "\n")
	if len(codes) != 10 {
		t.Fatalf("got %d codes, want 10", len(codes))
	}
	for _, c := range codes {
		if !regexp.MustCompile(`^[a-z0-9]{5}-[a-z0-9]{5}$`).MatchString(c) {
			t.Errorf("code %q is not of the form xxxxx-xxxxx", c)
		}
	}
	h.fails("twofactor: code rejected: wrong code", "verify", "bob", old[0]) // replaced

	out := h.ok("", "verify", "bob", codes[0])
	m := regexp.MustCompile(`^accepted \(device ([a-z2-7]{26}), static\)\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("verify with a backup code printed %q", out)
	}
	h.fails("twofactor: code rejected: wrong code", "verify", "bob", codes[0])
	// Case and dash do not matter; --device with the static device works.
	if out := h.ok("", "verify", "bob", strings.ToUpper(strings.ReplaceAll(codes[1], "-", "")), "--device", m[1]); out != "accepted (device "+m[1]+", static)\n" {
		t.Errorf("upper-case code without dash: %q", out)
	}
	if out := h.ok("", "devices", "bob"); !strings.Contains(out, "Backup codes (8 left)") {
		t.Errorf("devices does not count the codes left:\n%s", out)
	}
}

func TestDevices(t *testing.T) {
	h := newHarness(t, noThrottle)
	h.createUser("bob")
	totp := h.addTOTP("bob", testKey)
	other := h.addTOTP("bob", "00112233445566778899", "--name", "Old phone")
	h.ok("", "backup-codes", "bob")
	h.ok("", "verify", "bob", oathtool(t, testKey, 6, 30, 0))

	var list []deviceJSON
	if err := json.Unmarshal([]byte(h.ok("", "devices", "bob", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("devices --json: %d devices, want 3", len(list))
	}
	static := list[2].ID
	if list[0].ID != totp || list[1].ID != other || list[2].Kind != "static" || *list[2].BackupCodes != 10 ||
		!list[0].Primary || list[1].Primary || list[0].LastUsedAt == nil || list[1].LastUsedAt != nil {
		t.Errorf("devices --json = %s", mustJSON(list))
	}
	lastUsed := *list[0].LastUsedAt
	if _, err := time.Parse(time.RFC3339, lastUsed); err != nil || !strings.HasSuffix(lastUsed, "Z") {
		t.Errorf("last used %q is not RFC 3339 UTC", lastUsed)
	}
	want := "ID                          KIND    NAME                    PRIMARY  CONFIRMED  LAST USED\n" +
		totp + "  totp    Authenticator app       yes      yes        " + lastUsed + "\n" +
		other + "  totp    Old phone               no       yes        never\n" +
		static + "  static  Backup codes (10 left)  no       yes        never\n"
	if out := h.ok("", "devices", "bob"); out != want {
		t.Errorf("devices:\n%s\nwant:\n%s", out, want)
	}
	h.fails(`twofactor: user "nobody" does not exist`, "devices", "nobody")
	h.createUser("carol")
	if out := h.ok("", "devices", "carol", "--json"); out != "[]\n" {
		t.Errorf("devices --json without devices = %q", out)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestBadInputs(t *testing.T) {
	h := newHarness(t)
	h.createUser("bob")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"key not hex", nil, []string{"totp", "add", "bob", "--key", "zz"}, "twofactor: invalid --key: not hexadecimal (0-9, a-f)"},
		{"key odd length", nil, []string{"totp", "add", "bob", "--key", "abc"}, "twofactor: invalid --key: odd number of hexadecimal digits"},
		{"key too short", nil, []string{"totp", "add", "bob", "--key", "00112233"}, "twofactor: invalid --key: the key must be 10 to 64 bytes long, got 4"},
		{"key empty", nil, []string{"totp", "add", "bob", "--key", ""}, "twofactor: invalid --key: the key must be 10 to 64 bytes long, got 0"},
		{"key too long", nil, []string{"totp", "add", "bob", "--key", strings.Repeat("ab", 65)}, "twofactor: invalid --key: the key must be 10 to 64 bytes long, got 65"},
		{"digits 7", nil, []string{"totp", "add", "bob", "--digits", "7"}, "twofactor: invalid --digits: Digits must be 6 or 8"},
		{"digits 0", nil, []string{"totp", "add", "bob", "--digits", "0"}, "twofactor: invalid --digits: Digits must be 6 or 8"},
		{"step 0", nil, []string{"totp", "add", "bob", "--step", "0"}, "twofactor: invalid --step: The time step must be between 1 and 3600 seconds"},
		{"step too long", nil, []string{"totp", "add", "bob", "--step", "3601"}, "twofactor: invalid --step: The time step must be between 1 and 3600 seconds"},
		{"empty name", nil, []string{"totp", "add", "bob", "--name", ""}, "twofactor: invalid --name: must not be empty"},
		{"control character in name", nil, []string{"totp", "add", "bob", "--name", "a\x07b"}, "twofactor: invalid --name: The name must not contain control characters"},
		{"algorithm", nil, []string{"totp", "add", "bob", "--algorithm", "MD5"}, "twofactor: invalid --algorithm: must be SHA1, SHA256 or SHA512"},
		{"unknown user", nil, []string{"totp", "add", "nobody"}, `twofactor: user "nobody" does not exist`},
		{"mysql URL", nil, []string{"status", "bob", "--database", "mysql://x"},
			`twofactor: config: database_url: must be sqlite:PATH or postgres://… (got "mysql://x" from the command line)`},
		{"sqlite without path", nil, []string{"status", "bob", "--database", "sqlite:"},
			`twofactor: config: database_url: sqlite: needs a file path, such as sqlite:twofactor.db (got "sqlite:" from the command line)`},
		{"sqlite directory", nil, []string{"status", "bob", "--database", "sqlite:" + h.dir + "/"},
			`twofactor: config: database_url: database URL "sqlite:` + h.dir + `/": missing file name (use sqlite:twofactor.db)`},
		{"digits from the environment", map[string]string{"TWOFACTOR_TOTP_DIGITS": "7"}, []string{"status", "bob"},
			`twofactor: config: totp.digits: must be 6 or 8 (got "7" from TWOFACTOR_TOTP_DIGITS)`},
		{"bad secret key", map[string]string{"TWOFACTOR_SECRET_KEY": "tooshort"}, []string{"status", "bob"}, ""},
		{"missing config file", nil, []string{"status", "bob", "--config", filepath.Join(h.dir, "none.toml")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hh := *h
			hh.t = t
			hh.env = map[string]string{}
			for k, v := range h.env {
				hh.env[k] = v
			}
			for k, v := range tt.env {
				hh.env[k] = v
			}
			var r result
			if slicesContain(tt.args, "--database") {
				r = hh.runRaw("", tt.args...)
			} else {
				r = hh.run("", tt.args...)
			}
			if tt.want == "" { // only the shape is checked
				if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "twofactor: ") {
					t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and one line", r.code, r.stdout, r.stderr)
				}
				if strings.Contains(r.stderr, "tooshort") {
					t.Errorf("the secret key value appears in %q", r.stderr)
				}
				return
			}
			checkFailure(t, r, tt.want, tt.args)
		})
	}
	if out := h.ok("", "devices", "bob", "--json"); out != "[]\n" {
		t.Errorf("refused totp add left devices: %s", out)
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestSchemaTooNew(t *testing.T) {
	h := newHarness(t)
	h.createUser("bob")
	db, err := sql.Open("sqlite", filepath.Join(h.dir, "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO twofactor_schema (version) VALUES (9999)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, args := range [][]string{{"status", "bob"}, {"migrate"}} {
		r := h.run("", args...)
		if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 ||
			!strings.HasPrefix(r.stderr, "twofactor: the database schema is newer than this build; upgrade twofactor") ||
			!strings.Contains(r.stderr, "9999") {
			t.Errorf("%s on a newer schema: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

func TestUnknownEnvironmentVariables(t *testing.T) {
	h := newHarness(t, map[string]string{"TWOFACTOR_TOTP_DIGIT": "8", "TWOFACTOR_TEST_POSTGRES": "x", "TWOFACTOR_TEST_REQUIRE_ALL": "1"})
	r := h.run("", "migrate")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := "twofactor: warning: TWOFACTOR_TOTP_DIGIT is not a configuration variable; it is ignored\n"
	if !strings.HasPrefix(r.stderr, want) || strings.Contains(r.stderr, "TWOFACTOR_TEST_") {
		t.Errorf("stderr %q, want it to start with %q and not mention TWOFACTOR_TEST_", r.stderr, want)
	}
}

func TestParseInterleaved(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		dev  string
	}{
		{[]string{"bob", "123456"}, []string{"bob", "123456"}, ""},
		{[]string{"bob", "123456", "--device", "d"}, []string{"bob", "123456"}, "d"},
		{[]string{"--device=d", "bob", "123456"}, []string{"bob", "123456"}, "d"},
		{[]string{"bob", "-device", "d", "123 456"}, []string{"bob", "123 456"}, "d"},
		{[]string{"bob", "--", "--device"}, []string{"bob", "--device"}, ""},
	}
	for _, tt := range tests {
		fs := newFlagSet("test")
		dev := fs.String("device", "", "")
		pos, err := parseInterleaved(fs, tt.args)
		if err != nil || !reflect.DeepEqual(pos, tt.pos) || *dev != tt.dev {
			t.Errorf("parseInterleaved(%q) = %q, device %q, %v; want %q, %q", tt.args, pos, *dev, err, tt.pos, tt.dev)
		}
	}
}

func TestMessages(t *testing.T) {
	defer func(f func() time.Time) { now = f }(now)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now = func() time.Time { return at.Add(-1500 * time.Millisecond) }
	tests := []struct {
		err  error
		want string
	}{
		{forUser("bob", &twofactor.Error{Code: twofactor.CodeThrottled, RetryAt: at, Failures: 3}),
			"throttled: 3 failed attempts, retry in 2s (at 2026-01-02T03:04:05Z)"},
		{forUser("bob", &twofactor.Error{Code: twofactor.CodeInvalidCode, Reason: twofactor.ReasonExpired}), "code rejected: code expired"},
		{forUser("bob", &twofactor.Error{Code: twofactor.CodeUnavailable, Message: "x", Err: os.ErrClosed}),
			"database unavailable: file already closed"},
		{forUser("bob", twofactor.ErrNotFound), `user "bob" does not exist`},
		{forUser("bob", os.ErrPermission), "permission denied"},
		{twofactor.ErrSchemaTooNew, "the database schema is newer than this build; upgrade twofactor"},
	}
	for _, tt := range tests {
		if got := message(tt.err); got != tt.want {
			t.Errorf("message(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestConfigurationSources checks the precedence flags > environment >
// file, and global flags before the command name.
func TestConfigurationSources(t *testing.T) {
	h := newHarness(t)
	file := filepath.Join(h.dir, "twofactor.toml")
	conf := "database_url = \"" + h.db + "\"\nissuer = \"FromFile\"\n[totp]\ndigits = 8\n"
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	h.ok("password-bob\n", "user", "create", "bob", "--password-stdin")
	uriOf := func(r result) string {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		return strings.SplitN(r.stdout, "\n", 2)[0]
	}
	// The file names the database and the issuer; its digits apply.
	uri := uriOf(h.runRaw("", "--config", file, "totp", "add", "bob"))
	if !strings.HasPrefix(uri, "otpauth://totp/FromFile%3A%20bob?") || !strings.Contains(uri, "&digits=8&") {
		t.Errorf("with the file: %s", uri)
	}
	// The environment overrides the file.
	h.env["TWOFACTOR_ISSUER"] = "FromEnv"
	uri = uriOf(h.runRaw("", "totp", "add", "bob", "--config", file))
	if !strings.HasPrefix(uri, "otpauth://totp/FromEnv%3A%20bob?") {
		t.Errorf("the environment does not override the file: %s", uri)
	}
	// A flag overrides both: here the database, given before the command.
	other := "sqlite:" + filepath.Join(h.dir, "other.db")
	r := h.runRaw("", "--database", other, "--config", file, "status", "bob")
	checkFailure(t, r, `twofactor: user "bob" does not exist`, []string{"status", "bob"})
}
