package web

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/internal/yubicloudtest"
	"github.com/twofactor/twofactor/yubikey"
)

// django-otp-yubikey's test key (seeds-inventory §6.2).
var (
	ykPrivate = [6]byte{0x5d, 0xc3, 0x04, 0x90, 0x95, 0x6b}
	ykAES     = [16]byte{0xfb, 0x36, 0x2a, 0x08, 0x53, 0xbe, 0x5e, 0x53, 0x06, 0xd5, 0xcc, 0x24, 0x83, 0xf2, 0x79, 0xcb}
)

const ykPublic = "cccccccbcbcd"

// ykOTP is what the test key types for a session and use.
func ykOTP(session uint16, use uint8) string {
	return yubikey.Token(ykPublic, yubikey.OTP{UID: ykPrivate, Session: session, SessionUse: use, Timestamp: 0x0153f8, Random: 0x1234}, ykAES)
}

// ykEnv is an env whose service checks YubiKeys with a local YubiCloud
// that knows the test key.
func ykEnv(t *testing.T, o ...envOpts) (*env, *yubicloudtest.Server) {
	t.Helper()
	apiKey := []byte("0123456789abcdefghij")
	srv := yubicloudtest.New(t, "42", apiKey)
	srv.AddKey(ykPublic, ykPrivate, ykAES)
	client, err := yubikey.NewClient(srv.URL(), "42", base64.StdEncoding.EncodeToString(apiKey))
	if err != nil {
		t.Fatal(err)
	}
	o = append([]envOpts{{core: func(c *twofactor.Config) { c.YubiCloud = client }}}, o...)
	return newEnv(t, o...), srv
}

// TestSetupYubiKey ports the seed's YubiKey setup: the step's field takes
// an OTP (a password field labelled "YubiKey:"), the validation service
// is asked, and the key is enrolled, confirmed and verifies the session.
func TestSetupYubiKey(t *testing.T) {
	e, srv := ykEnv(t)
	u := e.user("alice")
	c := e.client()
	r := chooseMethod(t, c, "alice", "yubikey")
	wantStatus(t, r, 200)
	wantText(t, r, "YubiKey:")
	if in := r.input("token"); in["type"] != "password" || in["autocomplete"] != "off" {
		t.Fatalf("token input %v", in)
	}
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", ""), "This field is required.")
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", "garbage"), "Entered token is not valid.")
	if len(srv.Requests()) != 0 {
		t.Fatal("garbage went to the validation service")
	}
	// A key the service does not know: refused by the service.
	other := yubikey.Token("vvvvvvvvvvvv", yubikey.OTP{UID: ykPrivate, Session: 1}, ykAES)
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", other), "Entered token is not valid.")
	r = c.submit(r, "/account/two_factor/setup/", "token", ykOTP(1, 0))
	wantStatus(t, r, 200)
	wantText(t, r, "Congratulations, you've successfully enabled two-factor authentication.")
	if len(codesOf(r)) != 10 {
		t.Fatal("no backup codes")
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[1].Params.Get("otp") != ykOTP(1, 0) || !reqs[1].SignatureOK {
		t.Fatalf("validation requests %+v", reqs)
	}
	st, _ := e.svc.Status(bg, u.ID)
	if st.Primary == nil || st.Primary.Kind != twofactor.KindYubiKey || st.Primary.Destination != ykPublic || !st.Primary.Confirmed {
		t.Fatalf("status %+v", st)
	}
	// No second sign-in: the session is verified by the key.
	if s := c.session(); !s.Verified() || s.DeviceID != st.Primary.ID {
		t.Fatalf("session %+v", s)
	}
	wantStatus(t, c.get("/secret/"), 200)
	wantText(t, c.get("/account/two_factor/"), "Primary method: Use your Yubikey device", "You have 10 backup tokens remaining.")
}

// TestSetupYubiKeyServiceDown: the service failing is a message, not an
// error page, and nothing is enrolled.
func TestSetupYubiKeyServiceDown(t *testing.T) {
	e, srv := ykEnv(t)
	u := e.user("alice")
	c := e.client()
	r := chooseMethod(t, c, "alice", "yubikey")
	srv.SetFault(yubicloudtest.HTTPError)
	res := c.submit(r, "/account/two_factor/setup/", "token", ykOTP(1, 0))
	wantStatus(t, res, 200)
	wantText(t, res, "We could not check the YubiKey code. Please try again later or use another method.")
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 0 {
		t.Fatalf("devices %+v", st.Devices)
	}
	srv.SetFault(yubicloudtest.ForgedSignature)
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", ykOTP(1, 1)), "We could not check the YubiKey code.")
}

// TestLoginYubiKey: the sign-in's token field takes a YubiKey OTP, which
// goes to its key whatever device is expected; the key is offered with
// the seed's label, and an OTP is good once.
func TestLoginYubiKey(t *testing.T) {
	e, _ := ykEnv(t)
	u := e.user("alice")
	e.totp(u, fixtureKey, "App")
	conf, err := e.svc.AddYubiKeyOTP(bg, twofactor.UserActor(u.ID, e.clock.Now()), ykOTP(1, 0), "My key")
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	r := c.login("alice", "correct horse")
	wantText(t, r, "Use your Yubikey device (My key)")
	// Typed in the field of the expected TOTP device: it goes to the key.
	wantRedirect(t, c.token(ykOTP(1, 1)), "/account/two_factor/")
	if s := c.session(); s.DeviceID != conf.Device.ID {
		t.Fatal("not verified by the key")
	}
	// Chosen: the field is not numeric; the replayed OTP is refused.
	c2 := e.client()
	c2.login("alice", "correct horse")
	r = c2.post("/account/login/", url.Values{"step": {"token"}, "device": {conf.Device.ID}})
	wantText(t, r, "Please use your Yubikey device.")
	if in := r.input("token"); in["inputmode"] != "" {
		t.Fatalf("token input %v", in)
	}
	e.clock.Add(3 * time.Second)
	wantText(t, c2.token(ykOTP(1, 1)), "Invalid token.")
	e.clock.Add(5 * time.Second)
	wantRedirect(t, c2.token(strings.ToUpper(ykOTP(1, 2))), "/account/two_factor/")
}
