package twofactor_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/gateway/fake"
)

// sendEnv is an env whose service sends codes through a fake gateway.
func sendEnv(t *testing.T, tweak ...func(*twofactor.Options)) (*env, *fake.Gateway) {
	t.Helper()
	base := newEnv(t)
	gw := fake.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	opts := twofactor.DefaultOptions()
	opts.Password = cheapPasswords
	opts.Site = "Example"
	for _, f := range tweak {
		f(&opts)
	}
	svc, err := twofactor.New(twofactor.Config{Store: base.store, Keys: base.keys, Options: opts, Clock: base.clock,
		SMS: gw, Caller: gw, Mailer: gw})
	ok(t, err)
	base.svc = svc
	return base, gw
}

func lastCode(t *testing.T, gw *fake.Gateway, to string) string {
	t.Helper()
	m, found := gw.Last(to)
	if !found {
		t.Fatalf("nothing was sent to %s", to)
	}
	return m.Code
}

func TestPhoneEnrolment(t *testing.T) {
	e, gw := sendEnv(t)
	u := e.user(t, "alice")
	me := twofactor.UserActor(u.ID, time.Time{})
	if got := e.svc.Methods(); len(got) != 4 {
		t.Fatalf("methods %v", got)
	}
	for _, bad := range []string{"123", "+3110123456", "not a number", "+31 10 123 4567 ext 9"} {
		_, err := e.svc.AddPhone(ctx, me, twofactor.KindSMS, bad, "")
		if ev := wantCode(t, err, twofactor.CodeValidationFailed, ""); ev.Field != "phone_number" {
			t.Fatalf("%q: field %q", bad, ev.Field)
		}
	}
	_, err := e.svc.AddPhone(ctx, me, twofactor.KindTOTP, "+31101234567", "")
	wantCode(t, err, twofactor.CodeValidationFailed, "")
	d, err := e.svc.AddPhone(ctx, me, twofactor.KindSMS, "0031 10 123 4567", "")
	ok(t, err)
	if d.Destination != "+31101234567" || d.Confirmed || d.MaskedDestination() != "+31 ** *** **67" {
		t.Fatalf("device %+v (%s)", d, d.MaskedDestination())
	}
	m, _ := gw.Last("+31101234567")
	if len(m.Code) != 6 || m.Site != "Example" {
		t.Fatalf("message %+v", m)
	}
	c, err := e.svc.ConfirmDevice(ctx, me, d.ID, m.Code)
	ok(t, err)
	if !c.Device.Primary || len(c.BackupCodes) != 10 {
		t.Fatalf("confirmation %+v", c)
	}
	// The code was single use.
	e.clock.Add(time.Second)
	_, err = e.svc.Verify(ctx, u.ID, m.Code, "")
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonNotPending)
}

// TestSentCodes: cooldown, expiry after 3 steps, single use, the daily
// limit, and a new code replacing the old one.
func TestSentCodes(t *testing.T) {
	e, gw := sendEnv(t, func(o *twofactor.Options) { o.UserThrottle = 0; o.DailySendLimit = 4 })
	u := e.user(t, "alice")
	d, err := e.svc.AddPhone(ctx, twofactor.OperatorActor(u.ID), twofactor.KindSMS, "+31101234567", "")
	ok(t, err)
	first := lastCode(t, gw, "+31101234567")
	_, err = e.svc.SendCode(ctx, u.ID, d.ID)
	if ev := wantCode(t, err, twofactor.CodeThrottled, "cooldown"); !ev.RetryAt.Equal(e.clock.Now().Add(time.Minute)) {
		t.Fatalf("cooldown until %v", ev.RetryAt)
	}
	if len(gw.Messages()) != 1 {
		t.Fatal("a code was sent inside the cooldown")
	}
	e.clock.Add(time.Minute)
	exp, err := e.svc.SendCode(ctx, u.ID, d.ID)
	ok(t, err)
	if !exp.Equal(e.clock.Now().Add(90 * time.Second)) {
		t.Fatalf("a phone code expires at %v", exp)
	}
	second := lastCode(t, gw, "+31101234567")
	if first != second { // the new code replaced the old one
		_, err = e.svc.ConfirmDevice(ctx, twofactor.OperatorActor(u.ID), d.ID, first)
		wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonWrong)
	}
	e.clock.Add(91 * time.Second)
	_, err = e.svc.ConfirmDevice(ctx, twofactor.OperatorActor(u.ID), d.ID, second)
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonExpired)
	for i := 0; i < 2; i++ {
		e.clock.Add(time.Minute)
		_, err = e.svc.SendCode(ctx, u.ID, d.ID)
		ok(t, err)
	}
	e.clock.Add(time.Minute)
	_, err = e.svc.SendCode(ctx, u.ID, d.ID)
	wantCode(t, err, twofactor.CodeThrottled, "daily_limit")
	if len(gw.Messages()) != 4 {
		t.Fatalf("%d messages sent with a daily limit of 4", len(gw.Messages()))
	}
	// Malformed input counts as a failure, like every code.
	_, err = e.svc.ConfirmDevice(ctx, twofactor.OperatorActor(u.ID), d.ID, "12a456")
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonMalformed)
}

// TestGatewayFailures: a failed delivery leaves no half-made device; a
// refused number is a field error.
func TestGatewayFailures(t *testing.T) {
	e, gw := sendEnv(t)
	u := e.user(t, "alice")
	me := twofactor.OperatorActor(u.ID)
	gw.SetError(twofactor.ErrGatewayUnavailable)
	_, err := e.svc.AddPhone(ctx, me, twofactor.KindSMS, "+31101234567", "")
	wantCode(t, err, twofactor.CodeGatewayFailed, "")
	gw.SetError(twofactor.ErrInvalidDestination)
	_, err = e.svc.AddPhone(ctx, me, twofactor.KindCall, "+31101234567", "")
	if ev := wantCode(t, err, twofactor.CodeValidationFailed, ""); ev.Field != "phone_number" {
		t.Fatalf("field %q", ev.Field)
	}
	if st, _ := e.svc.Status(ctx, u.ID); len(st.Devices) != 0 {
		t.Fatalf("a failed send left %d devices", len(st.Devices))
	}
	gw.SetError(nil)
	_, err = e.svc.AddPhone(ctx, me, twofactor.KindSMS, "+31101234567", "")
	ok(t, err)
	// Without a gateway the method is hidden.
	bare := newEnv(t)
	_, err = bare.svc.AddPhone(ctx, me, twofactor.KindSMS, "+31101234567", "")
	wantCode(t, err, twofactor.CodeValidationFailed, "")
	if got := bare.svc.Methods(); len(got) != 1 {
		t.Fatalf("methods without gateways: %v", got)
	}
}

// TestVoiceCall: the call carries an opaque id, never the code; the script
// behind the id reads the code with its leading zeros.
func TestVoiceCall(t *testing.T) {
	e, gw := sendEnv(t)
	u := e.user(t, "alice")
	ctxDE := twofactor.WithClient(ctx, twofactor.Client{Language: "de"})
	d, err := e.svc.AddPhone(ctxDE, twofactor.OperatorActor(u.ID), twofactor.KindCall, "+41524204242", "")
	ok(t, err)
	m, _ := gw.Last("+41524204242")
	if m.CallID == "" || strings.Contains(m.CallID, m.Code) || m.Language != "de" {
		t.Fatalf("call message %+v", m)
	}
	call, err := e.svc.CallScript(ctx, m.CallID)
	ok(t, err)
	if call.Code != m.Code || call.Site != "Example" || call.Language != "de" {
		t.Fatalf("script %+v", call)
	}
	for _, bad := range []string{"", "nope", m.CallID + "x", strings.Repeat("a", 500)} {
		_, err := e.svc.CallScript(ctx, bad)
		wantCode(t, err, twofactor.CodeNotFound, "")
	}
	e.clock.Add(91 * time.Second)
	_, err = e.svc.CallScript(ctx, m.CallID)
	wantCode(t, err, twofactor.CodeNotFound, "")
	_ = d
}

func TestEmailDevice(t *testing.T) {
	e, gw := sendEnv(t, func(o *twofactor.Options) { o.TOTPDigits = 8 })
	u := e.user(t, "alice") // alice@example.com
	me := twofactor.OperatorActor(u.ID)
	_, err := e.svc.AddEmail(ctx, me, "not an address", "")
	wantCode(t, err, twofactor.CodeValidationFailed, "")
	d, err := e.svc.AddEmail(ctx, me, "", "")
	ok(t, err)
	if d.Destination != "alice@example.com" || d.MaskedDestination() != "a***e@example.com" {
		t.Fatalf("email device %+v", d)
	}
	code := lastCode(t, gw, "alice@example.com")
	if len(code) != 8 { // the seed sent 6 digits to an 8-digit form (weakness 10)
		t.Fatalf("code %q", code)
	}
	_, err = e.svc.ConfirmDevice(ctx, me, d.ID, code)
	ok(t, err)
	// Email codes are valid for email.token_validity.
	e.clock.Add(2 * time.Minute)
	res, err := e.svc.Login(ctx, "alice", "correct horse")
	ok(t, err)
	_, err = e.svc.ChooseDevice(ctx, res.Token, d.ID)
	ok(t, err)
	e.clock.Add(4 * time.Minute)
	_, err = e.svc.CompleteLogin(ctx, res.Token, lastCode(t, gw, "alice@example.com"))
	ok(t, err)
}

// TestLoginSendsCode: choosing an sms device at sign-in sends its code,
// once per cooldown.
func TestLoginSendsCode(t *testing.T) {
	e, gw := sendEnv(t)
	u := e.user(t, "alice")
	e.totp(t, u, fixtureKey)
	d, err := e.svc.AddPhone(ctx, twofactor.OperatorActor(u.ID), twofactor.KindSMS, "+31101234567", "")
	ok(t, err)
	_, err = e.svc.ConfirmDevice(ctx, twofactor.OperatorActor(u.ID), d.ID, lastCode(t, gw, "+31101234567"))
	ok(t, err)
	e.clock.Add(time.Minute)
	res, err := e.svc.Login(ctx, "alice", "correct horse")
	ok(t, err)
	_, err = e.svc.ChooseDevice(ctx, res.Token, d.ID)
	ok(t, err)
	_, err = e.svc.ChooseDevice(ctx, res.Token, d.ID) // a reload inside the cooldown
	wantCode(t, err, twofactor.CodeThrottled, "cooldown")
	if n := len(gw.Messages()); n != 2 {
		t.Fatalf("%d messages", n)
	}
	done, err := e.svc.CompleteLogin(ctx, res.Token, lastCode(t, gw, "+31101234567"))
	ok(t, err)
	if done.Device.ID != d.ID {
		t.Fatal("wrong device")
	}
}

// TestNotices: with a mailer, users hear of device changes, backup-code use
// and two-factor being disabled (SPEC §8.3).
func TestNotices(t *testing.T) {
	e, gw := sendEnv(t)
	u := e.user(t, "alice")
	op := twofactor.OperatorActor(u.ID)
	e.totp(t, u, fixtureKey)
	codes, err := e.svc.RegenerateBackupCodes(ctx, op)
	ok(t, err)
	_, err = e.svc.Verify(ctx, u.ID, codes[0], "")
	ok(t, err)
	ok(t, e.svc.Disable(ctx, op))
	var kinds []twofactor.EventKind
	for _, n := range gw.Notices() {
		if n.To != "alice@example.com" || n.Site != "Example" {
			t.Fatalf("notice %+v", n)
		}
		kinds = append(kinds, n.Event)
	}
	want := []twofactor.EventKind{twofactor.EventDeviceAdded, twofactor.EventBackupCodeUsed, twofactor.EventTwoFactorDisabled}
	if len(kinds) != 3 || kinds[0] != want[0] || kinds[1] != want[1] || kinds[2] != want[2] {
		t.Fatalf("notices %v, want %v", kinds, want)
	}
}
