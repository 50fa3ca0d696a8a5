package twofactor_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/internal/yubicloudtest"
	"github.com/twofactor/twofactor/yubikey"
)

// django-otp-yubikey's alice (seeds-inventory §6.2).
var (
	alicePrivate = [6]byte{0x5d, 0xc3, 0x04, 0x90, 0x95, 0x6b}
	aliceAES     = [16]byte{0xfb, 0x36, 0x2a, 0x08, 0x53, 0xbe, 0x5e, 0x53, 0x06, 0xd5, 0xcc, 0x24, 0x83, 0xf2, 0x79, 0xcb}
)

const alicePublic = "cccccccbcbcd"

func otpFor(session uint16, use uint8) string {
	return yubikey.Token(alicePublic, yubikey.OTP{UID: alicePrivate, Session: session, SessionUse: use, Timestamp: 0x0153f8, Random: 0x1234}, aliceAES)
}

// TestLocalYubiKey: a local key verifies its OTPs once, in order, and never
// another key's (seed tests ported).
func TestLocalYubiKey(t *testing.T) {
	e := newEnv(t, func(o *twofactor.Options) {
		o.UserThrottle = 0
		o.Throttle = map[twofactor.Kind]time.Duration{twofactor.KindYubiKey: 0}
	})
	u := e.user(t, "alice")
	op := twofactor.OperatorActor(u.ID)
	_, err := e.svc.AddYubiKey(ctx, twofactor.UserActor(u.ID, e.clock.Now()), twofactor.YubiKeySpec{PublicID: alicePublic})
	wantCode(t, err, twofactor.CodeValidationFailed, "")
	_, err = e.svc.AddYubiKey(ctx, op, twofactor.YubiKeySpec{PublicID: "not modhex!"})
	wantCode(t, err, twofactor.CodeValidationFailed, "")
	d, err := e.svc.AddYubiKey(ctx, op, twofactor.YubiKeySpec{PublicID: strings.ToUpper(alicePublic), PrivateID: alicePrivate, AESKey: aliceAES})
	ok(t, err)
	if !d.Primary || d.Destination != alicePublic {
		t.Fatalf("device %+v", d)
	}
	_, err = e.svc.AddYubiKey(ctx, op, twofactor.YubiKeySpec{PublicID: alicePublic, PrivateID: alicePrivate, AESKey: aliceAES})
	wantCode(t, err, twofactor.CodeConflict, "")

	got, err := e.svc.Verify(ctx, u.ID, otpFor(5, 0), "")
	ok(t, err)
	if got.ID != d.ID {
		t.Fatal("verified by the wrong device")
	}
	if dd := e.device(t, d.ID); dd.Counter != 5<<8 {
		t.Fatalf("counter %d", dd.Counter)
	}
	cases := []struct {
		name, otp, reason string
	}{
		{"replay", otpFor(5, 0), twofactor.ReasonReplayed},
		{"older session", otpFor(4, 9), twofactor.ReasonReplayed},
		{"wrong key", yubikey.Token(alicePublic, yubikey.OTP{UID: alicePrivate, Session: 9}, [16]byte{1}), twofactor.ReasonWrong},
		{"wrong private id", yubikey.Token(alicePublic, yubikey.OTP{UID: [6]byte{1}, Session: 9}, aliceAES), twofactor.ReasonWrong},
	}
	for _, c := range cases {
		_, err := e.svc.Verify(ctx, u.ID, c.otp, "")
		wantCode(t, err, twofactor.CodeInvalidCode, c.reason)
	}
	// Upper case (Caps Lock) and the next use of the session work.
	_, err = e.svc.Verify(ctx, u.ID, strings.ToUpper(otpFor(5, 7)), "")
	ok(t, err)
	// An OTP of a key the user does not have goes to the primary device,
	// where it fails like any wrong code (and is counted).
	_, err = e.svc.Verify(ctx, u.ID, yubikey.Token("vvvvvvvvvvvv", yubikey.OTP{Session: 1}, aliceAES), "")
	wantCode(t, err, twofactor.CodeInvalidCode, "")
}

// TestRemoteYubiKey: keys checked by the validation service — enrolment by
// one OTP, sign-in, replays refused by the service, and a service that
// fails or lies is never believed.
func TestRemoteYubiKey(t *testing.T) {
	apiKey := []byte("0123456789abcdefghij")
	srv := yubicloudtest.New(t, "42", apiKey)
	srv.AddKey(alicePublic, alicePrivate, aliceAES)
	client, err := yubikey.NewClient(srv.URL(), "42", base64.StdEncoding.EncodeToString(apiKey))
	ok(t, err)
	base := newEnv(t)
	svc, err := twofactor.New(twofactor.Config{Store: base.store, Keys: base.keys, Options: opts(), Clock: base.clock, YubiCloud: client})
	ok(t, err)
	base.svc = svc
	u := base.user(t, "alice")
	me := twofactor.UserActor(u.ID, time.Time{})

	_, err = svc.AddYubiKeyOTP(ctx, me, "garbage", "")
	wantCode(t, err, twofactor.CodeValidationFailed, "")
	c, err := svc.AddYubiKeyOTP(ctx, me, otpFor(1, 0), "My key")
	ok(t, err)
	if !c.Device.Confirmed || !c.Device.Primary || len(c.BackupCodes) != 10 || c.Device.Name != "My key" {
		t.Fatalf("enrolment %+v", c)
	}
	// The enrolment OTP was used up at the service.
	_, err = svc.Verify(ctx, u.ID, otpFor(1, 0), "")
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonReplayed)
	base.clock.Add(time.Minute)
	_, err = svc.Verify(ctx, u.ID, otpFor(1, 1), "")
	ok(t, err)
	srv.SetFault(yubicloudtest.ForgedSignature)
	base.clock.Add(time.Minute)
	_, err = svc.Verify(ctx, u.ID, otpFor(1, 2), "")
	wantCode(t, err, twofactor.CodeGatewayFailed, "")
	srv.SetFault(yubicloudtest.HTTPError)
	base.clock.Add(time.Minute)
	_, err = svc.Verify(ctx, u.ID, otpFor(1, 3), "")
	wantCode(t, err, twofactor.CodeGatewayFailed, "")
}
