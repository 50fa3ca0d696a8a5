package twofactor

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/twofactor/twofactor/secret"
)

// OAuth 2.0 (SPEC §7.1) in the core: clients, refresh tokens, and the rules
// for issuing, rotating, revoking and introspecting tokens. The protocol
// itself (the token endpoint, client authentication, the error dialect) is
// api/oauth2's; every decision about a token is made here.
//
// An access token is a session of kind SessionToken, so everything that
// accepts API tokens (/api/v1) accepts it unchanged, and it is verified by
// the device that completed the sign-in. A refresh token is used exactly
// once: rotation marks it used and issues a new one with a new access
// session. A used refresh token presented again is taken for a stolen one
// (RFC 6749 §10.4): its whole family — every token rotated from the same
// grant, and the access sessions issued with them — is revoked.

// Hash purposes of the OAuth secrets.
const (
	hashPurposeOAuthSecret  = "oauth-client-secret"
	hashPurposeRefreshToken = "oauth-refresh-token"
)

// Default lifetimes of OAuth tokens: an access token (a token session) lasts
// an hour, a refresh token 30 days from its issue (each rotation issues a
// new one with a full lifetime).
const (
	DefaultOAuthAccessTTL  = time.Hour
	DefaultOAuthRefreshTTL = 30 * 24 * time.Hour
)

// maxOAuthScope bounds the length of a scope string, in bytes.
const maxOAuthScope = 1024

// maxOAuthInput bounds the length of client ids, secrets and tokens looked
// up: nothing we issue is longer, and hashing is bounded.
const maxOAuthInput = 256

// EventRefreshTokenReused is recorded when a refresh token that was already
// used is presented again, and its family is revoked.
const EventRefreshTokenReused EventKind = "refresh_token_reused"

// Introspection token types ([OAuthIntrospection].TokenType).
const (
	OAuthAccessToken  = "access_token"
	OAuthRefreshToken = "refresh_token"
)

// Public messages of the OAuth errors.
const (
	msgInvalidClient  = "Client authentication failed."
	msgRefreshInvalid = "The refresh token is invalid, expired or revoked."
	msgInvalidScope   = "Enter a valid scope: space-separated tokens of printable ASCII characters."
)

// OAuthClient is a client of the OAuth 2.0 token endpoint. Only a keyed hash
// of its secret is stored; the secret is shown once, when it is created.
type OAuthClient struct {
	ID         string
	Name       string
	SecretHash []byte
	CreatedAt  time.Time
}

// RefreshToken is an OAuth 2.0 refresh token as stored: a keyed hash of the
// token, the grant it carries and the access session issued with it.
type RefreshToken struct {
	IDHash []byte
	// FamilyID is shared by every token rotated from one grant; reuse of any
	// of them revokes the family.
	FamilyID string
	ClientID string
	UserID   string
	// DeviceID is the device that verified the grant ("" = no second
	// factor) and VerifiedAt when; access sessions issued by rotation carry
	// them on, so refreshing never counts as a fresh verification.
	DeviceID   string
	VerifiedAt time.Time
	Scope      string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	// UsedAt is when the token was rotated (zero while unused). A used token
	// is kept until it expires so that its reuse is recognised.
	UsedAt time.Time
	// AccessHash is the IDHash of the session of the access token issued
	// with this refresh token.
	AccessHash []byte
}

// OAuthStore keeps OAuth clients and refresh tokens. Access tokens are
// sessions (SessionStore).
type OAuthStore interface {
	// CreateOAuthClient inserts c; a taken id is ErrConflict.
	CreateOAuthClient(ctx context.Context, c *OAuthClient) error
	// OAuthClientByID returns the client with that id.
	OAuthClientByID(ctx context.Context, id string) (*OAuthClient, error)
	// OAuthClients returns every client, oldest first.
	OAuthClients(ctx context.Context) ([]OAuthClient, error)
	// DeleteOAuthClient deletes the client, its refresh tokens and the
	// access sessions issued with them, in one transaction.
	DeleteOAuthClient(ctx context.Context, id string) error

	// CreateRefreshToken inserts access (a token session) and rt, issued
	// with it, in one transaction. With parent (the IDHash of the token rt
	// replaces, consumed by ConsumeRefreshToken) it also deletes the
	// parent's access session, and it inserts nothing and returns
	// ErrNotFound when the parent is no longer stored in rt's family (the
	// family was revoked meanwhile). It is serialised with
	// DeleteRefreshFamily for the family, so a rotation racing a
	// revocation never leaves a live token behind. A client that does not
	// exist is ErrNotFound.
	CreateRefreshToken(ctx context.Context, rt *RefreshToken, access *Session, parent []byte) error
	// RefreshTokenByHash returns the refresh token whose IDHash is among
	// hashes, used or not, expired or not.
	RefreshTokenByHash(ctx context.Context, hashes [][]byte) (*RefreshToken, error)
	// RefreshTokenByAccess returns the refresh token issued with the access
	// session whose IDHash is accessHash.
	RefreshTokenByAccess(ctx context.Context, accessHash []byte) (*RefreshToken, error)
	// ConsumeRefreshToken marks the unused, unexpired (at now) refresh token
	// whose IDHash is among hashes used at now and returns it, in one atomic
	// conditional write: of any number of concurrent calls, on any number of
	// servers, exactly one succeeds; the others, and calls for a used,
	// expired or unknown token, get ErrNotFound. The token is kept (marked
	// used) so that a later use can be recognised.
	ConsumeRefreshToken(ctx context.Context, hashes [][]byte, now time.Time) (*RefreshToken, error)
	// DeleteRefreshFamily deletes every refresh token of the family and the
	// access sessions issued with them, in one transaction, returning how
	// many tokens went.
	DeleteRefreshFamily(ctx context.Context, familyID string) (int, error)
	// DeleteUserRefreshTokens deletes every refresh token of the user and
	// the access sessions issued with them, in one transaction.
	DeleteUserRefreshTokens(ctx context.Context, userID string) (int, error)
	// DeleteExpiredRefreshTokens removes refresh tokens that expired before
	// now, used or not.
	DeleteExpiredRefreshTokens(ctx context.Context, now time.Time) (int, error)
}

// OAuthGrant asks for the tokens of a completed sign-in.
type OAuthGrant struct {
	// ClientID is the authenticated client the tokens are issued to.
	ClientID string
	// Scope is the scope granted, as requested ("" = none); see
	// ValidateOAuthScope.
	Scope string
	// Login is a completed login (Login with two-factor off, or
	// CompleteLogin…): its user, and the device that verified it.
	Login *LoginResult
	// AccessTTL and RefreshTTL are the lifetimes of the tokens; zero means
	// DefaultOAuthAccessTTL and DefaultOAuthRefreshTTL.
	AccessTTL, RefreshTTL time.Duration
}

// OAuthRefresh asks to exchange a refresh token for new tokens.
type OAuthRefresh struct {
	// ClientID is the authenticated client; the token must have been
	// issued to it.
	ClientID string
	// Token is the refresh token presented.
	Token string
	// Scope narrows the scope of the new tokens; "" keeps the token's. It
	// may not add anything the token did not have.
	Scope string
	// AccessTTL and RefreshTTL are the lifetimes of the new tokens; zero
	// means the defaults.
	AccessTTL, RefreshTTL time.Duration
}

// OAuthTokens are newly issued tokens, to hand to the client once.
type OAuthTokens struct {
	AccessToken  string
	RefreshToken string
	// Session is the access token's session, Refresh the stored refresh
	// token.
	Session *Session
	Refresh *RefreshToken
	User    *User
}

// OAuthIntrospection describes a token (RFC 7662). Only Active is set for a
// token that is unknown, expired, revoked, used or whose user cannot sign
// in.
type OAuthIntrospection struct {
	Active bool
	// TokenType is OAuthAccessToken or OAuthRefreshToken.
	TokenType string
	User      *User
	// ClientID is the client the token was issued to ("" for an API token
	// that did not come from the token endpoint); Scope its scope.
	ClientID string
	Scope    string
	// IssuedAt and ExpiresAt bound the token's life.
	IssuedAt  time.Time
	ExpiresAt time.Time
	// MFA reports whether a second factor verified the grant.
	MFA bool
}

// ValidateOAuthScope checks a scope string (RFC 6749 §3.3): tokens of
// printable ASCII other than space, double quote and backslash, separated by
// single spaces, at most 1024 bytes; "" is no scope.
func ValidateOAuthScope(scope string) error {
	if scope == "" {
		return nil
	}
	if len(scope) > maxOAuthScope {
		return errValidation("scope", msgInvalidScope)
	}
	for _, tok := range strings.Split(scope, " ") {
		if tok == "" {
			return errValidation("scope", msgInvalidScope)
		}
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return errValidation("scope", msgInvalidScope)
			}
		}
	}
	return nil
}

// scopeWithin reports whether every token of requested is in granted.
func scopeWithin(requested, granted string) bool {
	have := map[string]bool{}
	for _, tok := range strings.Fields(granted) {
		have[tok] = true
	}
	for _, tok := range strings.Fields(requested) {
		if !have[tok] {
			return false
		}
	}
	return true
}

// validateOAuthClientName checks a client name: 1–100 characters of valid
// UTF-8 without control characters.
func validateOAuthClientName(name string) error {
	if strings.TrimSpace(name) == "" {
		return errValidation("name", "This field is required.")
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return errValidation("name", "Enter a name of at most 100 characters, without control characters.")
	}
	return nil
}

// CreateOAuthClient registers a client of the token endpoint named name and
// returns it with its secret. Both the id and the secret are random; only a
// keyed hash of the secret is stored, so this is the only time it is
// available.
func (s *Service) CreateOAuthClient(ctx context.Context, name string) (*OAuthClient, string, error) {
	if err := validateOAuthClientName(name); err != nil {
		return nil, "", err
	}
	id, err := s.newID()
	if err != nil {
		return nil, "", internal("new client id", err)
	}
	sec, err := secret.Token(s.rand)
	if err != nil {
		return nil, "", internal("new client secret", err)
	}
	c := &OAuthClient{ID: id, Name: name, SecretHash: s.keys.Hash(hashPurposeOAuthSecret, []byte(sec)), CreatedAt: s.clock.Now()}
	if err := s.store.CreateOAuthClient(ctx, c); err != nil {
		return nil, "", internal("create oauth client", err)
	}
	return c, sec, nil
}

// OAuthClients returns every OAuth client, oldest first.
func (s *Service) OAuthClients(ctx context.Context) ([]OAuthClient, error) {
	cs, err := s.store.OAuthClients(ctx)
	if err != nil {
		return nil, internal("list oauth clients", err)
	}
	return cs, nil
}

// OAuthClient returns the OAuth client with that id.
func (s *Service) OAuthClient(ctx context.Context, id string) (*OAuthClient, error) {
	if id == "" || len(id) > maxOAuthInput {
		return nil, errNotFound("oauth client")
	}
	c, err := s.store.OAuthClientByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, errNotFound("oauth client")
	}
	if err != nil {
		return nil, internal("load oauth client", err)
	}
	return c, nil
}

// DeleteOAuthClient deletes a client with every token issued to it: its
// refresh tokens stop working at once, and so do its access tokens.
func (s *Service) DeleteOAuthClient(ctx context.Context, id string) error {
	if id == "" || len(id) > maxOAuthInput {
		return errNotFound("oauth client")
	}
	err := s.store.DeleteOAuthClient(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return errNotFound("oauth client")
	}
	if err != nil {
		return internal("delete oauth client", err)
	}
	return nil
}

// VerifyOAuthClientSecret reports whether sec is the secret of c. It
// compares keyed hashes in constant time, under every key of the keyring
// (secrets hashed before a key rotation still match), and takes the same
// time whether it matches or not.
func (s *Service) VerifyOAuthClientSecret(c *OAuthClient, sec string) bool {
	if len(sec) > maxOAuthInput {
		sec = ""
	}
	var stored []byte
	if c != nil {
		stored = c.SecretHash
	}
	ok := false
	for _, h := range s.keys.Hashes(hashPurposeOAuthSecret, []byte(sec)) {
		if secret.Equal(h, stored) {
			ok = true
		}
	}
	return ok && sec != "" && c != nil
}

// AuthenticateOAuthClient checks a client's id and secret. An unknown client
// and a wrong secret are the same error (CodeInvalidCredentials) and cost
// the same hashing work.
func (s *Service) AuthenticateOAuthClient(ctx context.Context, id, sec string) (*OAuthClient, error) {
	invalid := &Error{Code: CodeInvalidCredentials, Message: msgInvalidClient, Reason: "oauth client"}
	var c *OAuthClient
	if id != "" && len(id) <= maxOAuthInput {
		var err error
		c, err = s.store.OAuthClientByID(ctx, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, internal("load oauth client", err)
		}
	}
	if !s.VerifyOAuthClientSecret(c, sec) {
		return nil, invalid
	}
	return c, nil
}

// CompleteLoginDeviceCode is CompleteLogin for a client that says the input
// is a code of the challenge's device (deux's mfa_code): it is checked
// against that device only, whatever it looks like.
func (s *Service) CompleteLoginDeviceCode(ctx context.Context, token, code string) (*LoginResult, error) {
	return s.completeLogin(ctx, token, func(c *Challenge) (*Device, error) {
		return s.VerifyDevice(ctx, c.UserID, c.DeviceID, code)
	})
}

// CompleteLoginBackupCode is CompleteLogin for a client that says the input
// is a backup code (deux's backup_code): it is checked against the backup
// codes only. A used backup code is gone; two-factor stays on.
func (s *Service) CompleteLoginBackupCode(ctx context.Context, token, code string) (*LoginResult, error) {
	return s.completeLogin(ctx, token, func(c *Challenge) (*Device, error) {
		return s.verifyBackupCode(ctx, c.UserID, code)
	})
}

// completeLogin finishes a login challenge with the second factor verify
// checks, under the same rules as CompleteLogin.
func (s *Service) completeLogin(ctx context.Context, token string, verify func(*Challenge) (*Device, error)) (*LoginResult, error) {
	if err := s.limitSignIn(ctx); err != nil {
		return nil, err
	}
	c, err := s.challenge(ctx, token)
	if err != nil {
		return nil, err
	}
	d, err := verify(c)
	if err != nil {
		return nil, err
	}
	ok, err := s.store.DeleteChallenge(ctx, c.IDHash)
	if err != nil {
		return nil, internal("consume challenge", err)
	}
	if !ok {
		return nil, errExpired()
	}
	u, err := s.users.UserByID(ctx, c.UserID)
	if err != nil {
		return nil, internal("load user", err)
	}
	return &LoginResult{User: u, Device: d}, nil
}

// IssueOAuthTokens issues an access token (a token session, verified by the
// login's device) and a refresh token for a completed login, to the client
// g.ClientID.
func (s *Service) IssueOAuthTokens(ctx context.Context, g OAuthGrant) (*OAuthTokens, error) {
	if g.Login == nil || g.Login.User == nil || g.Login.MFARequired {
		return nil, errValidation("login", "The sign-in is not complete.")
	}
	if g.ClientID == "" {
		return nil, errNotFound("oauth client")
	}
	if err := ValidateOAuthScope(g.Scope); err != nil {
		return nil, err
	}
	family, err := s.newID()
	if err != nil {
		return nil, internal("new token family", err)
	}
	rt := &RefreshToken{FamilyID: family, ClientID: g.ClientID, UserID: g.Login.User.ID, Scope: g.Scope}
	if d := g.Login.Device; d != nil {
		rt.DeviceID, rt.VerifiedAt = d.ID, s.clock.Now()
	}
	return s.issue(ctx, rt, nil, g.Login.User, g.AccessTTL, g.RefreshTTL)
}

// issue stores a new access session and the refresh token rt (whose grant
// fields are set) issued with it, replacing parent when it is not nil.
func (s *Service) issue(ctx context.Context, rt *RefreshToken, parent []byte, u *User, accessTTL, refreshTTL time.Duration) (*OAuthTokens, error) {
	if accessTTL <= 0 {
		accessTTL = DefaultOAuthAccessTTL
	}
	if refreshTTL <= 0 {
		refreshTTL = DefaultOAuthRefreshTTL
	}
	access, err := secret.Token(s.rand)
	if err != nil {
		return nil, internal("new access token", err)
	}
	refresh, err := secret.Token(s.rand)
	if err != nil {
		return nil, internal("new refresh token", err)
	}
	now := s.clock.Now()
	sess := &Session{IDHash: s.keys.Hash(hashPurposeSession, []byte(access)), Kind: SessionToken, UserID: u.ID,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(accessTTL), DeviceID: rt.DeviceID, VerifiedAt: rt.VerifiedAt}
	rt.IDHash = s.keys.Hash(hashPurposeRefreshToken, []byte(refresh))
	rt.CreatedAt, rt.ExpiresAt, rt.UsedAt, rt.AccessHash = now, now.Add(refreshTTL), time.Time{}, sess.IDHash
	if err := s.store.CreateRefreshToken(ctx, rt, sess, parent); err != nil {
		if errors.Is(err, ErrNotFound) {
			// The client was deleted, or the family revoked, meanwhile.
			return nil, &Error{Code: CodeExpired, Message: msgRefreshInvalid, Reason: "revoked"}
		}
		return nil, internal("issue oauth tokens", err)
	}
	return &OAuthTokens{AccessToken: access, RefreshToken: refresh, Session: sess, Refresh: rt, User: u}, nil
}

// refreshRefused is the error of a refresh token that cannot be used;
// reason (unknown, client, expired, reused, user, revoked) is for logs.
func refreshRefused(reason string) *Error {
	return &Error{Code: CodeExpired, Message: msgRefreshInvalid, Reason: reason}
}

// RotateRefreshToken exchanges a refresh token for a new access token and a
// new refresh token (RFC 6749 §6), using up the old one. The old access
// session ends. The new access session carries the grant's verification
// (the device, if it still exists, and the time of the original second
// factor), so refreshing never stands in for a fresh code.
//
// A token that was issued to another client, has expired, or whose user
// can no longer sign in is refused (CodeExpired). A token already used is
// refused and taken for a stolen one: every token of its family, with the
// access sessions issued with them, is revoked, and the reuse is audited.
func (s *Service) RotateRefreshToken(ctx context.Context, r OAuthRefresh) (*OAuthTokens, error) {
	if r.Token == "" || len(r.Token) > maxOAuthInput {
		return nil, refreshRefused("unknown")
	}
	hashes := s.keys.Hashes(hashPurposeRefreshToken, []byte(r.Token))
	rt, err := s.store.RefreshTokenByHash(ctx, hashes)
	if errors.Is(err, ErrNotFound) {
		return nil, refreshRefused("unknown")
	}
	if err != nil {
		return nil, internal("load refresh token", err)
	}
	if rt.ClientID != r.ClientID {
		return nil, refreshRefused("client")
	}
	if !rt.UsedAt.IsZero() {
		return nil, s.refreshReused(ctx, rt)
	}
	now := s.clock.Now()
	if !now.Before(rt.ExpiresAt) {
		return nil, refreshRefused("expired")
	}
	scope := rt.Scope
	if r.Scope != "" {
		if err := ValidateOAuthScope(r.Scope); err != nil {
			return nil, err
		}
		if !scopeWithin(r.Scope, rt.Scope) {
			return nil, errValidation("scope", "The scope asked for exceeds the scope granted.")
		}
		scope = r.Scope
	}
	used, err := s.store.ConsumeRefreshToken(ctx, hashes, now)
	if errors.Is(err, ErrNotFound) {
		// A concurrent request used it first: the same token twice.
		return nil, s.refreshReused(ctx, rt)
	}
	if err != nil {
		return nil, internal("consume refresh token", err)
	}
	u, err := s.users.UserByID(ctx, used.UserID)
	if errors.Is(err, ErrNotFound) || (err == nil && !u.Active) {
		_, _ = s.store.DeleteRefreshFamily(ctx, used.FamilyID)
		return nil, refreshRefused("user")
	}
	if err != nil {
		return nil, internal("load user", err)
	}
	next := &RefreshToken{FamilyID: used.FamilyID, ClientID: used.ClientID, UserID: used.UserID, Scope: scope}
	if deviceID, err := s.grantDevice(ctx, used); err != nil {
		return nil, err
	} else if deviceID != "" {
		next.DeviceID, next.VerifiedAt = deviceID, used.VerifiedAt
	}
	return s.issue(ctx, next, used.IDHash, u, r.AccessTTL, r.RefreshTTL)
}

// grantDevice returns the device that verified rt's grant if it still can
// (it exists, is the user's and is confirmed), else "": removing the device
// or disabling two-factor un-verifies what the grant issues next, as it
// un-verifies live sessions.
func (s *Service) grantDevice(ctx context.Context, rt *RefreshToken) (string, error) {
	if rt.DeviceID == "" {
		return "", nil
	}
	d, err := s.Device(ctx, rt.UserID, rt.DeviceID)
	if CodeOf(err) == CodeNotFound || (err == nil && !d.Confirmed) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return d.ID, nil
}

// refreshReused revokes the family of a refresh token presented after it was
// used, audits it, and returns the refusal.
func (s *Service) refreshReused(ctx context.Context, rt *RefreshToken) error {
	if _, err := s.store.DeleteRefreshFamily(ctx, rt.FamilyID); err != nil {
		return internal("revoke token family", err)
	}
	s.emit(ctx, Event{Kind: EventRefreshTokenReused, UserID: rt.UserID, Outcome: OutcomeRefused,
		Reason: "oauth client " + rt.ClientID})
	return refreshRefused("reused")
}

// OAuthRefreshToken returns the stored record of a refresh token, used or
// not, expired or not; an unknown token is CodeNotFound.
func (s *Service) OAuthRefreshToken(ctx context.Context, token string) (*RefreshToken, error) {
	if token == "" || len(token) > maxOAuthInput {
		return nil, errNotFound("refresh token")
	}
	rt, err := s.store.RefreshTokenByHash(ctx, s.keys.Hashes(hashPurposeRefreshToken, []byte(token)))
	if errors.Is(err, ErrNotFound) {
		return nil, errNotFound("refresh token")
	}
	if err != nil {
		return nil, internal("load refresh token", err)
	}
	return rt, nil
}

// RevokeOAuthToken revokes an access token or a refresh token (RFC 7009)
// issued to the client clientID ("" = to any client, and any token session
// for an access token: an operator's revocation). Revoking a refresh token
// revokes its family — every token of the grant — and the access sessions
// issued with them; revoking an access token ends that session only. A
// token that is unknown, already revoked or issued to another client is
// left alone and is not an error.
func (s *Service) RevokeOAuthToken(ctx context.Context, clientID, token string) error {
	if token == "" || len(token) > maxOAuthInput {
		return nil
	}
	sess, err := s.store.SessionByHash(ctx, s.keys.Hashes(hashPurposeSession, []byte(token)))
	switch {
	case err == nil && sess.Kind == SessionToken:
		if clientID != "" {
			rt, err := s.store.RefreshTokenByAccess(ctx, sess.IDHash)
			if errors.Is(err, ErrNotFound) {
				return nil // not issued through OAuth
			}
			if err != nil {
				return internal("load refresh token", err)
			}
			if rt.ClientID != clientID {
				return nil
			}
		}
		if _, err := s.store.DeleteSession(ctx, sess.IDHash); err != nil {
			return internal("revoke access token", err)
		}
		return nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return internal("load session", err)
	}
	rt, err := s.store.RefreshTokenByHash(ctx, s.keys.Hashes(hashPurposeRefreshToken, []byte(token)))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return internal("load refresh token", err)
	}
	if clientID != "" && rt.ClientID != clientID {
		return nil
	}
	if _, err := s.store.DeleteRefreshFamily(ctx, rt.FamilyID); err != nil {
		return internal("revoke refresh token", err)
	}
	return nil
}

// RevokeUserOAuthTokens revokes every refresh token of the user and the
// access sessions issued with them, returning how many refresh tokens went.
func (s *Service) RevokeUserOAuthTokens(ctx context.Context, userID string) (int, error) {
	n, err := s.store.DeleteUserRefreshTokens(ctx, userID)
	if err != nil {
		return 0, internal("revoke oauth tokens", err)
	}
	return n, nil
}

// DeleteExpiredOAuthTokens removes refresh tokens that have expired (access
// tokens are sessions, removed with them).
func (s *Service) DeleteExpiredOAuthTokens(ctx context.Context) (int, error) {
	n, err := s.store.DeleteExpiredRefreshTokens(ctx, s.clock.Now())
	if err != nil {
		return 0, internal("delete expired refresh tokens", err)
	}
	return n, nil
}

// IntrospectOAuthToken describes an access or refresh token (RFC 7662). A
// token is active when it is live — an access token's session exists and
// has not expired; a refresh token is unused and unexpired — and its user
// exists and is active. Any other token, an empty one included, is
// inactive, which is not an error.
func (s *Service) IntrospectOAuthToken(ctx context.Context, token string) (*OAuthIntrospection, error) {
	inactive := &OAuthIntrospection{}
	if token == "" || len(token) > maxOAuthInput {
		return inactive, nil
	}
	sess, err := s.Session(ctx, token)
	switch {
	case err == nil && sess.Kind == SessionToken && sess.UserID != "":
		u, err := s.activeUser(ctx, sess.UserID)
		if err != nil {
			return nil, err
		}
		if u == nil {
			return inactive, nil
		}
		in := &OAuthIntrospection{Active: true, TokenType: OAuthAccessToken, User: u, IssuedAt: sess.CreatedAt,
			ExpiresAt: sess.ExpiresAt, MFA: sess.Verified()}
		rt, err := s.store.RefreshTokenByAccess(ctx, sess.IDHash)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, internal("load refresh token", err)
		}
		if rt != nil {
			in.ClientID, in.Scope = rt.ClientID, rt.Scope
		}
		return in, nil
	case err == nil:
		return inactive, nil // a browser session is not an OAuth token
	case CodeOf(err) != CodeNotFound:
		return nil, err
	}
	rt, err := s.store.RefreshTokenByHash(ctx, s.keys.Hashes(hashPurposeRefreshToken, []byte(token)))
	if errors.Is(err, ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return nil, internal("load refresh token", err)
	}
	if !rt.UsedAt.IsZero() || !s.clock.Now().Before(rt.ExpiresAt) {
		return inactive, nil
	}
	u, err := s.activeUser(ctx, rt.UserID)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return inactive, nil
	}
	deviceID, err := s.grantDevice(ctx, rt)
	if err != nil {
		return nil, err
	}
	return &OAuthIntrospection{Active: true, TokenType: OAuthRefreshToken, User: u, ClientID: rt.ClientID, Scope: rt.Scope,
		IssuedAt: rt.CreatedAt, ExpiresAt: rt.ExpiresAt, MFA: deviceID != ""}, nil
}

// activeUser returns the user if it exists and is active, else nil.
func (s *Service) activeUser(ctx context.Context, id string) (*User, error) {
	u, err := s.users.UserByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, internal("load user", err)
	}
	if !u.Active {
		return nil, nil
	}
	return u, nil
}
