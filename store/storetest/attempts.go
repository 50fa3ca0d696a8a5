package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

func claim(t *testing.T, s twofactor.Store, a twofactor.Attempt) twofactor.AttemptResult {
	t.Helper()
	r, err := s.ClaimAttempt(ctx, a)
	must(t, err)
	return r
}

func claimOK(t *testing.T, s twofactor.Store, a twofactor.Attempt) {
	t.Helper()
	if r := claim(t, s, a); !r.Allowed {
		t.Fatalf("attempt %+v refused: %+v", a, r)
	}
}

func claimRefused(t *testing.T, s twofactor.Store, a twofactor.Attempt, retryAt time.Time, failures int) {
	t.Helper()
	r := claim(t, s, a)
	if r.Allowed || !r.RetryAt.Equal(retryAt) || r.Failures != failures {
		t.Fatalf("attempt at %v: got %+v, want refused until %v after %d failures", a.Now.Sub(t0), r, retryAt.Sub(t0), failures)
	}
}

// testClaimAttempt follows django-otp's throttle: after n consecutive
// failures the device waits factor×2^(n−1) from the last failure; refused
// attempts do not count; a success resets.
func testClaimAttempt(t *testing.T, s twofactor.Store) {
	d := addDevice(t, s, "u", twofactor.KindTOTP, true, t0)
	at := func(off time.Duration) twofactor.Attempt {
		return twofactor.Attempt{UserID: "u", DeviceID: d.ID, Now: t0.Add(off), DeviceFactor: time.Second}
	}
	claimOK(t, s, at(0)) // failure 1 → wait 1 s
	claimRefused(t, s, at(999*time.Millisecond), t0.Add(time.Second), 1)
	claimRefused(t, s, at(500*time.Millisecond), t0.Add(time.Second), 1) // refusals do not count
	claimOK(t, s, at(time.Second))                                       // failure 2 → wait 2 s
	claimRefused(t, s, at(2999*time.Millisecond), t0.Add(3*time.Second), 2)
	claimOK(t, s, at(3*time.Second)) // failure 3 → wait 4 s
	claimRefused(t, s, at(6*time.Second), t0.Add(7*time.Second), 3)
	if got := get(t, s, d.ID); got.Failures != 3 || !got.LockedUntil.Equal(t0.Add(7*time.Second)) {
		t.Fatalf("device throttle state %d/%v, want 3 until +7s", got.Failures, got.LockedUntil.Sub(t0))
	}
	// A success resets.
	r := verify(t, s, at(7*time.Second), twofactor.Check{Counter: 1})
	got := get(t, s, d.ID)
	if !r.Verified || got.Failures != 0 || !got.LockedUntil.IsZero() || !got.LastUsedAt.Equal(t0.Add(7*time.Second)) {
		t.Fatalf("a success did not reset: %+v / %+v", r, got)
	}
	claimOK(t, s, at(7*time.Second))

	// Factor 0: never waits, but every attempt counts.
	z := addDevice(t, s, "z", twofactor.KindTOTP, true, t0)
	for i := 0; i < 5; i++ {
		claimOK(t, s, twofactor.Attempt{UserID: "z", DeviceID: z.ID, Now: t0, DeviceOnly: true})
	}
	if got := get(t, s, z.ID); got.Failures != 5 {
		t.Fatalf("factor 0: %d failures counted, want 5", got.Failures)
	}

	// The wait keeps doubling, capped so the arithmetic stays in range.
	c := addDevice(t, s, "c", twofactor.KindTOTP, true, t0)
	now := t0
	for i := 0; i < 40; i++ {
		a := twofactor.Attempt{UserID: "c", DeviceID: c.ID, Now: now, DeviceFactor: time.Hour, DeviceOnly: true}
		claimOK(t, s, a)
		now = get(t, s, c.ID).LockedUntil
	}
	if got := get(t, s, c.ID); got.Failures != 40 || got.LockedUntil.Sub(t0) < 1<<20*time.Hour {
		t.Fatalf("after 40 failures: %d, wait %v", got.Failures, got.LockedUntil.Sub(t0))
	}

	if _, err := s.ClaimAttempt(ctx, twofactor.Attempt{UserID: "other", DeviceID: d.ID, Now: t0.Add(time.Hour), DeviceOnly: true}); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("claim on another user's device: got %v, want ErrNotFound", err)
	}
}

// testClaimAttemptScopes checks the per-user throttle across devices.
func testClaimAttemptScopes(t *testing.T, s twofactor.Store) {
	a := addDevice(t, s, "u", twofactor.KindTOTP, true, t0)
	b := addDevice(t, s, "u", twofactor.KindStatic, true, t0)
	att := func(d *twofactor.Device, off time.Duration) twofactor.Attempt {
		return twofactor.Attempt{UserID: "u", DeviceID: d.ID, Now: t0.Add(off), UserFactor: 10 * time.Second, DeviceFactor: time.Second}
	}
	claimOK(t, s, att(a, 0))
	// The user waits 10 s, whichever device is tried.
	claimRefused(t, s, att(b, 2*time.Second), t0.Add(10*time.Second), 1)
	if got := get(t, s, b.ID); got.Failures != 0 {
		t.Fatal("a refused attempt counted against the other device")
	}
	claimOK(t, s, att(b, 10*time.Second))
	// Device a's own wait ended long ago, the user's has not.
	claimRefused(t, s, att(a, 11*time.Second), t0.Add(30*time.Second), 2)

	// A device that refuses rolls back the user's claim.
	claimOK(t, s, twofactor.Attempt{UserID: "v", DeviceID: addDevice(t, s, "v", twofactor.KindTOTP, true, t0).ID, Now: t0, DeviceFactor: time.Hour, DeviceOnly: true})
	vd := get(t, s, primaryID(t, s, "v"))
	claimRefused(t, s, twofactor.Attempt{UserID: "v", DeviceID: vd.ID, Now: t0.Add(time.Second), UserFactor: time.Second, DeviceFactor: time.Hour}, t0.Add(time.Hour), 1)
	other := addDevice(t, s, "v", twofactor.KindHOTP, true, t0)
	// Had the refused attempt counted for the user, this would be refused.
	claimOK(t, s, twofactor.Attempt{UserID: "v", DeviceID: other.ID, Now: t0.Add(time.Second), UserFactor: time.Hour, DeviceFactor: time.Second})

	// Success on any device resets the user's count.
	if r := verify(t, s, att(a, 30*time.Second), twofactor.Check{Counter: 1}); !r.Verified {
		t.Fatalf("verification refused: %+v", r)
	}
	claimOK(t, s, att(b, 30*time.Second))
}

// verify runs a Verification whose check returns c, recording one event.
func verify(t *testing.T, s twofactor.Store, a twofactor.Attempt, c twofactor.Check) twofactor.VerifyResult {
	t.Helper()
	r, err := s.Verify(ctx, twofactor.Verification{Attempt: a,
		Check: func(*twofactor.Device) twofactor.Check { return c },
		Events: func(d *twofactor.Device, r *twofactor.VerifyResult) []twofactor.Event {
			return []twofactor.Event{{Kind: twofactor.EventUserVerified, Time: a.Now, UserID: a.UserID, DeviceID: d.ID, Outcome: twofactor.OutcomeSuccess}}
		}})
	must(t, err)
	return r
}

func testVerifyCounter(t *testing.T, s twofactor.Store) {
	d := addDevice(t, s, "u", twofactor.KindTOTP, true, t0)
	at := twofactor.Attempt{UserID: "u", DeviceID: d.ID, Now: t0}
	var seen *twofactor.Device
	r, err := s.Verify(ctx, twofactor.Verification{Attempt: at,
		Check: func(x *twofactor.Device) twofactor.Check { seen = x; return twofactor.Check{Counter: 10, Drift: 1} }})
	must(t, err)
	if !r.Allowed || !r.Verified || r.Reason != "" || seen == nil || seen.ID != d.ID || seen.Counter != -1 {
		t.Fatalf("fresh counter: %+v, check saw %+v", r, seen)
	}
	if got := get(t, s, d.ID); got.Counter != 10 || got.Drift != 1 || got.Failures != 0 || !got.LastUsedAt.Equal(t0) {
		t.Fatalf("after consume: %+v", got)
	}
	// The check sees the stored counter; a value at or below it is a replay.
	for _, c := range []int64{10, 9, -1} {
		if r := verify(t, s, at, twofactor.Check{Counter: c}); r.Verified || r.Reason != twofactor.ReasonReplayed {
			t.Fatalf("counter %d at or below 10: %+v, want refused as replayed", c, r)
		}
	}
	if get(t, s, d.ID).Failures != 3 {
		t.Fatal("replays were not counted as failures")
	}
	// A failed check keeps the claim's count and changes nothing else.
	r = verify(t, s, at, twofactor.Check{Reason: twofactor.ReasonWrong})
	if r.Verified || r.Reason != twofactor.ReasonWrong || get(t, s, d.ID).Failures != 4 || get(t, s, d.ID).Counter != 10 {
		t.Fatalf("failed check: %+v", r)
	}
	if r := verify(t, s, at, twofactor.Check{Counter: 11}); !r.Verified {
		t.Fatalf("next counter refused: %+v", r)
	}
	// An error aborts: nothing is counted or consumed.
	_, err = s.Verify(ctx, twofactor.Verification{Attempt: at, Check: func(*twofactor.Device) twofactor.Check {
		return twofactor.Check{Err: errors.New("key unavailable")}
	}})
	if err == nil || get(t, s, d.ID).Failures != 0 {
		t.Fatalf("aborted verification: err %v, failures %d", err, get(t, s, d.ID).Failures)
	}
	// Another user's device is not found.
	if _, err := s.Verify(ctx, twofactor.Verification{Attempt: twofactor.Attempt{UserID: "other", DeviceID: d.ID, Now: t0},
		Check: func(*twofactor.Device) twofactor.Check { return twofactor.Check{Counter: 99} }}); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("another user's device: %v, want ErrNotFound", err)
	}
	// Events are recorded in the same transaction, refusals included.
	waiting := addDevice(t, s, "w", twofactor.KindTOTP, true, t0)
	wa := twofactor.Attempt{UserID: "w", DeviceID: waiting.ID, Now: t0, DeviceFactor: time.Minute}
	verify(t, s, wa, twofactor.Check{Reason: twofactor.ReasonWrong})
	r = verify(t, s, wa, twofactor.Check{Counter: 1})
	if r.Allowed || len(r.Events) != 1 || r.Events[0].ID == 0 || r.Device == nil || r.Device.ID != waiting.ID {
		t.Fatalf("refused verification: %+v", r)
	}
	es, err := s.EventsByUser(ctx, "w", 10)
	must(t, err)
	if len(es) != 2 || es[0].ID != r.Events[0].ID {
		t.Fatalf("audit after two verifications: %+v", es)
	}
}
