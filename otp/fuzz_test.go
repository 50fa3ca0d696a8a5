package otp_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/twofactor/twofactor/otp"
)

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"123456", "005428", "045675", "07081804", "123 456", " 1234 5678 ", "+123456", "123_456", "１２３４５６", "", "\t"} {
		f.Add(s, 6)
		f.Add(s, 8)
	}
	f.Add("1234567", 7)
	f.Add("123456", 0)
	f.Add("123456", -1)
	f.Fuzz(func(t *testing.T, s string, digits int) {
		v, err := otp.ParseCode(s, digits)
		want := digits
		if want == 0 {
			want = otp.DefaultDigits
		}
		if err != nil {
			if !errors.Is(err, otp.ErrCodeEmpty) && !errors.Is(err, otp.ErrCodeMalformed) &&
				!errors.Is(err, otp.ErrCodeLength) && !errors.Is(err, otp.ErrDigits) {
				t.Fatalf("ParseCode(%q, %d): unexpected error %v", s, digits, err)
			}
			if v != 0 {
				t.Fatalf("ParseCode(%q, %d) = %d with error %v", s, digits, v, err)
			}
			return
		}
		if want < otp.MinDigits || want > otp.MaxDigits {
			t.Fatalf("ParseCode(%q, %d) accepted digits %d", s, digits, digits)
		}
		plain := strings.ReplaceAll(strings.Trim(s, " \t\n\r\v\f"), " ", "")
		if got := otp.Format(v, want); got != plain {
			t.Fatalf("ParseCode(%q, %d) = %d, formats as %q, want %q", s, digits, v, got, plain)
		}
	})
}

func FuzzParseKeyURI(f *testing.F) {
	for _, s := range []string{
		"otpauth://totp/alice?secret=" + rfcKeyB32 + "&algorithm=SHA1&digits=6&period=30",
		"otpauth://totp/example.com%3Aalice?secret=" + rfcKeyB32 + "&algorithm=SHA1&digits=6&period=30&issuer=example.com",
		"otpauth://totp/Very%20Trustworthy%20Source%3Aalice?secret=" + rfcKeyB32 + "&algorithm=SHA1&digits=6&period=30&issuer=Very%20Trustworthy%20Source",
		"otpauth://totp/alice%40example.com%3Aalice?secret=" + rfcKeyB32 + "&algorithm=SHA1&digits=6&period=30&issuer=alice%40example.com",
		"otpauth://totp/alice?secret=" + rfcKeyB32 + "&algorithm=SHA1&digits=6&period=30&image=https://test.invalid/square.png",
		"otpauth://hotp/example.com%3Aalice?secret=" + rfcKeyB32 + "&algorithm=SHA1&digits=6&counter=7&issuer=example.com",
		"otpauth://totp/testserver%3A%20bouke%40example.com?secret=" + rfcKeyB32 + "&digits=6&issuer=testserver",
		"otpauth://totp/My%20Site%3A%20bouke%40example.com?secret=" + rfcKeyB32 + "&digits=8&issuer=My+Site",
		"otpauth://totp/%E6%B5%8B%E8%AF%95%E7%BD%91%E7%AB%99%3A%20%E6%88%91%E4%B8%8D%E6%98%AF%E9%80%97%E6%AF%94?secret=" + rfcKeyB32 + "&digits=6&issuer=%E6%B5%8B%E8%AF%95%E7%BD%91%E7%AB%99",
		"otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
		"otpauth://totp/a?secret=gaytemzugu3doobzmfrggzdfmy======&algorithm=sha-512&digits=8&period=60",
		"otpauth://totp/%3Aa%3Ab?secret=JBSWY3DPEHPK3PXP",
		"OTPAUTH://HOTP/x?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551615",
		"otpauth://totp/a?secret=JBSWY3DPEHPK3PXP#x",
		"otpauth://totp/%FF?secret=JBSWY3DPEHPK3PXP",
		"otpauth://totp/a?secret=JBSWY3DPEHPK3PXPA",
		"otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&issuer=a%3Ab",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := otp.ParseKeyURI(s)
		if err != nil {
			if !errors.Is(err, otp.ErrKeyURI) {
				t.Fatalf("ParseKeyURI(%q): error %v does not wrap ErrKeyURI", s, err)
			}
			return
		}
		if (k.Type != "totp" && k.Type != "hotp") || (k.Digits != 6 && k.Digits != 8) ||
			len(k.Secret) < otp.MinSecretLen || len(k.Secret) > otp.MaxSecretLen ||
			(k.Type == "totp" && (k.Period < 1 || k.Period > otp.MaxPeriod)) {
			t.Fatalf("ParseKeyURI(%q) accepted invalid values %+v", s, k)
		}
		if diff := roundTrip(k); diff != "" {
			t.Fatalf("ParseKeyURI(%q) = %+v; %s", s, k, diff)
		}
	})
}

func FuzzKeyURIBuild(f *testing.F) {
	f.Add(false, "example.com", "alice", rfcKey, uint8(0), false, uint16(30), uint64(0), "")
	f.Add(false, "Very Trustworthy Source", "alice", rfcKey, uint8(1), true, uint16(60), uint64(0), "https://test.invalid/square.png")
	f.Add(false, "测试网站", "我不是逗比", helloKey, uint8(2), false, uint16(29), uint64(0), "")
	f.Add(true, "a:b", " c:d", rfcKey, uint8(0), true, uint16(0), uint64(1<<64-1), "x")
	f.Add(false, "", ":x", []byte("short"), uint8(0), false, uint16(0), uint64(0), "")
	f.Add(false, "\xff", "a", rfcKey, uint8(0), false, uint16(0), uint64(0), "")
	f.Fuzz(func(t *testing.T, hotp bool, issuer, account string, secret []byte, alg uint8, eight bool, period uint16, counter uint64, image string) {
		k := otp.KeyURI{
			Type:      "totp",
			Issuer:    issuer,
			Account:   account,
			Secret:    secret,
			Algorithm: otp.Algorithm(alg % 3),
			Digits:    6,
			Period:    int64(period%otp.MaxPeriod) + 1,
			Image:     image,
		}
		if eight {
			k.Digits = 8
		}
		if hotp {
			k.Type, k.Period, k.Counter = "hotp", 0, counter
		}
		secretOK := len(secret) >= otp.MinSecretLen && len(secret) <= otp.MaxSecretLen
		// String removes the colons from the issuer, which can turn bytes
		// that are not UTF-8 into UTF-8.
		forms := []struct {
			name   string
			uri    string
			valid  bool
			verify func(otp.KeyURI) string
		}{
			{"String", k.String(), utf8.ValidString(strings.ReplaceAll(issuer, ":", "")), roundTripString},
			{"IssuerPrefixed", k.IssuerPrefixed(), utf8.ValidString(issuer), roundTripPrefixed},
		}
		for _, form := range forms {
			if secretOK && form.valid && utf8.ValidString(account) {
				if diff := form.verify(k); diff != "" {
					t.Fatalf("%+v: %s", k, diff)
				}
			} else if _, err := otp.ParseKeyURI(form.uri); err == nil {
				t.Fatalf("%+v: %s() = %s was accepted", k, form.name, form.uri)
			}
		}
	})
}
