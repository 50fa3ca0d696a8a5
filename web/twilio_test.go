package web

import (
	"regexp"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/gateway/twilio"
	"github.com/twofactor/twofactor/internal/twiliotest"
)

// twilioEnv is an env whose service sends text messages through the real
// Twilio gateway, pointed at a local peer that checks requests as Twilio
// does.
func twilioEnv(t *testing.T) (*env, *twiliotest.Server) {
	t.Helper()
	peer := twiliotest.New(t)
	gw, err := twilio.New(twilio.Config{AccountSID: peer.AccountSID, AuthToken: peer.AuthToken,
		CallerID: twiliotest.CallerID, BaseURL: peer.URL, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return newEnv(t, envOpts{core: func(c *twofactor.Config) { c.SMS = gw }}), peer
}

var smsCodeRE = regexp.MustCompile(`\b(\d{6})\b`)

// TestSetupSMSTwilio runs the SMS setup through the Twilio gateway: one
// message to the E.164 number, with the code and the site name; a number
// Twilio refuses and a Twilio that fails or is down are messages on the
// form, with no device left.
func TestSetupSMSTwilio(t *testing.T) {
	e, peer := twilioEnv(t)
	u := e.user("alice")
	c := e.client()
	r := chooseMethod(t, c, "alice", "sms")

	r2 := c.submit(r, "/account/two_factor/setup/", "phone_number", twiliotest.InvalidPrefix+"1234")
	wantStatus(t, r2, 200)
	if fieldErrors(r2, "phone") != "Please enter a valid phone number, including your country code starting with + or 00." {
		t.Fatalf("refused number:\n%s", r2.text())
	}
	for _, mode := range []twiliotest.Mode{twiliotest.Failing, twiliotest.Down} {
		peer.SetMode(mode)
		r2 = c.submit(r, "/account/two_factor/setup/", "phone_number", testNumber)
		wantStatus(t, r2, 200)
		wantText(t, r2, "We could not send the code. Please try again later or use another method.")
	}
	peer.SetMode(twiliotest.Up)
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 0 {
		t.Fatalf("half-made devices: %+v", st.Devices)
	}

	wantRedirect(t, c.submit(r, "/account/two_factor/setup/", "phone_number", testNumber), "/account/two_factor/setup/")
	r = c.get("/account/two_factor/setup/")
	wantText(t, r, "We sent you a text message")
	msgs := peer.Messages()
	if len(msgs) != 1 || msgs[0].To != testNumber || msgs[0].From != twiliotest.CallerID {
		t.Fatalf("messages %+v", msgs)
	}
	m := smsCodeRE.FindStringSubmatch(msgs[0].Body)
	if m == nil || msgs[0].Body != "Your twofactor verification code is "+m[1] {
		t.Fatalf("body %q", msgs[0].Body)
	}
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", m[1]), "Congratulations")
	if len(peer.Messages()) != 1 {
		t.Fatal("more than one message")
	}
}
