package twofactor_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/secret"
)

func TestOAuthClientSecrets(t *testing.T) {
	e := newEnv(t)
	c, sec, err := e.svc.CreateOAuthClient(ctx, "Mobile app")
	ok(t, err)
	if len(c.ID) < 20 || len(sec) < 40 || c.Name != "Mobile app" {
		t.Fatalf("client %+v, secret of %d characters", c, len(sec))
	}
	stored, err := e.store.OAuthClientByID(ctx, c.ID)
	ok(t, err)
	if bytes.Contains(stored.SecretHash, []byte(sec)) || len(stored.SecretHash) != secret.HashSize {
		t.Fatal("the secret is stored in usable form")
	}
	got, err := e.svc.AuthenticateOAuthClient(ctx, c.ID, sec)
	ok(t, err)
	if got.ID != c.ID {
		t.Fatalf("authenticated %+v", got)
	}
	// Unknown client, wrong secret, empty or oversized input: one error.
	for _, tc := range [][2]string{{c.ID, sec + "x"}, {c.ID, ""}, {"nope", sec}, {"", ""}, {c.ID, strings.Repeat("a", 5000)},
		{strings.Repeat("b", 5000), sec}} {
		_, err := e.svc.AuthenticateOAuthClient(ctx, tc[0], tc[1])
		if e := wantCode(t, err, twofactor.CodeInvalidCredentials, "oauth client"); e.Message != "Client authentication failed." {
			t.Fatalf("message %q", e.Message)
		}
	}
	// The secret still authenticates after a key rotation.
	newKey := mustHex("1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100")
	rotated, err := secret.NewKeyring(newKey, testKey)
	ok(t, err)
	e2 := newEnvOn(t, e.store, rotated)
	if _, err := e2.svc.AuthenticateOAuthClient(ctx, c.ID, sec); err != nil {
		t.Fatalf("after a key rotation: %v", err)
	}

	for _, name := range []string{"", "   ", "a\nb", strings.Repeat("x", 101), "\xff"} {
		_, _, err := e.svc.CreateOAuthClient(ctx, name)
		wantCode(t, err, twofactor.CodeValidationFailed, "")
	}
	e.clock.Add(time.Second)
	c2, _, err := e.svc.CreateOAuthClient(ctx, "Second")
	ok(t, err)
	cs, err := e.svc.OAuthClients(ctx)
	ok(t, err)
	if len(cs) != 2 || cs[0].ID != c.ID || cs[1].ID != c2.ID {
		t.Fatalf("clients %+v", cs)
	}
	ok(t, e.svc.DeleteOAuthClient(ctx, c.ID))
	wantCode(t, e.svc.DeleteOAuthClient(ctx, c.ID), twofactor.CodeNotFound, "oauth client")
	_, err = e.svc.OAuthClient(ctx, c.ID)
	wantCode(t, err, twofactor.CodeNotFound, "oauth client")
	_, err = e.svc.AuthenticateOAuthClient(ctx, c.ID, sec)
	wantCode(t, err, twofactor.CodeInvalidCredentials, "")
}

// oauthLogin signs u in (password, and a code when two-factor is on) and
// issues tokens to client.
func (e *env) oauthLogin(t *testing.T, client string, u *twofactor.User, key []byte, scope string) *twofactor.OAuthTokens {
	t.Helper()
	res, err := e.svc.Login(ctx, u.Username, "correct horse")
	ok(t, err)
	if res.MFARequired {
		res, err = e.svc.CompleteLoginDeviceCode(ctx, res.Token, e.now(key))
		ok(t, err)
	}
	tok, err := e.svc.IssueOAuthTokens(ctx, twofactor.OAuthGrant{ClientID: client, Scope: scope, Login: res})
	ok(t, err)
	return tok
}

func TestOAuthIssueRotateReuse(t *testing.T) {
	e := newEnv(t)
	c, _, err := e.svc.CreateOAuthClient(ctx, "app")
	ok(t, err)
	u := e.user(t, "alice")
	key := []byte("12345678901234567890")
	d := e.totp(t, u, key)
	tok := e.oauthLogin(t, c.ID, u, key, "read write")

	sess, err := e.svc.Session(ctx, tok.AccessToken)
	ok(t, err)
	if sess.Kind != twofactor.SessionToken || sess.UserID != u.ID || sess.DeviceID != d.ID || !sess.Verified() ||
		!sess.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
		t.Fatalf("access token session %+v", sess)
	}
	in, err := e.svc.IntrospectOAuthToken(ctx, tok.AccessToken)
	ok(t, err)
	if !in.Active || in.TokenType != twofactor.OAuthAccessToken || in.ClientID != c.ID || in.Scope != "read write" || !in.MFA ||
		in.User.ID != u.ID {
		t.Fatalf("introspection %+v", in)
	}
	in, err = e.svc.IntrospectOAuthToken(ctx, tok.RefreshToken)
	ok(t, err)
	if !in.Active || in.TokenType != twofactor.OAuthRefreshToken || !in.ExpiresAt.Equal(e.clock.Now().Add(30*24*time.Hour)) || !in.MFA {
		t.Fatalf("refresh introspection %+v", in)
	}

	// Another client cannot use it, and a wider scope is refused; neither
	// uses the token up.
	_, err = e.svc.RotateRefreshToken(ctx, twofactor.OAuthRefresh{ClientID: "other", Token: tok.RefreshToken})
	wantCode(t, err, twofactor.CodeExpired, "client")
	_, err = e.svc.RotateRefreshToken(ctx, twofactor.OAuthRefresh{ClientID: c.ID, Token: tok.RefreshToken, Scope: "admin"})
	wantCode(t, err, twofactor.CodeValidationFailed, "")

	e.clock.Add(2 * time.Hour) // the access token has expired; the refresh token has not
	if _, err := e.svc.Session(ctx, tok.AccessToken); err == nil {
		t.Fatal("the access token outlived its hour")
	}
	next, err := e.svc.RotateRefreshToken(ctx, twofactor.OAuthRefresh{ClientID: c.ID, Token: tok.RefreshToken, Scope: "read"})
	ok(t, err)
	s2, err := e.svc.Session(ctx, next.AccessToken)
	ok(t, err)
	if s2.DeviceID != d.ID || !s2.VerifiedAt.Equal(sess.VerifiedAt) || next.Refresh.Scope != "read" || next.Refresh.FamilyID != tok.Refresh.FamilyID {
		t.Fatalf("rotated session %+v, refresh %+v: the grant's verification must carry over, not be renewed", s2, next.Refresh)
	}

	// The old refresh token again: refused, and the whole family goes.
	e.resetEvents()
	_, err = e.svc.RotateRefreshToken(ctx, twofactor.OAuthRefresh{ClientID: c.ID, Token: tok.RefreshToken})
	wantCode(t, err, twofactor.CodeExpired, "reused")
	if _, err := e.svc.Session(ctx, next.AccessToken); err == nil {
		t.Fatal("reuse of a refresh token left the family's access token alive")
	}
	if in, _ := e.svc.IntrospectOAuthToken(ctx, next.RefreshToken); in.Active {
		t.Fatal("reuse of a refresh token left the family's refresh token alive")
	}
	if !slices.Contains(e.eventKinds(), twofactor.EventRefreshTokenReused) {
		t.Fatalf("reuse not audited: %v", e.eventKinds())
	}
	_, err = e.svc.RotateRefreshToken(ctx, twofactor.OAuthRefresh{ClientID: c.ID, Token: next.RefreshToken})
	wantCode(t, err, twofactor.CodeExpired, "unknown")
}

func TestOAuthRefreshRules(t *testing.T) {
	e := newEnv(t)
	c, _, err := e.svc.CreateOAuthClient(ctx, "app")
	ok(t, err)
	u := e.user(t, "bob")
	key := []byte("12345678901234567890")
	d := e.totp(t, u, key)

	// Expiry.
	tok := e.oauthLogin(t, c.ID, u, key, "")
	e.clock.Add(30*24*time.Hour + time.Second)
	_, err = e.svc.RotateRefreshToken(ctx, twofactor.OAuthRefresh{ClientID: c.ID, Token: tok.RefreshToken})
	wantCode(t, err, twofactor.CodeExpired, "expired")
	if in, _ := e.svc.IntrospectOAuthToken(ctx, tok.RefreshToken); in.Active {
		t.Fatal("an expired refresh token is active")
	}

	// Removing the device that verified the grant un-verifies what it
	// issues next.
	e.clock.Add(time.Minute)
	tok = e.oauthLogin(t, c.ID, u, key, "")
	ok(t, e.svc.RemoveDevice(ctx, twofactor.OperatorActor(u.ID), d.ID))
	next, err := e.svc.RotateRefreshToken(ctx, twofactor.OAuthRefresh{ClientID: c.ID, Token: tok.RefreshToken})
	ok(t, err)
	if next.Session.Verified() || next.Refresh.DeviceID != "" {
		t.Fatalf("a grant verified by a removed device still verifies: %+v", next.Session)
	}
	if in, _ := e.svc.IntrospectOAuthToken(ctx, next.AccessToken); !in.Active || in.MFA {
		t.Fatalf("introspection after device removal: %+v", in)
	}

	// Revocation: an access token ends alone; a refresh token takes its
	// family; unknown tokens and other clients' tokens are not errors and
	// change nothing.
	ok(t, e.svc.RevokeOAuthToken(ctx, "other-client", next.AccessToken))
	if _, err := e.svc.Session(ctx, next.AccessToken); err != nil {
		t.Fatal("another client revoked the token")
	}
	ok(t, e.svc.RevokeOAuthToken(ctx, c.ID, next.AccessToken))
	if _, err := e.svc.Session(ctx, next.AccessToken); err == nil {
		t.Fatal("the revoked access token still works")
	}
	if in, _ := e.svc.IntrospectOAuthToken(ctx, next.RefreshToken); !in.Active {
		t.Fatal("revoking the access token revoked the refresh token")
	}
	ok(t, e.svc.RevokeOAuthToken(ctx, c.ID, next.RefreshToken))
	if in, _ := e.svc.IntrospectOAuthToken(ctx, next.RefreshToken); in.Active {
		t.Fatal("the revoked refresh token is active")
	}
	for _, tk := range []string{"", "unknown", strings.Repeat("x", 10000), next.RefreshToken} {
		ok(t, e.svc.RevokeOAuthToken(ctx, c.ID, tk))
	}

	// A user who can no longer sign in: refused, and the family revoked.
	e.clock.Add(time.Minute)
	tok = e.oauthLogin(t, c.ID, u, nil, "")
	rec, err := e.store.UserByID(ctx, u.ID)
	ok(t, err)
	_, err = e.store.DB().ExecContext(ctx, "UPDATE twofactor_users SET active = 0 WHERE id = ?", rec.ID)
	ok(t, err)
	if in, _ := e.svc.IntrospectOAuthToken(ctx, tok.AccessToken); in.Active {
		t.Fatal("the access token of an inactive user is active")
	}
	_, err = e.svc.RotateRefreshToken(ctx, twofactor.OAuthRefresh{ClientID: c.ID, Token: tok.RefreshToken})
	wantCode(t, err, twofactor.CodeExpired, "user")

	// Deleting the client ends every token issued to it.
	_, err = e.store.DB().ExecContext(ctx, "UPDATE twofactor_users SET active = 1 WHERE id = ?", rec.ID)
	ok(t, err)
	tok = e.oauthLogin(t, c.ID, u, nil, "")
	ok(t, e.svc.DeleteOAuthClient(ctx, c.ID))
	if _, err := e.svc.Session(ctx, tok.AccessToken); err == nil {
		t.Fatal("an access token of a deleted client still works")
	}

	// A login that is not complete issues nothing.
	_, err = e.svc.IssueOAuthTokens(ctx, twofactor.OAuthGrant{ClientID: c.ID, Login: &twofactor.LoginResult{User: u, MFARequired: true}})
	wantCode(t, err, twofactor.CodeValidationFailed, "")
}

func TestOAuthLoginFactors(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "carol")
	key := []byte("12345678901234567890")
	e.totp(t, u, key)
	codes, err := e.svc.RegenerateBackupCodes(ctx, twofactor.OperatorActor(u.ID))
	ok(t, err)
	login := func() string {
		res, err := e.svc.Login(ctx, "carol", "correct horse")
		ok(t, err)
		return res.Token
	}
	// A backup code given as a device code is a wrong device code, and a
	// device code given as a backup code is a malformed backup code.
	_, err = e.svc.CompleteLoginDeviceCode(ctx, login(), codes[0])
	wantCode(t, err, twofactor.CodeInvalidCode, "")
	e.clock.Add(time.Minute)
	_, err = e.svc.CompleteLoginBackupCode(ctx, login(), e.now(key))
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonMalformed)
	e.clock.Add(time.Minute)
	res, err := e.svc.CompleteLoginBackupCode(ctx, login(), strings.ToUpper(codes[1]))
	ok(t, err)
	if res.Device == nil || res.Device.Kind != twofactor.KindStatic {
		t.Fatalf("backup code login %+v", res)
	}
	if on, _ := e.svc.Enabled(ctx, u.ID); !on {
		t.Fatal("a backup code turned two-factor off")
	}
	_, err = e.svc.CompleteLoginBackupCode(ctx, "nope", codes[2])
	wantCode(t, err, twofactor.CodeExpired, "")
}

func TestValidateOAuthScope(t *testing.T) {
	for _, good := range []string{"", "read", "read write", "a:b/c", "!#[]~"} {
		if err := twofactor.ValidateOAuthScope(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	for _, bad := range []string{" ", "read  write", " read", "read ", "a\"b", "a\\b", "é", "a\tb", strings.Repeat("a", 1025)} {
		if err := twofactor.ValidateOAuthScope(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
