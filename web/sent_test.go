package web

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/gateway/fake"
)

// The seed's test number, E.164 and masked.
const (
	testNumber = "+31101234567"
	testMasked = "+31 ** *** **67"
)

// gwEnv is an env whose service sends codes through a fake gateway (SMS,
// calls and email).
func gwEnv(t *testing.T, o ...envOpts) (*env, *fake.Gateway) {
	t.Helper()
	gw := fake.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	o = append([]envOpts{{core: func(c *twofactor.Config) { c.SMS, c.Caller, c.Mailer = gw, gw, gw }}}, o...)
	return newEnv(t, o...), gw
}

// fieldErrors returns the text of the errors shown under a field (the
// element id="<name>-errors").
func fieldErrors(r *resp, name string) string {
	m := regexp.MustCompile(`(?s)<div id="` + regexp.QuoteMeta(name) + `-errors">(.*?)</div>`).FindStringSubmatch(r.body)
	if m == nil {
		return ""
	}
	return (&resp{body: m[1]}).text()
}

// sentTo returns the messages the gateway sent to one destination.
func sentTo(gw *fake.Gateway, to string) []fake.Sent {
	var out []fake.Sent
	for _, s := range gw.Sent() {
		if s.To == to {
			out = append(out, s)
		}
	}
	return out
}

// lastCode returns the code last sent to a destination.
func lastCode(t *testing.T, gw *fake.Gateway, to string) string {
	t.Helper()
	m, ok := gw.Last(to)
	if !ok {
		t.Fatalf("nothing was sent to %s", to)
	}
	return m.Code
}

// chooseMethod signs c's user in (without two-factor), passes the welcome
// step and picks method; it returns the method's step.
func chooseMethod(t *testing.T, c *client, user, method string) *resp {
	t.Helper()
	c.signIn(user, nil)
	r := c.submit(c.get("/account/two_factor/setup/"), "/account/two_factor/setup/")
	wantStatus(t, r, 200)
	wantText(t, r, "Please select which authentication method you would like to use.")
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {method}})
	wantRedirect(t, r, "/account/two_factor/setup/")
	return c.get("/account/two_factor/setup/")
}

// phoneDevice gives u a confirmed phone device of kind (sms or call), as
// if set up earlier, and moves the clock past the cooldown of its code.
func phoneDevice(t *testing.T, e *env, gw *fake.Gateway, u *twofactor.User, kind twofactor.Kind, number string) *twofactor.Device {
	t.Helper()
	a := twofactor.OperatorActor(u.ID)
	d, err := e.svc.AddPhone(bg, a, kind, number, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmDevice(bg, a, d.ID, lastCode(t, gw, d.Destination)); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Minute)
	d, err = e.svc.Device(bg, u.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// emailDevice gives u a confirmed email device at its address.
func emailDevice(t *testing.T, e *env, gw *fake.Gateway, u *twofactor.User) *twofactor.Device {
	t.Helper()
	a := twofactor.OperatorActor(u.ID)
	d, err := e.svc.AddEmail(bg, a, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmDevice(bg, a, d.ID, lastCode(t, gw, d.Destination)); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Minute)
	return d
}

func TestSetupMethodsListed(t *testing.T) {
	e, _ := gwEnv(t)
	e.user("alice")
	c := e.client()
	c.signIn("alice", nil)
	r := c.submit(c.get("/account/two_factor/setup/"), "/account/two_factor/setup/")
	wantText(t, r, "Token generator", "Text message", "Phone call", "Email")
	wantNoText(t, r, "YubiKey")
	var values []string
	for _, in := range inputRE.FindAllStringSubmatch(r.body, -1) {
		if a := attrs(in[1]); a["name"] == "method" {
			values = append(values, a["value"])
		}
	}
	if got := strings.Join(values, ","); got != "totp,sms,call,email" {
		t.Fatalf("method choices %s", got)
	}
	// Without gateways the built-in methods are hidden (TOTP alone: the
	// method step is skipped) and cannot be chosen.
	e2 := newEnv(t)
	e2.user("bob")
	b := e2.client()
	b.signIn("bob", nil)
	wantRedirect(t, b.submit(b.get("/account/two_factor/setup/"), "/account/two_factor/setup/"), "/account/two_factor/setup/")
	r = b.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"sms"}})
	wantText(t, r, "Select a valid choice. sms is not one of the available choices.")
	wantStatus(t, b.post("/account/two_factor/setup/", url.Values{"step": {"sms"}, "phone_number": {testNumber}}), 400)
}

// TestSetupPhone ports the seed's phone call and SMS setup: the number,
// one code sent to it, a wrong code refused, the right one confirms a
// device with the E.164 number, and the session is verified by it.
func TestSetupPhone(t *testing.T) {
	for _, tc := range []struct {
		method      string
		kind        twofactor.Kind
		via         fake.Via
		ask, sent   string
		deviceLabel string
	}{
		{"sms", twofactor.KindSMS, fake.SMS, "receive the text messages on", "We sent you a text message, please enter the token we sent.", "Text message"},
		{"call", twofactor.KindCall, fake.Call, "wish to be called on", "We are calling your phone right now, please enter the digits you hear.", "Phone call"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			e, gw := gwEnv(t)
			u := e.user("alice")
			c := e.client()
			r := chooseMethod(t, c, "alice", tc.method)
			wantStatus(t, r, 200)
			wantText(t, r, tc.ask, "Phone Number:")
			if in := r.input("phone_number"); in["type"] != "tel" || in["autocomplete"] != "tel" {
				t.Fatalf("phone input %v", in)
			}
			if len(gw.Sent()) != 0 {
				t.Fatal("a code was sent before the number was given")
			}
			// Typed with spaces and the 00 prefix: stored as E.164.
			r = c.submit(r, "/account/two_factor/setup/", "phone_number", "0031 10 123 4567")
			wantRedirect(t, r, "/account/two_factor/setup/")
			r = c.get("/account/two_factor/setup/")
			wantText(t, r, tc.sent, "Sent to "+testMasked)
			// A reload of the code step sends nothing more.
			c.get("/account/two_factor/setup/")
			sent := sentTo(gw, testNumber)
			if len(sent) != 1 || sent[0].Via != tc.via || len(sent[0].Code) != 6 {
				t.Fatalf("sent %+v, want one %s with a 6-digit code", sent, tc.via)
			}
			st, _ := e.svc.Status(bg, u.ID)
			if st.Enabled || len(st.Devices) != 1 || st.Devices[0].Confirmed {
				t.Fatalf("before the code: %+v", st)
			}
			wantText(t, c.submit(r, "/account/two_factor/setup/", "token", "666"), "Entered token is not valid.")
			e.clock.Add(3 * time.Second) // past the device's backoff
			r = c.submit(r, "/account/two_factor/setup/", "token", sent[0].Code)
			wantStatus(t, r, 200)
			wantText(t, r, "Congratulations, you've successfully enabled two-factor authentication.", "Add Phone Number")
			if len(codesOf(r)) != 10 {
				t.Fatal("no backup codes shown")
			}
			st, _ = e.svc.Status(bg, u.ID)
			d := st.Primary
			if !st.Enabled || d == nil || d.Kind != tc.kind || d.Destination != testNumber || d.Name != tc.deviceLabel {
				t.Fatalf("after the setup: %+v", st)
			}
			if s := c.session(); s.DeviceID != d.ID {
				t.Fatal("the session is not verified by the new phone")
			}
			if len(sentTo(gw, testNumber)) != 1 {
				t.Fatal("the gateway was called more than once")
			}
			// The profile shows the primary method with the masked number.
			wantText(t, c.get("/account/two_factor/"), "Primary method: ", testMasked)
		})
	}
}

func TestSetupPhoneInvalidNumber(t *testing.T) {
	e, gw := gwEnv(t)
	u := e.user("alice")
	c := e.client()
	r := chooseMethod(t, c, "alice", "sms")
	for _, bad := range []string{"123", "+3110123456", "not a number", strings.Repeat("9", 300), "+31\x00101234567"} {
		res := c.submit(r, "/account/two_factor/setup/", "phone_number", bad)
		wantStatus(t, res, 200)
		if len(res.input("phone_number")) == 0 || fieldErrors(res, "phone") != "Please enter a valid phone number, including your country code starting with + or 00." {
			t.Fatalf("%q: no field error:\n%s", bad, res.text())
		}
	}
	res := c.submit(r, "/account/two_factor/setup/", "phone_number", "+3110123456")
	if v := res.input("phone_number")["value"]; v != "+3110123456" {
		t.Fatalf("the number typed is not kept: %q", v)
	}
	wantText(t, c.submit(r, "/account/two_factor/setup/", "phone_number", ""), "This field is required.")
	if len(gw.Sent()) != 0 {
		t.Fatal("something was sent")
	}
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 0 {
		t.Fatalf("devices left: %+v", st.Devices)
	}
}

// TestSetupPhoneGatewayFailure: a provider that refuses the number or is
// down gives a clear message, keeps the form, and leaves no device.
func TestSetupPhoneGatewayFailure(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("down: %w", twofactor.ErrGatewayUnavailable), "We could not send the code. Please try again later or use another method."},
		{fmt.Errorf("refused: %w", twofactor.ErrInvalidDestination), "Please enter a valid phone number, including your country code starting with + or 00."},
	} {
		e, gw := gwEnv(t)
		u := e.user("alice")
		c := e.client()
		r := chooseMethod(t, c, "alice", "call")
		gw.SetError(tc.err)
		res := c.submit(r, "/account/two_factor/setup/", "phone_number", testNumber)
		wantStatus(t, res, 200)
		wantText(t, res, tc.want)
		if res.input("phone_number")["value"] != testNumber {
			t.Fatal("the form was not kept")
		}
		if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 0 {
			t.Fatalf("a half-made device was kept: %+v", st.Devices)
		}
		// Once the provider is back, the same form works.
		gw.SetError(nil)
		wantRedirect(t, c.submit(res, "/account/two_factor/setup/", "phone_number", testNumber), "/account/two_factor/setup/")
		wantText(t, c.get("/account/two_factor/setup/"), "We are calling your phone right now")
	}
}

// TestSetupResend: a new code on request, refused inside the cooldown
// with the time to wait, sent after it.
func TestSetupResend(t *testing.T) {
	e, gw := gwEnv(t)
	e.user("alice")
	c := e.client()
	r := chooseMethod(t, c, "alice", "sms")
	c.submit(r, "/account/two_factor/setup/", "phone_number", testNumber)
	r = c.get("/account/two_factor/setup/")
	wantText(t, r, "You can ask for a new code 60 seconds after the last one.")
	first := lastCode(t, gw, testNumber)
	e.clock.Add(20 * time.Second)
	res := c.submit(r, "/account/two_factor/setup/", "resend", "1")
	wantStatus(t, res, 200)
	wantText(t, res, "A code was sent a moment ago. You can ask for another one in 40 seconds.")
	if len(sentTo(gw, testNumber)) != 1 {
		t.Fatal("a code was sent inside the cooldown")
	}
	e.clock.Add(41 * time.Second)
	res = c.submit(r, "/account/two_factor/setup/", "resend", "1")
	wantStatus(t, res, 200)
	wantText(t, res, "We sent you a new code.")
	if len(sentTo(gw, testNumber)) != 2 {
		t.Fatal("no new code was sent")
	}
	second := lastCode(t, gw, testNumber)
	if second == first {
		t.Skip("the same random code twice") // one in a million
	}
	r = c.submit(res, "/account/two_factor/setup/", "token", second)
	wantText(t, r, "Congratulations")
}

// TestSetupDailyLimit: past the day's limit no code goes out, and the
// page says why.
func TestSetupDailyLimit(t *testing.T) {
	e, gw := gwEnv(t, envOpts{opts: func(o *twofactor.Options) { o.DailySendLimit = 2 }})
	e.user("alice")
	c := e.client()
	r := chooseMethod(t, c, "alice", "sms")
	c.submit(r, "/account/two_factor/setup/", "phone_number", testNumber)
	r = c.get("/account/two_factor/setup/")
	e.clock.Add(61 * time.Second)
	wantText(t, c.submit(r, "/account/two_factor/setup/", "resend", "1"), "We sent you a new code.")
	e.clock.Add(61 * time.Second)
	wantText(t, c.submit(r, "/account/two_factor/setup/", "resend", "1"), "Too many codes were sent today. Please use another method or try again tomorrow.")
	if n := len(sentTo(gw, testNumber)); n != 2 {
		t.Fatalf("%d codes sent, the limit is 2", n)
	}
}

// TestSetupEmailWithAccountAddress: the account's address is used at once
// (no email step), one mail is sent, and the account is not changed.
func TestSetupEmailWithAccountAddress(t *testing.T) {
	e, gw := gwEnv(t)
	u := e.user("alice")
	c := e.client()
	r := chooseMethod(t, c, "alice", "email")
	wantStatus(t, r, 200)
	wantText(t, r, "We sent you an email, please enter the token we sent.", "Sent to a***e@example.com")
	if r.input("email") != nil {
		t.Fatal("the email step is shown although the account has an address")
	}
	sent := sentTo(gw, "alice@example.com")
	if len(sent) != 1 || sent[0].Via != fake.Email {
		t.Fatalf("sent %+v", sent)
	}
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", "666"), "Entered token is not valid.")
	e.clock.Add(3 * time.Second)
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", "a23456"), "Entered token is not valid.")
	e.clock.Add(5 * time.Second)
	r = c.submit(r, "/account/two_factor/setup/", "token", sent[0].Code)
	wantText(t, r, "Congratulations")
	st, _ := e.svc.Status(bg, u.ID)
	if st.Primary == nil || st.Primary.Kind != twofactor.KindEmail || st.Primary.Destination != "alice@example.com" {
		t.Fatalf("status %+v", st)
	}
}

// TestSetupEmailWithoutAccountAddress: the address is asked for, checked,
// mailed — and never written to the account.
func TestSetupEmailWithoutAccountAddress(t *testing.T) {
	e, gw := gwEnv(t)
	u, err := e.svc.Builtin().Create(bg, twofactor.NewUser{Username: "bob", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	r := chooseMethod(t, c, "bob", "email")
	wantText(t, r, "Email address:")
	if in := r.input("email"); in["type"] != "email" {
		t.Fatalf("email input %v", in)
	}
	wantText(t, c.submit(r, "/account/two_factor/setup/", "email", ""), "This field is required.")
	res := c.submit(r, "/account/two_factor/setup/", "email", "not an address")
	wantText(t, res, "Enter a valid email address.")
	if res.input("email")["value"] != "not an address" {
		t.Fatal("the address typed is not kept")
	}
	if len(gw.Sent()) != 0 {
		t.Fatal("mail sent to an invalid address")
	}
	wantRedirect(t, c.submit(r, "/account/two_factor/setup/", "email", "bob@example.org"), "/account/two_factor/setup/")
	r = c.get("/account/two_factor/setup/")
	wantText(t, r, "We sent you an email", "Sent to b**@example.org")
	code := lastCode(t, gw, "bob@example.org")
	if len(code) != 6 {
		t.Fatalf("code %q", code)
	}
	if got, _ := e.svc.Users().UserByID(bg, u.ID); got.Email != "" {
		t.Fatalf("the account's address was written before it was proven: %q", got.Email)
	}
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", code), "Congratulations")
	if got, _ := e.svc.Users().UserByID(bg, u.ID); got.Email != "" {
		t.Fatalf("the account's address was changed: %q", got.Email)
	}
	st, _ := e.svc.Status(bg, u.ID)
	if st.Primary == nil || st.Primary.Destination != "bob@example.org" {
		t.Fatalf("status %+v", st)
	}
}

// TestSetupEmailGatewayDown: with the account's address the code is sent
// when the method is chosen; a failure shows the choice again with the
// reason, and no device is left.
func TestSetupEmailGatewayDown(t *testing.T) {
	e, gw := gwEnv(t)
	u := e.user("alice")
	c := e.client()
	c.signIn("alice", nil)
	c.submit(c.get("/account/two_factor/setup/"), "/account/two_factor/setup/")
	gw.SetError(fmt.Errorf("smtp: %w", twofactor.ErrGatewayUnavailable))
	r := c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"email"}})
	wantStatus(t, r, 200)
	wantText(t, r, "We could not send the code. Please try again later or use another method.", "Please select which authentication method")
	if in := r.input("method"); in == nil {
		t.Fatal("the method choice is not shown again")
	}
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 0 {
		t.Fatalf("devices left: %+v", st.Devices)
	}
	// The refused address (the account's own, not on the page) is said too.
	gw.SetError(fmt.Errorf("rcpt: %w", twofactor.ErrInvalidDestination))
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"email"}})
	wantText(t, r, "Enter a valid email address.")
	wantStatus(t, c.get("/account/two_factor/setup/"), 200)
}

// TestSetupCancelRemovesPendingPhone: cancelling the code step removes the
// unconfirmed device.
func TestSetupCancelRemovesPendingPhone(t *testing.T) {
	e, _ := gwEnv(t)
	u := e.user("alice")
	c := e.client()
	r := chooseMethod(t, c, "alice", "sms")
	c.submit(r, "/account/two_factor/setup/", "phone_number", testNumber)
	wantRedirect(t, c.post("/account/two_factor/setup/", url.Values{"step": {"cancel"}}), "/account/two_factor/")
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 0 {
		t.Fatalf("devices left: %+v", st.Devices)
	}
	// A new number on the code step replaces the pending device.
	r = chooseMethod(t, c, "alice", "sms")
	c.submit(r, "/account/two_factor/setup/", "phone_number", testNumber)
	wantRedirect(t, c.post("/account/two_factor/setup/", url.Values{"step": {"sms"}, "phone_number": {"+41524204242"}}), "/account/two_factor/setup/")
	st, _ := e.svc.Status(bg, u.ID)
	if len(st.Devices) != 1 || st.Devices[0].Destination != "+41524204242" {
		t.Fatalf("devices %+v", st.Devices)
	}
	wantText(t, c.get("/account/two_factor/setup/"), "Sent to +41 ** *** ** 42")
}

// TestErrorMappingSend: the refusals of sending map to messages on the
// form — never error pages when there is a form.
func TestErrorMappingSend(t *testing.T) {
	at := time.Unix(1_700_000_100, 0)
	tests := []struct {
		err  error
		want failure
	}{
		{&twofactor.Error{Code: twofactor.CodeThrottled, Reason: "cooldown", RetryAt: at},
			failure{id: "A code was sent a moment ago. You can ask for another one in %d seconds.", retryAt: at}},
		{&twofactor.Error{Code: twofactor.CodeThrottled, Reason: "daily_limit", Message: "x"}, failure{id: "x"}},
		{&twofactor.Error{Code: twofactor.CodeGatewayFailed, Message: "y"}, failure{status: 503, id: "y"}},
		{&twofactor.Error{Code: twofactor.CodeValidationFailed, Field: "phone_number", Message: "z"}, failure{field: "phone_number", id: "z"}},
		{&twofactor.Error{Code: twofactor.CodeValidationFailed, Field: "email", Message: "z"}, failure{field: "email", id: "z"}},
	}
	for _, tt := range tests {
		got := failureOf(tt.err, inSetup)
		if got.page || got.status != tt.want.status || got.field != tt.want.field || got.id != tt.want.id || !got.retryAt.Equal(tt.want.retryAt) {
			t.Errorf("failureOf(%v) = %+v, want %+v", tt.err, got, tt.want)
		}
	}
}
