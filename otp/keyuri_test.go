package otp_test

import (
	"bytes"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twofactor/twofactor/otp"
)

// rfcKeyB32 is base32(rfcKey).
const rfcKeyB32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// helloKey is base32-decoded JBSWY3DPEHPK3PXP, the secret of the Key URI
// Format examples (10 bytes).
var helloKey = []byte("Hello!\xde\xad\xbe\xef")

func TestKeyURIString(t *testing.T) {
	t.Parallel()
	const base = "otpauth://totp/"
	const q = "?secret=" + rfcKeyB32 + "&algorithm=SHA1&digits=6&period=30"
	tests := []struct {
		name string
		k    otp.KeyURI
		want string
	}{
		// django-otp config_url cases.
		{"account only", otp.KeyURI{Account: "alice", Secret: rfcKey},
			base + "alice" + q},
		{"issuer", otp.KeyURI{Issuer: "example.com", Account: "alice", Secret: rfcKey},
			base + "example.com%3Aalice" + q + "&issuer=example.com"},
		{"issuer with spaces", otp.KeyURI{Issuer: "Very Trustworthy Source", Account: "alice", Secret: rfcKey},
			base + "Very%20Trustworthy%20Source%3Aalice" + q + "&issuer=Very%20Trustworthy%20Source"},
		{"issuer is an email", otp.KeyURI{Issuer: "alice@example.com", Account: "alice", Secret: rfcKey},
			base + "alice%40example.com%3Aalice" + q + "&issuer=alice%40example.com"},
		{"image", otp.KeyURI{Account: "alice", Secret: rfcKey, Image: "https://test.invalid/square.png"},
			base + "alice" + q + "&image=https://test.invalid/square.png"},
		{"image escaped", otp.KeyURI{Account: "alice", Secret: rfcKey, Image: "https://x.invalid/a b.png?s=1&t=2"},
			base + "alice" + q + "&image=https://x.invalid/a%20b.png%3Fs%3D1%26t%3D2"},
		{"colons removed from issuer", otp.KeyURI{Issuer: "Acme: Corp", Account: "alice", Secret: rfcKey},
			base + "Acme%20Corp%3Aalice" + q + "&issuer=Acme%20Corp"},
		{"issuer of colons only", otp.KeyURI{Issuer: "::", Account: "alice", Secret: rfcKey},
			base + "alice" + q},
		{"account with colon and no issuer", otp.KeyURI{Account: "a:b", Secret: rfcKey},
			base + "%3Aa%3Ab" + q},
		{"reserved characters", otp.KeyURI{Account: "a/b?c#d+e&f=g%h", Secret: rfcKey},
			base + "a%2Fb%3Fc%23d%2Be%26f%3Dg%25h" + q},
		{"non-default parameters", otp.KeyURI{Type: "totp", Account: "alice", Secret: helloKey, Algorithm: otp.SHA512, Digits: 8, Period: 60},
			base + "alice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA512&digits=8&period=60"},
		{"padding stripped", otp.KeyURI{Account: "a", Secret: []byte("0123456789abcdef")},
			base + "a?secret=GAYTEMZUGU3DOOBZMFRGGZDFMY&algorithm=SHA1&digits=6&period=30"},
		// django-otp HOTPDevice config_url.
		{"hotp", otp.KeyURI{Type: "hotp", Issuer: "example.com", Account: "alice", Secret: rfcKey, Counter: 7, Image: "https://ignored.invalid/"},
			"otpauth://hotp/example.com%3Aalice?secret=" + rfcKeyB32 + "&algorithm=SHA1&digits=6&counter=7&issuer=example.com"},
		{"hotp counter 0", otp.KeyURI{Type: "HOTP", Account: "alice", Secret: rfcKey},
			"otpauth://hotp/alice?secret=" + rfcKeyB32 + "&algorithm=SHA1&digits=6&counter=0"},
	}
	for _, tt := range tests {
		if got := tt.k.String(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestKeyURIIssuerPrefixed(t *testing.T) {
	t.Parallel()
	const s = "?secret=" + rfcKeyB32
	tests := []struct {
		name string
		k    otp.KeyURI
		want string
	}{
		// django-two-factor-auth get_otpauth_url and setup view cases.
		{"account only", otp.KeyURI{Account: "bouke@example.com", Secret: rfcKey},
			"otpauth://totp/bouke%40example.com" + s + "&digits=6"},
		{"account with space, 8 digits", otp.KeyURI{Account: "Bouke Haarsma", Secret: rfcKey, Digits: 8},
			"otpauth://totp/Bouke%20Haarsma" + s + "&digits=8"},
		{"issuer", otp.KeyURI{Issuer: "example.com", Account: "bouke@example.com", Secret: rfcKey},
			"otpauth://totp/example.com%3A%20bouke%40example.com" + s + "&digits=6&issuer=example.com"},
		{"setup view", otp.KeyURI{Issuer: "testserver", Account: "bouke@example.com", Secret: rfcKey},
			"otpauth://totp/testserver%3A%20bouke%40example.com" + s + "&digits=6&issuer=testserver"},
		{"issuer with space", otp.KeyURI{Issuer: "My Site", Account: "bouke@example.com", Secret: rfcKey},
			"otpauth://totp/My%20Site%3A%20bouke%40example.com" + s + "&digits=6&issuer=My+Site"},
		{"utf-8", otp.KeyURI{Issuer: "测试网站", Account: "我不是逗比", Secret: rfcKey},
			"otpauth://totp/%E6%B5%8B%E8%AF%95%E7%BD%91%E7%AB%99%3A%20%E6%88%91%E4%B8%8D%E6%98%AF%E9%80%97%E6%AF%94" + s +
				"&digits=6&issuer=%E6%B5%8B%E8%AF%95%E7%BD%91%E7%AB%99"},
		{"defaults written out are left out", otp.KeyURI{Account: "a", Secret: rfcKey, Algorithm: otp.SHA1, Period: 30, Digits: 6, Image: "https://x.invalid/"},
			"otpauth://totp/a" + s + "&digits=6"},
		{"non-default algorithm and period", otp.KeyURI{Issuer: "X Y", Account: "a", Secret: rfcKey, Algorithm: otp.SHA256, Period: 60, Digits: 8},
			"otpauth://totp/X%20Y%3A%20a" + s + "&digits=8&algorithm=SHA256&period=60&issuer=X+Y"},
		{"colon kept in issuer", otp.KeyURI{Issuer: "a:b", Account: "c", Secret: rfcKey},
			"otpauth://totp/a%3Ab%3A%20c" + s + "&digits=6&issuer=a%3Ab"},
		{"hotp", otp.KeyURI{Type: "hotp", Issuer: "Ex", Account: "a", Secret: rfcKey, Counter: 42},
			"otpauth://hotp/Ex%3A%20a" + s + "&digits=6&counter=42&issuer=Ex"},
	}
	for _, tt := range tests {
		if got := tt.k.IssuerPrefixed(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func sameKeyURI(a, b otp.KeyURI) bool {
	return a.Type == b.Type && a.Issuer == b.Issuer && a.Account == b.Account &&
		bytes.Equal(a.Secret, b.Secret) && a.Algorithm == b.Algorithm && a.Digits == b.Digits &&
		a.Period == b.Period && a.Counter == b.Counter && a.Image == b.Image
}

func TestParseKeyURI(t *testing.T) {
	t.Parallel()
	key16 := []byte("0123456789abcdef")
	key64 := bytes.Repeat([]byte{0}, 64)
	totp := func(issuer, account string, secret []byte) otp.KeyURI {
		return otp.KeyURI{Type: "totp", Issuer: issuer, Account: account, Secret: secret, Digits: 6, Period: 30}
	}
	tests := []struct {
		name string
		in   string
		want otp.KeyURI
	}{
		{"key uri format example", "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
			totp("Example", "alice@google.com", helloKey)},
		{"full example", "otpauth://totp/ACME%20Co:john.doe@email.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
			totp("ACME Co", "john.doe@email.com", helloKey)},
		{"lower-case secret", "otpauth://totp/alice?secret=jbswy3dpehpk3pxp",
			totp("", "alice", helloKey)},
		{"padded secret", "otpauth://totp/a?secret=GAYTEMZUGU3DOOBZMFRGGZDFMY======",
			totp("", "a", key16)},
		{"padded secret percent-encoded", "otpauth://totp/a?secret=GAYTEMZUGU3DOOBZMFRGGZDFMY%3D%3D%3D%3D%3D%3D",
			totp("", "a", key16)},
		{"unpadded secret", "otpauth://totp/a?secret=GAYTEMZUGU3DOOBZMFRGGZDFMY",
			totp("", "a", key16)},
		{"64-byte secret", "otpauth://totp/a?secret=" + strings.Repeat("A", 103),
			totp("", "a", key64)},
		{"label prefix with space", "otpauth://totp/Example:%20%20alice?secret=JBSWY3DPEHPK3PXP",
			totp("Example", "alice", helloKey)},
		{"django-two-factor-auth form", "otpauth://totp/testserver%3A%20bouke%40example.com?secret=JBSWY3DPEHPK3PXP&digits=6&issuer=testserver",
			totp("testserver", "bouke@example.com", helloKey)},
		{"form-encoded issuer", "otpauth://totp/My%20Site%3A%20b?secret=JBSWY3DPEHPK3PXP&issuer=My+Site",
			totp("My Site", "b", helloKey)},
		{"issuer parameter wins", "otpauth://totp/Old:alice?secret=JBSWY3DPEHPK3PXP&issuer=New",
			totp("New", "alice", helloKey)},
		{"issuer parameter without label prefix", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=Ex",
			totp("Ex", "alice", helloKey)},
		{"issuer parameter with colon", "otpauth://totp/a%3Ab%3A%20c?secret=JBSWY3DPEHPK3PXP&issuer=a%3Ab",
			totp("a:b", "c", helloKey)},
		{"empty issuer parameter", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=",
			totp("", "alice", helloKey)},
		{"account with colons", "otpauth://totp/Ex:a:b?secret=JBSWY3DPEHPK3PXP",
			totp("Ex", "a:b", helloKey)},
		{"empty issuer before colon", "otpauth://totp/%3Aa%3Ab?secret=JBSWY3DPEHPK3PXP",
			totp("", "a:b", helloKey)},
		{"utf-8 label", "otpauth://totp/%E6%B5%8B%E8%AF%95%E7%BD%91%E7%AB%99%3A%20%E6%88%91?secret=JBSWY3DPEHPK3PXP&issuer=%E6%B5%8B%E8%AF%95%E7%BD%91%E7%AB%99",
			totp("测试网站", "我", helloKey)},
		{"raw slash in label (django-otp quote keeps '/')", "otpauth://totp/Ex:a/b?secret=JBSWY3DPEHPK3PXP",
			totp("Ex", "a/b", helloKey)},
		{"plus is literal in the label", "otpauth://totp/a+b?secret=JBSWY3DPEHPK3PXP",
			totp("", "a+b", helloKey)},
		{"no label", "otpauth://totp?secret=JBSWY3DPEHPK3PXP",
			totp("", "", helloKey)},
		{"upper-case scheme and type", "OTPAUTH://TOTP/alice?secret=JBSWY3DPEHPK3PXP",
			totp("", "alice", helloKey)},
		{"unknown parameters ignored", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&color=red&lock=true",
			totp("", "alice", helloKey)},
		{"non-default parameters", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=sha-256&digits=8&period=60",
			otp.KeyURI{Type: "totp", Account: "a", Secret: helloKey, Algorithm: otp.SHA256, Digits: 8, Period: 60}},
		{"sha512 and bounds", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=SHA512&period=3600",
			otp.KeyURI{Type: "totp", Account: "a", Secret: helloKey, Algorithm: otp.SHA512, Digits: 6, Period: 3600}},
		{"period 1", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=1",
			otp.KeyURI{Type: "totp", Account: "a", Secret: helloKey, Digits: 6, Period: 1}},
		{"image", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&image=https://test.invalid/square.png",
			otp.KeyURI{Type: "totp", Account: "alice", Secret: helloKey, Digits: 6, Period: 30, Image: "https://test.invalid/square.png"}},
		{"hotp", "otpauth://hotp/example.com%3Aalice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=8&counter=7&issuer=example.com",
			otp.KeyURI{Type: "hotp", Issuer: "example.com", Account: "alice", Secret: helloKey, Digits: 8, Counter: 7}},
		{"hotp ignores period", "otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551615&period=abc",
			otp.KeyURI{Type: "hotp", Account: "a", Secret: helloKey, Digits: 6, Counter: 1<<64 - 1}},
		{"totp ignores counter", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&counter=abc",
			totp("", "a", helloKey)},
	}
	for _, tt := range tests {
		got, err := otp.ParseKeyURI(tt.in)
		if err != nil {
			t.Errorf("%s: ParseKeyURI(%q): %v", tt.name, tt.in, err)
			continue
		}
		if !sameKeyURI(got, tt.want) {
			t.Errorf("%s: ParseKeyURI(%q)\n got %+v\nwant %+v", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestParseKeyURIErrors(t *testing.T) {
	t.Parallel()
	const ok = "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP"
	if _, err := otp.ParseKeyURI(ok); err != nil {
		t.Fatalf("control URI refused: %v", err)
	}
	tests := []struct {
		in, msg string
	}{
		{"", "scheme"},
		{"otpauth:/", "scheme"},
		{"http://totp/alice?secret=JBSWY3DPEHPK3PXP", "scheme"},
		{"otpauth:totp/alice?secret=JBSWY3DPEHPK3PXP", "scheme"},
		{"otpauth://", "type"},
		{"otpauth://xotp/alice?secret=JBSWY3DPEHPK3PXP", "type"},
		{"otpauth://motp/alice?secret=JBSWY3DPEHPK3PXP", "type"},
		{"otpauth://totp/alice", "secret is missing"},
		{"otpauth://totp/alice?secret=", "secret is missing"},
		{"otpauth://totp/alice?issuer=x", "secret is missing"},
		{"otpauth://totp/alice?secret=JBSWY3DPEHPK3PX1", "base32"},
		{"otpauth://totp/alice?secret=JBSWY3DP%20EHPK3PXP", "base32"},
		{"otpauth://totp/alice?secret=JBSWY3DP+EHPK3PXP", "base32"},
		{"otpauth://totp/alice?secret=JBSWY3DP%0AEHPK3PXP", "base32"},
		{"otpauth://totp/alice?secret=JBSW=Y3DPEHPK3PXP", "base32"},
		{"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXPA", "base32"}, // impossible length
		{"otpauth://totp/alice?secret=JBSWY3DPEHPK3PX", "got 9"},
		{"otpauth://totp/alice?secret=" + strings.Repeat("A", 104), "got 65"},
		{"otpauth://totp/alice?secret=" + strings.Repeat("A", 100000), "10 to 64 bytes"},
		{ok + "&secret=JBSWY3DPEHPK3PXP", "secret is given more than once"},
		{ok + "&digits=6&digits=8", "digits is given more than once"},
		{ok + "&issuer=a&issuer=b", "issuer is given more than once"},
		{ok + "&digits=7", "digits must be 6 or 8"},
		{ok + "&digits=10", "digits must be 6 or 8"},
		{ok + "&digits=06", "digits must be 6 or 8"},
		{ok + "&digits=%2B6", "digits must be 6 or 8"},
		{ok + "&digits=six", "digits must be 6 or 8"},
		{ok + "&period=0", "period"},
		{ok + "&period=3601", "period"},
		{ok + "&period=-30", "period"},
		{ok + "&period=30s", "period"},
		{ok + "&period=99999999999999999999999", "period"},
		{ok + "&algorithm=MD5", "algorithm"},
		{ok + "&algorithm=SHA384", "algorithm"},
		{"otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXP", "counter is missing"},
		{"otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXP&counter=-1", "counter"},
		{"otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551616", "counter"},
		{"otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXP&counter=1e3", "counter"},
		{"otpauth://totp/al%zzice?secret=JBSWY3DPEHPK3PXP", "label is not correctly percent-encoded"},
		{"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=%zz", "query"},
		{"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP;issuer=x", "query"},
		{"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP#frag", "fragment"},
		{"otpauth://totp/%FF?secret=JBSWY3DPEHPK3PXP", "label is not valid UTF-8"},
		{"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=%C3%28", "issuer is not valid UTF-8"},
	}
	for _, tt := range tests {
		k, err := otp.ParseKeyURI(tt.in)
		if err == nil {
			t.Errorf("ParseKeyURI(%.80q) = %+v, want an error", tt.in, k)
			continue
		}
		if !errors.Is(err, otp.ErrKeyURI) {
			t.Errorf("ParseKeyURI(%.80q) error %v does not wrap ErrKeyURI", tt.in, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.msg) {
			t.Errorf("ParseKeyURI(%.80q) error %q, want it to mention %q", tt.in, msg, tt.msg)
		}
		if !strings.HasPrefix(msg, "invalid otpauth uri: ") || strings.HasSuffix(msg, ".") {
			t.Errorf("error message %q: want prefix \"invalid otpauth uri: \" and no trailing period", msg)
		}
	}
}

// afterBuild is what ParseKeyURI returns for the issuer and account of a
// URI built from them: leading spaces of the account cannot be told apart
// from the optional spaces after "Issuer:" once there is an issuer or a
// colon in the label.
func afterBuild(issuer, account string) (string, string) {
	if issuer != "" || strings.Contains(account, ":") {
		account = strings.TrimLeft(account, " ")
	}
	return issuer, account
}

// normalized is k with the defaults ParseKeyURI fills in.
func normalized(k otp.KeyURI) otp.KeyURI {
	k.Type = strings.ToLower(k.Type)
	if k.Type != "hotp" {
		k.Type = "totp"
	}
	if k.Digits == 0 {
		k.Digits = otp.DefaultDigits
	}
	if k.Type == "totp" {
		if k.Period == 0 {
			k.Period = otp.DefaultStep
		}
		k.Counter = 0
	} else {
		k.Period = 0
	}
	return k
}

// roundTripString parses k.String() and checks it carries k's fields,
// except that colons are removed from the issuer and the image is TOTP
// only. It returns a description of the first difference.
func roundTripString(k otp.KeyURI) string {
	want := normalized(k)
	want.Issuer, want.Account = afterBuild(strings.ReplaceAll(k.Issuer, ":", ""), k.Account)
	if want.Type == "hotp" {
		want.Image = ""
	}
	s := k.String()
	got, err := otp.ParseKeyURI(s)
	if err != nil {
		return "String() " + s + ": " + err.Error()
	}
	if !sameKeyURI(got, want) {
		return fmt.Sprintf("String() %s parsed to %+v, want %+v", s, got, want)
	}
	return ""
}

// roundTripPrefixed does the same for k.IssuerPrefixed(), which keeps the
// issuer as it is and never writes the image.
func roundTripPrefixed(k otp.KeyURI) string {
	want := normalized(k)
	want.Issuer, want.Account = afterBuild(k.Issuer, k.Account)
	want.Image = ""
	s := k.IssuerPrefixed()
	got, err := otp.ParseKeyURI(s)
	if err != nil {
		return "IssuerPrefixed() " + s + ": " + err.Error()
	}
	if !sameKeyURI(got, want) {
		return fmt.Sprintf("IssuerPrefixed() %s parsed to %+v, want %+v", s, got, want)
	}
	return ""
}

// roundTrip checks both forms.
func roundTrip(k otp.KeyURI) string {
	if diff := roundTripString(k); diff != "" {
		return diff
	}
	return roundTripPrefixed(k)
}

func TestKeyURIRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []otp.KeyURI{
		{Account: "alice", Secret: rfcKey},
		{Issuer: "example.com", Account: "alice", Secret: rfcKey},
		{Issuer: "Very Trustworthy Source", Account: "alice@example.com", Secret: helloKey, Image: "https://test.invalid/square.png"},
		{Issuer: "测试网站", Account: "我不是逗比", Secret: rfcKey, Digits: 8},
		{Issuer: "a:b", Account: "c:d", Secret: rfcKey},
		{Account: "c:d", Secret: rfcKey},
		{Account: ":x", Secret: rfcKey},
		{Issuer: ":", Account: "  x:y", Secret: rfcKey},
		{Account: "  leading spaces", Secret: rfcKey},
		{Issuer: " spaced ", Account: "  a", Secret: rfcKey},
		{Issuer: "+&=?#%/", Account: "+&=?#%/", Secret: rfcKey},
		{Type: "totp", Issuer: "X", Account: "a", Secret: bytes.Repeat([]byte{0xff}, 64), Algorithm: otp.SHA512, Digits: 8, Period: 3600},
		{Type: "totp", Account: "a", Secret: bytes.Repeat([]byte{1}, 10), Algorithm: otp.SHA256, Period: 1},
		{Type: "hotp", Issuer: "Ex", Account: "a", Secret: rfcKey, Counter: 1<<64 - 1, Image: "https://dropped.invalid/"},
		{Type: "HOTP", Account: "a", Secret: rfcKey, Digits: 8, Period: 99},
	}
	for _, k := range tests {
		if diff := roundTrip(k); diff != "" {
			t.Errorf("%+v: %s", k, diff)
		}
	}
}

// TestParseKeyURISecretForms checks every secret length with both
// padding styles and cases.
func TestParseKeyURISecretForms(t *testing.T) {
	t.Parallel()
	for n := otp.MinSecretLen; n <= otp.MaxSecretLen; n++ {
		key := make([]byte, n)
		for i := range key {
			key[i] = byte(i*37 + n)
		}
		padded := base32.StdEncoding.EncodeToString(key)
		for _, s := range []string{padded, strings.TrimRight(padded, "="), strings.ToLower(padded)} {
			k, err := otp.ParseKeyURI("otpauth://totp/a?secret=" + s)
			if err != nil || !bytes.Equal(k.Secret, key) {
				t.Errorf("secret %s (%d bytes): got %x, %v", s, n, k.Secret, err)
			}
		}
	}
}
