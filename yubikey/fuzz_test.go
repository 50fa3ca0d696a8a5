package yubikey_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/twofactor/twofactor/yubikey"
)

func FuzzDecodeModhex(f *testing.F) {
	for _, s := range []string{"", "cb", "hbhdhehfhghhhihjhkhlhnhrhthuhvic", "CBDE", "c", "ab", "cé", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := yubikey.DecodeModhex(s)
		if ok := yubikey.IsModhex(s); ok != (err == nil) {
			t.Fatalf("IsModhex = %v but DecodeModhex err = %v", ok, err)
		}
		if err != nil {
			return
		}
		if got := yubikey.EncodeModhex(b); got != strings.ToLower(s) {
			t.Fatalf("round trip: %q -> %x -> %q", s, b, got)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	f.Add("cclngiuvttkhthcilurtkerbjnnkljfkjccklkhl")
	f.Add("completelybogus")
	f.Add(strings.Repeat("c", 32))
	f.Add(strings.Repeat("V", 64))
	f.Add(strings.Repeat("c", 65))
	f.Add("vvvvvvcucrlc" + strings.Repeat("c", 31) + "a")
	f.Fuzz(func(t *testing.T, token string) {
		pub, block, err := yubikey.ParseToken(token)
		id, ok := yubikey.PublicID(token)
		if ok != (err == nil) || id != pub {
			t.Fatalf("PublicID = %q, %v; ParseToken = %q, %v", id, ok, pub, err)
		}
		if err != nil {
			if block != [16]byte{} || pub != "" {
				t.Fatalf("failed parse returned %q, %x", pub, block)
			}
			return
		}
		if len(token) < 32 || len(token) > 64 || len(token)%2 != 0 || len(pub) != len(token)-32 {
			t.Fatalf("accepted a token of length %d (public id %d)", len(token), len(pub))
		}
		if got := pub + yubikey.EncodeModhex(block[:]); got != strings.ToLower(token) {
			t.Fatalf("re-encoding %q gives %q", token, got)
		}
	})
}

var (
	fuzzKey       = [16]byte{0xfb, 0x36, 0x2a, 0x08, 0x53, 0xbe, 0x5e, 0x53, 0x06, 0xd5, 0xcc, 0x24, 0x83, 0xf2, 0x79, 0xcb}
	fuzzPrivateID = [6]byte{0x5d, 0xc3, 0x04, 0x90, 0x95, 0x6b}
)

// FuzzDecrypt: any block and key either fail or decrypt to an OTP that
// encrypts back to the same block.
func FuzzDecrypt(f *testing.F) {
	f.Add(bytes.Repeat([]byte{0}, 16), fuzzKey[:])
	good := yubikey.Encrypt(yubikey.OTP{UID: fuzzPrivateID, Session: 5, SessionUse: 1}, fuzzKey)
	f.Add(good[:], fuzzKey[:])
	f.Fuzz(func(t *testing.T, ct, k []byte) {
		var block, key [16]byte
		copy(block[:], ct)
		copy(key[:], k)
		otp, err := yubikey.Decrypt(block, key)
		if err != nil {
			if otp != (yubikey.OTP{}) {
				t.Fatal("failed Decrypt returned an OTP")
			}
			return
		}
		if yubikey.Encrypt(otp, key) != block {
			t.Fatalf("Decrypt/Encrypt disagree for %x", block)
		}
	})
}

// FuzzVerify: a random token string is never accepted for alice's device
// unless it really is one of her tokens (in which case it re-encodes to
// itself); and a genuine token re-encrypted from fuzzed fields is accepted
// only under its own key.
func FuzzVerify(f *testing.F) {
	const pub = "cccccccb"
	f.Add(yubikey.Token(pub, yubikey.OTP{UID: fuzzPrivateID, Session: 5, SessionUse: 1}, fuzzKey), []byte("other key 16byte"), uint16(5), uint8(1), int64(0))
	f.Add("completelybogus", []byte{}, uint16(0), uint8(0), int64(-1))
	f.Add(pub+strings.Repeat("v", 32), fuzzKey[:], uint16(0xffff), uint8(0xff), int64(1<<30))
	f.Fuzz(func(t *testing.T, token string, otherKey []byte, session uint16, use uint8, last int64) {
		otp, err := yubikey.Verify(token, pub, fuzzPrivateID, fuzzKey, last)
		if err == nil {
			if otp.UID != fuzzPrivateID || otp.Counter() <= last {
				t.Fatalf("accepted %+v with last %d", otp, last)
			}
			if yubikey.Token(pub, otp, fuzzKey) != strings.ToLower(token) {
				t.Fatalf("accepted %q, which is not a token of this key", token)
			}
		}

		var wrong [16]byte
		copy(wrong[:], otherKey)
		if wrong == fuzzKey {
			return
		}
		o := yubikey.OTP{UID: fuzzPrivateID, Session: session, SessionUse: use}
		genuine := yubikey.Token(pub, o, fuzzKey)
		if _, err := yubikey.Verify(genuine, pub, fuzzPrivateID, wrong, -1); err == nil {
			t.Fatalf("token accepted under a wrong key %x", wrong)
		}
		forged := yubikey.Token(pub, o, wrong)
		if _, err := yubikey.Verify(forged, pub, fuzzPrivateID, fuzzKey, -1); err == nil {
			t.Fatalf("token made with key %x accepted", wrong)
		}
		if _, err := yubikey.Verify(genuine, pub, fuzzPrivateID, fuzzKey, o.Counter()); err == nil {
			t.Fatal("token accepted at its own counter (replay)")
		}
	})
}
