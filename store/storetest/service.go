package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/otp"
	"github.com/twofactor/twofactor/secret"
)

// service returns a Service on s with a fixed clock and throttling off, so
// that every racing request is evaluated and only the store's atomic
// consumption stands between a code and its second use.
func service(t *testing.T, s twofactor.Store, now time.Time) *twofactor.Service {
	t.Helper()
	keys, err := secret.NewKeyring([]byte("0123456789abcdef0123456789abcdef"))
	must(t, err)
	opts := twofactor.DefaultOptions()
	opts.UserThrottle = 0
	opts.Throttle = map[twofactor.Kind]time.Duration{twofactor.KindTOTP: 0, twofactor.KindStatic: 0}
	svc, err := twofactor.New(twofactor.Config{Store: s, Keys: keys, Options: opts,
		Clock: twofactor.ClockFunc(func() time.Time { return now })})
	must(t, err)
	return svc
}

// testServiceRaceTOTP: 100 goroutines submit the same valid TOTP code; the
// code verifies exactly once (SPEC §10.1).
func testServiceRaceTOTP(t *testing.T, s twofactor.Store) {
	svc := service(t, s, t0)
	e, err := svc.ImportTOTP(ctx, twofactor.OperatorActor("u"), twofactor.TOTPSpec{}, "u")
	must(t, err)
	code := otp.Format(otp.TOTP{Key: e.Key, Digits: 6, Step: 30}.At(t0.Unix(), 0), 6)
	wins := race(t, func(int) (bool, error) {
		_, err := svc.Verify(ctx, "u", code, "")
		return err == nil, ignoreRefusal(err)
	})
	if wins != 1 {
		t.Fatalf("one TOTP code verified %d times under %d concurrent requests, want 1", wins, racers)
	}
}

// testServiceRaceBackupCode: the same for one backup code.
func testServiceRaceBackupCode(t *testing.T, s twofactor.Store) {
	svc := service(t, s, t0)
	_, err := svc.ImportTOTP(ctx, twofactor.OperatorActor("u"), twofactor.TOTPSpec{}, "u")
	must(t, err)
	codes, err := svc.RegenerateBackupCodes(ctx, twofactor.OperatorActor("u"))
	must(t, err)
	wins := race(t, func(int) (bool, error) {
		_, err := svc.Verify(ctx, "u", codes[3], "")
		return err == nil, ignoreRefusal(err)
	})
	if wins != 1 {
		t.Fatalf("one backup code verified %d times under %d concurrent requests, want 1", wins, racers)
	}
	if n, _ := svc.BackupCodesRemaining(ctx, "u"); n != len(codes)-1 {
		t.Fatalf("%d backup codes left, want %d", n, len(codes)-1)
	}
}

// ignoreRefusal keeps user-level refusals (invalid code, throttled) out of
// the race's error channel; only system failures fail the test.
func ignoreRefusal(err error) error {
	var e *twofactor.Error
	if errors.As(err, &e) && e.Code != twofactor.CodeUnavailable {
		return nil
	}
	return err
}
