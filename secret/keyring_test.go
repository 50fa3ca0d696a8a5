package secret

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// testKey returns a distinct valid key for each seed.
func testKey(seed byte) []byte {
	k := make([]byte, KeySize)
	for i := range k {
		k[i] = seed + byte(i) + 1
	}
	return k
}

func mustKeyring(t testing.TB, current []byte, old ...[]byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(current, old...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return k
}

var testAAD = AAD{Table: "devices", Column: "key", Row: "42"}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	k := mustKeyring(t, testKey(0))
	tests := []struct {
		name      string
		plaintext []byte
	}{
		{"empty", []byte{}},
		{"one byte", []byte{0}},
		{"totp key", bytes.Repeat([]byte{0xab}, 20)},
		{"1 KiB", bytes.Repeat([]byte("x"), 1024)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ct, err := k.Seal(tt.plaintext, testAAD)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if got, want := len(ct), overheadV1+len(tt.plaintext); got != want {
				t.Errorf("len(ciphertext) = %d, want %d", got, want)
			}
			if ct[0] != formatV1 {
				t.Errorf("version byte = %d, want %d", ct[0], formatV1)
			}
			if got := hex.EncodeToString(ct[1:5]); got != k.ID() {
				t.Errorf("key id in ciphertext = %s, want %s", got, k.ID())
			}
			if len(tt.plaintext) >= 4 && bytes.Contains(ct, tt.plaintext) {
				t.Errorf("ciphertext contains the plaintext")
			}
			pt, err := k.Open(ct, testAAD)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(pt, tt.plaintext) {
				t.Errorf("Open = %x, want %x", pt, tt.plaintext)
			}
		})
	}
}

func TestSealFreshNonce(t *testing.T) {
	t.Parallel()
	k := mustKeyring(t, testKey(0))
	seen := map[string]bool{}
	for range 100 {
		ct, err := k.Seal([]byte("same"), testAAD)
		if err != nil {
			t.Fatal(err)
		}
		nonce := string(ct[headerSize : headerSize+nonceSize])
		if seen[nonce] {
			t.Fatalf("nonce repeated")
		}
		seen[nonce] = true
	}
}

// TestOpenKnownAnswer opens a value sealed by an independent implementation
// (Python's hashlib/hmac for HKDF and the cryptography package for AES-GCM)
// following the format documented in keyring.go, with key 01 02 … 20, nonce
// 00 01 … 0b, AAD {devices, key, 42} and plaintext "12345678901234567890".
func TestOpenKnownAnswer(t *testing.T) {
	t.Parallel()
	key, _ := hex.DecodeString("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")
	ct, _ := hex.DecodeString("019ee55132000102030405060708090a0baa39d252698ed12b5c1c8af92caeb0be504c1bd181afcc16353fcf3becb2028b75be01c4")
	k := mustKeyring(t, key)
	if k.ID() != "9ee55132" {
		t.Errorf("ID = %s, want 9ee55132", k.ID())
	}
	pt, err := k.Open(ct, testAAD)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if string(pt) != "12345678901234567890" {
		t.Errorf("Open = %q", pt)
	}
}

func TestOpenWrongAAD(t *testing.T) {
	t.Parallel()
	k := mustKeyring(t, testKey(0))
	sealed := AAD{Table: "devices", Column: "key", Row: "42"}
	ct, err := k.Seal([]byte("JBSWY3DPEHPK3PXP"), sealed)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		aad  AAD
	}{
		{"other row", AAD{"devices", "key", "43"}},
		{"other column", AAD{"devices", "aes_key", "42"}},
		{"other table", AAD{"yubikeys", "key", "42"}},
		{"row prefix", AAD{"devices", "key", "4"}},
		{"fields shifted", AAD{"devices", "key4", "2"}},
		{"case", AAD{"Devices", "key", "42"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := k.Open(ct, tt.aad); !errors.Is(err, ErrDecrypt) {
				t.Errorf("Open with %+v: err = %v, want ErrDecrypt", tt.aad, err)
			}
		})
	}
}

func TestAADEncodingUnambiguous(t *testing.T) {
	t.Parallel()
	pairs := [][2]AAD{
		{{"ab", "c", "d"}, {"a", "bc", "d"}},
		{{"a", "b", "cd"}, {"a", "bc", "d"}},
		{{"a\x00", "b", "c"}, {"a", "\x00b", "c"}},
		{{"a:b", "c", "d"}, {"a", "b:c", "d"}},
	}
	for _, p := range pairs {
		x, err1 := p[0].encode()
		y, err2 := p[1].encode()
		if err1 != nil || err2 != nil {
			t.Fatalf("encode: %v, %v", err1, err2)
		}
		if bytes.Equal(x, y) {
			t.Errorf("%+v and %+v encode the same", p[0], p[1])
		}
	}
	got, _ := AAD{"t", "co", "row"}.encode()
	want := []byte("twofactor-aad\x00\x01\x00\x00\x00\x01t\x00\x00\x00\x02co\x00\x00\x00\x03row")
	if !bytes.Equal(got, want) {
		t.Errorf("encode = %q, want %q", got, want)
	}
}

func TestSealOpenRequireAAD(t *testing.T) {
	t.Parallel()
	k := mustKeyring(t, testKey(0))
	ct, _ := k.Seal([]byte("x"), testAAD)
	for _, aad := range []AAD{{}, {"", "c", "r"}, {"t", "", "r"}, {"t", "c", ""}} {
		if _, err := k.Seal([]byte("x"), aad); err == nil {
			t.Errorf("Seal with %+v: no error", aad)
		}
		if _, err := k.Open(ct, aad); err == nil {
			t.Errorf("Open with %+v: no error", aad)
		}
	}
}

// TestBitFlips flips every bit of a ciphertext in turn: each must fail, and
// with the error the damaged part calls for.
func TestBitFlips(t *testing.T) {
	t.Parallel()
	k := mustKeyring(t, testKey(0))
	ct, err := k.Seal([]byte("12345678901234567890"), testAAD)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ct {
		for bit := range 8 {
			c := bytes.Clone(ct)
			c[i] ^= 1 << bit
			_, err := k.Open(c, testAAD)
			var want error
			switch {
			case i == 0:
				want = ErrMalformed // unknown version
			case i < headerSize:
				want = ErrUnknownKey // another key id
			default:
				want = ErrDecrypt // nonce, ciphertext or tag
			}
			if !errors.Is(err, want) {
				t.Fatalf("byte %d bit %d flipped: err = %v, want %v", i, bit, err, want)
			}
		}
	}
}

func TestTruncations(t *testing.T) {
	t.Parallel()
	k := mustKeyring(t, testKey(0))
	ct, err := k.Seal([]byte("12345678901234567890"), testAAD)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(ct) {
		_, err := k.Open(ct[:n], testAAD)
		want := ErrMalformed // too short to hold header, nonce and tag
		if n >= overheadV1 {
			want = ErrDecrypt // long enough, but the tag no longer matches
		}
		if !errors.Is(err, want) {
			t.Errorf("truncated to %d bytes: err = %v, want %v", n, err, want)
		}
	}
	// Extended by one byte: authentication fails.
	if _, err := k.Open(append(bytes.Clone(ct), 0), testAAD); !errors.Is(err, ErrDecrypt) {
		t.Errorf("extended: err = %v, want ErrDecrypt", err)
	}
	// Empty-plaintext values: every truncation is malformed.
	ct, _ = k.Seal(nil, testAAD)
	for n := range len(ct) {
		if _, err := k.Open(ct[:n], testAAD); !errors.Is(err, ErrMalformed) {
			t.Errorf("empty plaintext truncated to %d bytes: err = %v, want ErrMalformed", n, err)
		}
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := testKey(0), testKey(100)
	oldRing := mustKeyring(t, oldKey)
	ct, err := oldRing.Seal([]byte("secret"), testAAD)
	if err != nil {
		t.Fatal(err)
	}
	if oldRing.NeedsRotation(ct) {
		t.Errorf("NeedsRotation under the current key = true")
	}

	newRing := mustKeyring(t, newKey, oldKey)
	if newRing.ID() == oldRing.ID() {
		t.Fatalf("two keys share an id")
	}
	if got := newRing.IDs(); len(got) != 2 || got[0] != newRing.ID() || got[1] != oldRing.ID() {
		t.Errorf("IDs = %v, want [%s %s]", got, newRing.ID(), oldRing.ID())
	}
	pt, err := newRing.Open(ct, testAAD)
	if err != nil || string(pt) != "secret" {
		t.Fatalf("Open with old key listed: %q, %v", pt, err)
	}
	if !newRing.NeedsRotation(ct) {
		t.Errorf("NeedsRotation of a value under the old key = false")
	}
	re, err := newRing.Reseal(ct, testAAD)
	if err != nil {
		t.Fatalf("Reseal: %v", err)
	}
	if newRing.NeedsRotation(re) {
		t.Errorf("NeedsRotation after Reseal = true")
	}
	if got := hex.EncodeToString(re[1:5]); got != newRing.ID() {
		t.Errorf("resealed key id = %s, want %s", got, newRing.ID())
	}
	// Once resealed, the old key is no longer needed.
	onlyNew := mustKeyring(t, newKey)
	if pt, err := onlyNew.Open(re, testAAD); err != nil || string(pt) != "secret" {
		t.Errorf("Open resealed without old key: %q, %v", pt, err)
	}
	// Without the old key, the original value cannot be opened.
	if _, err := onlyNew.Open(ct, testAAD); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Open without old key: err = %v, want ErrUnknownKey", err)
	}
	if !onlyNew.NeedsRotation(ct) {
		t.Errorf("NeedsRotation of a value under an unknown key = false")
	}
	if _, err := onlyNew.Reseal(ct, testAAD); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Reseal without old key: err = %v, want ErrUnknownKey", err)
	}
	// Reseal authenticates: a value for another row is not resealed.
	if _, err := newRing.Reseal(ct, AAD{"devices", "key", "43"}); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Reseal with wrong AAD: err = %v, want ErrDecrypt", err)
	}
	if newRing.NeedsRotation([]byte{1, 2}) {
		t.Errorf("NeedsRotation of a malformed value = true")
	}
}

func TestNewKeyring(t *testing.T) {
	t.Parallel()
	a, b := testKey(0), testKey(50)
	tests := []struct {
		name    string
		current []byte
		old     [][]byte
		wantIDs int
		wantErr bool
	}{
		{"current only", a, nil, 1, false},
		{"with old", a, [][]byte{b}, 2, false},
		{"old equals current", a, [][]byte{a}, 1, false},
		{"duplicate old", a, [][]byte{b, b, a}, 2, false},
		{"nil current", nil, nil, 0, true},
		{"short current", a[:31], nil, 0, true},
		{"long current", append(bytes.Clone(a), 0), nil, 0, true},
		{"zero current", make([]byte, KeySize), nil, 0, true},
		{"short old", a, [][]byte{b[:16]}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := NewKeyring(tt.current, tt.old...)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := len(k.IDs()); got != tt.wantIDs {
				t.Errorf("%d keys, want %d", got, tt.wantIDs)
			}
		})
	}
}

// TestNewKeyringCopiesKeys: the caller may clear its key after NewKeyring.
func TestNewKeyringCopiesKeys(t *testing.T) {
	t.Parallel()
	key := testKey(0)
	k := mustKeyring(t, key)
	ct, _ := k.Seal([]byte("x"), testAAD)
	h := k.Hash("p", []byte("x"))
	clear(key)
	if _, err := k.Open(ct, testAAD); err != nil {
		t.Errorf("Open after clearing key: %v", err)
	}
	if !Equal(k.Hash("p", []byte("x")), h) {
		t.Errorf("Hash changed after clearing key")
	}
}

// TestHashKnownAnswer checks Hash against an independent computation (Python
// hmac/hashlib: HKDF-SHA256 as RFC 5869 with no salt, info
// "twofactor/v1/hash/backup-code", then HMAC-SHA256).
func TestHashKnownAnswer(t *testing.T) {
	t.Parallel()
	key, _ := hex.DecodeString("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")
	k := mustKeyring(t, key)
	got := hex.EncodeToString(k.Hash("backup-code", []byte("k7m2px9qrt")))
	want := "9ee55132d9f3abc81343a1d66455e09e96ad015826c460c02b0dd736974fd5af92ff111f"
	if got != want {
		t.Errorf("Hash = %s, want %s", got, want)
	}
}

func TestHash(t *testing.T) {
	t.Parallel()
	a, b := mustKeyring(t, testKey(0)), mustKeyring(t, testKey(9))
	data := []byte("k7m2px9qrt")
	h := a.Hash("backup-code", data)
	if len(h) != HashSize {
		t.Fatalf("len = %d, want %d", len(h), HashSize)
	}
	if id, ok := HashKeyID(h); !ok || id != a.ID() {
		t.Errorf("HashKeyID = %q, %v; want %s", id, ok, a.ID())
	}
	if _, ok := HashKeyID(h[:10]); ok {
		t.Errorf("HashKeyID of a short value: ok")
	}
	tests := []struct {
		name string
		h    []byte
		same bool
	}{
		{"stable", a.Hash("backup-code", data), true},
		{"same key, new keyring", mustKeyring(t, testKey(0)).Hash("backup-code", data), true},
		{"other purpose", a.Hash("remember", data), false},
		{"purpose prefix", a.Hash("backup-cod", data), false},
		{"other key", b.Hash("backup-code", data), false},
		{"other data", a.Hash("backup-code", []byte("k7m2px9qrs")), false},
		{"empty data", a.Hash("backup-code", nil), false},
	}
	for _, tt := range tests {
		if got := Equal(h, tt.h); got != tt.same {
			t.Errorf("%s: equal = %v, want %v", tt.name, got, tt.same)
		}
		// Also the MAC part alone: a different key id prefix must not be
		// all that differs.
		if !tt.same && bytes.Equal(h[idSize:], tt.h[idSize:]) {
			t.Errorf("%s: HMAC parts equal", tt.name)
		}
	}
}

func TestHashes(t *testing.T) {
	t.Parallel()
	cur, old1, old2 := testKey(0), testKey(1), testKey(2)
	k := mustKeyring(t, cur, old1, old2)
	data := []byte("token")
	hs := k.Hashes("api-token", data)
	want := [][]byte{
		mustKeyring(t, cur).Hash("api-token", data),
		mustKeyring(t, old1).Hash("api-token", data),
		mustKeyring(t, old2).Hash("api-token", data),
	}
	if len(hs) != len(want) {
		t.Fatalf("%d hashes, want %d", len(hs), len(want))
	}
	for i := range want {
		if !Equal(hs[i], want[i]) {
			t.Errorf("Hashes[%d] = %x, want %x", i, hs[i], want[i])
		}
	}
	if !Equal(hs[0], k.Hash("api-token", data)) {
		t.Errorf("Hashes[0] is not Hash")
	}
}

func TestHashEmptyPurposePanics(t *testing.T) {
	t.Parallel()
	k := mustKeyring(t, testKey(0))
	for name, f := range map[string]func(){
		"Hash":   func() { k.Hash("", nil) },
		"Hashes": func() { k.Hashes("", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with empty purpose did not panic", name)
				}
			}()
			f()
		}()
	}
}

// TestKeyringConcurrent exercises the keyring from many goroutines (run with
// -race): the subkey cache is the only shared mutable state.
func TestKeyringConcurrent(t *testing.T) {
	t.Parallel()
	k := mustKeyring(t, testKey(0), testKey(1))
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			purpose := fmt.Sprintf("p%d", g%4)
			for i := range 50 {
				data := []byte{byte(i)}
				if !Equal(k.Hash(purpose, data), k.Hashes(purpose, data)[0]) {
					t.Error("Hash and Hashes[0] differ")
				}
				ct, err := k.Seal(data, testAAD)
				if err != nil {
					t.Error(err)
					return
				}
				if pt, err := k.Open(ct, testAAD); err != nil || !bytes.Equal(pt, data) {
					t.Errorf("Open: %x, %v", pt, err)
				}
			}
		})
	}
	wg.Wait()
}

func TestEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ab", false},
		{"ab", "abc", false},
		{"", "a", false},
		{"\x00", "", false},
	}
	for _, tt := range tests {
		if got := Equal([]byte(tt.a), []byte(tt.b)); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v", tt.a, tt.b, got)
		}
		if got := EqualString(tt.a, tt.b); got != tt.want {
			t.Errorf("EqualString(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}
