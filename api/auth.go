package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/twofactor/twofactor"
)

// bearerChallenge is the WWW-Authenticate header of every 401.
const bearerChallenge = `Bearer realm="twofactor"`

// maxTokenLen bounds the tokens looked up at all.
const maxTokenLen = 256

// authenticate returns the session of the request's token, from
// "Authorization: Bearer <token>" or, as Django REST framework clients send
// it, "Authorization: Token <token>". API tokens are core sessions of kind
// twofactor.SessionToken; a browser's session token is not accepted here.
//
// This is the one place that turns a request into a caller: other kinds of
// bearer token (OAuth2 access tokens, SPEC §7.1) are to be recognised here.
func (a *API) authenticate(ctx context.Context, r *http.Request) (*twofactor.Session, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return nil, unauthorized(CodeUnauthorized, "This endpoint needs a token: send Authorization: Bearer <token>.")
	}
	if len(values) > 1 {
		return nil, unauthorized(CodeUnauthorized, "Send one Authorization header, not several.")
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "Token") {
		return nil, unauthorized(CodeUnauthorized, "The Authorization scheme must be Bearer (or Token).")
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxTokenLen || !isToken68(token) {
		return nil, unauthorized(CodeInvalidToken, "The token is malformed.")
	}
	sess, err := a.svc.Session(ctx, token)
	if twofactor.CodeOf(err) == twofactor.CodeNotFound {
		return nil, unauthorized(CodeInvalidToken, "The token is unknown, expired or revoked; sign in again.")
	}
	if err != nil {
		return nil, err
	}
	if sess.Kind != twofactor.SessionToken || sess.UserID == "" {
		return nil, unauthorized(CodeInvalidToken, "The token is unknown, expired or revoked; sign in again.")
	}
	return sess, nil
}

// requireVerified refuses a token that no second factor verified when the
// user has two-factor on (a token issued while it was off, or one whose
// verifying device was removed). A verified token costs no further read.
func (a *API) requireVerified(ctx context.Context, sess *twofactor.Session) error {
	if sess.Verified() {
		return nil
	}
	enabled, err := a.svc.Enabled(ctx, sess.UserID)
	if err != nil {
		return err
	}
	if enabled {
		return newProblem(http.StatusForbidden, string(twofactor.CodeMFARequired),
			"This token was not verified by a second factor; verify it with POST /api/v1/step-up.")
	}
	return nil
}

// unauthorized returns a 401 problem with its WWW-Authenticate challenge.
func unauthorized(code, detail string) *problem {
	p := newProblem(http.StatusUnauthorized, code, detail)
	p.wwwAuthenticate = bearerChallenge
	if code == CodeInvalidToken {
		p.wwwAuthenticate += `, error="invalid_token"`
	}
	return p
}

// isToken68 reports whether s has the token68 syntax of RFC 9110 §11.2.
func isToken68(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}
