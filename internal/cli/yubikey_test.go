package cli

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/internal/yubicloudtest"
	"github.com/twofactor/twofactor/yubikey"
)

// A YubiKey of the tests: django-otp-yubikey's alice (seeds-inventory §6.2).
var (
	ykPrivate = [6]byte{0x5d, 0xc3, 0x04, 0x90, 0x95, 0x6b}
	ykAES     = [16]byte{0xfb, 0x36, 0x2a, 0x08, 0x53, 0xbe, 0x5e, 0x53, 0x06, 0xd5, 0xcc, 0x24, 0x83, 0xf2, 0x79, 0xcb}
)

const ykPublic = "cccccccbcbcd"

// ykOTP is the OTP the key types with the session and use counters.
func ykOTP(session uint16, use uint8) string {
	return yubikey.Token(ykPublic, yubikey.OTP{UID: ykPrivate, Session: session, SessionUse: use, Timestamp: 0x0153f8, Random: 0x1234}, ykAES)
}

// noYubiKeyThrottle turns the backoffs off for tests that submit several
// OTPs in a row.
var noYubiKeyThrottle = map[string]string{
	"TWOFACTOR_THROTTLE_YUBIKEY": "0",
	"TWOFACTOR_THROTTLE_USER":    "0",
}

var addedYubiKey = regexp.MustCompile(`^added YubiKey \(device ([a-z2-7]+)\)\n$`)

// addYubiKey runs `yubikey add` and returns the new device id.
func (h *harness) addYubiKey(args ...string) string {
	h.t.Helper()
	out := h.ok("", append([]string{"yubikey", "add"}, args...)...)
	m := addedYubiKey.FindStringSubmatch(out)
	if m == nil {
		h.t.Fatalf("yubikey add printed %q", out)
	}
	return m[1]
}

// TestYubiKeyLocal: a local key is added with its secrets and verifies
// its OTPs once each, in order; replays and other keys' OTPs are refused.
func TestYubiKeyLocal(t *testing.T) {
	h := newHarness(t, noYubiKeyThrottle)
	h.createUser("alice")
	privHex, aesHex := hex.EncodeToString(ykPrivate[:]), hex.EncodeToString(ykAES[:])
	r := h.run("", "yubikey", "add", "alice", "--public-id", strings.ToUpper(ykPublic), "--private-id", privHex, "--aes-key", aesHex,
		"--name", "Desk key")
	m := addedYubiKey.FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil || r.stderr != "" {
		t.Fatalf("yubikey add: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	id := m[1]
	if out := h.ok("", "status", "alice"); out != "alice: enabled\n" {
		t.Fatalf("status: %q", out)
	}
	if out := h.ok("", "devices", "alice"); !regexp.MustCompile(`(?m)^` + id + `\s+yubikey\s+Desk key\s+yes\s+yes\s+never$`).MatchString(out) {
		t.Fatalf("devices:\n%s", out)
	}
	accepted := "accepted (device " + id + ", yubikey)\n"
	if out := h.ok("", "verify", "alice", ykOTP(5, 0)); out != accepted {
		t.Fatalf("verify: %q", out)
	}
	h.fails("twofactor: code rejected: code already used (replay)", "verify", "alice", ykOTP(5, 0))
	h.fails("twofactor: code rejected: code already used (replay)", "verify", "alice", ykOTP(4, 9))
	if out := h.ok("", "verify", "alice", strings.ToUpper(ykOTP(5, 1))); out != accepted { // Caps Lock
		t.Fatalf("verify upper case: %q", out)
	}
	if out := h.ok("", "verify", "alice", ykOTP(6, 0), "--device", id); out != accepted {
		t.Fatalf("verify --device: %q", out)
	}
	other := yubikey.Token(ykPublic, yubikey.OTP{UID: ykPrivate, Session: 9}, [16]byte{1})
	h.fails("twofactor: code rejected: wrong code", "verify", "alice", other)

	// The same key again, for alice: refused; the secrets are never echoed.
	r = h.run("", "yubikey", "add", "alice", "--public-id", ykPublic, "--private-id", privHex, "--aes-key", aesHex)
	checkFailure(t, r, `twofactor: user "alice" already has the YubiKey `+ykPublic, nil)
	// Another user may hold another key; alice's OTPs are not bob's.
	h.createUser("bob")
	h.addYubiKey("bob", "--public-id", "vvvvvvvvvvvv", "--private-id", "000000000000", "--aes-key", strings.Repeat("00", 16))
	h.fails("twofactor: code rejected: wrong code", "verify", "bob", ykOTP(7, 0))
}

// TestYubiKeyAddErrors: bad flag combinations are usage errors (exit 2,
// nothing opened); bad values are refused with exit 1 and one line that
// never repeats a secret.
func TestYubiKeyAddErrors(t *testing.T) {
	h := newHarness(t)
	privHex, aesHex := hex.EncodeToString(ykPrivate[:]), hex.EncodeToString(ykAES[:])
	usage := []struct {
		name string
		args []string
		want string
	}{
		{"no public id", []string{"alice", "--private-id", privHex, "--aes-key", aesHex}, "twofactor: missing flag --public-id"},
		{"no private id", []string{"alice", "--public-id", ykPublic, "--aes-key", aesHex}, "twofactor: missing flag --private-id (or --remote)"},
		{"no aes key", []string{"alice", "--public-id", ykPublic, "--private-id", privHex}, "twofactor: missing flag --aes-key (or --remote)"},
		{"remote with secrets", []string{"alice", "--remote", "--public-id", ykPublic, "--aes-key", aesHex},
			"twofactor: --remote cannot be used with --private-id or --aes-key (a remote key's secrets stay with the validation service)"},
		{"no name", []string{"--public-id", ykPublic, "--remote"}, "twofactor: missing argument NAME"},
		{"unknown flag", []string{"alice", "--public-id", ykPublic, "--secret", "x"}, "twofactor: flag provided but not defined: --secret"},
		{"remote not a bool", []string{"alice", "--public-id", ykPublic, "--remote=maybe"}, `twofactor: invalid boolean value "maybe" for --remote: parse error`},
	}
	for _, u := range usage {
		t.Run(u.name, func(t *testing.T) {
			r := h.run("", append([]string{"yubikey", "add"}, u.args...)...)
			first, _, _ := strings.Cut(r.stderr, "\n")
			if r.code != 2 || r.stdout != "" || first != u.want || !strings.Contains(r.stderr, "usage: twofactor yubikey add NAME") {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 with %q and the usage", r.code, r.stdout, r.stderr, u.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(h.dir, "t.db")); !os.IsNotExist(err) {
		t.Errorf("a usage error opened the database (stat: %v)", err)
	}
	h.createUser("alice")
	failures := []struct {
		name string
		args []string
		want string
	}{
		{"short private id", []string{"--public-id", ykPublic, "--private-id", "5dc304", "--aes-key", aesHex}, "twofactor: invalid --private-id: must be 12 hexadecimal digits"},
		{"private id not hex", []string{"--public-id", ykPublic, "--private-id", "zzzzzzzzzzzz", "--aes-key", aesHex}, "twofactor: invalid --private-id: must be 12 hexadecimal digits"},
		{"aes key not hex", []string{"--public-id", ykPublic, "--private-id", privHex, "--aes-key", "g" + aesHex[1:]}, "twofactor: invalid --aes-key: must be 32 hexadecimal digits"},
		{"aes key too long", []string{"--public-id", ykPublic, "--private-id", privHex, "--aes-key", aesHex + "00"}, "twofactor: invalid --aes-key: must be 32 hexadecimal digits"},
		{"public id not modhex", []string{"--public-id", "abcdef", "--private-id", privHex, "--aes-key", aesHex}, "twofactor: invalid --public-id: The public id must be 2 to 32 modhex characters"},
		{"empty name", []string{"--public-id", ykPublic, "--private-id", privHex, "--aes-key", aesHex, "--name", ""}, "twofactor: invalid --name: must not be empty"},
		{"remote without a service", []string{"--public-id", ykPublic, "--remote"},
			"twofactor: --remote needs the YubiKey validation service: set yubikey.api_key (and yubikey.api_id, yubikey.validation_url)"},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			h.fails(f.want, append([]string{"yubikey", "add", "alice"}, f.args...)...)
		})
	}
	h.fails(`twofactor: user "nobody" does not exist`, "yubikey", "add", "nobody", "--public-id", ykPublic, "--private-id", privHex, "--aes-key", aesHex)
	if out := h.ok("", "status", "alice"); out != "alice: disabled\n" {
		t.Fatalf("a refused yubikey add changed alice: %q", out)
	}
}

// TestYubiKeyRemote: a remote key is checked by the validation service
// (internal/yubicloudtest, configured through the environment): accepted
// once, the service's replay refusal reported as a replay.
func TestYubiKeyRemote(t *testing.T) {
	apiKey := []byte("0123456789abcdefghij")
	srv := yubicloudtest.New(t, "42", apiKey)
	srv.AddKey(ykPublic, ykPrivate, ykAES)
	h := newHarness(t, noYubiKeyThrottle, map[string]string{
		"TWOFACTOR_YUBIKEY_VALIDATION_URL": srv.URL(),
		"TWOFACTOR_YUBIKEY_API_ID":         "42",
		"TWOFACTOR_YUBIKEY_API_KEY":        base64.StdEncoding.EncodeToString(apiKey),
	})
	h.createUser("alice")
	id := h.addYubiKey("alice", "--remote", "--public-id", ykPublic)
	if out := h.ok("", "status", "alice"); out != "alice: enabled\n" {
		t.Fatalf("status: %q", out)
	}
	accepted := "accepted (device " + id + ", yubikey)\n"
	if out := h.ok("", "verify", "alice", ykOTP(1, 0)); out != accepted {
		t.Fatalf("verify: %q", out)
	}
	h.fails("twofactor: code rejected: code already used (replay)", "verify", "alice", ykOTP(1, 0))
	if out := h.ok("", "verify", "alice", ykOTP(1, 1)); out != accepted {
		t.Fatalf("verify the next OTP: %q", out)
	}
	h.fails("twofactor: code rejected: wrong code", "verify", "alice", yubikey.Token(ykPublic, yubikey.OTP{UID: ykPrivate, Session: 9}, [16]byte{1}))
	if n := len(srv.Requests()); n != 4 {
		t.Fatalf("the service saw %d requests, want 4", n)
	}
	// A service that lies is not believed.
	srv.SetFault(yubicloudtest.ForgedSignature)
	r := h.run("", "verify", "alice", ykOTP(2, 0))
	if r.code != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, "twofactor: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("forged answer: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestVerifyKeyPrimary: a user whose primary device is a security key
// (which verifies no typed code) gets a clear line from verify.
func TestVerifyKeyPrimary(t *testing.T) {
	h := newHarness(t)
	h.createUser("alice")
	a := h.open()
	u, err := a.Service.Users().UserByName(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	d := &twofactor.Device{ID: "webauthnkey1", UserID: u.ID, Kind: twofactor.KindWebAuthn, Name: "Key", Confirmed: true,
		CreatedAt: time.Now(), Destination: "Y3JlZA", Data: []byte(`{"rp_id":"example.com","credential":{}}`)}
	if err := a.Store.CreateDevice(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	h.fails(`twofactor: the primary device of user "alice" is of kind webauthn, which cannot verify codes here (use --device)`, "verify", "alice", "123456")
	h.fails(`twofactor: device "webauthnkey1" is of kind webauthn, which cannot verify codes here`, "verify", "alice", "123456", "--device", "webauthnkey1")
}
