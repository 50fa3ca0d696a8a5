package yubikey_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/twofactor/twofactor/yubikey"
)

// A device with a locally held key: look it up by the token's public id,
// verify, then store the new counter with a conditional update.
func ExampleVerify() {
	privateID, _ := yubikey.ParsePrivateID("5dc30490956b")
	key, _ := yubikey.ParseAESKey("fb362a0853be5e5306d5cc2483f279cb")
	const publicID = "cccccccb"
	var stored int64 = 5 << 8 // session 5, use 0

	// What the YubiKey would type.
	token := yubikey.Token(publicID, yubikey.OTP{UID: privateID, Session: 5, SessionUse: 1}, key)

	pub, ok := yubikey.PublicID(token)
	fmt.Println(pub, ok)

	otp, err := yubikey.Verify(token, publicID, privateID, key, stored)
	fmt.Println(otp.Counter(), err)
	// The store now does, atomically:
	//   UPDATE devices SET counter = otp.Counter() WHERE id = ? AND counter < otp.Counter()
	stored = otp.Counter()

	_, err = yubikey.Verify(token, publicID, privateID, key, stored)
	fmt.Println(errors.Is(err, yubikey.ErrReplayed))
	// Output:
	// cccccccb true
	// 1281 <nil>
	// true
}

// A device validated by YubiCloud.
func ExampleClient_Verify() {
	c, err := yubikey.NewClient("", "12345", "dGhpcyBpcyBhbiBBUEkga2V5")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = c.Verify(context.Background(), "completelybogus")
	switch {
	case err == nil:
		fmt.Println("accepted")
	case errors.Is(err, yubikey.ErrReplayed):
		fmt.Println("token already used")
	case errors.Is(err, yubikey.ErrBadOTP):
		fmt.Println("not a valid token")
	case errors.Is(err, yubikey.ErrUnavailable):
		fmt.Println("try again later")
	default:
		fmt.Println("refused:", err)
	}
	// Output:
	// not a valid token
}

func ExampleEncodeModhex() {
	fmt.Println(yubikey.EncodeModhex([]byte("abcdefghijklmnop")))
	b, _ := yubikey.DecodeModhex("CBDEFGHIJKLNRTUV")
	fmt.Printf("%x\n", b)
	// Output:
	// hbhdhehfhghhhihjhkhlhnhrhthuhvic
	// 0123456789abcdef
}
