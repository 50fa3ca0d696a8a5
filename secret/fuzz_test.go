package secret

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to Open: it must return one of the
// documented errors and never panic or succeed on a forgery.
func FuzzOpen(f *testing.F) {
	k := mustKeyring(f, testKey(0), testKey(1))
	// The fuzzing engine runs this function in several processes, so the
	// seeds must be the same in each: seal them with fixed nonces.
	valid := sealWithNonce(f, k.all[0], []byte("12345678901234567890"), testAAD, 1)
	old := sealWithNonce(f, k.all[1], []byte("x"), testAAD, 2)
	kat, _ := hex.DecodeString("019ee55132000102030405060708090a0baa39d252698ed12b5c1c8af92caeb0be504c1bd181afcc16353fcf3becb2028b75be01c4")
	for _, seed := range [][]byte{nil, {}, {1}, {2, 0, 0, 0, 0}, valid, old, kat, valid[:overheadV1], append(bytes.Clone(valid), 0)} {
		f.Add(seed, "42")
	}
	f.Fuzz(func(t *testing.T, ct []byte, row string) {
		aad := AAD{Table: "devices", Column: "key", Row: row}
		pt, err := k.Open(ct, aad)
		if row == "" {
			if err == nil {
				t.Fatalf("opened with an empty row")
			}
			return
		}
		if err == nil {
			// Only genuine seals open: the three seeds (testKey(0) is the
			// key of the known-answer value), for row 42.
			if row != "42" || !(bytes.Equal(ct, valid) || bytes.Equal(ct, old) || bytes.Equal(ct, kat)) {
				t.Fatalf("forged ciphertext opened: %x → %x", ct, pt)
			}
			return
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrDecrypt) {
			t.Fatalf("undocumented error %v", err)
		}
		k.NeedsRotation(ct)
	})
}

// FuzzParseKey: ParseKey never panics, accepts only 32-byte keys, and never
// puts the input into its error.
func FuzzParseKey(f *testing.F) {
	key := testKey(0)
	for _, seed := range []string{
		"", " ", hex.EncodeToString(key), hex.EncodeToString(key) + "\n",
		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA",
		"_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-8", "zz", "0000000000000000000000000000000000000000000000000000000000000000",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			if k != nil {
				t.Fatalf("key returned with an error")
			}
			if len(s) >= 12 && bytes.Contains([]byte(err.Error()), []byte(s)) {
				t.Fatalf("error %q echoes the input", err)
			}
			return
		}
		if len(k) != KeySize {
			t.Fatalf("%d-byte key accepted", len(k))
		}
		if _, err := NewKeyring(k); err != nil {
			t.Fatalf("parsed key refused by NewKeyring: %v", err)
		}
	})
}

// sealWithNonce is Seal with a nonce made from n instead of crypto/rand, for
// reproducible test values only.
func sealWithNonce(t testing.TB, e *entry, plaintext []byte, aad AAD, n byte) []byte {
	t.Helper()
	ad, err := aad.encode()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, headerSize+nonceSize)
	out[0] = formatV1
	copy(out[1:headerSize], e.id[:])
	for i := range nonceSize {
		out[headerSize+i] = n
	}
	return e.aead.Seal(out, out[headerSize:], plaintext, additionalData(out[:headerSize], ad))
}
