package twofactor_test

import (
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

// TestWebAuthnRegistrationInSession: the key that turns two-factor on
// verifies the session it was registered in (stored, not only in memory);
// a further key does not refresh the session's verification; a refused
// registration leaves the session as it was.
func TestWebAuthnRegistrationInSession(t *testing.T) {
	e := webauthnEnv(t, testRP)
	u := e.user(t, "alice")
	token, sess, err := e.svc.SignIn(ctx, twofactor.SessionToken, nil, u, nil)
	ok(t, err)

	k := newSoftKey(t)
	options, cer, err := e.svc.BeginWebAuthnRegistration(ctx, sess.Actor(), testOrigin)
	ok(t, err)
	resp, err := k.create(t, options, ceremonyOpts{origin: testOrigin})
	ok(t, err)
	c, err := e.svc.FinishWebAuthnRegistrationInSession(ctx, sess, cer, resp, "Blue key")
	ok(t, err)
	if len(c.BackupCodes) != 10 || !c.Device.Primary || c.Device.Name != "Blue key" {
		t.Fatalf("first key %+v", c)
	}
	stored, err := e.svc.Session(ctx, token)
	ok(t, err)
	if stored.DeviceID != c.Device.ID || !stored.VerifiedAt.Equal(e.clock.Now()) || sess.DeviceID != c.Device.ID {
		t.Fatalf("the first key did not verify the session: %+v", stored)
	}
	first, verifiedAt := c.Device.ID, stored.VerifiedAt

	// The ceremony is used up, and a refusal changes nothing.
	e.clock.Add(time.Minute)
	_, err = e.svc.FinishWebAuthnRegistrationInSession(ctx, sess, cer, resp, "")
	wantCode(t, err, twofactor.CodeExpired, twofactor.ReasonCeremony)

	// A second key: added, but the session is not verified again by it,
	// so once the first verification is old, step-up is needed again.
	k2 := newSoftKey(t)
	options, cer, err = e.svc.BeginWebAuthnRegistration(ctx, sess.Actor(), testOrigin)
	ok(t, err)
	resp, err = k2.create(t, options, ceremonyOpts{origin: testOrigin})
	ok(t, err)
	e.clock.Add(4 * time.Minute)
	c, err = e.svc.FinishWebAuthnRegistrationInSession(ctx, sess, cer, resp, "")
	ok(t, err)
	if c.BackupCodes != nil || c.Device.Primary {
		t.Fatalf("second key %+v", c)
	}
	stored, err = e.svc.Session(ctx, token)
	ok(t, err)
	if stored.DeviceID != first || !stored.VerifiedAt.Equal(verifiedAt) || !sess.VerifiedAt.Equal(verifiedAt) {
		t.Fatalf("a further key refreshed the session: %+v", stored)
	}
	e.clock.Add(6 * time.Minute)
	if need, err := e.svc.NeedsStepUp(ctx, sess); err != nil || !need {
		t.Fatalf("step-up not needed after adding a key: %v %v", need, err)
	}

	// No session.
	_, err = e.svc.FinishWebAuthnRegistrationInSession(ctx, nil, cer, resp, "")
	wantCode(t, err, twofactor.CodeNotFound, "")
	_, err = e.svc.FinishWebAuthnRegistrationInSession(ctx, &twofactor.Session{}, cer, resp, "")
	wantCode(t, err, twofactor.CodeNotFound, "")
}
