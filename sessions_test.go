package twofactor_test

import (
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

func TestSessions(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	d := e.totp(t, u, fixtureKey)
	anon, sess, err := e.svc.NewSession(ctx, twofactor.SessionWeb, "")
	ok(t, err)
	ok(t, e.svc.SetSessionData(ctx, sess, []byte(`{"challenge":"secret-token"}`)))
	got, err := e.svc.Session(ctx, anon)
	ok(t, err)
	data, err := e.svc.SessionData(got)
	ok(t, err)
	if string(data) != `{"challenge":"secret-token"}` || string(got.Data) == string(data) {
		t.Fatalf("session data %q (stored sealed: %v)", data, string(got.Data) != string(data))
	}
	// Sign-in rotates the token: the old one is dead.
	tok, signed, err := e.svc.SignIn(ctx, twofactor.SessionWeb, got, u, d)
	ok(t, err)
	if tok == anon || !signed.Verified() || !signed.VerifiedAt.Equal(e.clock.Now()) {
		t.Fatalf("signed-in session %+v", signed)
	}
	_, err = e.svc.Session(ctx, anon)
	wantCode(t, err, twofactor.CodeNotFound, "")
	// Sealed data cannot be moved to another session.
	other, otherSess, err := e.svc.NewSession(ctx, twofactor.SessionWeb, "")
	ok(t, err)
	otherSess.Data = got.Data
	ok(t, e.store.UpdateSession(ctx, otherSess))
	moved, err := e.svc.Session(ctx, other)
	ok(t, err)
	if _, err := e.svc.SessionData(moved); twofactor.CodeOf(err) != twofactor.CodeUnavailable {
		t.Fatalf("data moved to another session opened: %v", err)
	}
	// Step-up freshness follows the clock.
	if need, _ := e.svc.NeedsStepUp(ctx, signed); need {
		t.Fatal("a just-verified session needs step-up")
	}
	e.clock.Add(11 * time.Minute)
	cur, err := e.svc.Session(ctx, tok)
	ok(t, err)
	if need, _ := e.svc.NeedsStepUp(ctx, cur); !need {
		t.Fatal("an 11-minute-old verification does not need step-up")
	}
	_, err = e.svc.StepUp(ctx, cur, "000000")
	wantCode(t, err, twofactor.CodeInvalidCode, "")
	e.clock.Add(2 * time.Second)
	_, err = e.svc.StepUp(ctx, cur, e.now(fixtureKey))
	ok(t, err)
	if need, _ := e.svc.NeedsStepUp(ctx, cur); need {
		t.Fatal("step-up did not refresh the session")
	}
	// Removing the verifying device un-verifies the session (next read).
	e2 := e.totp(t, u, mustHex("3132333435363738393031323334353637383930"))
	ok(t, e.svc.RemoveDevice(ctx, cur.Actor(), d.ID))
	after, err := e.svc.Session(ctx, tok)
	ok(t, err)
	if after.Verified() {
		t.Fatal("the session is still verified by a removed device")
	}
	_ = e2
	// Expiry.
	e.clock.Add(15 * 24 * time.Hour)
	_, err = e.svc.Session(ctx, tok)
	wantCode(t, err, twofactor.CodeNotFound, "")
	for _, bad := range []string{"", "x", string(make([]byte, 1000))} {
		_, err := e.svc.Session(ctx, bad)
		wantCode(t, err, twofactor.CodeNotFound, "")
	}
}

func TestRememberedBrowsers(t *testing.T) {
	e := newEnv(t, func(o *twofactor.Options) { o.RememberAge = 24 * time.Hour })
	u := e.user(t, "alice")
	d := e.totp(t, u, fixtureKey)
	c, err := e.svc.RememberBrowser(ctx, u.ID, d)
	ok(t, err)
	got, err := e.svc.RecognizeBrowser(ctx, u, c.ID, c.Secret)
	ok(t, err)
	if got.ID != d.ID {
		t.Fatal("recognized with the wrong device")
	}
	bob := e.user(t, "bob")
	for name, try := range map[string]func() error{
		"wrong secret": func() error { _, err := e.svc.RecognizeBrowser(ctx, u, c.ID, c.Secret+"x"); return err },
		"other user":   func() error { _, err := e.svc.RecognizeBrowser(ctx, bob, c.ID, c.Secret); return err },
		"unknown id":   func() error { _, err := e.svc.RecognizeBrowser(ctx, u, "nope", c.Secret); return err },
		"empty secret": func() error { _, err := e.svc.RecognizeBrowser(ctx, u, c.ID, ""); return err },
		"huge secret":  func() error { _, err := e.svc.RecognizeBrowser(ctx, u, c.ID, string(make([]byte, 4096))); return err },
	} {
		if twofactor.CodeOf(try()) != twofactor.CodeNotFound {
			t.Errorf("%s: recognized", name)
		}
	}
	// Still valid after the bad tries (they are not counted).
	_, err = e.svc.RecognizeBrowser(ctx, u, c.ID, c.Secret)
	ok(t, err)
	// A password change ends it.
	e.clock.Add(time.Second)
	ok(t, e.svc.SetPassword(ctx, u.ID, "a new password"))
	u2, _ := e.svc.Users().UserByID(ctx, u.ID)
	_, err = e.svc.RecognizeBrowser(ctx, u2, c.ID, c.Secret)
	wantCode(t, err, twofactor.CodeNotFound, "")
	// Expiry, and listing and revoking.
	c2, err := e.svc.RememberBrowser(ctx, u.ID, d)
	ok(t, err)
	c3, err := e.svc.RememberBrowser(ctx, u.ID, d)
	ok(t, err)
	bs, err := e.svc.Browsers(ctx, u.ID)
	ok(t, err)
	if len(bs) != 2 {
		t.Fatalf("%d remembered browsers, want 2", len(bs))
	}
	ok(t, e.svc.RevokeBrowser(ctx, twofactor.UserActor(u.ID, time.Time{}), c2.ID))
	err = e.svc.RevokeBrowser(ctx, twofactor.UserActor(bob.ID, time.Time{}), c3.ID)
	wantCode(t, err, twofactor.CodeNotFound, "")
	e.clock.Add(25 * time.Hour)
	_, err = e.svc.RecognizeBrowser(ctx, u2, c3.ID, c3.Secret)
	wantCode(t, err, twofactor.CodeNotFound, "")
	// Turned off.
	off := newEnv(t)
	_, err = off.svc.RememberBrowser(ctx, u.ID, d)
	wantCode(t, err, twofactor.CodeValidationFailed, "")
}

func TestPolicy(t *testing.T) {
	cases := []struct {
		policy      twofactor.Policy
		staff       bool
		grace       time.Duration
		required    bool
		mustNow     bool
		mustInGrace bool
	}{
		{twofactor.PolicyOptional, true, 0, false, false, false},
		{twofactor.PolicyRequired, false, 0, true, true, true},
		{twofactor.PolicyRequiredForStaff, false, 0, false, false, false},
		{twofactor.PolicyRequiredForStaff, true, 0, true, true, true},
		{twofactor.PolicyRequired, false, time.Hour, true, false, true},
	}
	for _, c := range cases {
		e := newEnv(t, func(o *twofactor.Options) { o.Policy = c.policy; o.PolicyGrace = c.grace })
		u, err := e.svc.Builtin().Create(ctx, twofactor.NewUser{Username: "u", Password: "long enough", Staff: c.staff})
		ok(t, err)
		st, err := e.svc.PolicyFor(ctx, u)
		ok(t, err)
		if st.Required != c.required || st.MustSetUp != c.mustNow {
			t.Errorf("%+v: %+v", c, st)
		}
		e.clock.Add(2 * time.Hour)
		st, _ = e.svc.PolicyFor(ctx, u)
		if st.MustSetUp != c.mustInGrace {
			t.Errorf("%+v after the grace period: %+v", c, st)
		}
		e.totp(t, u, fixtureKey)
		if st, _ := e.svc.PolicyFor(ctx, u); st.MustSetUp || !st.Enabled {
			t.Errorf("%+v with two-factor on: %+v", c, st)
		}
	}
}

func TestCleanup(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	e.totp(t, u, fixtureKey)
	_, err := e.svc.AddTOTP(ctx, twofactor.UserActor(u.ID, e.clock.Now()), twofactor.TOTPSpec{}, "alice") // abandoned setup
	ok(t, err)
	_, _, err = e.svc.NewSession(ctx, twofactor.SessionWeb, "")
	ok(t, err)
	_, err = e.svc.Login(ctx, "alice", "correct horse")
	ok(t, err)
	r, err := e.svc.Cleanup(ctx)
	ok(t, err)
	if r != (twofactor.CleanupResult{}) {
		t.Fatalf("nothing has expired yet, but Cleanup removed %+v", r)
	}
	e.clock.Add(15 * 24 * time.Hour)
	r, err = e.svc.Cleanup(ctx)
	ok(t, err)
	if r.Sessions != 1 || r.Challenges != 1 || r.Setups != 1 {
		t.Fatalf("Cleanup removed %+v", r)
	}
	if st, _ := e.svc.Status(ctx, u.ID); len(st.Devices) != 1 || !st.Enabled {
		t.Fatal("Cleanup touched a confirmed device")
	}
}

func TestStepUpWithAnotherDevice(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	a := e.totp(t, u, fixtureKey)
	keyB := mustHex("3132333435363738393031323334353637383930")
	b := e.totp(t, u, keyB)
	_, sess, err := e.svc.SignIn(ctx, twofactor.SessionWeb, nil, u, a)
	ok(t, err)
	e.clock.Add(time.Hour)
	_, err = e.svc.StepUpWith(ctx, sess, b.ID, e.now(keyB))
	ok(t, err)
	if sess.DeviceID != b.ID {
		t.Fatal("step-up did not record the device that verified")
	}
	// Removing the device that signed the session in keeps the session
	// verified by the one that stepped up.
	ok(t, e.svc.RemoveDevice(ctx, sess.Actor(), a.ID))
	_, err = e.svc.NeedsStepUp(ctx, nil)
	wantCode(t, err, twofactor.CodeNotFound, "")
}

func TestRememberedBrowserOfAnotherUser(t *testing.T) {
	e := newEnv(t, func(o *twofactor.Options) { o.RememberAge = time.Hour })
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	d := e.totp(t, alice, fixtureKey)
	c, err := e.svc.RememberBrowser(ctx, alice.ID, d)
	ok(t, err)
	_, err = e.svc.RecognizeBrowser(ctx, bob, c.ID, c.Secret)
	wantCode(t, err, twofactor.CodeNotFound, twofactor.ReasonOtherUser)
	_, err = e.svc.RecognizeBrowser(ctx, bob, c.ID, "forged")
	if ev := wantCode(t, err, twofactor.CodeNotFound, ""); ev.Reason == twofactor.ReasonOtherUser {
		t.Fatal("a forged secret was reported as another user's browser")
	}
	_, err = e.svc.RecognizeBrowser(ctx, alice, c.ID, c.Secret)
	ok(t, err)
}

// TestAddedDeviceDoesNotStepUp: confirming a further device in a session
// does not refresh its verification — else a stolen session could add the
// attacker's device and then pass every step-up check.
func TestAddedDeviceDoesNotStepUp(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	a := e.totp(t, u, fixtureKey)
	_, sess, err := e.svc.SignIn(ctx, twofactor.SessionWeb, nil, u, a)
	ok(t, err)
	en, err := e.svc.AddTOTP(ctx, sess.Actor(), twofactor.TOTPSpec{}, "alice") // fresh: allowed
	ok(t, err)
	e.clock.Add(11 * time.Minute)
	verifiedAt := sess.VerifiedAt
	_, err = e.svc.ConfirmInSession(ctx, sess, en.Device.ID, e.now(en.Key))
	ok(t, err)
	if !sess.VerifiedAt.Equal(verifiedAt) || sess.DeviceID != a.ID {
		t.Fatalf("a further device refreshed the session: %+v", sess)
	}
	if need, _ := e.svc.NeedsStepUp(ctx, sess); !need {
		t.Fatal("step-up no longer needed after adding a device")
	}
	// And adding yet another device now needs step-up.
	_, err = e.svc.AddTOTP(ctx, sess.Actor(), twofactor.TOTPSpec{}, "alice")
	wantCode(t, err, twofactor.CodeStepUpRequired, "")
}
