package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

func addOAuthClient(t *testing.T, s twofactor.Store, id string, created time.Time) *twofactor.OAuthClient {
	t.Helper()
	c := &twofactor.OAuthClient{ID: id, Name: "Client " + id, SecretHash: []byte("hash-" + id), CreatedAt: created}
	must(t, s.CreateOAuthClient(ctx, c))
	return c
}

// refreshToken returns a refresh token of family for client and user, and
// the access session issued with it, hashes derived from name.
func refreshToken(name, family, client, user string) (*twofactor.RefreshToken, *twofactor.Session) {
	access := &twofactor.Session{IDHash: []byte("access-" + name), Kind: twofactor.SessionToken, UserID: user, DeviceID: "d1",
		VerifiedAt: t0, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
	rt := &twofactor.RefreshToken{IDHash: []byte("refresh-" + name), FamilyID: family, ClientID: client, UserID: user,
		DeviceID: "d1", VerifiedAt: t0, Scope: "read write", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour),
		AccessHash: access.IDHash}
	return rt, access
}

func addRefreshToken(t *testing.T, s twofactor.Store, name, family, client, user string, parent []byte) *twofactor.RefreshToken {
	t.Helper()
	rt, access := refreshToken(name, family, client, user)
	must(t, s.CreateRefreshToken(ctx, rt, access, parent))
	return rt
}

func sessionExists(t *testing.T, s twofactor.Store, hash []byte) bool {
	t.Helper()
	_, err := s.SessionByHash(ctx, [][]byte{hash})
	if err != nil && !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func refreshExists(t *testing.T, s twofactor.Store, hash []byte) bool {
	t.Helper()
	_, err := s.RefreshTokenByHash(ctx, [][]byte{hash})
	if err != nil && !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func equalRefresh(a, b *twofactor.RefreshToken) bool {
	return bytes.Equal(a.IDHash, b.IDHash) && a.FamilyID == b.FamilyID && a.ClientID == b.ClientID && a.UserID == b.UserID &&
		a.DeviceID == b.DeviceID && a.VerifiedAt.Equal(b.VerifiedAt) && a.Scope == b.Scope && a.CreatedAt.Equal(b.CreatedAt) &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.UsedAt.Equal(b.UsedAt) && bytes.Equal(a.AccessHash, b.AccessHash)
}

// testOAuthClients: clients round-trip, list oldest first, and deleting
// one takes its refresh tokens and access sessions with it, nobody else's.
func testOAuthClients(t *testing.T, s twofactor.Store) {
	if cs, err := s.OAuthClients(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("clients of an empty store: %v, %v", cs, err)
	}
	b := addOAuthClient(t, s, "cb", t0.Add(time.Second))
	a := addOAuthClient(t, s, "ca", t0.Add(2*time.Second))
	c := addOAuthClient(t, s, "cc", t0)
	if err := s.CreateOAuthClient(ctx, &twofactor.OAuthClient{ID: "ca", Name: "x", SecretHash: []byte("x"), CreatedAt: t0}); !errors.Is(err, twofactor.ErrConflict) {
		t.Fatalf("duplicate client id: %v, want ErrConflict", err)
	}
	got, err := s.OAuthClientByID(ctx, "ca")
	must(t, err)
	if got.ID != a.ID || got.Name != a.Name || !bytes.Equal(got.SecretHash, a.SecretHash) || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("round trip: %+v, want %+v", got, a)
	}
	if _, err := s.OAuthClientByID(ctx, "nope"); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("missing client: %v, want ErrNotFound", err)
	}
	cs, err := s.OAuthClients(ctx)
	must(t, err)
	var ids []string
	for _, x := range cs {
		ids = append(ids, x.ID)
	}
	if fmt.Sprint(ids) != fmt.Sprint([]string{c.ID, b.ID, a.ID}) {
		t.Fatalf("clients listed %v, want oldest first [cc cb ca]", ids)
	}

	ra := addRefreshToken(t, s, "a1", "fa", "ca", "u", nil)
	rb := addRefreshToken(t, s, "b1", "fb", "cb", "u", nil)
	must(t, s.DeleteOAuthClient(ctx, "ca"))
	if _, err := s.OAuthClientByID(ctx, "ca"); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatal("the deleted client is still there")
	}
	if refreshExists(t, s, ra.IDHash) || sessionExists(t, s, ra.AccessHash) {
		t.Fatal("the deleted client's refresh token or access session survived")
	}
	if !refreshExists(t, s, rb.IDHash) || !sessionExists(t, s, rb.AccessHash) {
		t.Fatal("deleting a client removed another client's tokens")
	}
	if err := s.DeleteOAuthClient(ctx, "ca"); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("deleting twice: %v, want ErrNotFound", err)
	}
}

// testRefreshTokens: refresh tokens round-trip with their access session,
// need an existing client, and are found by their hash and by their access
// session's.
func testRefreshTokens(t *testing.T, s twofactor.Store) {
	addOAuthClient(t, s, "c", t0)
	rt, access := refreshToken("r1", "f", "nope", "u")
	if err := s.CreateRefreshToken(ctx, rt, access, nil); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("refresh token of an unknown client: %v, want ErrNotFound", err)
	}
	if sessionExists(t, s, access.IDHash) {
		t.Fatal("a refused refresh token left its access session")
	}
	rt.ClientID = "c"
	must(t, s.CreateRefreshToken(ctx, rt, access, nil))
	got, err := s.RefreshTokenByHash(ctx, [][]byte{[]byte("old-key"), rt.IDHash})
	must(t, err)
	if !equalRefresh(got, rt) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, rt)
	}
	got, err = s.RefreshTokenByAccess(ctx, access.IDHash)
	must(t, err)
	if !equalRefresh(got, rt) {
		t.Fatalf("by access hash:\n got %+v\nwant %+v", got, rt)
	}
	sess, err := s.SessionByHash(ctx, [][]byte{access.IDHash})
	must(t, err)
	if sess.Kind != twofactor.SessionToken || sess.UserID != "u" || !sess.Verified() || !sess.ExpiresAt.Equal(access.ExpiresAt) {
		t.Fatalf("access session: %+v", sess)
	}
	if _, err := s.RefreshTokenByHash(ctx, [][]byte{[]byte("nope")}); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("missing refresh token: %v, want ErrNotFound", err)
	}
	if _, err := s.RefreshTokenByHash(ctx, nil); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("no hashes: %v, want ErrNotFound", err)
	}
	if _, err := s.RefreshTokenByAccess(ctx, []byte("nope")); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("missing access hash: %v, want ErrNotFound", err)
	}
	dup, dupAccess := refreshToken("r1", "f", "c", "u")
	dupAccess.IDHash = []byte("another-access")
	if err := s.CreateRefreshToken(ctx, dup, dupAccess, nil); !errors.Is(err, twofactor.ErrConflict) {
		t.Fatalf("duplicate refresh token: %v, want ErrConflict", err)
	}
	if sessionExists(t, s, dupAccess.IDHash) {
		t.Fatal("a refused refresh token left its access session (not one transaction)")
	}
}

// testConsumeRefreshToken: a refresh token is consumed once, is kept as
// used, and an expired one is not consumed.
func testConsumeRefreshToken(t *testing.T, s twofactor.Store) {
	addOAuthClient(t, s, "c", t0)
	rt := addRefreshToken(t, s, "r1", "f", "c", "u", nil)
	now := t0.Add(time.Minute)
	got, err := s.ConsumeRefreshToken(ctx, [][]byte{[]byte("old-key"), rt.IDHash}, now)
	must(t, err)
	want := *rt
	want.UsedAt = now
	if !equalRefresh(got, &want) {
		t.Fatalf("consumed:\n got %+v\nwant %+v", got, &want)
	}
	if _, err := s.ConsumeRefreshToken(ctx, [][]byte{rt.IDHash}, now); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("consuming twice: %v, want ErrNotFound", err)
	}
	kept, err := s.RefreshTokenByHash(ctx, [][]byte{rt.IDHash})
	must(t, err)
	if !kept.UsedAt.Equal(now) {
		t.Fatalf("the used token is not kept as used: %+v", kept)
	}
	old := addRefreshToken(t, s, "r2", "f2", "c", "u", nil)
	if _, err := s.ConsumeRefreshToken(ctx, [][]byte{old.IDHash}, old.ExpiresAt); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("consuming an expired token: %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeRefreshToken(ctx, [][]byte{[]byte("nope")}, now); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("consuming an unknown token: %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeRefreshToken(ctx, nil, now); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("consuming no hashes: %v, want ErrNotFound", err)
	}
	n, err := s.DeleteExpiredRefreshTokens(ctx, t0.Add(24*time.Hour))
	must(t, err)
	if n != 2 || refreshExists(t, s, rt.IDHash) {
		t.Fatalf("expired refresh tokens removed: %d, want 2 (used or not)", n)
	}
}

// testRotateRefreshToken: a token issued in place of a consumed parent ends
// the parent's access session; a parent gone from the family (revoked) is
// ErrNotFound and nothing is created.
func testRotateRefreshToken(t *testing.T, s twofactor.Store) {
	addOAuthClient(t, s, "c", t0)
	r1 := addRefreshToken(t, s, "r1", "f", "c", "u", nil)
	_, err := s.ConsumeRefreshToken(ctx, [][]byte{r1.IDHash}, t0.Add(time.Minute))
	must(t, err)
	r2 := addRefreshToken(t, s, "r2", "f", "c", "u", r1.IDHash)
	if sessionExists(t, s, r1.AccessHash) || !sessionExists(t, s, r2.AccessHash) {
		t.Fatal("rotation should end the parent's access session and start the new one")
	}
	other := addRefreshToken(t, s, "o1", "g", "c", "u", nil)
	rt, access := refreshToken("r3", "f", "c", "u")
	if err := s.CreateRefreshToken(ctx, rt, access, other.IDHash); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("a parent of another family: %v, want ErrNotFound", err)
	}
	if refreshExists(t, s, rt.IDHash) || sessionExists(t, s, access.IDHash) || !sessionExists(t, s, other.AccessHash) {
		t.Fatal("a refused rotation changed something")
	}

	n, err := s.DeleteRefreshFamily(ctx, "f")
	must(t, err)
	if n != 2 || refreshExists(t, s, r1.IDHash) || refreshExists(t, s, r2.IDHash) || sessionExists(t, s, r2.AccessHash) {
		t.Fatalf("DeleteRefreshFamily removed %d tokens, want 2 with their access sessions", n)
	}
	if !refreshExists(t, s, other.IDHash) {
		t.Fatal("DeleteRefreshFamily removed another family")
	}
	rt, access = refreshToken("r4", "f", "c", "u")
	if err := s.CreateRefreshToken(ctx, rt, access, r2.IDHash); !errors.Is(err, twofactor.ErrNotFound) {
		t.Fatalf("rotating a revoked family: %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteRefreshFamily(ctx, "f"); err != nil || n != 0 {
		t.Fatalf("deleting a gone family: %d, %v", n, err)
	}
}

// testDeleteUserRefreshTokens: a user's tokens go with their access
// sessions; other users' stay.
func testDeleteUserRefreshTokens(t *testing.T, s twofactor.Store) {
	addOAuthClient(t, s, "c", t0)
	a := addRefreshToken(t, s, "a", "fa", "c", "u", nil)
	b := addRefreshToken(t, s, "b", "fb", "c", "u", nil)
	v := addRefreshToken(t, s, "v", "fv", "c", "v", nil)
	n, err := s.DeleteUserRefreshTokens(ctx, "u")
	must(t, err)
	if n != 2 {
		t.Fatalf("DeleteUserRefreshTokens removed %d, want 2", n)
	}
	for _, rt := range []*twofactor.RefreshToken{a, b} {
		if refreshExists(t, s, rt.IDHash) || sessionExists(t, s, rt.AccessHash) {
			t.Fatal("a refresh token or access session of the user survived")
		}
	}
	if !refreshExists(t, s, v.IDHash) || !sessionExists(t, s, v.AccessHash) {
		t.Fatal("another user's tokens went")
	}
}

// testRaceConsumeRefreshToken: 100 goroutines consume one refresh token;
// exactly one succeeds.
func testRaceConsumeRefreshToken(t *testing.T, s twofactor.Store) {
	addOAuthClient(t, s, "c", t0)
	rt := addRefreshToken(t, s, "r", "f", "c", "u", nil)
	wins := race(t, func(int) (bool, error) {
		_, err := s.ConsumeRefreshToken(ctx, [][]byte{rt.IDHash}, t0.Add(time.Second))
		if errors.Is(err, twofactor.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	if wins != 1 {
		t.Fatalf("%d of %d concurrent consumptions of one refresh token succeeded, want exactly 1", wins, racers)
	}
}

// testRaceRotateRevoke: a rotation racing the revocation of its family
// never leaves a live token: whichever runs first, the family ends empty.
func testRaceRotateRevoke(t *testing.T, s twofactor.Store) {
	addOAuthClient(t, s, "c", t0)
	for i := 0; i < 20; i++ {
		family := fmt.Sprint("f", i)
		parent := addRefreshToken(t, s, fmt.Sprint("p", i), family, "c", "u", nil)
		_, err := s.ConsumeRefreshToken(ctx, [][]byte{parent.IDHash}, t0.Add(time.Second))
		must(t, err)
		child, access := refreshToken(fmt.Sprint("c", i), family, "c", "u")
		var wg sync.WaitGroup
		var createErr, deleteErr error
		wg.Add(2)
		go func() { defer wg.Done(); createErr = s.CreateRefreshToken(ctx, child, access, parent.IDHash) }()
		go func() { defer wg.Done(); _, deleteErr = s.DeleteRefreshFamily(ctx, family) }()
		wg.Wait()
		must(t, deleteErr)
		if createErr != nil && !errors.Is(createErr, twofactor.ErrNotFound) {
			t.Fatal(createErr)
		}
		if refreshExists(t, s, child.IDHash) || sessionExists(t, s, access.IDHash) {
			t.Fatalf("round %d: a token rotated while its family was revoked survived", i)
		}
	}
}

// testServiceRaceRefresh: 100 goroutines present one refresh token to the
// service at once. At most one gets new tokens; the others are reuse, which
// revokes the family — so no token of it is left alive.
func testServiceRaceRefresh(t *testing.T, s twofactor.Store) {
	svc := service(t, s, t0)
	must(t, s.CreateUser(ctx, &twofactor.UserRecord{User: twofactor.User{ID: "u", Username: "u", Active: true, CreatedAt: t0}}))
	c, _, err := svc.CreateOAuthClient(ctx, "racer")
	must(t, err)
	tok, err := svc.IssueOAuthTokens(ctx, twofactor.OAuthGrant{ClientID: c.ID,
		Login: &twofactor.LoginResult{User: &twofactor.User{ID: "u", Active: true}}})
	must(t, err)
	var mu sync.Mutex
	var issued []*twofactor.OAuthTokens
	wins := race(t, func(int) (bool, error) {
		next, err := svc.RotateRefreshToken(ctx, twofactor.OAuthRefresh{ClientID: c.ID, Token: tok.RefreshToken})
		if err == nil {
			mu.Lock()
			issued = append(issued, next)
			mu.Unlock()
		}
		return err == nil, ignoreRefusal(err)
	})
	if wins > 1 {
		t.Fatalf("one refresh token was exchanged %d times under %d concurrent requests, want at most 1", wins, racers)
	}
	for _, next := range append(issued, tok) {
		in, err := svc.IntrospectOAuthToken(ctx, next.RefreshToken)
		must(t, err)
		if in.Active || sessionExists(t, s, next.Session.IDHash) {
			t.Fatal("a token of a family whose refresh token was reused is still alive")
		}
	}
}
