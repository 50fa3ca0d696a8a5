package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/gateway/fake"
	"github.com/twofactor/twofactor/i18n"
)

// TestLoginPhonePrimary: a primary phone gets its code when the password
// step passes — once: the same sign-in posted again inside the cooldown
// (a reload) sends nothing and says a code was sent; the code signs in.
func TestLoginPhonePrimary(t *testing.T) {
	for _, tc := range []struct {
		kind        twofactor.Kind
		instruction string
	}{
		{twofactor.KindSMS, "We sent you a text message, please enter the token we sent."},
		{twofactor.KindCall, "We are calling your phone right now, please enter the digits you hear."},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			e, gw := gwEnv(t)
			u := e.user("alice")
			d := phoneDevice(t, e, gw, u, tc.kind, testNumber)
			before := len(sentTo(gw, testNumber))
			c := e.client()
			r := c.login("alice", "correct horse")
			wantStatus(t, r, 200)
			wantText(t, r, tc.instruction, "Sent to "+testMasked)
			if n := len(sentTo(gw, testNumber)); n != before+1 {
				t.Fatalf("%d codes sent at sign-in, want 1", n-before)
			}
			if in := r.input("token"); in["inputmode"] != "numeric" || in["autocomplete"] != "one-time-code" {
				t.Fatalf("token input %v", in)
			}
			code := lastCode(t, gw, testNumber)
			// The reload: nothing sent, the code still expected.
			e.clock.Add(10 * time.Second)
			r = c.login("alice", "correct horse")
			wantStatus(t, r, 200)
			wantText(t, r, tc.instruction, "A code was sent a moment ago. You can ask for another one in 50 seconds.")
			if n := len(sentTo(gw, testNumber)); n != before+1 {
				t.Fatalf("the reload sent %d more codes", n-before-1)
			}
			// A wrong code is refused, then the right one signs in.
			wantText(t, c.token("000000"), "Invalid token.")
			e.clock.Add(3 * time.Second)
			wantRedirect(t, c.token(code), "/account/two_factor/")
			if s := c.session(); s.DeviceID != d.ID {
				t.Fatal("the session is not verified by the phone")
			}
			// The code is single use.
			c2 := e.client()
			e.clock.Add(3 * time.Second)
			c2.login("alice", "correct horse")
			wantText(t, c2.token(code), "Invalid token.")
		})
	}
}

// TestLoginResend: the resend button honours the cooldown and says how long
// to wait; after it a new code goes out and works.
func TestLoginResend(t *testing.T) {
	e, gw := gwEnv(t)
	u := e.user("alice")
	phoneDevice(t, e, gw, u, twofactor.KindSMS, testNumber)
	c := e.client()
	r := c.login("alice", "correct horse")
	wantText(t, r, "You can ask for a new code 60 seconds after the last one.")
	n := len(sentTo(gw, testNumber))
	e.clock.Add(15 * time.Second)
	r = c.submit(r, "/account/login/", "resend", "1")
	wantStatus(t, r, 200)
	wantText(t, r, "A code was sent a moment ago. You can ask for another one in 45 seconds.")
	if len(sentTo(gw, testNumber)) != n {
		t.Fatal("resent inside the cooldown")
	}
	e.clock.Add(45 * time.Second)
	r = c.submit(r, "/account/login/", "resend", "1")
	wantText(t, r, "We sent you a new code.", "We sent you a text message")
	if len(sentTo(gw, testNumber)) != n+1 {
		t.Fatal("no new code")
	}
	wantRedirect(t, c.token(lastCode(t, gw, testNumber)), "/account/two_factor/")
	// Without a sign-in in progress, resend starts at the password step.
	r = e.client().post("/account/login/", url.Values{"step": {"token"}, "resend": {"1"}})
	wantStatus(t, r, 200)
	wantText(t, r, "Password")
}

// TestLoginDailyLimit: past the user's daily limit nothing is sent and the
// page says why; another device still works.
func TestLoginDailyLimit(t *testing.T) {
	e, gw := gwEnv(t, envOpts{opts: func(o *twofactor.Options) { o.DailySendLimit = 3; o.PhoneCooldown = 0 }})
	u := e.user("alice")
	e.totp(u, fixtureKey, "App")
	phone := phoneDevice(t, e, gw, u, twofactor.KindSMS, testNumber) // 1 sent
	c := e.client()
	c.login("alice", "correct horse")
	choose := url.Values{"step": {"token"}, "device": {phone.ID}}
	wantText(t, c.post("/account/login/", choose), "We sent you a text message") // 2
	wantText(t, c.post("/account/login/", choose), "We sent you a text message") // 3
	r := c.post("/account/login/", choose)
	wantText(t, r, "Too many codes were sent today. Please use another method or try again tomorrow.")
	if n := len(sentTo(gw, testNumber)); n != 3 {
		t.Fatalf("%d codes sent, the limit is 3", n)
	}
	// The next day the limit is lifted.
	e.clock.Add(25 * time.Hour)
	c.login("alice", "correct horse")
	wantText(t, c.post("/account/login/", choose), "We sent you a text message")
	if n := len(sentTo(gw, testNumber)); n != 4 {
		t.Fatalf("%d codes sent", n)
	}
}

// TestLoginBackupPhone ports the seed's backup phone sign-in: the phone is
// offered with its masked number, malicious and foreign device values are
// ignored (nothing sent), choosing it sends one code (a repeat inside the
// cooldown does not), and its code signs in.
func TestLoginBackupPhone(t *testing.T) {
	for _, tc := range []struct {
		kind                twofactor.Kind
		button, instruction string
	}{
		{twofactor.KindSMS, "Send text message to " + testMasked, "We sent you a text message, please enter the token we sent."},
		{twofactor.KindCall, "Call number " + testMasked, "We are calling your phone right now, please enter the digits you hear."},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			e, gw := gwEnv(t)
			u := e.user("alice")
			e.totp(u, fixtureKey, "App")
			phone := phoneDevice(t, e, gw, u, tc.kind, testNumber)
			bob := e.user("bob")
			bobs := phoneDevice(t, e, gw, bob, twofactor.KindSMS, "+41524204242")
			n := len(gw.Sent())
			c := e.client()
			r := c.login("alice", "correct horse")
			wantText(t, r, "Please enter the token generated by your token generator.", tc.button)
			bs := r.buttons("device")
			if len(bs) != 1 || bs[0]["value"] != phone.ID {
				t.Fatalf("device buttons %v", bs)
			}
			if len(gw.Sent()) != n {
				t.Fatal("a code was sent for a TOTP primary")
			}
			for _, id := range []string{"MALICIOUS/INPUT/666", bobs.ID, strings.Repeat("x", 5000)} {
				r = c.post("/account/login/", url.Values{"step": {"token"}, "device": {id}})
				wantStatus(t, r, 200)
				wantText(t, r, "Device: App")
				if len(gw.Sent()) != n {
					t.Fatalf("device %q made a code go out", id[:min(len(id), 20)])
				}
			}
			r = c.post("/account/login/", url.Values{"step": {"token"}, "device": {phone.ID}})
			wantStatus(t, r, 200)
			wantText(t, r, tc.instruction, "Sent to "+testMasked)
			sent := sentTo(gw, testNumber)
			if len(gw.Sent()) != n+1 || sent[len(sent)-1].Via != fake.Via(tc.kind) {
				t.Fatalf("sent %+v", gw.Sent()[n:])
			}
			// Chosen again (a reload): no second code.
			r = c.post("/account/login/", url.Values{"step": {"token"}, "device": {phone.ID}})
			wantText(t, r, tc.instruction, "A code was sent a moment ago.")
			if len(gw.Sent()) != n+1 {
				t.Fatal("a second code inside the cooldown")
			}
			// The TOTP code is not accepted now; the phone's code is.
			wantText(t, c.token(e.code(fixtureKey)), "Invalid token.")
			e.clock.Add(3 * time.Second)
			wantRedirect(t, c.token(lastCode(t, gw, testNumber)), "/account/two_factor/")
			if s := c.session(); s.DeviceID != phone.ID {
				t.Fatalf("verified by %s, want the phone", s.DeviceID)
			}
		})
	}
}

// TestLoginEmailDevice: an email device is offered with its masked
// address; the emailed code signs in (a malformed one is refused).
func TestLoginEmailDevice(t *testing.T) {
	e, gw := gwEnv(t)
	u := e.user("bouke")
	e.totp(u, fixtureKey, "App")
	d := emailDevice(t, e, gw, u)
	c := e.client()
	r := c.login("bouke", "correct horse")
	wantText(t, r, "Send email to b***e@example.com")
	r = c.post("/account/login/", url.Values{"step": {"token"}, "device": {d.ID}})
	wantText(t, r, "We sent you an email, please enter the token we sent.", "Sent to b***e@example.com")
	wantText(t, c.token("a23456"), "Invalid token.")
	e.clock.Add(3 * time.Second)
	wantRedirect(t, c.token(lastCode(t, gw, "bouke@example.com")), "/account/two_factor/")
	// The profile and the device page show the address masked.
	wantText(t, c.get("/account/two_factor/"), "Other authentication methods", "Email · b***e@example.com")
	r = c.get("/account/two_factor/devices/" + d.ID + "/")
	wantText(t, r, "Destination b***e@example.com")
	wantNoText(t, r, "bouke@example.com")
}

// TestLoginGatewayDown: a device whose code cannot be sent says so on the
// code step (never an error page); another device still works.
func TestLoginGatewayDown(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("down: %w", twofactor.ErrGatewayUnavailable), "We could not send the code. Please try again later or use another method."},
		{fmt.Errorf("refused: %w", twofactor.ErrInvalidDestination), "Please enter a valid phone number, including your country code starting with + or 00."},
	} {
		e, gw := gwEnv(t)
		u := e.user("alice")
		phone := phoneDevice(t, e, gw, u, twofactor.KindSMS, testNumber)
		e.totp(u, fixtureKey, "App")
		gw.SetError(tc.err)
		c := e.client()
		// The phone is the primary: the password step shows the failure.
		r := c.login("alice", "correct horse")
		wantStatus(t, r, 200)
		wantText(t, r, tc.want, "We sent you a text message")
		// Chosen again: the same.
		e.clock.Add(2 * time.Minute)
		r = c.post("/account/login/", url.Values{"step": {"token"}, "device": {phone.ID}})
		wantStatus(t, r, 200)
		wantText(t, r, tc.want)
		// The app works meanwhile.
		bs := r.buttons("device")
		if len(bs) != 1 {
			t.Fatalf("buttons %v", bs)
		}
		c.post("/account/login/", url.Values{"step": {"token"}, "device": {bs[0]["value"]}})
		wantRedirect(t, c.token(e.code(fixtureKey)), "/account/two_factor/")
	}
}

// TestLoginRememberedPhone: a remembered browser skips the code step of a
// phone: nothing is sent.
func TestLoginRememberedPhone(t *testing.T) {
	e, gw := gwEnv(t, envOpts{opts: func(o *twofactor.Options) { o.RememberAge = time.Hour }})
	u := e.user("alice")
	phoneDevice(t, e, gw, u, twofactor.KindSMS, testNumber)
	c := e.client()
	c.login("alice", "correct horse")
	wantRedirect(t, c.token(lastCode(t, gw, testNumber), "remember", "on"), "/account/two_factor/")
	c.post("/account/logout/", url.Values{})
	n := len(gw.Sent())
	e.clock.Add(2 * time.Minute)
	wantRedirect(t, c.login("alice", "correct horse"), "/account/two_factor/")
	if len(gw.Sent()) != n {
		t.Fatal("a code was sent to a remembered browser")
	}
}

// TestLoginCodeLanguage: the code goes out in the page's language.
func TestLoginCodeLanguage(t *testing.T) {
	e, gw := gwEnv(t, envOpts{web: func(c *Config) { c.Catalog = testCatalog(t) }})
	u := e.user("alice")
	phoneDevice(t, e, gw, u, twofactor.KindSMS, testNumber)
	c := e.client()
	c.headers["Accept-Language"] = "de-DE,de;q=0.9"
	c.login("alice", "correct horse")
	if m, _ := gw.Last(testNumber); m.Language != "de" {
		t.Fatalf("the code went out in %q, want de", m.Language)
	}
	c2 := e.client()
	e.clock.Add(2 * time.Minute)
	c2.login("alice", "correct horse")
	if m, _ := gw.Last(testNumber); m.Language != "en" {
		t.Fatalf("the code went out in %q, want en", m.Language)
	}
}

// testCatalog is a catalog in English and German.
func testCatalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.Load(fstest.MapFS{
		"en.json": {Data: []byte(`{"Log in": "Log in"}`)},
		"de.json": {Data: []byte(`{"Log in": "Anmelden"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestLoginEmailEightDigits: with 8-digit codes configured, emailed codes
// have 8 digits and sign in (the seed's email login could not: its form
// wanted 8 digits and its emails had 6).
func TestLoginEmailEightDigits(t *testing.T) {
	e, gw := gwEnv(t, envOpts{opts: func(o *twofactor.Options) { o.TOTPDigits = 8 }})
	u := e.user("bouke")
	emailDevice(t, e, gw, u)
	c := e.client()
	wantText(t, c.login("bouke", "correct horse"), "We sent you an email")
	code := lastCode(t, gw, "bouke@example.com")
	if len(code) != 8 {
		t.Fatalf("code %q", code)
	}
	wantRedirect(t, c.token(code[:4]+" "+code[4:]), "/account/two_factor/")
}
