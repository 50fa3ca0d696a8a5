package web

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/gateway/fake"
)

const registerURL = "/account/two_factor/phone/register/"

// TestPhoneRegister ports the seed's backup phone setup: the form (number
// and method), both required, an invalid number refused, one code sent
// (a call: the digits), a wrong code refused, the right one confirms a
// device that is not the primary, and the profile lists it masked.
func TestPhoneRegister(t *testing.T) {
	for _, tc := range []struct {
		method string
		kind   twofactor.Kind
		via    fake.Via
		action string
	}{
		{"sms", twofactor.KindSMS, fake.SMS, "Send text message to " + testMasked},
		{"call", twofactor.KindCall, fake.Call, "Call number " + testMasked},
	} {
		t.Run(tc.method, func(t *testing.T) {
			e, gw := gwEnv(t)
			u := e.user("alice")
			app := e.totp(u, fixtureKey, "App")
			c := e.client()
			c.signIn("alice", fixtureKey)
			r := c.get(registerURL)
			wantStatus(t, r, 200)
			wantText(t, r, "Add Backup Phone", "Phone Number:", "Method:", "Text message", "Phone call")
			if !strings.Contains(r.body, `href="/account/two_factor/"`) {
				t.Fatal("no cancel link")
			}
			res := c.post(registerURL, url.Values{"step": {"phone"}})
			if fieldErrors(res, "phone") != "This field is required." || fieldErrors(res, "method") != "This field is required." {
				t.Fatalf("both fields are required:\n%s", res.text())
			}
			res = c.post(registerURL, url.Values{"step": {"phone"}, "phone_number": {"+3110123456"}, "method": {tc.method}})
			if fieldErrors(res, "phone") != "Please enter a valid phone number, including your country code starting with + or 00." {
				t.Fatalf("invalid number:\n%s", res.text())
			}
			res = c.post(registerURL, url.Values{"step": {"phone"}, "phone_number": {testNumber}, "method": {"sms&call"}})
			wantText(t, res, "Select a valid choice.")
			if len(gw.Sent()) != 0 {
				t.Fatal("sent before the form was valid")
			}
			r = c.submit(r, registerURL, "phone_number", testNumber, "method", tc.method)
			wantRedirect(t, r, registerURL)
			r = c.get(registerURL)
			wantText(t, r, "We've sent a token to your phone number. Please enter the token you've received.", "Sent to "+testMasked)
			c.get(registerURL) // a reload sends nothing
			sent := sentTo(gw, testNumber)
			if len(sent) != 1 || sent[0].Via != tc.via {
				t.Fatalf("sent %+v", sent)
			}
			wantText(t, c.submit(r, registerURL, "token", "666"), "Entered token is not valid.")
			e.clock.Add(3 * time.Second)
			wantRedirect(t, c.submit(r, registerURL, "token", sent[0].Code), "/account/two_factor/")
			st, _ := e.svc.Status(bg, u.ID)
			if st.Primary == nil || st.Primary.ID != app.ID || len(st.Devices) != 2 {
				t.Fatalf("status %+v", st)
			}
			phone := st.Devices[1]
			if phone.Kind != tc.kind || !phone.Confirmed || phone.Primary || phone.Destination != testNumber {
				t.Fatalf("phone %+v", phone)
			}
			// The session stays verified by the device that signed in.
			if s := c.session(); s.DeviceID != app.ID {
				t.Fatal("the session changed device")
			}
			r = c.get("/account/two_factor/")
			wantText(t, r, "Backup Phone Numbers", tc.action, "Unregister", "Add Phone Number")
			if !strings.Contains(r.body, `action="/account/two_factor/phone/unregister/`+phone.ID+`/"`) {
				t.Fatal("no unregister form")
			}
			// After the registration the page starts afresh.
			wantText(t, c.get(registerURL), "Phone Number:")
		})
	}
}

func TestPhoneRegisterRules(t *testing.T) {
	// No phone method: to the profile (the seed's redirect).
	e := newEnv(t)
	u := e.user("alice")
	e.totp(u, fixtureKey, "App")
	c := e.client()
	c.signIn("alice", fixtureKey)
	wantRedirect(t, c.get(registerURL), "/account/two_factor/")
	wantRedirect(t, c.post(registerURL, url.Values{"step": {"phone"}, "phone_number": {testNumber}, "method": {"sms"}}), "/account/two_factor/")
	wantNoText(t, c.get("/account/two_factor/"), "Add Phone Number", "Backup Phone Numbers")

	e, gw := gwEnv(t)
	// Anonymous: to the sign-in page.
	wantRedirect(t, e.client().get(registerURL), "/account/login/?next=%2Faccount%2Ftwo_factor%2Fphone%2Fregister%2F")
	// Without two-factor: to the setup wizard.
	e.user("bob")
	b := e.client()
	b.signIn("bob", nil)
	wantRedirect(t, b.get(registerURL), "/account/two_factor/setup/")
	// Bad posts.
	u = e.user("alice")
	e.totp(u, fixtureKey, "App")
	c = e.client()
	c.signIn("alice", fixtureKey)
	for _, f := range []url.Values{{}, {"step": {"nonsense"}}} {
		wantStatus(t, c.post(registerURL, f), 400)
	}
	// A code step without a phone in progress starts again.
	wantRedirect(t, c.post(registerURL, url.Values{"step": {"token"}, "token": {"123456"}}), registerURL)
	wantRedirect(t, c.post(registerURL, url.Values{"step": {"resend"}}), registerURL)
	// Cancel removes the pending phone.
	wantRedirect(t, c.post(registerURL, url.Values{"step": {"phone"}, "phone_number": {testNumber}, "method": {"sms"}}), registerURL)
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 2 {
		t.Fatalf("devices %+v", st.Devices)
	}
	wantRedirect(t, c.post(registerURL, url.Values{"step": {"cancel"}}), "/account/two_factor/")
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 1 {
		t.Fatalf("the pending phone was kept: %+v", st.Devices)
	}
	// Resend honours the cooldown.
	c.post(registerURL, url.Values{"step": {"phone"}, "phone_number": {testNumber}, "method": {"sms"}})
	wantText(t, c.post(registerURL, url.Values{"step": {"resend"}}), "A code was sent a moment ago. You can ask for another one in 60 seconds.")
	e.clock.Add(time.Minute)
	wantText(t, c.post(registerURL, url.Values{"step": {"resend"}}), "We sent you a new code.")
	if n := len(sentTo(gw, testNumber)); n != 3 {
		t.Fatalf("%d codes sent, want 3 (two registrations, one resend)", n)
	}
	// A number typed again replaces the pending phone.
	c.post(registerURL, url.Values{"step": {"phone"}, "phone_number": {"+41524204242"}, "method": {"call"}})
	st, _ := e.svc.Status(bg, u.ID)
	if len(st.Devices) != 2 || st.Devices[1].Destination != "+41524204242" || st.Devices[1].Kind != twofactor.KindCall {
		t.Fatalf("devices %+v", st.Devices)
	}
}

// TestPhoneRegisterGatewayFailure: a provider that fails or refuses the
// number gives a message on the form, which is kept, and no device.
func TestPhoneRegisterGatewayFailure(t *testing.T) {
	e, gw := gwEnv(t)
	u := e.user("alice")
	e.totp(u, fixtureKey, "App")
	c := e.client()
	c.signIn("alice", fixtureKey)
	gw.SetError(twofactor.ErrGatewayUnavailable)
	r := c.post(registerURL, url.Values{"step": {"phone"}, "phone_number": {testNumber}, "method": {"call"}})
	wantStatus(t, r, 200)
	wantText(t, r, "We could not send the code. Please try again later or use another method.")
	if r.input("phone_number")["value"] != testNumber {
		t.Fatal("the number was not kept")
	}
	if in := r.input("method"); in == nil {
		t.Fatal("no method choice")
	}
	if !strings.Contains(r.body, `value="call" checked`) {
		t.Fatal("the method chosen is not kept")
	}
	gw.SetError(twofactor.ErrInvalidDestination)
	r = c.post(registerURL, url.Values{"step": {"phone"}, "phone_number": {testNumber}, "method": {"sms"}})
	if fieldErrors(r, "phone") != "Please enter a valid phone number, including your country code starting with + or 00." {
		t.Fatalf("refused number:\n%s", r.text())
	}
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 1 {
		t.Fatalf("a half-made device was kept: %+v", st.Devices)
	}
}

// TestPhoneUnregister ports the seed's phone deletion: the user's phone is
// removed; another user's device, a device that is not a phone, an unknown
// id are 404 — and, fixed, a stale session must give a fresh code first.
func TestPhoneUnregister(t *testing.T) {
	e, gw := gwEnv(t)
	u := e.user("alice")
	app := e.totp(u, fixtureKey, "App")
	phone := phoneDevice(t, e, gw, u, twofactor.KindSMS, testNumber)
	other := phoneDevice(t, e, gw, u, twofactor.KindCall, "+41524204242")
	bob := e.user("bob")
	bobs := phoneDevice(t, e, gw, bob, twofactor.KindSMS, "+31201234567")
	c := e.client()
	c.signIn("alice", fixtureKey)
	unregister := func(id string, extra ...string) *resp {
		f := url.Values{}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return c.post("/account/two_factor/phone/unregister/"+id+"/", f)
	}
	for _, id := range []string{bobs.ID, app.ID, "42", "nope!"} {
		wantStatus(t, unregister(id), 404)
	}
	wantStatus(t, c.get("/account/two_factor/phone/unregister/"+phone.ID+"/"), 405)
	wantRedirect(t, unregister(phone.ID), "/account/two_factor/")
	if _, err := e.svc.Device(bg, u.ID, phone.ID); twofactor.CodeOf(err) != twofactor.CodeNotFound {
		t.Fatalf("the phone is still there: %v", err)
	}
	if _, err := e.svc.Device(bg, bob.ID, bobs.ID); err != nil {
		t.Fatal("bob's phone was touched")
	}
	// Ten minutes later the session is stale: a fresh code is asked for.
	e.clock.Add(11 * time.Minute)
	r := unregister(other.ID)
	wantStatus(t, r, 200)
	wantText(t, r, "Call number +41 ** *** ** 42", "Authentication code")
	if in := r.input("token"); in == nil {
		t.Fatal("no code field")
	}
	wantText(t, unregister(other.ID, "token", "000000"), "Invalid token.")
	e.clock.Add(3 * time.Second)
	wantRedirect(t, unregister(other.ID, "token", e.code(fixtureKey)), "/account/two_factor/")
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 1 {
		t.Fatalf("devices left %+v", st.Devices)
	}
	// Anonymous: to the sign-in page.
	wantRedirect(t, e.client().post("/account/two_factor/phone/unregister/"+bobs.ID+"/", url.Values{}),
		"/account/login/?next=%2Faccount%2Ftwo_factor%2Fphone%2Funregister%2F"+bobs.ID+"%2F")
}

// TestPhoneUnregisterPrimary: the primary phone may be unregistered too
// (with a fresh code): the next device becomes the primary.
func TestPhoneUnregisterPrimary(t *testing.T) {
	e, gw := gwEnv(t)
	u := e.user("alice")
	phone := phoneDevice(t, e, gw, u, twofactor.KindSMS, testNumber)
	app := e.totp(u, fixtureKey, "App")
	c := e.client()
	c.login("alice", "correct horse")
	wantRedirect(t, c.token(lastCode(t, gw, testNumber)), "/account/two_factor/")
	r := c.get("/account/two_factor/")
	wantText(t, r, "Primary method: Send text message to "+testMasked)
	wantRedirect(t, c.post("/account/two_factor/phone/unregister/"+phone.ID+"/", url.Values{}), "/account/two_factor/")
	st, _ := e.svc.Status(bg, u.ID)
	if st.Primary == nil || st.Primary.ID != app.ID {
		t.Fatalf("status %+v", st)
	}
}

// TestSetupCompleteSuggestsPhone: with a phone method the complete page
// offers "Add Phone Number", which leads to the backup phone page.
func TestSetupCompleteSuggestsPhone(t *testing.T) {
	e, _ := gwEnv(t)
	u := e.user("alice")
	e.totp(u, fixtureKey, "App")
	c := e.client()
	c.signIn("alice", fixtureKey)
	r := c.get("/account/two_factor/setup/complete/")
	wantText(t, r, "Add Phone Number")
	if !strings.Contains(r.body, `href="/account/two_factor/phone/register/"`) {
		t.Fatal("no link to the phone page")
	}
}

// TestSentBadInput: malformed numbers, addresses, codes and steps on the
// new forms are form messages or 400s — never a server error, never a
// device.
func TestSentBadInput(t *testing.T) {
	e, gw := gwEnv(t)
	u := e.user("alice")
	e.totp(u, fixtureKey, "App")
	c := e.client()
	c.signIn("alice", fixtureKey)
	junk := []string{"", "\xff\xfe", "a\x00b", strings.Repeat("9", 70000), "+31 10\r\n123 4567", "<script>", "0031", "+"}
	for _, v := range junk {
		for _, f := range []url.Values{
			{"step": {"phone"}, "phone_number": {v}, "method": {"sms"}},
			{"step": {"phone"}, "phone_number": {testNumber}, "method": {v}},
			{"step": {"token"}, "token": {v}},
			{"step": {v}},
		} {
			if r := c.post(registerURL, f); r.status != 200 && r.status != 303 && r.status != 400 && r.status != 413 {
				t.Errorf("register %q: status %d", f, r.status)
			}
		}
		for _, f := range []url.Values{
			{"step": {"sms"}, "phone_number": {v}},
			{"step": {"email"}, "email": {v}},
			{"step": {"method"}, "method": {v}},
		} {
			if r := c.post("/account/two_factor/setup/", f); r.status >= 500 {
				t.Errorf("setup %q: status %d", f, r.status)
			}
		}
		if r := c.post("/account/login/", url.Values{"step": {"token"}, "device": {v}, "resend": {v}}); r.status >= 500 {
			t.Errorf("login %q: status %d", v, r.status)
		}
	}
	if len(gw.Sent()) != 0 {
		t.Fatalf("sent %+v", gw.Sent())
	}
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 1 {
		t.Fatalf("devices %+v", st.Devices)
	}
}
