package oauth2

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	lib "github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/models"

	"github.com/twofactor/twofactor"
)

// exchange is the state of one token request, carried in its context
// through the library's callbacks.
type exchange struct {
	grant      string
	scope      string
	mfaCode    string
	backupCode string
	// client is the authenticated client (set by clientInfo).
	client *twofactor.OAuthClient
	// login is the completed login of a password grant.
	login *twofactor.LoginResult
	// issued are the tokens the generator had the core issue.
	issued *twofactor.OAuthTokens
	// opts are the dialect's options.
	opts ExchangeOptions
}

// ExchangeOptions change how ExchangeWith runs a password grant, for a
// dialect of the endpoint whose second factors differ.
type ExchangeOptions struct {
	// CompleteBackupCode finishes the login challenge token with the
	// request's backup_code. Nil means Service.CompleteLoginBackupCode;
	// deux's dialect passes Service.CompleteLoginDeuxRecovery.
	CompleteBackupCode func(ctx context.Context, token, code string) (*twofactor.LoginResult, error)
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// errNoExchange is returned by the library callbacks when they are called
// outside Exchange, which this package never does.
var errNoExchange = errors.New("oauth2: library callback outside a token request")

// ServeToken is POST /oauth2/token in the RFC 6749 dialect.
func (s *Server) ServeToken(w http.ResponseWriter, r *http.Request) {
	WriteOutcome(w, s.Exchange(r))
}

// Exchange runs a token request — reading its body, authenticating the
// client, running the grant — and returns the outcome without writing
// anything, for WriteOutcome or another dialect to answer. It consumes the
// request body.
func (s *Server) Exchange(r *http.Request) Outcome {
	return s.ExchangeWith(r, ExchangeOptions{})
}

// ExchangeWith is Exchange with a dialect's options.
func (s *Server) ExchangeWith(r *http.Request, opts ExchangeOptions) Outcome {
	vals, perr := readParams(r, s.maxBody)
	if perr != nil {
		return Outcome{Err: perr}
	}
	x := &exchange{grant: vals.Get("grant_type"), scope: vals.Get("scope"), mfaCode: vals.Get("mfa_code"),
		backupCode: vals.Get("backup_code"), opts: opts}
	switch lib.GrantType(x.grant) {
	case "":
		return Outcome{Err: paramError(http.StatusBadRequest, CodeInvalidRequest, "grant_type", "The parameter grant_type is required.")}
	case lib.PasswordCredentials:
		for _, p := range []string{"username", "password"} {
			if vals.Get(p) == "" {
				return Outcome{Err: paramError(http.StatusBadRequest, CodeInvalidRequest, p, "The parameter "+p+" is required.")}
			}
		}
	case lib.Refreshing:
		if vals.Get("refresh_token") == "" {
			return Outcome{Err: paramError(http.StatusBadRequest, CodeInvalidRequest, "refresh_token", "The parameter refresh_token is required.")}
		}
	default:
		return Outcome{Err: paramError(http.StatusBadRequest, CodeUnsupportedGrantType, "grant_type", "Use grant_type password or refresh_token.")}
	}
	if err := twofactor.ValidateOAuthScope(x.scope); err != nil {
		return Outcome{Err: paramError(http.StatusBadRequest, CodeInvalidScope, "scope", "The scope is malformed.")}
	}

	r = withClient(r)
	r = r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x))
	// The library reads the parameters from r.Form: give it the body's,
	// and only those.
	r.Form, r.PostForm, r.MultipartForm = vals, vals, nil
	ctx := r.Context()
	gt, tgr, err := s.lib.ValidationTokenRequest(r)
	if err != nil {
		return Outcome{Err: s.classify(ctx, err)}
	}
	ti, err := s.lib.GetAccessToken(ctx, gt, tgr)
	if err != nil {
		return Outcome{Err: s.classify(ctx, err)}
	}
	if x.issued == nil || ti.GetAccess() != x.issued.AccessToken {
		s.log.ErrorContext(ctx, "oauth2: the library returned a token the core did not issue")
		return Outcome{Err: &Error{Status: http.StatusInternalServerError, Code: CodeServerError, Description: "The server failed; try again later."}}
	}
	return Outcome{Token: &TokenResponse{
		AccessToken:  ti.GetAccess(),
		TokenType:    s.lib.Config.TokenType,
		ExpiresIn:    int64(ti.GetAccessExpiresIn() / time.Second),
		RefreshToken: ti.GetRefresh(),
		Scope:        ti.GetScope(),
	}}
}

// clientInfo is the library's ClientInfoHandler: it authenticates the
// client before anything else of the grant runs (the library would check
// a password grant's password first, and a refresh grant's client never).
func (s *Server) clientInfo(r *http.Request) (string, string, error) {
	x := exchangeFrom(r.Context())
	if x == nil {
		return "", "", errNoExchange
	}
	c, sec, err := s.authenticateClient(r, r.Form)
	if err != nil {
		return "", "", err
	}
	x.client = c
	return c.ID, sec, nil
}

// passwordGrant is the library's PasswordAuthorizationHandler: the
// password step, then the second factor the request carries.
func (s *Server) passwordGrant(ctx context.Context, clientID, username, password string) (string, error) {
	x := exchangeFrom(ctx)
	if x == nil || x.client == nil || x.client.ID != clientID {
		return "", errNoExchange
	}
	res, err := s.svc.Login(ctx, username, password)
	if err != nil {
		return "", err
	}
	if !res.MFARequired {
		x.login = res
		return res.User.ID, nil
	}
	param, input := "mfa_code", x.mfaCode
	switch {
	case x.mfaCode != "" && x.backupCode != "":
		_ = s.svc.CancelLogin(ctx, res.Token)
		return "", &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Cause: ErrBothCodes,
			Description: "Send mfa_code or backup_code, not both."}
	case x.mfaCode == "" && x.backupCode == "":
		return "", s.mfaRequired(ctx, res)
	case x.backupCode != "":
		param, input = "backup_code", x.backupCode
	}
	var done *twofactor.LoginResult
	switch {
	case param == "mfa_code":
		done, err = s.svc.CompleteLoginDeviceCode(ctx, res.Token, input)
	case x.opts.CompleteBackupCode != nil:
		done, err = x.opts.CompleteBackupCode(ctx, res.Token, input)
	default:
		done, err = s.svc.CompleteLoginBackupCode(ctx, res.Token, input)
	}
	if err != nil {
		// The challenge belonged to this request alone.
		_ = s.svc.CancelLogin(ctx, res.Token)
		e := s.classify(ctx, err)
		if e.Code != CodeTemporarilyUnavailable {
			e.Param = param
		}
		if e.Code == CodeInvalidGrant && twofactor.CodeOf(err) == twofactor.CodeInvalidCode {
			e.Description = "The " + param + " is not valid."
		}
		return "", e
	}
	x.login = done
	return done.User.ID, nil
}

// mfaRequired is the answer to a right password without the second factor
// two-factor asks for: the login challenge and the user's methods.
func (s *Server) mfaRequired(ctx context.Context, res *twofactor.LoginResult) error {
	st, err := s.svc.Challenge(ctx, res.Token)
	if err != nil {
		return err
	}
	var methods []Method
	for _, d := range append([]twofactor.Device{*st.Device}, st.Others...) {
		methods = append(methods, Method{ID: d.ID, Kind: string(d.Kind), Name: d.Name, Destination: d.MaskedDestination()})
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeMFARequired, Cause: &twofactor.Error{Code: twofactor.CodeMFARequired},
		Description: "A second factor is required: send mfa_code or backup_code.",
		MFA:         &MFARequired{Token: res.Token, ExpiresAt: res.ExpiresAt, Methods: methods}}
}

// generator is the library's access-token generator: the core issues the
// tokens (an access token is a core token session) and the library only
// hands them out.
type generator struct{ s *Server }

// Token implements lib.AccessGenerate.
func (g generator) Token(ctx context.Context, data *lib.GenerateBasic, isGenRefresh bool) (string, string, error) {
	x := exchangeFrom(ctx)
	if x == nil || x.client == nil {
		return "", "", errNoExchange
	}
	var toks *twofactor.OAuthTokens
	var err error
	switch lib.GrantType(x.grant) {
	case lib.PasswordCredentials:
		toks, err = g.s.svc.IssueOAuthTokens(ctx, twofactor.OAuthGrant{ClientID: x.client.ID, Scope: x.scope, Login: x.login,
			AccessTTL: g.s.access, RefreshTTL: g.s.refresh})
	case lib.Refreshing:
		toks, err = g.s.svc.RotateRefreshToken(ctx, twofactor.OAuthRefresh{ClientID: x.client.ID, Token: data.TokenInfo.GetRefresh(),
			Scope: x.scope, AccessTTL: g.s.access, RefreshTTL: g.s.refresh})
	default:
		return "", "", errNoExchange
	}
	if err != nil {
		return "", "", err
	}
	ti := data.TokenInfo
	ti.SetClientID(x.client.ID)
	ti.SetUserID(toks.User.ID)
	ti.SetScope(toks.Refresh.Scope)
	x.issued = toks
	return toks.AccessToken, toks.RefreshToken, nil
}

// clientStore is the library's ClientStore over the registered clients.
type clientStore struct{ s *Server }

// GetByID implements lib.ClientStore. An unknown client is (nil, nil),
// which the library refuses as invalid_client.
func (c clientStore) GetByID(ctx context.Context, id string) (lib.ClientInfo, error) {
	cl, err := c.s.svc.OAuthClient(ctx, id)
	if twofactor.CodeOf(err) == twofactor.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return clientInfo{svc: c.s.svc, c: cl}, nil
}

// clientInfo is a registered client as the library sees it: confidential,
// with no redirect domain, and a secret it can verify but never read.
type clientInfo struct {
	svc *twofactor.Service
	c   *twofactor.OAuthClient
}

// GetID implements lib.ClientInfo.
func (c clientInfo) GetID() string { return c.c.ID }

// GetSecret implements lib.ClientInfo: the secret is not known, only its
// keyed hash; VerifyPassword checks it.
func (c clientInfo) GetSecret() string { return "" }

// GetDomain implements lib.ClientInfo: no redirects, no domain.
func (c clientInfo) GetDomain() string { return "" }

// IsPublic implements lib.ClientInfo: every client has a secret.
func (c clientInfo) IsPublic() bool { return false }

// GetUserID implements lib.ClientInfo: clients belong to no user.
func (c clientInfo) GetUserID() string { return "" }

// VerifyPassword implements lib.ClientPasswordVerifier with the core's
// constant-time check.
func (c clientInfo) VerifyPassword(secret string) bool {
	return c.svc.VerifyOAuthClientSecret(c.c, secret)
}

// tokenStore is the library's TokenStore over the core. The core stores
// tokens as it issues them (generator), so Create only checks that it did.
type tokenStore struct{ s *Server }

// Create implements lib.TokenStore.
func (t tokenStore) Create(ctx context.Context, info lib.TokenInfo) error {
	if x := exchangeFrom(ctx); x != nil && x.issued != nil && x.issued.AccessToken == info.GetAccess() {
		return nil
	}
	return errors.New("oauth2: tokens are issued by the core service only")
}

// RemoveByCode implements lib.TokenStore; there are no authorization codes.
func (t tokenStore) RemoveByCode(ctx context.Context, code string) error { return nil }

// GetByCode implements lib.TokenStore; there are no authorization codes.
func (t tokenStore) GetByCode(ctx context.Context, code string) (lib.TokenInfo, error) {
	return nil, nil
}

// RemoveByAccess implements lib.TokenStore: it revokes the access token.
func (t tokenStore) RemoveByAccess(ctx context.Context, access string) error {
	return t.s.svc.RevokeOAuthToken(ctx, "", access)
}

// RemoveByRefresh implements lib.TokenStore: it revokes the refresh token
// and its grant.
func (t tokenStore) RemoveByRefresh(ctx context.Context, refresh string) error {
	return t.s.svc.RevokeOAuthToken(ctx, "", refresh)
}

// GetByAccess implements lib.TokenStore: a live access token, or nil.
func (t tokenStore) GetByAccess(ctx context.Context, access string) (lib.TokenInfo, error) {
	in, err := t.s.svc.IntrospectOAuthToken(ctx, access)
	if err != nil || !in.Active || in.TokenType != twofactor.OAuthAccessToken {
		return nil, err
	}
	ti := models.NewToken()
	ti.SetClientID(in.ClientID)
	ti.SetUserID(in.User.ID)
	ti.SetScope(in.Scope)
	ti.SetAccess(access)
	ti.SetAccessCreateAt(in.IssuedAt)
	ti.SetAccessExpiresIn(in.ExpiresAt.Sub(in.IssuedAt))
	return ti, nil
}

// GetByRefresh implements lib.TokenStore: the stored refresh token, used
// or not — the core's rotation decides what may be done with it (and takes
// a used one for a stolen one) — or nil when unknown. Its expiry is left to
// the core, which keeps the service's clock.
func (t tokenStore) GetByRefresh(ctx context.Context, refresh string) (lib.TokenInfo, error) {
	rt, err := t.s.svc.OAuthRefreshToken(ctx, refresh)
	if twofactor.CodeOf(err) == twofactor.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ti := models.NewToken()
	ti.SetClientID(rt.ClientID)
	ti.SetUserID(rt.UserID)
	ti.SetScope(rt.Scope)
	ti.SetRefresh(refresh)
	ti.SetRefreshCreateAt(rt.CreatedAt)
	return ti, nil
}

// ServeRevoke is POST /oauth2/revoke (RFC 7009): the authenticated client
// revokes one of its tokens, access or refresh (token_type_hint is
// accepted and not needed). Unknown, revoked and other clients' tokens are
// answered 200 like the rest and left alone.
func (s *Server) ServeRevoke(w http.ResponseWriter, r *http.Request) {
	r = withClient(r)
	_, c, token, perr := s.endpointRequest(r)
	if perr != nil {
		writeError(w, perr)
		return
	}
	if err := s.svc.RevokeOAuthToken(r.Context(), c.ID, token); err != nil {
		writeError(w, s.classify(r.Context(), err))
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
}

// introspection is the answer of POST /oauth2/introspect (RFC 7662 §2.2),
// with mfa: whether a second factor verified the grant.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	Subject   string `json:"sub,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Expires   int64  `json:"exp,omitempty"`
	IssuedAt  int64  `json:"iat,omitempty"`
	MFA       *bool  `json:"mfa,omitempty"`
}

// ServeIntrospect is POST /oauth2/introspect (RFC 7662) for resource
// servers, which authenticate as clients. token_type is "Bearer" for an
// access token and "refresh_token" for a refresh token.
func (s *Server) ServeIntrospect(w http.ResponseWriter, r *http.Request) {
	r = withClient(r)
	_, _, token, perr := s.endpointRequest(r)
	if perr != nil {
		writeError(w, perr)
		return
	}
	in, err := s.svc.IntrospectOAuthToken(r.Context(), token)
	if err != nil {
		writeError(w, s.classify(r.Context(), err))
		return
	}
	out := introspection{Active: in.Active}
	if in.Active {
		mfa := in.MFA
		out = introspection{Active: true, Scope: in.Scope, ClientID: in.ClientID, Username: in.User.Username, Subject: in.User.ID,
			TokenType: "refresh_token", Expires: in.ExpiresAt.Unix(), IssuedAt: in.IssuedAt.Unix(), MFA: &mfa}
		if in.TokenType == twofactor.OAuthAccessToken {
			out.TokenType = s.lib.Config.TokenType
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// endpointRequest reads a revocation or introspection request: the body,
// the client's authentication and the token parameter.
func (s *Server) endpointRequest(r *http.Request) (url.Values, *twofactor.OAuthClient, string, *Error) {
	vals, perr := readParams(r, s.maxBody)
	if perr != nil {
		return nil, nil, "", perr
	}
	c, _, perr := s.authenticateClient(r, vals)
	if perr != nil {
		return nil, nil, "", perr
	}
	token := vals.Get("token")
	if token == "" {
		return nil, nil, "", paramError(http.StatusBadRequest, CodeInvalidRequest, "token", "The parameter token is required.")
	}
	return vals, c, token, nil
}
