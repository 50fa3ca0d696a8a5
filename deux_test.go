package twofactor_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/gateway/fake"
)

// deuxUser is a user with two-factor on through a deux phone (the number
// 15555550123, stored as +15555550123), as deux's PUT sms/request and
// sms/verify leave it.
func deuxUser(t *testing.T, e *env, gw *fake.Gateway, name, digits string) *twofactor.User {
	t.Helper()
	u := e.user(t, name)
	me := twofactor.UserActor(u.ID, time.Time{})
	d, err := e.svc.AddDeuxPhone(ctx, me, digits)
	ok(t, err)
	if d.Destination != "+"+digits || d.Kind != twofactor.KindSMS || d.Confirmed {
		t.Fatalf("device %+v", d)
	}
	_, err = e.svc.ConfirmDevice(ctx, me, d.ID, lastCode(t, gw, "+"+digits))
	ok(t, err)
	return u
}

func TestAddDeuxPhone(t *testing.T) {
	e, gw := sendEnv(t)
	u := e.user(t, "alice")
	me := twofactor.UserActor(u.ID, time.Time{})
	for _, bad := range []string{"", "1", "123456", "+15555550123", "555-555-0123", "1555555012x", "1234567890123456", "１２３４５６７８"} {
		_, err := e.svc.AddDeuxPhone(ctx, me, bad)
		if ev := wantCode(t, err, twofactor.CodeValidationFailed, ""); ev.Field != "phone_number" {
			t.Fatalf("%q: field %q", bad, ev.Field)
		}
	}
	if len(gw.Messages()) != 0 {
		t.Fatal("a bad number was sent a code")
	}
	// Seven and fifteen digits pass (deux's test_validators), whatever a
	// numbering plan thinks of them.
	for _, good := range []string{"1234567", "123456789012345", "15555550123"} {
		d, err := e.svc.AddDeuxPhone(ctx, me, good)
		ok(t, err)
		if d.Destination != "+"+good {
			t.Fatalf("%q stored as %q", good, d.Destination)
		}
		if m, found := gw.Last("+" + good); !found || len(m.Code) != 6 {
			t.Fatalf("%q: no code sent (%+v)", good, m)
		}
	}
	// A number the provider refuses, or a failing provider, leaves no
	// device behind.
	before, err := e.svc.Status(ctx, u.ID)
	ok(t, err)
	_, err = e.svc.AddDeuxPhone(ctx, me, "0123456789")
	if ev := wantCode(t, err, twofactor.CodeValidationFailed, ""); ev.Field != "phone_number" {
		t.Fatalf("refused number: field %q", ev.Field)
	}
	gw.SetError(twofactor.ErrGatewayUnavailable)
	_, err = e.svc.AddDeuxPhone(ctx, me, "31612345678")
	wantCode(t, err, twofactor.CodeGatewayFailed, "")
	gw.SetError(nil)
	after, err := e.svc.Status(ctx, u.ID)
	ok(t, err)
	if len(after.Devices) != len(before.Devices) {
		t.Fatalf("%d devices, want %d", len(after.Devices), len(before.Devices))
	}
	// Without an SMS gateway the method is not there.
	plain := newEnv(t)
	pu := plain.user(t, "bob")
	_, err = plain.svc.AddDeuxPhone(ctx, twofactor.UserActor(pu.ID, time.Time{}), "15555550123")
	wantCode(t, err, twofactor.CodeValidationFailed, "")
}

// TestDeuxRecoveryCode ports deux's test_models for the backup code: none
// while disabled, 12 characters, a new one each time, the old one dead —
// with step-up, which deux did not ask.
func TestDeuxRecoveryCode(t *testing.T) {
	e, gw := sendEnv(t)
	off := e.user(t, "off")
	_, err := e.svc.DeuxRecoveryCode(ctx, twofactor.UserActor(off.ID, e.clock.Now()))
	wantCode(t, err, twofactor.CodeNoDevice, "")

	u := deuxUser(t, e, gw, "alice", "15555550123")
	fresh := twofactor.UserActor(u.ID, e.clock.Now())
	_, err = e.svc.DeuxRecoveryCode(ctx, twofactor.UserActor(u.ID, time.Time{}))
	wantCode(t, err, twofactor.CodeStepUpRequired, "")
	_, err = e.svc.DeuxRecoveryCode(ctx, twofactor.UserActor(u.ID, e.clock.Now().Add(-11*time.Minute)))
	wantCode(t, err, twofactor.CodeStepUpRequired, "")

	seen := map[string]bool{}
	var code string
	for range 5 {
		code, err = e.svc.DeuxRecoveryCode(ctx, fresh)
		ok(t, err)
		if len(code) != twofactor.DeuxRecoveryCodeLength || strings.Trim(code, "0123456789ABCDEF") != "" || seen[code] {
			t.Fatalf("recovery code %q (seen before: %v)", code, seen[code])
		}
		seen[code] = true
	}
	if n, _ := e.svc.BackupCodesRemaining(ctx, u.ID); n != 1 {
		t.Fatalf("%d backup codes, want the one recovery code", n)
	}
	// An operator may make one for the user (no step-up).
	if _, err := e.svc.DeuxRecoveryCode(ctx, twofactor.OperatorActor(u.ID)); err != nil {
		t.Fatal(err)
	}
}

// TestCompleteLoginDeuxRecovery ports deux's check_and_use_backup_code: a
// wrong code fails (and, unlike deux, counts), the right one signs in and
// turns two-factor off — audited and notified — and works once.
func TestCompleteLoginDeuxRecovery(t *testing.T) {
	e, gw := sendEnv(t)
	u := deuxUser(t, e, gw, "alice", "15555550123")
	bob := deuxUser(t, e, gw, "bob", "15555550124")
	code, err := e.svc.DeuxRecoveryCode(ctx, twofactor.UserActor(u.ID, e.clock.Now()))
	ok(t, err)
	bobCode, err := e.svc.DeuxRecoveryCode(ctx, twofactor.UserActor(bob.ID, e.clock.Now()))
	ok(t, err)

	login := func() string {
		t.Helper()
		res, err := e.svc.Login(ctx, "alice", "correct horse")
		ok(t, err)
		if !res.MFARequired {
			t.Fatal("two-factor is off")
		}
		return res.Token
	}
	static := func() *twofactor.Device {
		t.Helper()
		st, err := e.svc.Status(ctx, u.ID)
		ok(t, err)
		if st.BackupDevice == nil {
			t.Fatal("no backup device")
		}
		return e.device(t, st.BackupDevice.ID)
	}
	failures := 0
	for _, bad := range []string{strings.ToLower(code), bobCode, code[:11], code + "0", " " + code, "ZZZZZZZZZZZZ"} {
		_, err := e.svc.CompleteLoginDeuxRecovery(ctx, login(), bad)
		wantCode(t, err, twofactor.CodeInvalidCode, "")
		failures++
		if d := static(); d.Failures != failures {
			t.Fatalf("%q: %d failures recorded, want %d", bad, d.Failures, failures)
		}
		e.clock.Add(time.Hour) // past the backoff
	}
	_, err = e.svc.CompleteLoginDeuxRecovery(ctx, login(), "")
	wantCode(t, err, twofactor.CodeValidationFailed, "")
	// A regular backup code is not a recovery code, nor the other way round.
	_, err = e.svc.CompleteLoginBackupCode(ctx, login(), code)
	wantCode(t, err, twofactor.CodeInvalidCode, "")
	e.clock.Add(time.Hour)

	e.resetEvents()
	res, err := e.svc.CompleteLoginDeuxRecovery(ctx, login(), code)
	ok(t, err)
	if res.User.ID != u.ID || res.Device != nil || res.MFARequired {
		t.Fatalf("result %+v", res)
	}
	if on, _ := e.svc.Enabled(ctx, u.ID); on {
		t.Fatal("two-factor is still on")
	}
	st, err := e.svc.Status(ctx, u.ID)
	ok(t, err)
	if len(st.Devices) != 0 || st.BackupCodes != 0 {
		t.Fatalf("left behind: %+v", st)
	}
	events, err := e.store.EventsByUser(ctx, u.ID, 5)
	ok(t, err)
	var kinds []string
	for _, ev := range events {
		kinds = append(kinds, string(ev.Kind)+"/"+ev.Reason)
	}
	if !strings.Contains(strings.Join(kinds, " "), "two_factor_disabled/"+twofactor.ReasonDeuxRecovery) ||
		!strings.Contains(strings.Join(kinds, " "), "backup_code_used/") {
		t.Fatalf("audit trail %v", kinds)
	}
	var noticed []twofactor.EventKind
	for _, n := range gw.Notices() {
		if n.To == "alice@example.com" {
			noticed = append(noticed, n.Event)
		}
	}
	if len(noticed) < 2 || noticed[len(noticed)-1] != twofactor.EventTwoFactorDisabled || noticed[len(noticed)-2] != twofactor.EventBackupCodeUsed {
		t.Fatalf("notices %v", noticed)
	}
	// Bob's code is untouched by all this, and still his alone.
	if on, _ := e.svc.Enabled(ctx, bob.ID); !on {
		t.Fatal("bob lost two-factor")
	}
	// Signed in with two-factor off now: the code is gone with it.
	res2, err := e.svc.Login(ctx, "alice", "correct horse")
	ok(t, err)
	if res2.MFARequired {
		t.Fatal("two-factor is on again")
	}
}

// TestDeuxRecoveryRace: one recovery code raced on many login challenges
// signs in exactly once.
func TestDeuxRecoveryRace(t *testing.T) {
	e, gw := sendEnv(t, func(o *twofactor.Options) {
		o.UserThrottle = 0
		o.Throttle = map[twofactor.Kind]time.Duration{twofactor.KindStatic: 0}
	})
	u := deuxUser(t, e, gw, "alice", "15555550123")
	code, err := e.svc.DeuxRecoveryCode(ctx, twofactor.UserActor(u.ID, e.clock.Now()))
	ok(t, err)
	var tokens []string
	for range 10 {
		res, err := e.svc.Login(ctx, "alice", "correct horse")
		ok(t, err)
		tokens = append(tokens, res.Token)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for _, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.CompleteLoginDeuxRecovery(ctx, tok, code)
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if c := twofactor.CodeOf(err); c != twofactor.CodeInvalidCode && c != twofactor.CodeExpired && c != twofactor.CodeNoDevice && c != twofactor.CodeNotFound {
				t.Errorf("unexpected %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d sign-ins with one recovery code", wins)
	}
}

func TestDeuxDisable(t *testing.T) {
	e, gw := sendEnv(t)
	off := e.user(t, "off")
	err := e.svc.DeuxDisable(ctx, twofactor.UserActor(off.ID, e.clock.Now()))
	wantCode(t, err, twofactor.CodeNoDevice, "")

	u := deuxUser(t, e, gw, "alice", "15555550123")
	err = e.svc.DeuxDisable(ctx, twofactor.UserActor(u.ID, time.Time{}))
	wantCode(t, err, twofactor.CodeStepUpRequired, "")
	// An old verification is enough (deux asked none); the event says how.
	e.resetEvents()
	ok(t, e.svc.DeuxDisable(ctx, twofactor.UserActor(u.ID, e.clock.Now().Add(-24*time.Hour))))
	if on, _ := e.svc.Enabled(ctx, u.ID); on {
		t.Fatal("still on")
	}
	evs, err := e.store.EventsByUser(ctx, u.ID, 1)
	ok(t, err)
	if len(evs) != 1 || evs[0].Kind != twofactor.EventTwoFactorDisabled || evs[0].Reason != "deux" {
		t.Fatalf("events %+v", evs)
	}
	if n, found := gw.LastNotice("alice@example.com"); !found || n.Event != twofactor.EventTwoFactorDisabled {
		t.Fatalf("notice %+v", n)
	}
	// An operator needs no verification.
	u2 := deuxUser(t, e, gw, "bob", "15555550124")
	ok(t, e.svc.DeuxDisable(ctx, twofactor.OperatorActor(u2.ID)))
	err = e.svc.DeuxDisable(ctx, twofactor.OperatorActor(u2.ID))
	if !errors.Is(err, &twofactor.Error{Code: twofactor.CodeNoDevice}) {
		t.Fatalf("disabling twice: %v", err)
	}
}

func TestValidDeuxPhoneNumber(t *testing.T) {
	// deux's test_validators.
	for _, s := range []string{"1234567", "12345678", "123456789012345"} {
		if !twofactor.ValidDeuxPhoneNumber(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", "1", "123456", "123-456-7890", "1234567890 x12", "12345678ab", "12345678901234567", "+1234567890"} {
		if twofactor.ValidDeuxPhoneNumber(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
