package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

// racers is how many goroutines race for one thing.
const racers = 100

// race runs fn in racers goroutines released together and returns how many
// reported true. Errors fail the test.
func race(t *testing.T, fn func(i int) (bool, error)) int {
	t.Helper()
	var wins atomic.Int64
	var start, done sync.WaitGroup
	start.Add(1)
	errs := make(chan error, racers)
	for i := 0; i < racers; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			ok, err := fn(i)
			if err != nil {
				errs <- err
				return
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	start.Done()
	done.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return int(wins.Load())
}

func testRaceVerifyCounter(t *testing.T, s twofactor.Store) {
	d := addDevice(t, s, "u", twofactor.KindTOTP, true, t0)
	wins := race(t, func(int) (bool, error) {
		r, err := s.Verify(ctx, twofactor.Verification{Attempt: twofactor.Attempt{UserID: "u", DeviceID: d.ID, Now: t0},
			Check: func(*twofactor.Device) twofactor.Check { return twofactor.Check{Counter: 7} }})
		return r.Verified, err
	})
	if wins != 1 {
		t.Fatalf("%d of %d concurrent consumptions of one counter succeeded, want exactly 1", wins, racers)
	}
}

func testRaceVerifyBackupCode(t *testing.T, s twofactor.Store) {
	d, err := s.ReplaceBackupCodes(ctx, device("u", twofactor.KindStatic, true, t0), [][]byte{[]byte("one"), []byte("two")})
	must(t, err)
	wins := race(t, func(int) (bool, error) {
		r, err := s.Verify(ctx, twofactor.Verification{Attempt: twofactor.Attempt{UserID: "u", DeviceID: d.ID, Now: t0},
			Check: func(*twofactor.Device) twofactor.Check { return twofactor.Check{CodeHashes: [][]byte{[]byte("one")}} }})
		return r.Verified, err
	})
	if wins != 1 {
		t.Fatalf("%d of %d concurrent uses of one backup code succeeded, want exactly 1", wins, racers)
	}
	if n, _ := s.CountBackupCodes(ctx, "u"); n != 1 {
		t.Fatalf("%d codes left, want 1", n)
	}
}

// testRaceClaimThrottled: with a throttle on, of 100 simultaneous guesses
// only one is evaluated; the counters end at exactly 1.
func testRaceClaimThrottled(t *testing.T, s twofactor.Store) {
	d := addDevice(t, s, "u", twofactor.KindTOTP, true, t0)
	wins := race(t, func(int) (bool, error) {
		r, err := s.ClaimAttempt(ctx, twofactor.Attempt{UserID: "u", DeviceID: d.ID, Now: t0, UserFactor: time.Second, DeviceFactor: time.Second})
		return r.Allowed, err
	})
	if wins != 1 {
		t.Fatalf("%d of %d simultaneous attempts were allowed, want 1", wins, racers)
	}
	if got := get(t, s, d.ID); got.Failures != 1 {
		t.Fatalf("device counter %d, want 1", got.Failures)
	}
	// The user's counter is exact too: the next allowed attempt is failure 2.
	r := claim(t, s, twofactor.Attempt{UserID: "u", DeviceID: addDevice(t, s, "u", twofactor.KindHOTP, true, t0).ID,
		Now: t0.Add(500 * time.Millisecond), UserFactor: time.Second, DeviceFactor: time.Second})
	if r.Allowed || r.Failures != 1 {
		t.Fatalf("user throttle after the race: %+v, want refused after 1 failure", r)
	}
}

// testRaceClaimCountsExactly: with throttles off every attempt is allowed
// and counted, none lost to a concurrent update.
func testRaceClaimCountsExactly(t *testing.T, s twofactor.Store) {
	d := addDevice(t, s, "u", twofactor.KindTOTP, true, t0)
	wins := race(t, func(int) (bool, error) {
		r, err := s.ClaimAttempt(ctx, twofactor.Attempt{UserID: "u", DeviceID: d.ID, Now: t0})
		return r.Allowed, err
	})
	if wins != racers {
		t.Fatalf("%d of %d attempts allowed with throttling off", wins, racers)
	}
	if got := get(t, s, d.ID); got.Failures != racers {
		t.Fatalf("device counted %d failures, want %d", got.Failures, racers)
	}
	// The user's counter: one more allowed attempt with a 1 s factor sets a
	// wait of 2^100 → capped; what matters is that it is refused next with
	// exactly racers+1 failures.
	claimOK(t, s, twofactor.Attempt{UserID: "u", DeviceID: d.ID, Now: t0, UserFactor: time.Second})
	r := claim(t, s, twofactor.Attempt{UserID: "u", DeviceID: d.ID, Now: t0, UserFactor: time.Second})
	if r.Allowed || r.Failures != racers+1 {
		t.Fatalf("user counter after the race: %+v, want refused after %d failures", r, racers+1)
	}
}

func testRaceDeleteChallenge(t *testing.T, s twofactor.Store) {
	must(t, s.CreateChallenge(ctx, &twofactor.Challenge{IDHash: []byte("c"), UserID: "u", CreatedAt: t0}))
	wins := race(t, func(int) (bool, error) { return s.DeleteChallenge(ctx, []byte("c")) })
	if wins != 1 {
		t.Fatalf("%d concurrent completions of one challenge, want 1", wins)
	}
}

// testRacePrimary: devices confirmed concurrently still leave exactly one
// primary.
func testRacePrimary(t *testing.T, s twofactor.Store) {
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = addDevice(t, s, "u", twofactor.KindTOTP, false, t0).ID
	}
	wins := race(t, func(i int) (bool, error) {
		if i >= len(ids) {
			return false, nil
		}
		r, err := s.Verify(ctx, twofactor.Verification{Attempt: twofactor.Attempt{UserID: "u", DeviceID: ids[i], Now: t0},
			Check: func(*twofactor.Device) twofactor.Check { return twofactor.Check{Counter: 1} }, Confirm: true})
		return err == nil && r.Verified && r.Device.Primary, err
	})
	if wins != 1 {
		t.Fatalf("%d devices reported becoming primary, want 1", wins)
	}
	if primaryID(t, s, "u") == "" {
		t.Fatal("no primary device")
	}
}
