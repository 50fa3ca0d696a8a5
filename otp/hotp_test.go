package otp_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math/rand/v2"
	"testing"

	"github.com/twofactor/twofactor/otp"
)

// rfcKey is the ASCII key of RFC 4226 Appendix D and RFC 6238 Appendix B.
var rfcKey = []byte("12345678901234567890")

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestHOTPRFC4226(t *testing.T) {
	t.Parallel()
	want := []uint32{755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489}
	for counter, w := range want {
		if got := otp.HOTP(rfcKey, uint64(counter), 6, otp.SHA1); got != w {
			t.Errorf("HOTP(counter %d) = %d, want %d", counter, got, w)
		}
	}
}

// refHOTP computes HOTP with crypto/hmac, independently of the package's
// hand-built HMAC.
func refHOTP(key []byte, counter uint64, digits int, alg otp.Algorithm) uint32 {
	var h func() hash.Hash
	switch alg {
	case otp.SHA256:
		h = sha256.New
	case otp.SHA512:
		h = sha512.New
	default:
		h = sha1.New
	}
	m := hmac.New(h, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return bin % mod
}

// TestHOTPMatchesCryptoHMAC covers key lengths around every block size
// (keys longer than the block are hashed first) for all algorithms.
func TestHOTPMatchesCryptoHMAC(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, alg := range []otp.Algorithm{otp.SHA1, otp.SHA256, otp.SHA512} {
		for n := 0; n <= 260; n++ {
			key := make([]byte, n)
			for i := range key {
				key[i] = byte(rng.UintN(256))
			}
			counter := rng.Uint64()
			for _, d := range []int{6, 7, 8} {
				if got, want := otp.HOTP(key, counter, d, alg), refHOTP(key, counter, d, alg); got != want {
					t.Fatalf("%v key len %d counter %d digits %d: got %d, want %d", alg, n, counter, d, got, want)
				}
			}
		}
	}
}

func TestHOTPDigitsOutOfRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		digits, as int
	}{
		{0, 6}, {-3, 6}, {1, 6}, {5, 6}, {9, 8}, {100, 8},
	}
	for _, tt := range tests {
		got := otp.HOTP(rfcKey, 1, tt.digits, otp.SHA1)
		if want := otp.HOTP(rfcKey, 1, tt.as, otp.SHA1); got != want {
			t.Errorf("HOTP digits %d = %d, want %d (as digits %d)", tt.digits, got, want, tt.as)
		}
	}
	// An undefined algorithm is computed as SHA1 and never panics.
	if got, want := otp.HOTP(rfcKey, 0, 6, otp.Algorithm(200)), uint32(755224); got != want {
		t.Errorf("HOTP undefined algorithm = %d, want %d", got, want)
	}
}

// TestVerifyHOTPDjango mirrors the django-otp HOTPDevice fixture: tolerance
// 1, next expected counter 0 (lastCounter -1).
func TestVerifyHOTPDjango(t *testing.T) {
	t.Parallel()
	key := mustHex(t, "d2e8a68036f68960b1c30532bb6c56da5934d879")
	tokens := []uint32{782373, 313268, 307722}
	for i, tok := range tokens {
		if got := otp.HOTP(key, uint64(i), 6, otp.SHA1); got != tok {
			t.Fatalf("HOTP(%d) = %d, want %d", i, got, tok)
		}
	}
	const tolerance = 1

	// token 0 then token 1: both accepted, each moves the counter on.
	last := int64(-1)
	for i, tok := range tokens[:2] {
		c, ok := otp.VerifyHOTP(key, otp.SHA1, 6, tok, last, tolerance)
		if !ok || c != int64(i) {
			t.Fatalf("token %d: got (%d, %v), want (%d, true)", i, c, ok, i)
		}
		last = c
	}
	// Replay: token 1 again after it was used.
	if c, ok := otp.VerifyHOTP(key, otp.SHA1, 6, tokens[1], last, tolerance); ok {
		t.Errorf("replayed token 1 accepted at counter %d", c)
	}
	// Token 2 on a fresh device is beyond the window.
	if c, ok := otp.VerifyHOTP(key, otp.SHA1, 6, tokens[2], -1, tolerance); ok {
		t.Errorf("token 2 beyond tolerance accepted at counter %d", c)
	}
	// ...but within a wider one (django-otp's default tolerance 5).
	if c, ok := otp.VerifyHOTP(key, otp.SHA1, 6, tokens[2], -1, 5); !ok || c != 2 {
		t.Errorf("token 2 with tolerance 5: got (%d, %v), want (2, true)", c, ok)
	}
	if _, ok := otp.VerifyHOTP(key, otp.SHA1, 6, 123456, -1, tolerance); ok {
		t.Error("123456 accepted")
	}
}

func TestVerifyHOTPEdges(t *testing.T) {
	t.Parallel()
	code5 := otp.HOTP(rfcKey, 5, 6, otp.SHA1)
	tests := []struct {
		name      string
		key       []byte
		alg       otp.Algorithm
		digits    int
		code      uint32
		last      int64
		tolerance int
		wantC     int64
		wantOK    bool
	}{
		{"exact next", rfcKey, otp.SHA1, 6, code5, 4, 0, 5, true},
		{"default digits", rfcKey, otp.SHA1, 0, code5, 4, 0, 5, true},
		{"negative tolerance is 0", rfcKey, otp.SHA1, 6, code5, 3, -7, 0, false},
		{"inside window", rfcKey, otp.SHA1, 6, code5, 0, 4, 5, true},
		{"just outside window", rfcKey, otp.SHA1, 6, code5, 0, 3, 0, false},
		{"already used", rfcKey, otp.SHA1, 6, code5, 5, 10, 0, false},
		{"empty key", nil, otp.SHA1, 6, otp.HOTP(nil, 0, 6, otp.SHA1), -1, 0, 0, false},
		{"undefined algorithm", rfcKey, otp.Algorithm(9), 6, otp.HOTP(rfcKey, 0, 6, otp.SHA1), -1, 0, 0, false},
		{"digits 5", rfcKey, otp.SHA1, 5, otp.HOTP(rfcKey, 0, 6, otp.SHA1), -1, 0, 0, false},
		{"digits 9", rfcKey, otp.SHA1, 9, otp.HOTP(rfcKey, 0, 8, otp.SHA1), -1, 0, 0, false},
		{"overflow", rfcKey, otp.SHA1, 6, otp.HOTP(rfcKey, 1<<63, 6, otp.SHA1), 1<<63 - 1, 3, 0, false},
		{"huge tolerance capped", rfcKey, otp.SHA1, 6, otp.HOTP(rfcKey, 500, 6, otp.SHA1), -1, 1 << 40, 0, false},
	}
	for _, tt := range tests {
		c, ok := otp.VerifyHOTP(tt.key, tt.alg, tt.digits, tt.code, tt.last, tt.tolerance)
		if c != tt.wantC || ok != tt.wantOK {
			t.Errorf("%s: got (%d, %v), want (%d, %v)", tt.name, c, ok, tt.wantC, tt.wantOK)
		}
	}
}

// TestVerifyHOTPLowestCounterWins uses a code that appears twice in a
// window: the earlier counter must be reported.
func TestVerifyHOTPLowestCounterWins(t *testing.T) {
	t.Parallel()
	// With 6 digits, about 1 in 10^6 pairs collide; search a small key
	// space for a deterministic collision within 100 counters.
	for k := 0; k < 2000; k++ {
		key := []byte{byte(k), byte(k >> 8), 1, 2, 3, 4, 5, 6, 7, 8}
		seen := map[uint32]int64{}
		for c := int64(0); c <= otp.MaxTolerance; c++ {
			code := otp.HOTP(key, uint64(c), 6, otp.SHA1)
			if first, dup := seen[code]; dup {
				got, ok := otp.VerifyHOTP(key, otp.SHA1, 6, code, -1, otp.MaxTolerance)
				if !ok || got != first {
					t.Fatalf("code %06d at counters %d and %d: got (%d, %v), want (%d, true)", code, first, c, got, ok, first)
				}
				return
			}
			seen[code] = c
		}
	}
	t.Skip("no collision found")
}

func TestZeroAllocations(t *testing.T) {
	key := rfcKey
	long := make([]byte, 200) // longer than every block size: hashed first
	tt := otp.TOTP{Key: key}
	cases := []struct {
		name string
		fn   func()
	}{
		{"HOTP SHA1", func() { otp.HOTP(key, 7, 6, otp.SHA1) }},
		{"HOTP SHA256", func() { otp.HOTP(key, 7, 8, otp.SHA256) }},
		{"HOTP SHA512 long key", func() { otp.HOTP(long, 7, 8, otp.SHA512) }},
		{"TOTP.At", func() { tt.At(1_700_000_000, 0) }},
		{"TOTP.Verify", func() { tt.Verify(123456, 1_700_000_000, 1, 0, -1) }},
		{"TOTP.Verify SHA512", func() {
			otp.TOTP{Key: long, Algorithm: otp.SHA512, Digits: 8}.Verify(12345678, 1_700_000_000, 2, 0, -1)
		}},
		{"VerifyHOTP", func() { otp.VerifyHOTP(key, otp.SHA1, 6, 123456, 10, 5) }},
		{"ParseCode ok", func() { _, _ = otp.ParseCode(" 123 456 ", 6) }},
		{"ParseCode bad", func() { _, _ = otp.ParseCode("12a456", 6) }},
	}
	for _, c := range cases {
		if n := testing.AllocsPerRun(100, c.fn); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", c.name, n)
		}
	}
}
