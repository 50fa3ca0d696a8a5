package otp_test

import (
	"encoding/base32"
	"testing"
	"time"

	pqotp "github.com/pquerna/otp"
	pqhotp "github.com/pquerna/otp/hotp"
	pqtotp "github.com/pquerna/otp/totp"

	"github.com/twofactor/twofactor/otp"
)

// The benchmarks compare the worst case of a TOTP check with tolerance 1 (a
// wrong code: all three steps are computed) with github.com/pquerna/otp's
// totp.ValidateCustom with Skew 1 on the same key, time and code. Run
//
//	go test -run='^$' -bench=. -benchmem ./otp

const benchNow = 1_700_000_000

var benchKeys = map[otp.Algorithm][]byte{
	otp.SHA1:   []byte("12345678901234567890"),
	otp.SHA256: []byte("12345678901234567890123456789012"),
	otp.SHA512: []byte("1234567890123456789012345678901234567890123456789012345678901234"),
}

var pqAlgs = map[otp.Algorithm]pqotp.Algorithm{
	otp.SHA1:   pqotp.AlgorithmSHA1,
	otp.SHA256: pqotp.AlgorithmSHA256,
	otp.SHA512: pqotp.AlgorithmSHA512,
}

// wrongCode returns a 6-digit code that matches none of the steps within
// tolerance 1 of benchNow.
func wrongCode(b *testing.B, g otp.TOTP) uint32 {
	b.Helper()
	for c := uint32(0); ; c++ {
		if g.At(benchNow, -1) != c && g.At(benchNow, 0) != c && g.At(benchNow, 1) != c {
			if _, ok := g.Verify(c, benchNow, 1, 0, -1); ok {
				b.Fatal("wrong code verified")
			}
			return c
		}
	}
}

var sink bool

func benchVerify(b *testing.B, alg otp.Algorithm) {
	g := otp.TOTP{Key: benchKeys[alg], Algorithm: alg, Digits: 6, Step: 30}
	code := wrongCode(b, g)
	b.ReportAllocs()
	for b.Loop() {
		_, sink = g.Verify(code, benchNow, 1, 0, -1)
	}
}

func benchPquerna(b *testing.B, alg otp.Algorithm) {
	g := otp.TOTP{Key: benchKeys[alg], Algorithm: alg, Digits: 6, Step: 30}
	code := otp.Format(wrongCode(b, g), 6)
	secret := base32.StdEncoding.EncodeToString(benchKeys[alg])
	now := time.Unix(benchNow, 0)
	opts := pqtotp.ValidateOpts{Period: 30, Skew: 1, Digits: pqotp.DigitsSix, Algorithm: pqAlgs[alg]}
	if ok, err := pqtotp.ValidateCustom(code, secret, now, opts); ok || err != nil {
		b.Fatalf("pquerna accepted the wrong code (%v, %v)", ok, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		sink, _ = pqtotp.ValidateCustom(code, secret, now, opts)
	}
}

// BenchmarkTOTPVerifyWorstCase: SHA1, 6 digits, tolerance 1, no match.
func BenchmarkTOTPVerifyWorstCase(b *testing.B) { benchVerify(b, otp.SHA1) }

// BenchmarkPquernaValidateCustom: the same check with pquerna/otp.
func BenchmarkPquernaValidateCustom(b *testing.B) { benchPquerna(b, otp.SHA1) }

// BenchmarkTOTPParseAndVerifyWorstCase adds ParseCode, since pquerna/otp
// takes the code as a string.
func BenchmarkTOTPParseAndVerifyWorstCase(b *testing.B) {
	g := otp.TOTP{Key: benchKeys[otp.SHA1], Digits: 6}
	s := otp.Format(wrongCode(b, g), 6)
	b.ReportAllocs()
	for b.Loop() {
		code, err := otp.ParseCode(s, 6)
		if err != nil {
			b.Fatal(err)
		}
		_, sink = g.Verify(code, benchNow, 1, 0, -1)
	}
}

func BenchmarkTOTPVerifyWorstCaseSHA256(b *testing.B)   { benchVerify(b, otp.SHA256) }
func BenchmarkPquernaValidateCustomSHA256(b *testing.B) { benchPquerna(b, otp.SHA256) }
func BenchmarkTOTPVerifyWorstCaseSHA512(b *testing.B)   { benchVerify(b, otp.SHA512) }
func BenchmarkPquernaValidateCustomSHA512(b *testing.B) { benchPquerna(b, otp.SHA512) }

var sinkCode uint32

// BenchmarkHOTP computes one SHA1 code.
func BenchmarkHOTP(b *testing.B) {
	key := benchKeys[otp.SHA1]
	b.ReportAllocs()
	var c uint64
	for b.Loop() {
		sinkCode = otp.HOTP(key, c, 6, otp.SHA1)
		c++
	}
}

// BenchmarkPquernaHOTP computes one SHA1 code with pquerna/otp.
func BenchmarkPquernaHOTP(b *testing.B) {
	secret := base32.StdEncoding.EncodeToString(benchKeys[otp.SHA1])
	opts := pqhotp.ValidateOpts{Digits: pqotp.DigitsSix, Algorithm: pqotp.AlgorithmSHA1}
	b.ReportAllocs()
	var c uint64
	for b.Loop() {
		if _, err := pqhotp.GenerateCodeCustom(secret, c, opts); err != nil {
			b.Fatal(err)
		}
		c++
	}
}

// BenchmarkVerifyHOTPWorstCase: django-otp's default HOTP window
// (tolerance 5: six counters), no match.
func BenchmarkVerifyHOTPWorstCase(b *testing.B) {
	key := benchKeys[otp.SHA1]
	code := uint32(0)
	for ; ; code++ {
		if _, ok := otp.VerifyHOTP(key, otp.SHA1, 6, code, 99, 5); !ok {
			break
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		_, sink = otp.VerifyHOTP(key, otp.SHA1, 6, code, 99, 5)
	}
}
