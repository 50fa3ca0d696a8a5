// Package storetest is the conformance suite every twofactor.Store must
// pass. store/sqlite and store/postgres run it unchanged; an application
// that writes its own store can run it too:
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) twofactor.Store { return openFresh(t) })
//	}
//
// Open must return a fresh, migrated, empty store for every call; the suite
// closes it. The race tests start 100 goroutines on one code, counter or
// throttle and check that exactly one wins, so run them with -race.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

// Open returns a fresh, migrated, empty store.
type Open func(t *testing.T) twofactor.Store

// Run runs the whole suite.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(*testing.T, twofactor.Store)
	}{
		{"Migrate", testMigrate},
		{"Users", testUsers},
		{"ListUsers", testListUsers},
		{"DeviceRoundTrip", testDeviceRoundTrip},
		{"PrimaryRules", testPrimaryRules},
		{"ConfirmDevice", testConfirmDevice},
		{"RenameDevice", testRenameDevice},
		{"DeleteDevicePromotes", testDeleteDevicePromotes},
		{"DisableUser", testDisableUser},
		{"DeleteStaleSetups", testDeleteStaleSetups},
		{"ClaimAttempt", testClaimAttempt},
		{"ClaimAttemptScopes", testClaimAttemptScopes},
		{"VerifyCounter", testVerifyCounter},
		{"BackupCodes", testBackupCodes},
		{"Challenges", testChallenges},
		{"Audit", testAudit},
		{"Sessions", testSessions},
		{"DeviceRemovalUnverifies", testDeviceRemovalUnverifies},
		{"Browsers", testBrowsers},
		{"PolicySince", testPolicySince},
		{"Adoption", testAdoption},
		{"Sends", testSends},
		{"RaceSends", testRaceSends},
		{"Calls", testCalls},
		{"RaceVerifyCounter", testRaceVerifyCounter},
		{"RaceVerifyBackupCode", testRaceVerifyBackupCode},
		{"RaceClaimThrottled", testRaceClaimThrottled},
		{"RaceClaimCountsExactly", testRaceClaimCountsExactly},
		{"RaceDeleteChallenge", testRaceDeleteChallenge},
		{"RacePrimary", testRacePrimary},
		{"ServiceRaceTOTP", testServiceRaceTOTP},
		{"ServiceRaceBackupCode", testServiceRaceBackupCode},
		{"OAuthClients", testOAuthClients},
		{"RefreshTokens", testRefreshTokens},
		{"ConsumeRefreshToken", testConsumeRefreshToken},
		{"RotateRefreshToken", testRotateRefreshToken},
		{"DeleteUserRefreshTokens", testDeleteUserRefreshTokens},
		{"RaceConsumeRefreshToken", testRaceConsumeRefreshToken},
		{"RaceRotateRevoke", testRaceRotateRevoke},
		{"ServiceRaceRefresh", testServiceRaceRefresh},
		{"WebAuthnCeremonies", testWebAuthnCeremonies},
		{"WebAuthnCeremonyExpiry", testWebAuthnCeremonyExpiry},
		{"RaceTakeWebAuthnCeremony", testRaceTakeWebAuthnCeremony},
		{"VerifyUnconditional", testVerifyUnconditional},
		{"WebAuthnCredentialUnique", testWebAuthnCredentialUnique},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // every test has a store of its own
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
}

var ctx = context.Background()

// t0 is a fixed time with microsecond precision (what stores keep).
var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var idSeq atomic.Int64

func newID(prefix string) string { return fmt.Sprintf("%s%06d", prefix, idSeq.Add(1)) }

func device(userID string, kind twofactor.Kind, confirmed bool, created time.Time) *twofactor.Device {
	return &twofactor.Device{ID: newID("dev"), UserID: userID, Kind: kind, Name: string(kind), Confirmed: confirmed,
		CreatedAt: created, Counter: -1, Digits: 6, Step: 30, Tolerance: 1, Algorithm: "SHA1"}
}

func addDevice(t *testing.T, s twofactor.Store, userID string, kind twofactor.Kind, confirmed bool, created time.Time) *twofactor.Device {
	t.Helper()
	d := device(userID, kind, confirmed, created)
	must(t, s.CreateDevice(ctx, d))
	return d
}

func get(t *testing.T, s twofactor.Store, id string) *twofactor.Device {
	t.Helper()
	d, err := s.DeviceByID(ctx, id)
	must(t, err)
	return d
}

func primaryID(t *testing.T, s twofactor.Store, userID string) string {
	t.Helper()
	ds, err := s.DevicesByUser(ctx, userID)
	must(t, err)
	id := ""
	for _, d := range ds {
		if d.Primary {
			if id != "" {
				t.Fatalf("user %s has two primary devices", userID)
			}
			id = d.ID
		}
	}
	return id
}

func testMigrate(t *testing.T, s twofactor.Store) {
	// Applying again is a no-op.
	v, err := s.Version(ctx)
	must(t, err)
	must(t, s.Migrate(ctx))
	must(t, s.Migrate(ctx))
	must(t, s.Ping(ctx))
	if v2, _ := s.Version(ctx); v2 != v || v < 1 {
		t.Fatalf("schema version %d, then %d after migrating again", v, v2)
	}
}

func testUsers(t *testing.T, s twofactor.Store) {
	u := &twofactor.UserRecord{User: twofactor.User{ID: "u1", Username: "alice", Email: "alice@example.com", Staff: true,
		Active: true, PasswordChangedAt: t0, CreatedAt: t0.Add(-time.Hour)}, PasswordHash: "$argon2id$x"}
	must(t, s.CreateUser(ctx, u))
	dup := *u
	dup.ID = "u2"
	if err := s.CreateUser(ctx, &dup); !errors.Is(err, twofactor.ErrConflict) {
		t.Fatalf("duplicate username: got %v, want ErrConflict", err)
	}
	for _, got := range []func() (*twofactor.UserRecord, error){
		func() (*twofactor.UserRecord, error) { return s.UserByID(ctx, "u1") },
		func() (*twofactor.UserRecord, error) { return s.UserByName(ctx, "alice") },
	} {
		r, err := got()
		must(t, err)
		if r.User != u.User || r.PasswordHash != u.PasswordHash {
			t.Fatalf("round trip: got %+v, want %+v", r, u)
		}
	}
	if _, err := s.UserByName(ctx, "Alice"); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("usernames are case-sensitive: got %v", err)
	}
	if _, err := s.UserByID(ctx, "nope"); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("missing user: got %v, want ErrNotFound", err)
	}
	must(t, s.SetPassword(ctx, "u1", "new", t0.Add(time.Minute)))
	r, err := s.UserByID(ctx, "u1")
	must(t, err)
	if r.PasswordHash != "new" || !r.PasswordChangedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("SetPassword not stored: %+v", r)
	}
	if err := s.SetPassword(ctx, "nope", "x", t0); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("SetPassword of a missing user: got %v, want ErrNotFound", err)
	}
}

func testListUsers(t *testing.T, s twofactor.Store) {
	for i, name := range []string{"carol", "alice", "bob", "a_b", "a%c", "dave"} {
		must(t, s.CreateUser(ctx, &twofactor.UserRecord{User: twofactor.User{ID: fmt.Sprint("u", i), Username: name,
			Email: name + "@Example.org", Active: true, CreatedAt: t0}}))
	}
	names := func(q twofactor.UserQuery) ([]string, int) {
		t.Helper()
		us, total, err := s.ListUsers(ctx, q)
		must(t, err)
		var out []string
		for _, u := range us {
			out = append(out, u.Username)
		}
		return out, total
	}
	cases := []struct {
		q     twofactor.UserQuery
		want  []string
		total int
	}{
		{twofactor.UserQuery{}, []string{"a%c", "a_b", "alice", "bob", "carol", "dave"}, 6},
		{twofactor.UserQuery{Limit: 2, Offset: 2}, []string{"alice", "bob"}, 6},
		{twofactor.UserQuery{Search: "AL"}, []string{"alice"}, 1},
		{twofactor.UserQuery{Search: "_"}, []string{"a_b"}, 1}, // _ is not a wildcard
		{twofactor.UserQuery{Search: "%"}, []string{"a%c"}, 1}, // nor is %
		{twofactor.UserQuery{Search: "example.ORG", Limit: 1}, []string{"a%c"}, 6},
		{twofactor.UserQuery{Search: "zzz"}, nil, 0},
	}
	for _, c := range cases {
		got, total := names(c.q)
		if !slices.Equal(got, c.want) || total != c.total {
			t.Errorf("ListUsers(%+v) = %v (total %d), want %v (total %d)", c.q, got, total, c.want, c.total)
		}
	}
}

func testDeviceRoundTrip(t *testing.T, s twofactor.Store) {
	d := &twofactor.Device{ID: "d1", UserID: "u1", Kind: twofactor.KindTOTP, Name: "Phone ☎", Confirmed: true,
		CreatedAt: t0, LastUsedAt: t0.Add(time.Second), Secret: []byte{0, 1, 2, 255}, Algorithm: "SHA256", Digits: 8,
		Step: 60, T0: -5, Tolerance: 2, Drift: -1, Counter: 123456789012, Destination: "+31101234567",
		Data: []byte(`{"x":1}`), Failures: 3, LockedUntil: t0.Add(time.Hour)}
	must(t, s.CreateDevice(ctx, d))
	if !d.Primary {
		t.Fatal("the first confirmed device did not become primary")
	}
	got := get(t, s, "d1")
	if !equalDevice(got, d) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, d)
	}
	if _, err := s.DeviceByID(ctx, "nope"); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("missing device: got %v, want ErrNotFound", err)
	}
	ds, err := s.DevicesByUser(ctx, "nobody")
	must(t, err)
	if len(ds) != 0 {
		t.Fatalf("devices of a user without any: %v", ds)
	}
}

func equalDevice(a, b *twofactor.Device) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.Kind == b.Kind && a.Name == b.Name && a.Confirmed == b.Confirmed &&
		a.Primary == b.Primary && a.CreatedAt.Equal(b.CreatedAt) && a.LastUsedAt.Equal(b.LastUsedAt) &&
		bytes.Equal(a.Secret, b.Secret) && a.Algorithm == b.Algorithm && a.Digits == b.Digits && a.Step == b.Step &&
		a.T0 == b.T0 && a.Tolerance == b.Tolerance && a.Drift == b.Drift && a.Counter == b.Counter &&
		a.Destination == b.Destination && bytes.Equal(a.Data, b.Data) && a.Failures == b.Failures &&
		a.LockedUntil.Equal(b.LockedUntil)
}

func testPrimaryRules(t *testing.T, s twofactor.Store) {
	static := addDevice(t, s, "u", twofactor.KindStatic, true, t0)
	unconfirmed := addDevice(t, s, "u", twofactor.KindTOTP, false, t0.Add(1))
	if static.Primary || unconfirmed.Primary || primaryID(t, s, "u") != "" {
		t.Fatal("a static or unconfirmed device became primary")
	}
	first := addDevice(t, s, "u", twofactor.KindTOTP, true, t0.Add(2))
	second := addDevice(t, s, "u", twofactor.KindHOTP, true, t0.Add(3))
	if !first.Primary || second.Primary || primaryID(t, s, "u") != first.ID {
		t.Fatal("the first confirmed device should be the only primary")
	}
	if err := s.CreateDevice(ctx, device("u", twofactor.KindStatic, true, t0)); !errors.Is(err, twofactor.ErrConflict) {
		t.Fatalf("second static device: got %v, want ErrConflict", err)
	}
	ds, err := s.DevicesByUser(ctx, "u")
	must(t, err)
	var order []string
	for _, d := range ds {
		order = append(order, d.ID)
	}
	want := []string{first.ID, static.ID, unconfirmed.ID, second.ID}
	if !slices.Equal(order, want) {
		t.Fatalf("DevicesByUser order %v, want primary first then by creation %v", order, want)
	}
	must(t, s.SetPrimary(ctx, "u", second.ID))
	if primaryID(t, s, "u") != second.ID {
		t.Fatal("SetPrimary did not move the primary")
	}
	for _, id := range []string{unconfirmed.ID, static.ID} {
		if err := s.SetPrimary(ctx, "u", id); !errors.Is(err, twofactor.ErrConflict) {
			t.Fatalf("SetPrimary(%s): got %v, want ErrConflict", id, err)
		}
	}
	if err := s.SetPrimary(ctx, "other", second.ID); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("SetPrimary of another user's device: got %v, want ErrNotFound", err)
	}
	if primaryID(t, s, "u") != second.ID {
		t.Fatal("a refused SetPrimary changed the primary")
	}
}

// confirm runs a confirming Verification whose check matches counter.
func confirm(t *testing.T, s twofactor.Store, userID, deviceID string, counter int64) (twofactor.VerifyResult, error) {
	t.Helper()
	return s.Verify(ctx, twofactor.Verification{
		Attempt: twofactor.Attempt{UserID: userID, DeviceID: deviceID, Now: t0, UserFactor: time.Second, DeviceFactor: time.Second},
		Check:   func(*twofactor.Device) twofactor.Check { return twofactor.Check{Counter: counter, Drift: 1} },
		Confirm: true,
	})
}

func testConfirmDevice(t *testing.T, s twofactor.Store) {
	d := addDevice(t, s, "u", twofactor.KindTOTP, false, t0)
	if _, err := confirm(t, s, "other", d.ID, 5); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("confirming another user's device: got %v, want ErrNotFound", err)
	}
	r, err := confirm(t, s, "u", d.ID, 5)
	must(t, err)
	got := r.Device
	if !r.Verified || !got.Confirmed || !got.Primary || got.Counter != 5 || got.Drift != 1 || !got.LastUsedAt.Equal(t0) || got.Failures != 0 {
		t.Fatalf("confirmed device: %+v / %+v", r, got)
	}
	if got := get(t, s, d.ID); !got.Confirmed || !got.Primary {
		t.Fatalf("confirmation not stored: %+v", got)
	}
	// A confirmation does not touch the user's sign-in throttle.
	claimOK(t, s, twofactor.Attempt{UserID: "u", DeviceID: d.ID, Now: t0, UserFactor: time.Hour, DeviceFactor: time.Second})
	// A failed confirmation leaves the device unconfirmed.
	d2 := addDevice(t, s, "u", twofactor.KindTOTP, false, t0)
	r, err = s.Verify(ctx, twofactor.Verification{Attempt: twofactor.Attempt{UserID: "u", DeviceID: d2.ID, Now: t0},
		Check: func(*twofactor.Device) twofactor.Check { return twofactor.Check{Reason: twofactor.ReasonWrong} }, Confirm: true})
	must(t, err)
	if r.Verified || get(t, s, d2.ID).Confirmed {
		t.Fatal("a failed confirmation confirmed the device")
	}
	// A second device confirmed later is not primary.
	r, err = confirm(t, s, "u", d2.ID, 1)
	must(t, err)
	if !r.Verified || r.Device.Primary || !r.Device.Confirmed {
		t.Fatalf("a second confirmed device: %+v", r.Device)
	}
}

func testRenameDevice(t *testing.T, s twofactor.Store) {
	d := addDevice(t, s, "u", twofactor.KindTOTP, true, t0)
	must(t, s.RenameDevice(ctx, "u", d.ID, "Work phone"))
	if get(t, s, d.ID).Name != "Work phone" {
		t.Fatal("rename not stored")
	}
	if err := s.RenameDevice(ctx, "other", d.ID, "x"); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("renaming another user's device: got %v, want ErrNotFound", err)
	}
}

func testDeleteDevicePromotes(t *testing.T, s twofactor.Store) {
	a := addDevice(t, s, "u", twofactor.KindTOTP, true, t0)
	addDevice(t, s, "u", twofactor.KindStatic, true, t0.Add(1))
	addDevice(t, s, "u", twofactor.KindTOTP, false, t0.Add(2))
	c := addDevice(t, s, "u", twofactor.KindHOTP, true, t0.Add(3))
	d := addDevice(t, s, "u", twofactor.KindTOTP, true, t0.Add(4))
	if _, err := s.DeleteDevice(ctx, "other", a.ID); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("deleting another user's device: got %v, want ErrNotFound", err)
	}
	p, err := s.DeleteDevice(ctx, "u", d.ID)
	must(t, err)
	if p != nil {
		t.Fatal("deleting a non-primary device promoted one")
	}
	p, err = s.DeleteDevice(ctx, "u", a.ID)
	must(t, err)
	if p == nil || p.ID != c.ID || !p.Primary || primaryID(t, s, "u") != c.ID {
		t.Fatalf("deleting the primary should promote the oldest confirmed non-static device %s, got %+v", c.ID, p)
	}
	p, err = s.DeleteDevice(ctx, "u", c.ID)
	must(t, err)
	if p != nil || primaryID(t, s, "u") != "" {
		t.Fatal("nothing confirmed is left, yet a device was promoted")
	}
	if _, err := s.DeleteDevice(ctx, "u", c.ID); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("deleting twice: got %v, want ErrNotFound", err)
	}
}

func testDisableUser(t *testing.T, s twofactor.Store) {
	for _, u := range []string{"u", "keep"} {
		addDevice(t, s, u, twofactor.KindTOTP, true, t0)
		static := device(u, twofactor.KindStatic, true, t0)
		_, err := s.ReplaceBackupCodes(ctx, static, [][]byte{[]byte(u + "1"), []byte(u + "2")})
		must(t, err)
		must(t, s.CreateChallenge(ctx, &twofactor.Challenge{IDHash: []byte("c-" + u), UserID: u, CreatedAt: t0}))
	}
	n, err := s.DisableUser(ctx, "u")
	must(t, err)
	if n != 2 {
		t.Fatalf("DisableUser removed %d devices, want 2", n)
	}
	ds, _ := s.DevicesByUser(ctx, "u")
	codes, _ := s.CountBackupCodes(ctx, "u")
	if len(ds) != 0 || codes != 0 {
		t.Fatalf("after DisableUser: %d devices, %d codes", len(ds), codes)
	}
	if _, err := s.ChallengeByHash(ctx, [][]byte{[]byte("c-u")}); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatal("DisableUser left a login challenge")
	}
	ds, _ = s.DevicesByUser(ctx, "keep")
	codes, _ = s.CountBackupCodes(ctx, "keep")
	if len(ds) != 2 || codes != 2 {
		t.Fatal("DisableUser touched another user")
	}
	if _, err := s.ChallengeByHash(ctx, [][]byte{[]byte("c-keep")}); err != nil {
		t.Fatal("DisableUser removed another user's challenge")
	}
}

func testDeleteStaleSetups(t *testing.T, s twofactor.Store) {
	old := addDevice(t, s, "u", twofactor.KindTOTP, false, t0)
	fresh := addDevice(t, s, "u", twofactor.KindTOTP, false, t0.Add(time.Hour))
	confirmed := addDevice(t, s, "u", twofactor.KindTOTP, true, t0)
	n, err := s.DeleteStaleSetups(ctx, t0.Add(time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("removed %d stale setups, want 1", n)
	}
	if _, err := s.DeviceByID(ctx, old.ID); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatal("the stale setup survived")
	}
	for _, d := range []*twofactor.Device{fresh, confirmed} {
		if _, err := s.DeviceByID(ctx, d.ID); err != nil {
			t.Fatalf("%s went: %v", d.ID, err)
		}
	}
}
