package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

func testSessions(t *testing.T, s twofactor.Store) {
	x := &twofactor.Session{IDHash: []byte("s1"), Kind: twofactor.SessionWeb, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
		LastSeenAt: t0, Data: []byte{1, 2, 3}}
	must(t, s.CreateSession(ctx, x))
	if err := s.CreateSession(ctx, x); !errors.Is(err, twofactor.ErrConflict) {
		t.Fatalf("duplicate session: %v", err)
	}
	got, err := s.SessionByHash(ctx, [][]byte{[]byte("zz"), []byte("s1")})
	must(t, err)
	if got.Kind != twofactor.SessionWeb || got.UserID != "" || !got.ExpiresAt.Equal(x.ExpiresAt) || string(got.Data) != "\x01\x02\x03" || got.Verified() {
		t.Fatalf("round trip: %+v", got)
	}
	got.UserID, got.DeviceID, got.VerifiedAt, got.Data, got.LastSeenAt = "u", "d1", t0.Add(time.Minute), nil, t0.Add(time.Minute)
	must(t, s.UpdateSession(ctx, got))
	got2, err := s.SessionByHash(ctx, [][]byte{[]byte("s1")})
	must(t, err)
	if got2.UserID != "u" || got2.DeviceID != "d1" || !got2.VerifiedAt.Equal(t0.Add(time.Minute)) || len(got2.Data) != 0 || !got2.Verified() {
		t.Fatalf("after update: %+v", got2)
	}
	if err := s.UpdateSession(ctx, &twofactor.Session{IDHash: []byte("nope")}); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("update of a missing session: %v", err)
	}
	for _, h := range []string{"s2", "s3"} {
		must(t, s.CreateSession(ctx, &twofactor.Session{IDHash: []byte(h), Kind: twofactor.SessionToken, UserID: "u", CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Hour), LastSeenAt: t0}))
	}
	must(t, s.CreateSession(ctx, &twofactor.Session{IDHash: []byte("other"), Kind: twofactor.SessionWeb, UserID: "v", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), LastSeenAt: t0}))
	n, err := s.DeleteUserSessions(ctx, "u", []byte("s1"))
	must(t, err)
	if n != 2 {
		t.Fatalf("DeleteUserSessions except s1 removed %d, want 2", n)
	}
	n, err = s.DeleteExpiredSessions(ctx, t0.Add(time.Hour))
	must(t, err)
	if n != 2 {
		t.Fatalf("expired sessions removed %d, want 2", n)
	}
	ok, err := s.DeleteSession(ctx, []byte("s1"))
	must(t, err)
	if ok {
		t.Fatal("s1 was expired and should be gone already")
	}
	if _, err := s.SessionByHash(ctx, [][]byte{[]byte("s1")}); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
}

// testDeviceRemovalUnverifies: removing a device un-verifies the sessions it
// verified and forgets the browsers remembered for it; disabling does so for
// all of the user's.
func testDeviceRemovalUnverifies(t *testing.T, s twofactor.Store) {
	a := addDevice(t, s, "u", twofactor.KindTOTP, true, t0)
	b := addDevice(t, s, "u", twofactor.KindTOTP, true, t0.Add(1))
	sess := func(h, dev string) {
		must(t, s.CreateSession(ctx, &twofactor.Session{IDHash: []byte(h), Kind: twofactor.SessionWeb, UserID: "u", DeviceID: dev,
			VerifiedAt: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), LastSeenAt: t0}))
	}
	sess("by-a", a.ID)
	sess("by-b", b.ID)
	for _, d := range []*twofactor.Device{a, b} {
		must(t, s.CreateBrowser(ctx, &twofactor.RememberedBrowser{ID: "br-" + d.ID, UserID: "u", DeviceID: d.ID, SecretHash: []byte("h"),
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	}
	_, err := s.DeleteDevice(ctx, "u", a.ID)
	must(t, err)
	if x, _ := s.SessionByHash(ctx, [][]byte{[]byte("by-a")}); x.Verified() || x.UserID != "u" {
		t.Fatalf("session verified by the removed device: %+v", x)
	}
	if x, _ := s.SessionByHash(ctx, [][]byte{[]byte("by-b")}); !x.Verified() {
		t.Fatal("a session verified by another device was un-verified")
	}
	if _, err := s.BrowserByID(ctx, "br-"+a.ID); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatal("the browser remembered for the removed device survived")
	}
	if _, err := s.BrowserByID(ctx, "br-"+b.ID); err != nil {
		t.Fatal("another device's remembered browser went")
	}
	_, err = s.DisableUser(ctx, "u")
	must(t, err)
	if x, _ := s.SessionByHash(ctx, [][]byte{[]byte("by-b")}); x.Verified() {
		t.Fatal("DisableUser left a verified session")
	}
	if bs, _ := s.BrowsersByUser(ctx, "u"); len(bs) != 0 {
		t.Fatal("DisableUser left remembered browsers")
	}
}

func testBrowsers(t *testing.T, s twofactor.Store) {
	b := &twofactor.RememberedBrowser{ID: "b1", UserID: "u", DeviceID: "d", SecretHash: []byte{9, 9}, CreatedAt: t0,
		ExpiresAt: t0.Add(24 * time.Hour), Client: twofactor.Client{Address: "192.0.2.1", UserAgent: "Firefox"}}
	must(t, s.CreateBrowser(ctx, b))
	must(t, s.CreateBrowser(ctx, &twofactor.RememberedBrowser{ID: "b2", UserID: "u", DeviceID: "d", SecretHash: []byte{1}, CreatedAt: t0.Add(time.Second), ExpiresAt: t0.Add(time.Hour)}))
	must(t, s.CreateBrowser(ctx, &twofactor.RememberedBrowser{ID: "b3", UserID: "v", DeviceID: "e", SecretHash: []byte{1}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	got, err := s.BrowserByID(ctx, "b1")
	must(t, err)
	if got.UserID != "u" || got.DeviceID != "d" || string(got.SecretHash) != "\x09\x09" || !got.ExpiresAt.Equal(b.ExpiresAt) ||
		got.UserAgent != "Firefox" || got.Address != "192.0.2.1" || !got.LastUsedAt.IsZero() {
		t.Fatalf("round trip: %+v", got)
	}
	must(t, s.TouchBrowser(ctx, "b1", t0.Add(time.Minute)))
	if got, _ := s.BrowserByID(ctx, "b1"); !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Fatal("touch not stored")
	}
	list, err := s.BrowsersByUser(ctx, "u")
	must(t, err)
	if len(list) != 2 || list[0].ID != "b2" {
		t.Fatalf("BrowsersByUser newest first: %+v", list)
	}
	if ok, _ := s.DeleteBrowser(ctx, "v", "b1"); ok {
		t.Fatal("another user revoked b1")
	}
	if ok, _ := s.DeleteBrowser(ctx, "u", "b1"); !ok {
		t.Fatal("revoking b1 failed")
	}
	n, err := s.DeleteUserBrowsers(ctx, "u")
	must(t, err)
	if n != 1 {
		t.Fatalf("DeleteUserBrowsers removed %d, want 1", n)
	}
	if _, err := s.BrowserByID(ctx, "b3"); err != nil {
		t.Fatal("another user's browser went")
	}
}

func testPolicySince(t *testing.T, s twofactor.Store) {
	first, err := s.PolicySince(ctx, "u", t0)
	must(t, err)
	again, err := s.PolicySince(ctx, "u", t0.Add(time.Hour))
	must(t, err)
	if !first.Equal(t0) || !again.Equal(t0) {
		t.Fatalf("PolicySince: %v then %v, want %v twice", first, again, t0)
	}
	// Concurrent first calls agree on one time.
	var mu sync.Mutex
	seen := map[time.Time]bool{}
	race(t, func(i int) (bool, error) {
		at, err := s.PolicySince(ctx, "racer", t0.Add(time.Duration(i)*time.Second))
		mu.Lock()
		seen[at] = true
		mu.Unlock()
		return true, err
	})
	if len(seen) != 1 {
		t.Fatalf("concurrent first calls returned %d different times", len(seen))
	}
}

func testAdoption(t *testing.T, s twofactor.Store) {
	for _, u := range []string{"a", "b", "c", "d"} {
		must(t, s.CreateUser(ctx, &twofactor.UserRecord{User: twofactor.User{ID: u, Username: u, Active: true, CreatedAt: t0}}))
	}
	addDevice(t, s, "a", twofactor.KindTOTP, true, t0)
	addDevice(t, s, "a", twofactor.KindHOTP, true, t0)
	addDevice(t, s, "b", twofactor.KindTOTP, true, t0)
	addDevice(t, s, "c", twofactor.KindTOTP, false, t0)        // unconfirmed: not counted
	addDevice(t, s, "host-user", twofactor.KindTOTP, true, t0) // not a built-in user
	a, err := s.Adoption(ctx)
	must(t, err)
	if a.Users != 4 || a.Enabled != 2 || a.ByKind[twofactor.KindTOTP] != 2 || a.ByKind[twofactor.KindHOTP] != 1 || len(a.ByKind) != 2 {
		t.Fatalf("adoption %+v", a)
	}
}
