package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

func ceremony(id, user, purpose string, binding []byte, expires time.Time) *twofactor.WebAuthnCeremony {
	return &twofactor.WebAuthnCeremony{IDHash: []byte(id), UserID: user, Purpose: purpose, BindingHash: binding,
		Session: []byte("sealed " + id), CreatedAt: t0, ExpiresAt: expires}
}

// testWebAuthnCeremonies: a ceremony round-trips, is found by any of the
// hashes of its token, and is taken exactly once.
func testWebAuthnCeremonies(t *testing.T, s twofactor.Store) {
	must(t, s.CreateWebAuthnCeremony(ctx, ceremony("reg", "u", twofactor.CeremonyRegister, nil, t0.Add(5*time.Minute))))
	must(t, s.CreateWebAuthnCeremony(ctx, ceremony("login", "u", twofactor.CeremonyLogin, []byte("challenge"), t0.Add(5*time.Minute))))
	if err := s.CreateWebAuthnCeremony(ctx, ceremony("reg", "v", twofactor.CeremonyRegister, nil, t0.Add(time.Minute))); !errors.Is(err, twofactor.ErrConflict) {
		t.Fatalf("duplicate ceremony hash: %v, want ErrConflict", err)
	}
	c, err := s.TakeWebAuthnCeremony(ctx, [][]byte{[]byte("old key"), []byte("login")}, t0.Add(time.Minute))
	must(t, err)
	if string(c.IDHash) != "login" || c.UserID != "u" || c.Purpose != twofactor.CeremonyLogin ||
		string(c.BindingHash) != "challenge" || string(c.Session) != "sealed login" ||
		!c.CreatedAt.Equal(t0) || !c.ExpiresAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("ceremony read back as %+v", c)
	}
	if _, err := s.TakeWebAuthnCeremony(ctx, [][]byte{[]byte("login")}, t0.Add(time.Minute)); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("second take: %v, want ErrNotFound", err)
	}
	c, err = s.TakeWebAuthnCeremony(ctx, [][]byte{[]byte("reg")}, t0)
	must(t, err)
	if len(c.BindingHash) != 0 || c.Purpose != twofactor.CeremonyRegister {
		t.Fatalf("registration ceremony read back as %+v", c)
	}
	for _, hashes := range [][][]byte{nil, {[]byte("nothing")}} {
		if _, err := s.TakeWebAuthnCeremony(ctx, hashes, t0); !errors.Is(err, twofactor.ErrNotFound) {
			t.Fatalf("take of %q: %v, want ErrNotFound", hashes, err)
		}
	}
	// Disabling two-factor ends the user's ceremonies, and only theirs.
	must(t, s.CreateWebAuthnCeremony(ctx, ceremony("u2", "u", twofactor.CeremonyStepUp, []byte("session"), t0.Add(time.Minute))))
	must(t, s.CreateWebAuthnCeremony(ctx, ceremony("keep", "keep", twofactor.CeremonyStepUp, []byte("session"), t0.Add(time.Minute))))
	_, err = s.DisableUser(ctx, "u")
	must(t, err)
	if _, err := s.TakeWebAuthnCeremony(ctx, [][]byte{[]byte("u2")}, t0); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("ceremony after DisableUser: %v, want ErrNotFound", err)
	}
	if _, err := s.TakeWebAuthnCeremony(ctx, [][]byte{[]byte("keep")}, t0); err != nil {
		t.Fatalf("DisableUser removed another user's ceremony: %v", err)
	}
}

// testWebAuthnCeremonyExpiry: an expired ceremony is never taken, and the
// cleanup removes exactly the expired ones.
func testWebAuthnCeremonyExpiry(t *testing.T, s twofactor.Store) {
	must(t, s.CreateWebAuthnCeremony(ctx, ceremony("a", "u", twofactor.CeremonyLogin, []byte("c"), t0.Add(time.Minute))))
	must(t, s.CreateWebAuthnCeremony(ctx, ceremony("b", "u", twofactor.CeremonyLogin, []byte("c"), t0.Add(time.Hour))))
	if _, err := s.TakeWebAuthnCeremony(ctx, [][]byte{[]byte("a")}, t0.Add(time.Minute)); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("take at the expiry: %v, want ErrNotFound", err)
	}
	n, err := s.DeleteExpiredWebAuthnCeremonies(ctx, t0.Add(time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("removed %d expired ceremonies, want 1", n)
	}
	c, err := s.TakeWebAuthnCeremony(ctx, [][]byte{[]byte("b")}, t0.Add(59*time.Minute))
	must(t, err)
	if !bytes.Equal(c.IDHash, []byte("b")) {
		t.Fatalf("took %q", c.IDHash)
	}
}

// testRaceTakeWebAuthnCeremony: of 100 concurrent takes of one ceremony
// exactly one gets it, so its challenge is answered at most once.
func testRaceTakeWebAuthnCeremony(t *testing.T, s twofactor.Store) {
	must(t, s.CreateWebAuthnCeremony(ctx, ceremony("c", "u", twofactor.CeremonyLogin, []byte("x"), t0.Add(time.Minute))))
	wins := race(t, func(int) (bool, error) {
		_, err := s.TakeWebAuthnCeremony(ctx, [][]byte{[]byte("c")}, t0)
		if errors.Is(err, twofactor.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	if wins != 1 {
		t.Fatalf("%d of %d concurrent takes of one ceremony succeeded, want exactly 1", wins, racers)
	}
}

// testVerifyUnconditional: an unconditional check consumes a use without
// comparing counters (a WebAuthn key whose counts are both zero), every
// time; without it, the same count is a replay.
func testVerifyUnconditional(t *testing.T, s twofactor.Store) {
	d := device("u", twofactor.KindWebAuthn, true, t0)
	d.Counter, d.Destination = 0, "credential-id"
	must(t, s.CreateDevice(ctx, d))
	at := twofactor.Attempt{UserID: "u", DeviceID: d.ID, Now: t0}
	for i := 0; i < 3; i++ {
		at.Now = t0.Add(time.Duration(i) * time.Second)
		if r := verify(t, s, at, twofactor.Check{Counter: 0, Unconditional: true}); !r.Verified {
			t.Fatalf("unconditional use %d refused: %+v", i, r)
		}
		if got := get(t, s, d.ID); got.Counter != 0 || got.Failures != 0 || !got.LastUsedAt.Equal(at.Now) {
			t.Fatalf("after unconditional use %d: %+v", i, got)
		}
	}
	if r := verify(t, s, at, twofactor.Check{Counter: 0}); r.Verified || r.Reason != twofactor.ReasonReplayed {
		t.Fatalf("conditional use of the stored count: %+v, want replayed", r)
	}
	if r := verify(t, s, at, twofactor.Check{Counter: 5}); !r.Verified || get(t, s, d.ID).Counter != 5 {
		t.Fatalf("a rising count: %+v", r)
	}
	if r := verify(t, s, at, twofactor.Check{Counter: 5}); r.Verified || r.Reason != twofactor.ReasonReplayed {
		t.Fatalf("the same count again: %+v, want replayed", r)
	}
	// A failing check is a failure even when unconditional.
	if r := verify(t, s, at, twofactor.Check{Reason: twofactor.ReasonWrong, Unconditional: true}); r.Verified {
		t.Fatalf("failed unconditional check verified: %+v", r)
	}
}

// testWebAuthnCredentialUnique: one user cannot hold the same credential
// twice; another user's key with the same id is another device.
func testWebAuthnCredentialUnique(t *testing.T, s twofactor.Store) {
	add := func(user, cred string) error {
		d := device(user, twofactor.KindWebAuthn, true, t0)
		d.Destination = cred
		return s.CreateDevice(ctx, d)
	}
	must(t, add("u", "cred-1"))
	must(t, add("u", "cred-2"))
	must(t, add("v", "cred-1"))
	if err := add("u", "cred-1"); !errors.Is(err, twofactor.ErrConflict) {
		t.Fatalf("the same credential twice: %v, want ErrConflict", err)
	}
	// Other kinds are not constrained by it.
	a, b := device("u", twofactor.KindSMS, false, t0), device("u", twofactor.KindSMS, false, t0)
	a.Destination, b.Destination = "+15555550100", "+15555550100"
	must(t, s.CreateDevice(ctx, a))
	must(t, s.CreateDevice(ctx, b))
}
