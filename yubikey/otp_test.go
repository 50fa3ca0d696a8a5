package yubikey_test

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/twofactor/twofactor/yubikey"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// yubiotp's doctest: one OTP, encrypted and decoded back.
func TestYubiOTPDoctestVector(t *testing.T) {
	var key [16]byte
	copy(key[:], "0123456789abcdef")
	var uid [6]byte
	copy(uid[:], mustHex(t, "0123456789ab"))
	o := yubikey.OTP{UID: uid, Session: 5, Timestamp: 0x0153f8, SessionUse: 0, Random: 0x1234}
	const want = "cclngiuvttkhthcilurtkerbjnnkljfkjccklkhl"

	if got := yubikey.Token("cclngiuv", o, key); got != want {
		t.Fatalf("Token = %s, want %s", got, want)
	}
	pub, block, err := yubikey.ParseToken(want)
	if err != nil {
		t.Fatal(err)
	}
	if pub != "cclngiuv" {
		t.Errorf("public id = %q, want cclngiuv", pub)
	}
	got, err := yubikey.Decrypt(block, key)
	if err != nil {
		t.Fatal(err)
	}
	if got != o {
		t.Errorf("Decrypt = %+v, want %+v", got, o)
	}
	if got.Counter() != 5<<8 {
		t.Errorf("Counter = %d, want %d", got.Counter(), 5<<8)
	}
	// Upper case (Caps Lock) decodes to the same.
	pub2, block2, err := yubikey.ParseToken(strings.ToUpper(want))
	if err != nil || pub2 != pub || block2 != block {
		t.Errorf("upper-case token: %q %x %v", pub2, block2, err)
	}
	if id, ok := yubikey.PublicID(strings.ToUpper(want)); !ok || id != "cclngiuv" {
		t.Errorf("PublicID = %q, %v", id, ok)
	}
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	var key [16]byte
	copy(key[:], "fedcba9876543210")
	cases := []yubikey.OTP{
		{},
		{UID: [6]byte{1, 2, 3, 4, 5, 6}, Session: 0xffff, Timestamp: 0xffffff, SessionUse: 0xff, Random: 0xffff},
		{UID: [6]byte{0xff}, Session: 0x0102, Timestamp: 0x030405, SessionUse: 6, Random: 0x0708},
	}
	for _, o := range cases {
		got, err := yubikey.Decrypt(yubikey.Encrypt(o, key), key)
		if err != nil || got != o {
			t.Errorf("round trip %+v: %+v, %v", o, got, err)
		}
	}
	// The timestamp is 24 bits.
	o := yubikey.OTP{Timestamp: 0x12345678}
	got, _ := yubikey.Decrypt(yubikey.Encrypt(o, key), key)
	if got.Timestamp != 0x345678 {
		t.Errorf("timestamp = %#x, want 0x345678", got.Timestamp)
	}
	// A wrong key fails the CRC.
	var other [16]byte
	copy(other[:], "fedcba9876543211")
	if _, err := yubikey.Decrypt(yubikey.Encrypt(cases[1], key), other); !errors.Is(err, yubikey.ErrWrongKey) {
		t.Errorf("wrong key: err = %v, want ErrWrongKey", err)
	}
}

func TestCounter(t *testing.T) {
	tests := []struct {
		session uint16
		use     uint8
		want    int64
	}{
		{0, 0, 0}, {0, 1, 1}, {0, 255, 255}, {1, 0, 256}, {5, 7, 5<<8 | 7}, {0xffff, 0xff, 0xffffff},
	}
	for _, tt := range tests {
		if got := (yubikey.OTP{Session: tt.session, SessionUse: tt.use}).Counter(); got != tt.want {
			t.Errorf("Counter(%d,%d) = %d, want %d", tt.session, tt.use, got, tt.want)
		}
	}
	// Counter() <= stored is exactly the seed's rule.
	for _, stored := range []struct{ s, c int }{{5, 0}, {5, 7}, {0, 0}, {10, 3}} {
		for s := 0; s < 12; s++ {
			for c := 0; c < 256; c += 3 {
				seedRejects := s < stored.s || (s == stored.s && c <= stored.c)
				o := yubikey.OTP{Session: uint16(s), SessionUse: uint8(c)}
				if rejects := o.Counter() <= int64(stored.s<<8|stored.c); rejects != seedRejects {
					t.Fatalf("stored %v, otp %d/%d: rejects=%v, seed %v", stored, s, c, rejects, seedRejects)
				}
			}
		}
	}
}

func TestParseToken(t *testing.T) {
	block := strings.Repeat("c", 31) + "b"
	tests := []struct {
		name  string
		token string
		pub   string
		ok    bool
	}{
		{"no public id", block, "", true},
		{"12 char id", "vvvvvvcucrlc" + block, "vvvvvvcucrlc", true},
		{"32 char id", strings.Repeat("v", 32) + block, strings.Repeat("v", 32), true},
		{"upper case", "VVVVVVCUCRLC" + strings.ToUpper(block), "vvvvvvcucrlc", true},
		{"empty", "", "", false},
		{"short", block[:31], "", false},
		{"odd", "v" + block, "", false},
		{"too long", strings.Repeat("v", 34) + block, "", false},
		{"non-modhex in id", "vvvvvvcucrla" + block, "", false},
		{"non-modhex in block", "vvvvvvcucrlc" + block[:31] + "a", "", false},
		{"space", "vvvvvvcucrl " + block, "", false},
		{"trailing newline", "vvvvvvcucrl" + block + "\n", "", false},
		{"digits", strings.Repeat("1", 44), "", false},
		{"non-ascii", "vvvvvvcucré" + block, "", false},
		{"completelybogus", "completelybogus", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, _, err := yubikey.ParseToken(tt.token)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, yubikey.ErrMalformed) {
					t.Errorf("err = %v, want ErrMalformed", err)
				}
				if tt.token != "" && len(tt.token) > 3 && strings.Contains(err.Error(), tt.token) {
					t.Errorf("error %q quotes the token", err)
				}
				if id, ok := yubikey.PublicID(tt.token); ok || id != "" {
					t.Errorf("PublicID = %q, %v; want \"\", false", id, ok)
				}
				return
			}
			if pub != tt.pub {
				t.Errorf("public id = %q, want %q", pub, tt.pub)
			}
		})
	}
}

func TestParseHexIDs(t *testing.T) {
	id, err := yubikey.ParsePrivateID("5dc30490956b")
	if err != nil || hex.EncodeToString(id[:]) != "5dc30490956b" {
		t.Errorf("ParsePrivateID = %x, %v", id, err)
	}
	key, err := yubikey.ParseAESKey("FB362A0853BE5E5306D5CC2483F279CB")
	if err != nil || hex.EncodeToString(key[:]) != "fb362a0853be5e5306d5cc2483f279cb" {
		t.Errorf("ParseAESKey = %x, %v", key, err)
	}
	for _, bad := range []string{"", "5dc30490956", "5dc30490956b00", "5dc30490956g"} {
		if _, err := yubikey.ParsePrivateID(bad); !errors.Is(err, yubikey.ErrMalformed) {
			t.Errorf("ParsePrivateID(%q) err = %v, want ErrMalformed", bad, err)
		}
	}
	for _, bad := range []string{"", "fb362a0853be5e5306d5cc2483f279c", "fb362a0853be5e5306d5cc2483f279cbx", "zb362a0853be5e5306d5cc2483f279cb"} {
		_, err := yubikey.ParseAESKey(bad)
		if !errors.Is(err, yubikey.ErrMalformed) {
			t.Errorf("ParseAESKey(%q) err = %v, want ErrMalformed", bad, err)
		}
		if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("error %q quotes the key", err)
		}
	}
}
