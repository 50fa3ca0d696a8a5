package twofactor_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/otp"
	"github.com/twofactor/twofactor/secret"
)

// TestEnrolment: a new TOTP device does nothing until confirmed; the first
// confirmation turns two-factor on and hands out backup codes once.
func TestEnrolment(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	me := twofactor.UserActor(u.ID, time.Time{})
	en, err := e.svc.AddTOTP(ctx, me, twofactor.TOTPSpec{}, u.Username)
	ok(t, err)
	if len(en.Key) != 20 || en.Device.Confirmed || en.Device.Primary {
		t.Fatalf("enrolment: key %d bytes, %+v", len(en.Key), en.Device)
	}
	uri := en.URI.IssuerPrefixed()
	if !strings.HasPrefix(uri, "otpauth://totp/example.com%3A%20alice?secret="+en.Secret()+"&digits=6&issuer=example.com") {
		t.Fatalf("uri %s", uri)
	}
	if on, _ := e.svc.Enabled(ctx, u.ID); on {
		t.Fatal("an unconfirmed device enabled two-factor")
	}
	// An unconfirmed device cannot sign in.
	_, err = e.svc.Verify(ctx, u.ID, e.now(en.Key), en.Device.ID)
	wantCode(t, err, twofactor.CodeNotFound, "")
	_, err = e.svc.ConfirmDevice(ctx, me, en.Device.ID, "000000")
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonWrong)
	_, err = e.svc.ConfirmDevice(ctx, me, en.Device.ID, "")
	wantCode(t, err, twofactor.CodeValidationFailed, "")
	e.clock.Add(time.Second)
	conf, err := e.svc.ConfirmDevice(ctx, me, en.Device.ID, e.now(en.Key))
	ok(t, err)
	if !conf.Device.Confirmed || !conf.Device.Primary || len(conf.BackupCodes) != 10 {
		t.Fatalf("confirmation: %+v", conf)
	}
	if on, _ := e.svc.Enabled(ctx, u.ID); !on {
		t.Fatal("two-factor not on after confirmation")
	}
	// The confirming code was consumed: it cannot sign in again.
	_, err = e.svc.Verify(ctx, u.ID, e.now(en.Key), "")
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonReplayed)
	_, err = e.svc.ConfirmDevice(ctx, me, en.Device.ID, e.now(en.Key))
	wantCode(t, err, twofactor.CodeConflict, "")

	// A second device needs step-up (a stolen session must not add the
	// attacker's device); once added: confirmed, not primary, no new
	// backup codes.
	_, err = e.svc.AddTOTP(ctx, me, twofactor.TOTPSpec{Name: "Tablet", Digits: 8}, u.Username)
	wantCode(t, err, twofactor.CodeStepUpRequired, "")
	me = twofactor.UserActor(u.ID, e.clock.Now())
	en2, err := e.svc.AddTOTP(ctx, me, twofactor.TOTPSpec{Name: "Tablet", Digits: 8}, u.Username)
	ok(t, err)
	code8 := otp.Format(otp.TOTP{Key: en2.Key, Digits: 8}.At(e.clock.Now().Unix(), 0), 8)
	conf2, err := e.svc.ConfirmDevice(ctx, me, en2.Device.ID, code8)
	ok(t, err)
	if conf2.Device.Primary || conf2.BackupCodes != nil || conf2.Device.Name != "Tablet" || conf2.Device.Digits != 8 {
		t.Fatalf("second confirmation: %+v", conf2)
	}
	want := []twofactor.EventKind{twofactor.EventVerificationFailed, twofactor.EventDeviceAdded, twofactor.EventBackupCodesRegenerated,
		twofactor.EventVerificationFailed, twofactor.EventDeviceAdded}
	if got := e.eventKinds(); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func TestAddTOTPValidation(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	me := twofactor.OperatorActor(u.ID)
	cases := []struct {
		spec  twofactor.TOTPSpec
		field string
	}{
		{twofactor.TOTPSpec{Digits: 7}, "digits"},
		{twofactor.TOTPSpec{Step: -1}, "step"},
		{twofactor.TOTPSpec{Step: 3601}, "step"},
		{twofactor.TOTPSpec{Key: make([]byte, 9)}, "key"},
		{twofactor.TOTPSpec{Key: make([]byte, 65)}, "key"},
		{twofactor.TOTPSpec{Name: strings.Repeat("x", 65)}, "name"},
		{twofactor.TOTPSpec{Name: "bad\nname"}, "name"},
		{twofactor.TOTPSpec{Name: "   "}, "name"},
	}
	for _, c := range cases {
		_, err := e.svc.ImportTOTP(ctx, me, c.spec, u.Username)
		if ev := wantCode(t, err, twofactor.CodeValidationFailed, ""); ev.Field != c.field {
			t.Errorf("%+v: field %q, want %q", c.spec, ev.Field, c.field)
		}
	}
	if ds, _ := e.store.DevicesByUser(ctx, u.ID); len(ds) != 0 {
		t.Fatal("a refused device was stored")
	}
	_, err := e.svc.ImportTOTP(ctx, twofactor.UserActor(u.ID, e.clock.Now()), twofactor.TOTPSpec{}, u.Username)
	wantCode(t, err, twofactor.CodeValidationFailed, "")
}

// TestStepUp: sensitive actions need a second factor verified within
// StepUpAge (SPEC §10.8); operators and users without two-factor do not.
func TestStepUp(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	a := e.totp(t, u, fixtureKey)
	b := e.totp(t, u, mustHex("3132333435363738393031323334353637383930"))
	now := e.clock.Now()
	stale := twofactor.UserActor(u.ID, now.Add(-11*time.Minute))
	never := twofactor.UserActor(u.ID, time.Time{})
	fresh := twofactor.UserActor(u.ID, now.Add(-9*time.Minute))
	actions := map[string]func(twofactor.Actor) error{
		"SetPrimary":            func(x twofactor.Actor) error { return e.svc.SetPrimary(ctx, x, b.ID) },
		"RemoveDevice":          func(x twofactor.Actor) error { return e.svc.RemoveDevice(ctx, x, b.ID) },
		"RegenerateBackupCodes": func(x twofactor.Actor) error { _, err := e.svc.RegenerateBackupCodes(ctx, x); return err },
		"Disable":               func(x twofactor.Actor) error { return e.svc.Disable(ctx, x) },
	}
	for name, act := range actions {
		for _, x := range []twofactor.Actor{stale, never} {
			if err := act(x); twofactor.CodeOf(err) != twofactor.CodeStepUpRequired {
				t.Errorf("%s with verification at %v: %v, want step_up_required", name, x.VerifiedAt, err)
			}
		}
	}
	if st, _ := e.svc.Status(ctx, u.ID); len(st.Devices) != 2 || st.Primary.ID != a.ID {
		t.Fatal("a refused action changed something")
	}
	ok(t, e.svc.SetPrimary(ctx, fresh, b.ID))
	if st, _ := e.svc.Status(ctx, u.ID); st.Primary.ID != b.ID {
		t.Fatal("SetPrimary did not change the primary")
	}
	ok(t, e.svc.RenameDevice(ctx, never, a.ID, "Old phone")) // renaming is not sensitive
	ok(t, e.svc.Disable(ctx, twofactor.OperatorActor(u.ID)))
	// Without two-factor there is nothing to step up with.
	en, err := e.svc.AddTOTP(ctx, never, twofactor.TOTPSpec{}, u.Username)
	ok(t, err)
	ok(t, e.svc.RemoveDevice(ctx, never, en.Device.ID))
}

// TestRemoveDevice: removing the primary promotes the next confirmed
// device; removing the last turns two-factor off and drops the backup codes.
func TestRemoveDevice(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	op := twofactor.OperatorActor(u.ID)
	a := e.totp(t, u, fixtureKey)
	e.clock.Add(time.Second)
	b := e.totp(t, u, mustHex("3132333435363738393031323334353637383930"))
	_, err := e.svc.RegenerateBackupCodes(ctx, op)
	ok(t, err)
	e.resetEvents()
	ok(t, e.svc.RemoveDevice(ctx, op, a.ID))
	st, _ := e.svc.Status(ctx, u.ID)
	if !st.Enabled || st.Primary.ID != b.ID || st.BackupCodes != 10 {
		t.Fatalf("after removing the primary: %+v", st)
	}
	ok(t, e.svc.RemoveDevice(ctx, op, b.ID))
	st, _ = e.svc.Status(ctx, u.ID)
	if st.Enabled || len(st.Devices) != 0 || st.BackupCodes != 0 {
		t.Fatalf("after removing the last device: %+v", st)
	}
	want := []twofactor.EventKind{twofactor.EventDeviceRemoved, twofactor.EventPrimaryChanged, twofactor.EventDeviceRemoved, twofactor.EventTwoFactorDisabled}
	if got := e.eventKinds(); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	err = e.svc.RemoveDevice(ctx, op, b.ID)
	wantCode(t, err, twofactor.CodeNotFound, "")
}

func TestForeignDevices(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	bd := e.totp(t, bob, fixtureKey)
	me := twofactor.OperatorActor(alice.ID)
	for name, err := range map[string]error{
		"rename":  e.svc.RenameDevice(ctx, me, bd.ID, "mine"),
		"primary": e.svc.SetPrimary(ctx, me, bd.ID),
		"remove":  e.svc.RemoveDevice(ctx, me, bd.ID),
	} {
		if twofactor.CodeOf(err) != twofactor.CodeNotFound {
			t.Errorf("%s on another user's device: %v, want not_found", name, err)
		}
	}
	_, err := e.svc.ConfirmDevice(ctx, me, bd.ID, "123456")
	wantCode(t, err, twofactor.CodeNotFound, "")
	if d := e.device(t, bd.ID); d.Name != "Authenticator app" {
		t.Fatal("bob's device changed")
	}
}

// TestKeyRotation: values written under an old key keep working once the
// keyring has a new current key that lists the old one.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	d := e.totp(t, u, fixtureKey)
	codes, err := e.svc.RegenerateBackupCodes(ctx, twofactor.OperatorActor(u.ID))
	ok(t, err)
	login, err := e.svc.Login(ctx, "alice", "correct horse")
	ok(t, err)

	newKey := mustHex("ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	rotated, err := secret.NewKeyring(newKey, testKey)
	ok(t, err)
	e2 := newEnvOn(t, e.store, rotated)
	e2.clock.Set(e.clock.Now())
	if !rotated.NeedsRotation(e2.device(t, d.ID).Secret) {
		t.Fatal("the device key should be sealed under the old key")
	}
	_, err = e2.svc.Challenge(ctx, login.Token)
	ok(t, err)
	_, err = e2.svc.Verify(ctx, u.ID, codes[0], "")
	ok(t, err)
	e2.clock.Add(time.Minute)
	_, err = e2.svc.Verify(ctx, u.ID, e2.now(fixtureKey), "")
	ok(t, err)
	// Without the old key, the old device key no longer opens: a clear
	// failure, not a silent rejection.
	only, err := secret.NewKeyring(newKey)
	ok(t, err)
	e3 := newEnvOn(t, e.store, only)
	e3.clock.Set(e2.clock.Now().Add(time.Minute))
	_, err = e3.svc.Verify(ctx, u.ID, e3.now(fixtureKey), "")
	if ev := wantCode(t, err, twofactor.CodeUnavailable, ""); !errors.Is(ev, secret.ErrUnknownKey) {
		t.Fatalf("error %v should wrap ErrUnknownKey", ev)
	}
}

func TestEnrollmentURIAndConfirmInSession(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	_, sess, err := e.svc.NewSession(ctx, twofactor.SessionWeb, u.ID)
	ok(t, err)
	en, err := e.svc.AddTOTP(ctx, sess.Actor(), twofactor.TOTPSpec{}, "alice")
	ok(t, err)
	uri, err := e.svc.EnrollmentURI(ctx, sess.Actor(), en.Device.ID, "alice")
	ok(t, err)
	if uri.IssuerPrefixed() != en.URI.IssuerPrefixed() {
		t.Fatalf("URI %s, want %s", uri.IssuerPrefixed(), en.URI.IssuerPrefixed())
	}
	_, err = e.svc.EnrollmentURI(ctx, twofactor.UserActor("someone-else", time.Time{}), en.Device.ID, "x")
	wantCode(t, err, twofactor.CodeNotFound, "")
	c, err := e.svc.ConfirmInSession(ctx, sess, en.Device.ID, e.now(en.Key))
	ok(t, err)
	if !sess.Verified() || sess.DeviceID != c.Device.ID || len(c.BackupCodes) != 10 {
		t.Fatalf("session after confirmation: %+v", sess)
	}
	// Once confirmed, the key is not shown again.
	_, err = e.svc.EnrollmentURI(ctx, sess.Actor(), en.Device.ID, "alice")
	wantCode(t, err, twofactor.CodeNotFound, "")
}

func TestAdminDisable(t *testing.T) {
	e := newEnv(t)
	staff, err := e.svc.Builtin().Create(ctx, twofactor.NewUser{Username: "root", Password: "long enough", Staff: true})
	ok(t, err)
	plain := e.user(t, "mallory")
	target := e.user(t, "alice")
	e.totp(t, target, fixtureKey)
	now := e.clock.Now()
	err = e.svc.AdminDisable(ctx, twofactor.UserActor(plain.ID, now), target.ID)
	wantCode(t, err, twofactor.CodeForbidden, "")
	err = e.svc.AdminDisable(ctx, twofactor.UserActor(staff.ID, time.Time{}), target.ID)
	wantCode(t, err, twofactor.CodeStepUpRequired, "")
	err = e.svc.AdminDisable(ctx, twofactor.UserActor(staff.ID, now), "nobody")
	wantCode(t, err, twofactor.CodeNotFound, "")
	if on, _ := e.svc.Enabled(ctx, target.ID); !on {
		t.Fatal("a refused admin action changed the target")
	}
	e.resetEvents()
	ok(t, e.svc.AdminDisable(ctx, twofactor.UserActor(staff.ID, now), target.ID))
	if on, _ := e.svc.Enabled(ctx, target.ID); on {
		t.Fatal("two-factor still on")
	}
	evs, err := e.svc.Events(ctx, target.ID, 10)
	ok(t, err)
	if evs[0].Kind != twofactor.EventAdminDisabledUser || evs[0].Reason != "staff "+staff.ID {
		t.Fatalf("audit %+v", evs[0])
	}
	a, err := e.svc.Adoption(ctx)
	ok(t, err)
	if a.Users != 3 || a.Enabled != 0 {
		t.Fatalf("adoption %+v", a)
	}
}
