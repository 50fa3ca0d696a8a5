package otp_test

import (
	"fmt"

	"github.com/twofactor/twofactor/otp"
)

func ExampleTOTP_Verify() {
	// The device as stored: key, drift and the last step that was used
	// (-1 for a device that never verified a code).
	device := otp.TOTP{Key: []byte("12345678901234567890")}
	drift, lastStep := int64(0), int64(-1)

	now := int64(1111111109) // pass the time in; the package never reads the clock
	typed := "081 804"       // what the user typed, for a 6-digit device

	code, err := otp.ParseCode(typed, 6)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	m, ok := device.Verify(code, now, 1, drift, lastStep)
	fmt.Println(ok, m.Counter, m.Drift)

	// The caller stores m.Counter with one conditional write
	// ("... SET last_t = m.Counter WHERE last_t < m.Counter"); the same
	// code is then refused: replay protection.
	_, ok = device.Verify(code, now, 1, m.Drift, m.Counter)
	fmt.Println(ok)
	// Output:
	// true 37037036 0
	// false
}

func ExampleKeyURI() {
	k := otp.KeyURI{
		Issuer:  "Example Co",
		Account: "alice@example.com",
		Secret:  []byte("12345678901234567890"),
	}
	fmt.Println(k.String())
	fmt.Println(k.IssuerPrefixed())

	back, err := otp.ParseKeyURI(k.IssuerPrefixed())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %q %q %s %d %d\n", back.Type, back.Issuer, back.Account, back.Algorithm, back.Digits, back.Period)
	// Output:
	// otpauth://totp/Example%20Co%3Aalice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30&issuer=Example%20Co
	// otpauth://totp/Example%20Co%3A%20alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=6&issuer=Example+Co
	// totp "Example Co" "alice@example.com" SHA1 6 30
}

func ExampleParseKeyURI() {
	k, err := otp.ParseKeyURI("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(k.Issuer, k.Account, len(k.Secret))

	_, err = otp.ParseKeyURI("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&digits=7")
	fmt.Println(err)
	// Output:
	// Example alice@google.com 10
	// invalid otpauth uri: digits must be 6 or 8
}

func ExampleFormat() {
	fmt.Println(otp.Format(5428, 6))
	// Output: 005428
}
