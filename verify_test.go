package twofactor_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

// django-otp's TOTP fixture (seeds-inventory §6.1): key 2a2b…, tokens for
// steps 0…9; the clock stands in step 3.
var (
	fixtureKey    = mustHex("2a2bbba1092ffdd25a328ad1a0a5f5d61d7aacc4")
	fixtureTokens = []string{"179225", "656163", "839400", "154567", "346912", "471576", "045675", "101397", "491039", "784503"}
)

func TestFixtureTokens(t *testing.T) {
	for c, want := range fixtureTokens {
		if got := code(fixtureKey, int64(c)); got != want {
			t.Errorf("step %d: %s, want %s", c, got, want)
		}
	}
}

// TestTOTPWindow ports django-otp's TOTP window tests: which steps verify
// with tolerance 0, 1 and 2 (and the drift learned) with the clock in step 3.
func TestTOTPWindow(t *testing.T) {
	cases := []struct {
		tolerance int
		step      int
		ok        bool
		drift     int64
	}{
		{0, 2, false, 0}, {0, 3, true, 0}, {0, 4, false, 0},
		{1, 1, false, 0}, {1, 2, true, -1}, {1, 3, true, 0}, {1, 4, true, 1}, {1, 5, false, 0},
		{2, 5, true, 2}, {2, 6, false, 0},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("tolerance%d/step%d", c.tolerance, c.step), func(t *testing.T) {
			e := newEnv(t, func(o *twofactor.Options) { o.TOTPTolerance = c.tolerance; o.UserThrottle = 0 })
			u := e.user(t, "alice")
			d := e.totp(t, u, fixtureKey)
			_, err := e.svc.Verify(ctx, u.ID, fixtureTokens[c.step], "")
			if c.ok != (err == nil) {
				t.Fatalf("step %d with tolerance %d: err %v, want ok=%v", c.step, c.tolerance, err, c.ok)
			}
			if c.ok {
				got := e.device(t, d.ID)
				if got.Drift != c.drift || got.Counter != int64(c.step) {
					t.Fatalf("after step %d: drift %d counter %d, want drift %d", c.step, got.Drift, got.Counter, c.drift)
				}
			}
		})
	}
}

func TestTOTPNoDriftSync(t *testing.T) {
	e := newEnv(t, func(o *twofactor.Options) { o.TOTPSyncDrift = false })
	u := e.user(t, "alice")
	d := e.totp(t, u, fixtureKey)
	_, err := e.svc.Verify(ctx, u.ID, fixtureTokens[4], "")
	ok(t, err)
	if got := e.device(t, d.ID); got.Drift != 0 || got.Counter != 4 {
		t.Fatalf("drift sync off: drift %d counter %d", got.Drift, got.Counter)
	}
}

// TestTOTPReplay: a code at or before the last used step never verifies
// again (SPEC §4.2), and the refusal says why.
func TestTOTPReplay(t *testing.T) {
	e := newEnv(t, func(o *twofactor.Options) {
		o.UserThrottle = 0
		o.Throttle = map[twofactor.Kind]time.Duration{twofactor.KindTOTP: 0}
	})
	u := e.user(t, "alice")
	d := e.totp(t, u, fixtureKey)
	_, err := e.svc.Verify(ctx, u.ID, fixtureTokens[3], "")
	ok(t, err)
	_, err = e.svc.Verify(ctx, u.ID, fixtureTokens[3], "")
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonReplayed)
	_, err = e.svc.Verify(ctx, u.ID, fixtureTokens[2], "") // earlier step, inside the window
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonReplayed)
	if got := e.device(t, d.ID); got.Counter != 3 {
		t.Fatalf("counter %d after replays, want 3", got.Counter)
	}
	// The next step is still good (seeds-observed §2: t and t+1 in one window).
	_, err = e.svc.Verify(ctx, u.ID, fixtureTokens[4], "")
	ok(t, err)
}

// TestThrottleSequence ports django-otp's throttle test: bad → good refused
// "because of 1 failed attempt" → +1.1 s bad → "Invalid token" → at once
// bad → "…2 failed attempts" → +2.1 s good → accepted. The per-user
// throttle (also factor 1) runs alongside and must not change the outcome.
func TestThrottleSequence(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	key := fixtureKey
	e.totp(t, u, key)
	step := func(advance time.Duration, input string) error {
		e.clock.Add(advance)
		_, err := e.svc.Verify(ctx, u.ID, input, "")
		return err
	}
	wantCode(t, step(0, "000000"), twofactor.CodeInvalidCode, twofactor.ReasonWrong)
	e1 := wantCode(t, step(0, e.now(key)), twofactor.CodeThrottled, "")
	if e1.Message != "Verification temporarily disabled because of 1 failed attempt, please try again soon." {
		t.Fatalf("message %q", e1.Message)
	}
	if e1.Failures != 1 || !e1.RetryAt.Equal(time.Unix(101, 0)) || e1.RetryAfter(e.clock.Now()) != time.Second {
		t.Fatalf("throttle detail: %+v", e1)
	}
	wantCode(t, step(1100*time.Millisecond, "000000"), twofactor.CodeInvalidCode, "")
	e2 := wantCode(t, step(0, "000000"), twofactor.CodeThrottled, "")
	if !strings.Contains(e2.Message, "because of 2 failed attempts") {
		t.Fatalf("message %q", e2.Message)
	}
	wantCode(t, step(1100*time.Millisecond, e.now(key)), twofactor.CodeThrottled, "") // 1.1 s < 2 s
	_, err := e.svc.Verify(ctx, u.ID, "", "")
	wantCode(t, err, twofactor.CodeValidationFailed, "") // empty input is not an attempt
	if err := step(time.Second, e.now(key)); err != nil {
		t.Fatalf("after 2.1 s the right code was refused: %v", err)
	}
	// A success resets: the next failure waits 1 s again.
	e.clock.Add(30 * time.Second)
	wantCode(t, step(0, "000000"), twofactor.CodeInvalidCode, "")
	if e := wantCode(t, step(0, "000000"), twofactor.CodeThrottled, ""); e.Failures != 1 {
		t.Fatalf("count after reset: %d", e.Failures)
	}
}

// TestMalformedCodesCount: whatever made a code fail counts (SPEC §4.3).
func TestMalformedCodesCount(t *testing.T) {
	for _, input := range []string{"12345", "1234567", "12a456", "+123456", "١٢٣٤٥٦", "123_456"} {
		t.Run(input, func(t *testing.T) {
			e := newEnv(t)
			u := e.user(t, "alice")
			d := e.totp(t, u, fixtureKey)
			_, err := e.svc.Verify(ctx, u.ID, input, "")
			wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonMalformed)
			if got := e.device(t, d.ID); got.Failures != 1 {
				t.Fatalf("malformed code counted %d failures, want 1", got.Failures)
			}
		})
	}
	// Spaces between groups and around the code are fine.
	e := newEnv(t)
	u := e.user(t, "alice")
	e.totp(t, u, fixtureKey)
	_, err := e.svc.Verify(ctx, u.ID, " 346 912 ", "")
	ok(t, err)
}

// TestPerUserThrottle: failures on one device make the user wait on every
// device, so more devices do not mean more guesses (django-otp#110).
func TestPerUserThrottle(t *testing.T) {
	e := newEnv(t, func(o *twofactor.Options) { o.UserThrottle = 10 * time.Second })
	u := e.user(t, "alice")
	a := e.totp(t, u, fixtureKey)
	keyB := mustHex("3132333435363738393031323334353637383930")
	b := e.totp(t, u, keyB)
	_, err := e.svc.Verify(ctx, u.ID, "000000", a.ID)
	wantCode(t, err, twofactor.CodeInvalidCode, "")
	e.clock.Add(2 * time.Second) // device a's own wait (1 s) is over
	_, err = e.svc.Verify(ctx, u.ID, e.now(keyB), b.ID)
	if e := wantCode(t, err, twofactor.CodeThrottled, ""); !e.RetryAt.Equal(time.Unix(110, 0)) {
		t.Fatalf("user wait until %v, want 110s", e.RetryAt.Unix())
	}
	e.clock.Add(8 * time.Second)
	_, err = e.svc.Verify(ctx, u.ID, e.now(keyB), b.ID)
	ok(t, err)
}

// TestCodeCheckedAgainstOneDevice: a code is checked against the chosen
// device or the primary, never against every device in turn (seed #473).
func TestCodeCheckedAgainstOneDevice(t *testing.T) {
	e := newEnv(t, func(o *twofactor.Options) { o.UserThrottle = 0 })
	u := e.user(t, "alice")
	a := e.totp(t, u, fixtureKey)
	keyB := mustHex("3132333435363738393031323334353637383930")
	b := e.totp(t, u, keyB)
	_, err := e.svc.Verify(ctx, u.ID, e.now(keyB), "") // b's code, primary is a
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonWrong)
	if e.device(t, a.ID).Failures != 1 || e.device(t, b.ID).Failures != 0 {
		t.Fatal("the failure was not counted on the primary alone")
	}
	e.clock.Add(time.Minute)
	_, err = e.svc.Verify(ctx, u.ID, e.now(keyB), b.ID)
	ok(t, err)
}

func TestBackupCodes(t *testing.T) {
	e := newEnv(t, func(o *twofactor.Options) { o.UserThrottle = 0 })
	u := e.user(t, "alice")
	d := e.totp(t, u, fixtureKey)
	codes, err := e.svc.RegenerateBackupCodes(ctx, twofactor.OperatorActor(u.ID))
	ok(t, err)
	form := regexp.MustCompile(`^[2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !form.MatchString(c) || seen[c] {
			t.Fatalf("code %q: wrong form or repeated", c)
		}
		seen[c] = true
	}
	if len(codes) != 10 {
		t.Fatalf("%d codes, want 10", len(codes))
	}
	// Case, dashes and spaces do not matter.
	for i, input := range []string{codes[0], strings.ToUpper(codes[1]), strings.ReplaceAll(codes[2], "-", ""), " " + strings.ReplaceAll(codes[3], "-", " ") + " "} {
		got, err := e.svc.Verify(ctx, u.ID, input, "")
		if err != nil {
			t.Fatalf("input %d %q: %v", i, input, err)
		}
		if got.Kind != twofactor.KindStatic {
			t.Fatalf("verified by %s, want the backup codes", got.Kind)
		}
	}
	// Single use.
	e.clock.Add(time.Minute)
	_, err = e.svc.Verify(ctx, u.ID, codes[0], "")
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonWrong)
	if n, _ := e.svc.BackupCodesRemaining(ctx, u.ID); n != 6 {
		t.Fatalf("%d codes left, want 6", n)
	}
	// A new set replaces the old one.
	e.clock.Add(time.Minute)
	fresh, err := e.svc.RegenerateBackupCodes(ctx, twofactor.OperatorActor(u.ID))
	ok(t, err)
	_, err = e.svc.Verify(ctx, u.ID, codes[5], "")
	wantCode(t, err, twofactor.CodeInvalidCode, "")
	e.clock.Add(time.Minute)
	_, err = e.svc.Verify(ctx, u.ID, fresh[0], "")
	ok(t, err)
	// Issue #473: backup failures count on the backup codes only, TOTP
	// failures on the TOTP device only, and a TOTP success leaves the
	// backup codes' count alone.
	e.clock.Add(time.Minute)
	_, err = e.svc.Verify(ctx, u.ID, "zzzzz-zzzzz", "")
	wantCode(t, err, twofactor.CodeInvalidCode, "")
	st, _ := e.svc.Status(ctx, u.ID)
	static := staticOf(t, e, u.ID)
	if static.Failures != 1 || e.device(t, d.ID).Failures != 0 {
		t.Fatalf("after a bad backup code: static %d, totp %d failures", static.Failures, e.device(t, d.ID).Failures)
	}
	e.clock.Add(time.Minute)
	_, err = e.svc.Verify(ctx, u.ID, e.now(fixtureKey), "")
	ok(t, err)
	if staticOf(t, e, u.ID).Failures != 1 {
		t.Fatal("a TOTP success reset the backup codes' failures")
	}
	_ = st
}

func staticOf(t *testing.T, e *env, userID string) *twofactor.Device {
	t.Helper()
	ds, err := e.store.DevicesByUser(ctx, userID)
	ok(t, err)
	for _, d := range ds {
		if d.Kind == twofactor.KindStatic {
			return &d
		}
	}
	t.Fatal("no static device")
	return nil
}

func TestBackupCodeForms(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	e.totp(t, u, fixtureKey)
	_, err := e.svc.RegenerateBackupCodes(ctx, twofactor.OperatorActor(u.ID))
	ok(t, err)
	// Inputs of backup-code form go to the backup codes; with illegal
	// letters they fail as malformed there, not at the TOTP device.
	_, err = e.svc.Verify(ctx, u.ID, "lllll-00000", "")
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonMalformed)
	if staticOf(t, e, u.ID).Failures != 1 {
		t.Fatal("malformed backup code not counted on the backup codes")
	}
}

func TestBackupCodesNeedTwoFactor(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	_, err := e.svc.RegenerateBackupCodes(ctx, twofactor.OperatorActor(u.ID))
	wantCode(t, err, twofactor.CodeNoDevice, "")
	_, err = e.svc.Verify(ctx, u.ID, "abcde-fghjk", "")
	wantCode(t, err, twofactor.CodeNoDevice, "")
	_, err = e.svc.Verify(ctx, u.ID, "123456", "")
	wantCode(t, err, twofactor.CodeNoDevice, "")
}

func TestVerifyDeviceOwnership(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	e.totp(t, alice, fixtureKey)
	bd := e.totp(t, bob, fixtureKey)
	_, err := e.svc.Verify(ctx, alice.ID, e.now(fixtureKey), bd.ID)
	wantCode(t, err, twofactor.CodeNotFound, "")
	_, err = e.svc.VerifyDevice(ctx, alice.ID, "no-such-device", "123456")
	wantCode(t, err, twofactor.CodeNotFound, "")
	if e.device(t, bd.ID).Failures != 0 {
		t.Fatal("alice's attempt counted on bob's device")
	}
}

// TestVerifyDeviceStrict: VerifyDevice checks exactly the named device
// whatever the input looks like (twofactor verify --device).
func TestVerifyDeviceStrict(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	d := e.totp(t, u, fixtureKey)
	codes, err := e.svc.RegenerateBackupCodes(ctx, twofactor.OperatorActor(u.ID))
	ok(t, err)
	_, err = e.svc.VerifyDevice(ctx, u.ID, d.ID, codes[0])
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonMalformed)
	e.clock.Add(time.Minute)
	static := staticOf(t, e, u.ID)
	got, err := e.svc.VerifyDevice(ctx, u.ID, static.ID, codes[0])
	ok(t, err)
	if got.ID != static.ID {
		t.Fatal("wrong device")
	}
}
