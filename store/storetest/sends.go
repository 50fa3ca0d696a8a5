package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

func reserve(t *testing.T, s twofactor.Store, userID, deviceID, hash string, now time.Time, limit int) twofactor.SendResult {
	t.Helper()
	r, err := s.ReserveSend(ctx, twofactor.Send{UserID: userID, DeviceID: deviceID, CodeHash: []byte(hash), Now: now,
		ExpiresAt: now.Add(90 * time.Second), Cooldown: time.Minute, DailyLimit: limit})
	must(t, err)
	return r
}

func verifySent(t *testing.T, s twofactor.Store, userID, deviceID string, now time.Time, hashes ...string) twofactor.VerifyResult {
	t.Helper()
	var hs [][]byte
	for _, h := range hashes {
		hs = append(hs, []byte(h))
	}
	r, err := s.Verify(ctx, twofactor.Verification{Attempt: twofactor.Attempt{UserID: userID, DeviceID: deviceID, Now: now},
		Check: func(*twofactor.Device) twofactor.Check { return twofactor.Check{CodeHashes: hs} }})
	must(t, err)
	return r
}

// testSends: one pending code per device, a cooldown between codes, a daily
// limit per user, and sent codes that verify once, only while valid.
func testSends(t *testing.T, s twofactor.Store) {
	d := addDevice(t, s, "u", twofactor.KindSMS, true, t0)
	if r := verifySent(t, s, "u", d.ID, t0, "x"); r.Verified || r.Reason != twofactor.ReasonNotPending {
		t.Fatalf("nothing sent yet: %+v", r)
	}
	if r := reserve(t, s, "u", d.ID, "c1", t0, 3); !r.Allowed {
		t.Fatalf("first send refused: %+v", r)
	}
	if r := reserve(t, s, "u", d.ID, "c2", t0.Add(59*time.Second), 3); r.Allowed || r.Reason != "cooldown" || !r.RetryAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("send inside the cooldown: %+v", r)
	}
	// The refused send did not replace the pending code.
	if r := verifySent(t, s, "u", d.ID, t0.Add(10*time.Second), "c2"); r.Verified || r.Reason != twofactor.ReasonWrong {
		t.Fatalf("code of a refused send: %+v", r)
	}
	if r := verifySent(t, s, "u", d.ID, t0.Add(11*time.Second), "zz", "c1"); !r.Verified {
		t.Fatalf("pending code refused: %+v", r)
	}
	if r := verifySent(t, s, "u", d.ID, t0.Add(12*time.Second), "c1"); r.Verified || r.Reason != twofactor.ReasonNotPending {
		t.Fatalf("code used twice: %+v", r)
	}
	// Expiry.
	if r := reserve(t, s, "u", d.ID, "c3", t0.Add(time.Minute), 3); !r.Allowed {
		t.Fatalf("send after the cooldown refused: %+v", r)
	}
	if r := verifySent(t, s, "u", d.ID, t0.Add(time.Minute+90*time.Second), "c3"); r.Verified || r.Reason != twofactor.ReasonExpired {
		t.Fatalf("expired code: %+v", r)
	}
	// The daily limit counts per user, across devices, and resets the next
	// UTC day.
	d2 := addDevice(t, s, "u", twofactor.KindEmail, true, t0)
	if r := reserve(t, s, "u", d2.ID, "e1", t0.Add(2*time.Minute), 3); !r.Allowed {
		t.Fatalf("third send of the day refused: %+v", r)
	}
	r := reserve(t, s, "u", d2.ID, "e2", t0.Add(3*time.Minute+10*time.Second), 3)
	nextDay := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	if r.Allowed || r.Reason != "daily_limit" || !r.RetryAt.Equal(nextDay) {
		t.Fatalf("fourth send of the day: %+v", r)
	}
	// The refusal rolled back: e1 is still the pending code.
	if r := verifySent(t, s, "u", d2.ID, t0.Add(3*time.Minute+20*time.Second), "e1"); !r.Verified {
		t.Fatalf("the daily-limit refusal replaced the pending code: %+v", r)
	}
	if r := reserve(t, s, "u", d2.ID, "e3", nextDay, 3); !r.Allowed {
		t.Fatalf("send the next day refused: %+v", r)
	}
	// CancelSend removes the pending code only if it is still that one.
	must(t, s.CancelSend(ctx, d2.ID, []byte("other")))
	must(t, s.CancelSend(ctx, d2.ID, []byte("e3")))
	if r := verifySent(t, s, "u", d2.ID, nextDay, "e3"); r.Reason != twofactor.ReasonNotPending {
		t.Fatalf("cancelled code: %+v", r)
	}
	n, err := s.DeleteExpiredSends(ctx, nextDay.Add(time.Hour))
	must(t, err)
	if n < 1 {
		t.Fatalf("DeleteExpiredSends removed %d", n)
	}
}

// testRaceSends: 100 concurrent sends to one device inside one cooldown:
// exactly one is allowed.
func testRaceSends(t *testing.T, s twofactor.Store) {
	d := addDevice(t, s, "u", twofactor.KindSMS, true, t0)
	wins := race(t, func(i int) (bool, error) {
		r, err := s.ReserveSend(ctx, twofactor.Send{UserID: "u", DeviceID: d.ID, CodeHash: []byte{byte(i)}, Now: t0,
			ExpiresAt: t0.Add(time.Minute), Cooldown: time.Minute, DailyLimit: 1000})
		return r.Allowed, err
	})
	if wins != 1 {
		t.Fatalf("%d of %d concurrent sends allowed inside one cooldown, want 1", wins, racers)
	}
	// And the daily limit is exact: 100 devices, limit 7.
	ids := make([]string, racers)
	for i := range ids {
		ids[i] = addDevice(t, s, "v", twofactor.KindSMS, true, t0).ID
	}
	wins = race(t, func(i int) (bool, error) {
		r, err := s.ReserveSend(ctx, twofactor.Send{UserID: "v", DeviceID: ids[i], CodeHash: []byte{1}, Now: t0,
			ExpiresAt: t0.Add(time.Minute), Cooldown: time.Minute, DailyLimit: 7})
		return r.Allowed, err
	})
	if wins != 7 {
		t.Fatalf("%d sends allowed with a daily limit of 7", wins)
	}
}

func testCalls(t *testing.T, s twofactor.Store) {
	c := &twofactor.CallScript{IDHash: []byte("call-1"), DeviceID: "d", Script: []byte("sealed"), ExpiresAt: t0.Add(time.Minute)}
	must(t, s.CreateCall(ctx, c))
	got, err := s.CallByHash(ctx, [][]byte{[]byte("x"), []byte("call-1")}, t0)
	must(t, err)
	if got.DeviceID != "d" || string(got.Script) != "sealed" || !got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Fatalf("round trip: %+v", got)
	}
	if _, err := s.CallByHash(ctx, [][]byte{[]byte("call-1")}, t0.Add(time.Minute)); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("expired call: %v", err)
	}
	if _, err := s.CallByHash(ctx, nil, t0); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("no hashes: %v", err)
	}
}
