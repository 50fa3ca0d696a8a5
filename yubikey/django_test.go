package yubikey_test

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/twofactor/twofactor/yubikey"
)

// The behaviours of django-otp-yubikey's YubikeyDevice tests, ported. A
// testDevice plays the part of the stored row: the caller's side of the
// contract (keep the counter, store it after a success).

type testDevice struct {
	publicID  string
	privateID [6]byte
	key       [16]byte
	counter   int64
}

func (d *testDevice) verify(token string) error {
	otp, err := yubikey.Verify(token, d.publicID, d.privateID, d.key, d.counter)
	if err != nil {
		return err
	}
	d.counter = otp.Counter()
	return nil
}

// token makes the token this device would type with the given counters.
func (d *testDevice) token(session uint16, use uint8) string {
	return yubikey.Token(d.publicID, yubikey.OTP{
		UID: d.privateID, Session: session, SessionUse: use, Timestamp: 0x01a2b3, Random: 0x5a5a,
	}, d.key)
}

func newTestDevice(t testing.TB, pk uint32, privateID, key string, session uint16, counter uint8) *testDevice {
	t.Helper()
	pid, err := yubikey.ParsePrivateID(privateID)
	if err != nil {
		t.Fatal(err)
	}
	k, err := yubikey.ParseAESKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// django-otp-yubikey derives the public id from the primary key:
	// modhex of the big-endian uint32.
	pub := yubikey.EncodeModhex([]byte{byte(pk >> 24), byte(pk >> 16), byte(pk >> 8), byte(pk)})
	return &testDevice{publicID: pub, privateID: pid, key: k, counter: int64(session)<<8 | int64(counter)}
}

func aliceAndBob(t testing.TB) (alice, bob *testDevice) {
	alice = newTestDevice(t, 1, "5dc30490956b", "fb362a0853be5e5306d5cc2483f279cb", 5, 0)
	bob = newTestDevice(t, 2, "326f70826d31", "11080a0e7a56d0a1546f327f20626308", 10, 3)
	return alice, bob
}

func TestDjangoOTPYubikey(t *testing.T) {
	t.Run("alice token verifies", func(t *testing.T) {
		alice, _ := aliceAndBob(t)
		if err := alice.verify(alice.token(5, 1)); err != nil {
			t.Fatal(err)
		}
		if alice.counter != 5<<8|1 {
			t.Errorf("stored counter = %d, want 5/1", alice.counter)
		}
	})
	t.Run("explicit session 5 counter 7", func(t *testing.T) {
		alice, _ := aliceAndBob(t)
		if err := alice.verify(alice.token(5, 7)); err != nil {
			t.Fatal(err)
		}
		if s, c := alice.counter>>8, alice.counter&0xff; s != 5 || c != 7 {
			t.Errorf("stored %d/%d, want 5/7", s, c)
		}
	})
	t.Run("alice token on bob's device fails", func(t *testing.T) {
		alice, bob := aliceAndBob(t)
		if err := bob.verify(alice.token(5, 1)); !errors.Is(err, yubikey.ErrPublicID) {
			t.Errorf("err = %v, want ErrPublicID", err)
		}
		// Even with bob's public id in front, alice's block does not
		// decrypt under bob's key.
		tok := alice.token(11, 1)
		if err := bob.verify(bob.publicID + tok[len(alice.publicID):]); !errors.Is(err, yubikey.ErrWrongKey) {
			t.Errorf("err = %v, want ErrWrongKey", err)
		}
		if bob.counter != 10<<8|3 {
			t.Errorf("bob's counter changed to %d", bob.counter)
		}
	})
	t.Run("replay fails", func(t *testing.T) {
		alice, _ := aliceAndBob(t)
		tok := alice.token(5, 1)
		if err := alice.verify(tok); err != nil {
			t.Fatal(err)
		}
		if err := alice.verify(tok); !errors.Is(err, yubikey.ErrReplayed) {
			t.Errorf("replay: err = %v, want ErrReplayed", err)
		}
		if alice.counter != 5<<8|1 {
			t.Errorf("stored counter = %d, want the first OTP's", alice.counter)
		}
	})
	t.Run("wrong public id fails", func(t *testing.T) {
		alice, _ := aliceAndBob(t)
		tok := yubikey.Token("cccccccd", yubikey.OTP{UID: alice.privateID, Session: 5, SessionUse: 1}, alice.key)
		if err := alice.verify(tok); !errors.Is(err, yubikey.ErrPublicID) {
			t.Errorf("err = %v, want ErrPublicID", err)
		}
	})
	t.Run("wrong private id fails", func(t *testing.T) {
		alice, _ := aliceAndBob(t)
		other, _ := hex.DecodeString("5dc30490956c")
		o := yubikey.OTP{Session: 5, SessionUse: 1}
		copy(o.UID[:], other)
		if err := alice.verify(yubikey.Token(alice.publicID, o, alice.key)); !errors.Is(err, yubikey.ErrWrongKey) {
			t.Errorf("err = %v, want ErrWrongKey", err)
		}
	})
	t.Run("older session fails", func(t *testing.T) {
		alice, _ := aliceAndBob(t)
		if err := alice.verify(alice.token(4, 200)); !errors.Is(err, yubikey.ErrReplayed) {
			t.Errorf("err = %v, want ErrReplayed", err)
		}
	})
	t.Run("same session same counter fails", func(t *testing.T) {
		alice, _ := aliceAndBob(t)
		if err := alice.verify(alice.token(5, 0)); !errors.Is(err, yubikey.ErrReplayed) {
			t.Errorf("err = %v, want ErrReplayed", err)
		}
	})
	t.Run("newer session with lower counter verifies", func(t *testing.T) {
		_, bob := aliceAndBob(t)
		if err := bob.verify(bob.token(11, 0)); err != nil {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("wrong key fails", func(t *testing.T) {
		alice, bob := aliceAndBob(t)
		tok := yubikey.Token(alice.publicID, yubikey.OTP{UID: alice.privateID, Session: 5, SessionUse: 1}, bob.key)
		if err := alice.verify(tok); !errors.Is(err, yubikey.ErrWrongKey) {
			t.Errorf("err = %v, want ErrWrongKey", err)
		}
	})
	t.Run("completelybogus fails", func(t *testing.T) {
		alice, _ := aliceAndBob(t)
		if err := alice.verify("completelybogus"); !errors.Is(err, yubikey.ErrMalformed) {
			t.Errorf("err = %v, want ErrMalformed", err)
		}
	})
}

func TestVerifyTable(t *testing.T) {
	alice, bob := aliceAndBob(t)
	good := alice.token(5, 1)
	flipped := []byte(good) // one modhex character of the block changed
	if flipped[len(flipped)-1] == 'c' {
		flipped[len(flipped)-1] = 'b'
	} else {
		flipped[len(flipped)-1] = 'c'
	}
	tests := []struct {
		name      string
		token     string
		publicID  string
		privateID [6]byte
		key       [16]byte
		last      int64
		want      error
	}{
		{"ok", good, alice.publicID, alice.privateID, alice.key, 5 << 8, nil},
		{"ok upper-case token", "CCCCCCCB" + good[8:], alice.publicID, alice.privateID, alice.key, 5 << 8, nil},
		{"ok upper-case stored id", good, "CCCCCCCB", alice.privateID, alice.key, 5 << 8, nil},
		{"ok any counter", good, alice.publicID, alice.privateID, alice.key, -1, nil},
		{"counter equal", good, alice.publicID, alice.privateID, alice.key, 5<<8 | 1, yubikey.ErrReplayed},
		{"counter above", good, alice.publicID, alice.privateID, alice.key, 6 << 8, yubikey.ErrReplayed},
		{"malformed", good[:20], alice.publicID, alice.privateID, alice.key, 0, yubikey.ErrMalformed},
		{"public id prefix", good, alice.publicID[:6], alice.privateID, alice.key, 0, yubikey.ErrPublicID},
		{"public id empty", good, "", alice.privateID, alice.key, 0, yubikey.ErrPublicID},
		{"wrong key", good, alice.publicID, alice.privateID, bob.key, 0, yubikey.ErrWrongKey},
		{"wrong private id", good, alice.publicID, bob.privateID, alice.key, 0, yubikey.ErrWrongKey},
		{"tampered block", string(flipped), alice.publicID, alice.privateID, alice.key, 0, yubikey.ErrWrongKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			otp, err := yubikey.Verify(tt.token, tt.publicID, tt.privateID, tt.key, tt.last)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil && (otp.Session != 5 || otp.SessionUse != 1 || otp.UID != alice.privateID) {
				t.Errorf("otp = %+v", otp)
			}
			if err != nil && otp != (yubikey.OTP{}) {
				t.Errorf("failed Verify returned a non-zero OTP %+v", otp)
			}
		})
	}
}
