package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

func testBackupCodes(t *testing.T, s twofactor.Store) {
	if n, err := s.CountBackupCodes(ctx, "u"); err != nil || n != 0 {
		t.Fatalf("count without codes: %d, %v", n, err)
	}
	static := device("u", twofactor.KindStatic, true, t0)
	d, err := s.ReplaceBackupCodes(ctx, static, [][]byte{[]byte("h1"), []byte("h2"), []byte("h3")})
	must(t, err)
	if d.ID != static.ID || d.Primary {
		t.Fatalf("ReplaceBackupCodes created %+v", d)
	}
	if n, _ := s.CountBackupCodes(ctx, "u"); n != 3 {
		t.Fatalf("count %d, want 3", n)
	}
	consume := func(user string, hashes ...string) bool {
		t.Helper()
		var hs [][]byte
		for _, h := range hashes {
			hs = append(hs, []byte(h))
		}
		r, err := s.Verify(ctx, twofactor.Verification{Attempt: twofactor.Attempt{UserID: user, DeviceID: d.ID, Now: t0.Add(time.Minute)},
			Check: func(*twofactor.Device) twofactor.Check { return twofactor.Check{CodeHashes: hs} }})
		if user != "u" {
			if !errors.Is(err, twofactor.ErrNotFound) {
				t.Fatalf("another user's backup codes: %v, want ErrNotFound", err)
			}
			return false
		}
		must(t, err)
		if !r.Verified && r.Reason != twofactor.ReasonWrong {
			t.Fatalf("missing code: reason %q, want wrong", r.Reason)
		}
		return r.Verified
	}
	if consume("other", "h1") {
		t.Fatal("another user consumed a code")
	}
	if consume("u", "nope") {
		t.Fatal("a missing code was consumed")
	}
	if !consume("u", "old-key-hash", "h2") {
		t.Fatal("code h2 (second of the key hashes) was not consumed")
	}
	if consume("u", "h2") {
		t.Fatal("code h2 consumed twice")
	}
	if got := get(t, s, d.ID); !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Fatal("last use not recorded")
	}
	if n, _ := s.CountBackupCodes(ctx, "u"); n != 2 {
		t.Fatalf("count %d, want 2", n)
	}
	// Replacing keeps the device and drops the old codes.
	d2, err := s.ReplaceBackupCodes(ctx, device("u", twofactor.KindStatic, true, t0), [][]byte{[]byte("n1")})
	must(t, err)
	if d2.ID != d.ID {
		t.Fatal("ReplaceBackupCodes made a second static device")
	}
	if consume("u", "h1") || !consume("u", "n1") {
		t.Fatal("old codes survived or new code missing")
	}
	if _, err := s.ReplaceBackupCodes(ctx, device("u", twofactor.KindStatic, true, t0), nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountBackupCodes(ctx, "u"); n != 0 {
		t.Fatalf("empty replacement left %d codes", n)
	}
}

func testChallenges(t *testing.T, s twofactor.Store) {
	c := &twofactor.Challenge{IDHash: []byte("hash-a"), UserID: "u", CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	must(t, s.CreateChallenge(ctx, c))
	must(t, s.CreateChallenge(ctx, &twofactor.Challenge{IDHash: []byte("hash-b"), UserID: "u", CreatedAt: t0}))
	if err := s.CreateChallenge(ctx, c); !errors.Is(err, twofactor.ErrConflict) {
		t.Fatalf("duplicate challenge: got %v, want ErrConflict", err)
	}
	got, err := s.ChallengeByHash(ctx, [][]byte{[]byte("x"), []byte("hash-a")})
	must(t, err)
	if string(got.IDHash) != "hash-a" || got.UserID != "u" || got.DeviceID != "" || !got.CreatedAt.Equal(t0) || !got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Fatalf("round trip: %+v", got)
	}
	must(t, s.SetChallengeDevice(ctx, []byte("hash-a"), "dev1"))
	if got, _ := s.ChallengeByHash(ctx, [][]byte{[]byte("hash-a")}); got.DeviceID != "dev1" {
		t.Fatal("device choice not stored")
	}
	if err := s.SetChallengeDevice(ctx, []byte("nope"), "d"); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("SetChallengeDevice on a missing challenge: %v", err)
	}
	if _, err := s.ChallengeByHash(ctx, nil); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("no hashes: %v", err)
	}
	n, err := s.DeleteExpiredChallenges(ctx, t0.Add(10*time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("expired challenges deleted: %d, want 1 (the one without expiry stays)", n)
	}
	ok, err := s.DeleteChallenge(ctx, []byte("hash-b"))
	must(t, err)
	ok2, err := s.DeleteChallenge(ctx, []byte("hash-b"))
	must(t, err)
	if !ok || ok2 {
		t.Fatalf("DeleteChallenge twice: %v then %v, want true then false", ok, ok2)
	}
}

func testAudit(t *testing.T, s twofactor.Store) {
	var last int64
	for i, k := range []twofactor.EventKind{twofactor.EventDeviceAdded, twofactor.EventUserVerified, twofactor.EventVerificationFailed} {
		e := &twofactor.Event{Kind: k, Time: t0.Add(time.Duration(i) * time.Second), UserID: "u", DeviceID: "d",
			DeviceKind: twofactor.KindTOTP, Outcome: twofactor.OutcomeSuccess, Reason: "r",
			Client: twofactor.Client{Address: "192.0.2.1", UserAgent: "agent"}}
		must(t, s.AppendEvent(ctx, e))
		if e.ID <= last {
			t.Fatalf("event ids not increasing: %d after %d", e.ID, last)
		}
		last = e.ID
	}
	// Client-supplied strings are bounded and made valid UTF-8.
	long := &twofactor.Event{Kind: twofactor.EventThrottled, Time: t0, UserID: "u", Outcome: twofactor.OutcomeRefused,
		Client: twofactor.Client{Address: "x", UserAgent: "\xff\xfe" + string(make([]byte, 5000))}}
	must(t, s.AppendEvent(ctx, long))
	must(t, s.AppendEvent(ctx, &twofactor.Event{Kind: twofactor.EventThrottled, Time: t0, UserID: "other", Outcome: twofactor.OutcomeRefused}))
	es, err := s.EventsByUser(ctx, "u", 3)
	must(t, err)
	if len(es) != 3 || es[0].Kind != twofactor.EventThrottled || es[2].Kind != twofactor.EventUserVerified {
		t.Fatalf("EventsByUser newest first, limit 3: %+v", es)
	}
	if len(es[0].UserAgent) > 512 {
		t.Fatalf("user agent stored with %d bytes", len(es[0].UserAgent))
	}
	e := es[1]
	if e.DeviceID != "d" || e.DeviceKind != twofactor.KindTOTP || e.Outcome != twofactor.OutcomeFailure && e.Outcome != twofactor.OutcomeSuccess ||
		e.Address != "192.0.2.1" || e.UserAgent != "agent" || e.Reason != "r" || !e.Time.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("event round trip: %+v", e)
	}
}
