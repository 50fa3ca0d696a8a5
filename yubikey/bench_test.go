package yubikey_test

import (
	"context"
	"testing"

	"github.com/twofactor/twofactor/yubikey"
)

// Run with
//
//	go test -run='^$' -bench=. -benchmem ./yubikey

var benchSink yubikey.OTP

func BenchmarkVerify(b *testing.B) {
	alice, _ := aliceAndBob(b)
	tok := alice.token(5, 1)
	b.ReportAllocs()
	for b.Loop() {
		otp, err := yubikey.Verify(tok, alice.publicID, alice.privateID, alice.key, 5<<8)
		if err != nil {
			b.Fatal(err)
		}
		benchSink = otp
	}
}

// BenchmarkVerifyWrongKey is the cost of a token that fails the CRC.
func BenchmarkVerifyWrongKey(b *testing.B) {
	alice, bob := aliceAndBob(b)
	tok := alice.token(5, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := yubikey.Verify(tok, alice.publicID, alice.privateID, bob.key, 0); err == nil {
			b.Fatal("verified")
		}
	}
}

func BenchmarkParseToken(b *testing.B) {
	alice, _ := aliceAndBob(b)
	tok := alice.token(5, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := yubikey.ParseToken(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClientVerify is a full round trip to the local fake service
// (loopback HTTP, signing and checking); YubiCloud itself adds the network.
func BenchmarkClientVerify(b *testing.B) {
	_, c, alice, _ := cloud(b)
	ctx := context.Background()
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		if _, err := c.Verify(ctx, alice.token(uint16(6+n>>8), uint8(n))); err != nil {
			b.Fatal(err)
		}
	}
}
