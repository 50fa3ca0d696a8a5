package twofactor_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/password"
)

func TestLoginWithoutTwoFactor(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice")
	res, err := e.svc.Login(ctx, "alice", "correct horse")
	ok(t, err)
	if res.MFARequired || res.Token != "" || res.User.Username != "alice" {
		t.Fatalf("login: %+v", res)
	}
}

// TestLoginCredentials: wrong password, unknown user and inactive account
// look the same to the caller.
func TestLoginCredentials(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice")
	for _, c := range []struct{ user, pw string }{{"alice", "wrong password"}, {"nobody", "correct horse"}, {"", ""}, {"Alice", "correct horse"}} {
		_, err := e.svc.Login(ctx, c.user, c.pw)
		if ev := wantCode(t, err, twofactor.CodeInvalidCredentials, ""); ev.Message != "Please enter a correct username and password. Note that both fields may be case-sensitive." {
			t.Fatalf("message %q", ev.Message)
		}
	}
}

func TestLoginTwoSteps(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	a := e.totp(t, u, fixtureKey)
	keyB := mustHex("3132333435363738393031323334353637383930")
	b := e.totp(t, u, keyB)
	_, err := e.svc.RegenerateBackupCodes(ctx, twofactor.OperatorActor(u.ID))
	ok(t, err)

	res, err := e.svc.Login(ctx, "alice", "correct horse")
	ok(t, err)
	if !res.MFARequired || len(res.Token) < 40 || !res.ExpiresAt.Equal(e.clock.Now().Add(10*time.Minute)) {
		t.Fatalf("password step: %+v", res)
	}
	st, err := e.svc.Challenge(ctx, res.Token)
	ok(t, err)
	if st.Device.ID != a.ID || len(st.Others) != 1 || st.Others[0].ID != b.ID || st.BackupCodes != 10 || st.User.ID != u.ID {
		t.Fatalf("challenge state: %+v", st)
	}
	// A wrong code leaves the challenge in place.
	_, err = e.svc.CompleteLogin(ctx, res.Token, "000000")
	wantCode(t, err, twofactor.CodeInvalidCode, "")
	// Choose the other device; its code completes the login.
	_, err = e.svc.ChooseDevice(ctx, res.Token, b.ID)
	ok(t, err)
	st, _ = e.svc.Challenge(ctx, res.Token)
	if st.Device.ID != b.ID {
		t.Fatal("device choice not kept")
	}
	e.clock.Add(5 * time.Second)
	done, err := e.svc.CompleteLogin(ctx, res.Token, e.now(keyB))
	ok(t, err)
	if done.User.ID != u.ID || done.Device.ID != b.ID || done.MFARequired {
		t.Fatalf("completed: %+v", done)
	}
	// The challenge is consumed.
	_, err = e.svc.CompleteLogin(ctx, res.Token, e.now(fixtureKey))
	wantCode(t, err, twofactor.CodeExpired, "")
}

func TestLoginBackupCode(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	e.totp(t, u, fixtureKey)
	codes, err := e.svc.RegenerateBackupCodes(ctx, twofactor.OperatorActor(u.ID))
	ok(t, err)
	res, err := e.svc.Login(ctx, "alice", "correct horse")
	ok(t, err)
	done, err := e.svc.CompleteLogin(ctx, res.Token, codes[9])
	ok(t, err)
	if done.Device.Kind != twofactor.KindStatic {
		t.Fatalf("completed with %s", done.Device.Kind)
	}
}

// TestLoginTimeout ports the seed's timeout test: after login_timeout the
// flow restarts with "Your session has timed out. Please login again.".
func TestLoginTimeout(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	e.totp(t, u, fixtureKey)
	res, err := e.svc.Login(ctx, "alice", "correct horse")
	ok(t, err)
	e.clock.Add(10 * time.Minute)
	_, err = e.svc.CompleteLogin(ctx, res.Token, e.now(fixtureKey))
	if ev := wantCode(t, err, twofactor.CodeExpired, ""); ev.Message != "Your session has timed out. Please login again." {
		t.Fatalf("message %q", ev.Message)
	}
	// The code was not consumed by the expired attempt.
	res, err = e.svc.Login(ctx, "alice", "correct horse")
	ok(t, err)
	_, err = e.svc.CompleteLogin(ctx, res.Token, e.now(fixtureKey))
	ok(t, err)

	// login_timeout 0 never expires.
	e0 := newEnv(t, func(o *twofactor.Options) { o.LoginTimeout = 0 })
	u0 := e0.user(t, "bob")
	e0.totp(t, u0, fixtureKey)
	res, err = e0.svc.Login(ctx, "bob", "correct horse")
	ok(t, err)
	if !res.ExpiresAt.IsZero() {
		t.Fatal("a challenge without timeout has an expiry")
	}
	e0.clock.Add(48 * time.Hour)
	_, err = e0.svc.CompleteLogin(ctx, res.Token, e0.now(fixtureKey))
	ok(t, err)
}

func TestLoginChallengeTokens(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	e.totp(t, alice, fixtureKey)
	bd := e.totp(t, bob, fixtureKey)
	res, err := e.svc.Login(ctx, "alice", "correct horse")
	ok(t, err)
	for _, tok := range []string{"", "garbage", res.Token + "x", string(make([]byte, 300))} {
		_, err := e.svc.Challenge(ctx, tok)
		wantCode(t, err, twofactor.CodeExpired, "")
		_, err = e.svc.CompleteLogin(ctx, tok, "123456")
		wantCode(t, err, twofactor.CodeExpired, "")
	}
	// Another user's device cannot be chosen.
	_, err = e.svc.ChooseDevice(ctx, res.Token, bd.ID)
	wantCode(t, err, twofactor.CodeNotFound, "")
	ok(t, e.svc.CancelLogin(ctx, res.Token))
	_, err = e.svc.Challenge(ctx, res.Token)
	wantCode(t, err, twofactor.CodeExpired, "")
	// Disabling two-factor ends pending logins.
	res, err = e.svc.Login(ctx, "bob", "correct horse")
	ok(t, err)
	ok(t, e.svc.Disable(ctx, twofactor.OperatorActor(bob.ID)))
	_, err = e.svc.Challenge(ctx, res.Token)
	wantCode(t, err, twofactor.CodeExpired, "")
}

// TestRehash: a password imported from Django (PBKDF2) is upgraded to
// argon2id at the first successful sign-in.
func TestRehash(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	// Django's format, made here with the same primitive Django uses.
	django := "pbkdf2_sha256$1000$c2FsdA$" + djangoPBKDF2("s3cret-password", "c2FsdA", 1000)
	ok(t, e.store.SetPassword(ctx, u.ID, django, e.clock.Now()))
	_, err := e.svc.Login(ctx, "alice", "s3cret-password")
	ok(t, err)
	rec, err := e.store.UserByID(ctx, u.ID)
	ok(t, err)
	if password.NeedsRehash(rec.PasswordHash, cheapPasswords) {
		t.Fatalf("hash not upgraded: %s", rec.PasswordHash[:20])
	}
	_, err = e.svc.Login(ctx, "alice", "s3cret-password")
	ok(t, err)
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	b := e.svc.Builtin()
	cases := []struct {
		nu    twofactor.NewUser
		field string
	}{
		{twofactor.NewUser{Username: "", Password: "long enough"}, "username"},
		{twofactor.NewUser{Username: "has space", Password: "long enough"}, "username"},
		{twofactor.NewUser{Username: "ok", Password: "short"}, "password"},
		{twofactor.NewUser{Username: "ok", Password: "long enough", Email: "not-an-email"}, "email"},
	}
	for _, c := range cases {
		_, err := b.Create(ctx, c.nu)
		if ev := wantCode(t, err, twofactor.CodeValidationFailed, ""); ev.Field != c.field {
			t.Errorf("%+v: field %s, want %s", c.nu, ev.Field, c.field)
		}
	}
	u, err := b.Create(ctx, twofactor.NewUser{Username: "jo.doe+x@y-z_", Password: "long enough", Staff: true})
	ok(t, err)
	if !u.Staff || !u.Active {
		t.Fatalf("created %+v", u)
	}
	_, err = b.Create(ctx, twofactor.NewUser{Username: "jo.doe+x@y-z_", Password: "long enough"})
	wantCode(t, err, twofactor.CodeConflict, "")
	ok(t, e.svc.SetPassword(ctx, u.ID, "another password"))
	_, err = e.svc.Login(ctx, "jo.doe+x@y-z_", "another password")
	ok(t, err)
	err = e.svc.SetPassword(ctx, "missing", "another password")
	wantCode(t, err, twofactor.CodeNotFound, "")
	users, total, err := b.List(ctx, twofactor.UserQuery{})
	ok(t, err)
	if total != 1 || len(users) != 1 {
		t.Fatalf("list: %d/%d", len(users), total)
	}
}

// TestHooks: events reach hooks with the client of the context, and a
// panicking hook does not break the request.
func TestHooks(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	var got []twofactor.Event
	st := e.store
	svc, err := twofactor.New(twofactor.Config{Store: st, Keys: e.keys, Options: opts(), Clock: e.clock,
		Hooks: []twofactor.Hook{
			func(context.Context, twofactor.Event) { panic("boom") },
			func(_ context.Context, ev twofactor.Event) { got = append(got, ev) },
		}})
	ok(t, err)
	_, err = svc.ImportTOTP(ctx, twofactor.OperatorActor(u.ID), twofactor.TOTPSpec{Key: fixtureKey}, "alice")
	ok(t, err)
	c := twofactor.WithClient(ctx, twofactor.Client{Address: "192.0.2.7", UserAgent: "test/1"})
	_, err = svc.Verify(c, u.ID, "000000", "")
	wantCode(t, err, twofactor.CodeInvalidCode, "")
	kinds := []twofactor.EventKind{}
	for _, ev := range got {
		kinds = append(kinds, ev.Kind)
	}
	if !slices.Equal(kinds, []twofactor.EventKind{twofactor.EventDeviceAdded, twofactor.EventVerificationFailed}) {
		t.Fatalf("events %v", kinds)
	}
	last := got[1]
	if last.Address != "192.0.2.7" || last.UserAgent != "test/1" || last.Reason != twofactor.ReasonWrong || last.Outcome != twofactor.OutcomeFailure || last.UserID != u.ID {
		t.Fatalf("event %+v", last)
	}
	if got[0].Reason != "operator" {
		t.Fatalf("operator action not marked: %+v", got[0])
	}
	// The audit table has them too.
	audit, err := st.EventsByUser(ctx, u.ID, 10)
	ok(t, err)
	if len(audit) != 2 || audit[0].Kind != twofactor.EventVerificationFailed || audit[0].Address != "192.0.2.7" {
		t.Fatalf("audit %+v", audit)
	}
}

func opts() twofactor.Options {
	o := twofactor.DefaultOptions()
	o.Password = cheapPasswords
	return o
}

func TestErrors(t *testing.T) {
	now := time.Unix(1000, 0)
	cases := []struct {
		retry time.Time
		want  time.Duration
	}{
		{time.Time{}, 0}, {now.Add(-time.Second), time.Second}, {now.Add(300 * time.Millisecond), time.Second},
		{now.Add(1500 * time.Millisecond), 2 * time.Second}, {now.Add(4 * time.Second), 4 * time.Second},
	}
	for _, c := range cases {
		if got := (&twofactor.Error{Code: twofactor.CodeThrottled, RetryAt: c.retry}).RetryAfter(now); got != c.want {
			t.Errorf("RetryAfter(%v) = %v, want %v", c.retry.Sub(now), got, c.want)
		}
	}
	cause := errors.New("disk on fire")
	wrapped := twofactor.AsError(cause)
	if wrapped.Code != twofactor.CodeUnavailable || !errors.Is(wrapped, cause) || wrapped.Message == cause.Error() {
		t.Fatalf("AsError: %+v", wrapped)
	}
	if twofactor.CodeOf(nil) != "" || twofactor.CodeOf(cause) != twofactor.CodeUnavailable {
		t.Fatal("CodeOf")
	}
	if !errors.Is(&twofactor.Error{Code: twofactor.CodeThrottled, Message: "x"}, &twofactor.Error{Code: twofactor.CodeThrottled}) {
		t.Fatal("errors.Is by code")
	}
}

// TestSignInRateLimit: one address cannot spray sign-ins (SPEC §3
// ratelimit.signin): a burst, then one per interval; other addresses and
// callers without an address are unaffected.
func TestSignInRateLimit(t *testing.T) {
	e := newEnv(t, func(o *twofactor.Options) { o.SignIn = twofactor.SignInLimit{Count: 6, Per: time.Minute, Burst: 3} })
	e.user(t, "alice")
	from := func(addr string) context.Context {
		return twofactor.WithClient(ctx, twofactor.Client{Address: addr})
	}
	for i := 0; i < 3; i++ {
		_, err := e.svc.Login(from("192.0.2.1"), "alice", "wrong password")
		wantCode(t, err, twofactor.CodeInvalidCredentials, "")
	}
	_, err := e.svc.Login(from("192.0.2.1"), "alice", "correct horse")
	if ev := wantCode(t, err, twofactor.CodeThrottled, ""); !ev.RetryAt.Equal(e.clock.Now().Add(10 * time.Second)) {
		t.Fatalf("retry at %v", ev.RetryAt.Sub(e.clock.Now()))
	}
	_, err = e.svc.Login(from("192.0.2.2"), "alice", "correct horse")
	ok(t, err)
	_, err = e.svc.Login(ctx, "alice", "correct horse")
	ok(t, err)
	e.clock.Add(10 * time.Second)
	_, err = e.svc.Login(from("192.0.2.1"), "alice", "correct horse")
	ok(t, err)
	_, err = e.svc.Login(from("192.0.2.1"), "alice", "correct horse")
	wantCode(t, err, twofactor.CodeThrottled, "")
}
