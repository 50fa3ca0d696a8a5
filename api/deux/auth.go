package deux

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/twofactor/twofactor"
)

// tokenChallenge is the WWW-Authenticate header of every 401, as Django
// REST framework's TokenAuthentication sends it.
const tokenChallenge = "Token"

// unauthenticated is a 401 {"detail": msg}.
func unauthenticated(msg string) *failure {
	return &failure{status: http.StatusUnauthorized, body: detail{msg}, challenge: tokenChallenge}
}

// authenticate returns the session of the request's token, read as Django
// REST framework's TokenAuthentication reads "Authorization: Token <key>",
// with the same messages. "Bearer" is taken as well, for OAuth2 access
// tokens; other schemes are no credentials at all.
func (a *API) authenticate(ctx context.Context, r *http.Request) (*twofactor.Session, error) {
	parts := strings.Fields(r.Header.Get("Authorization"))
	if len(parts) == 0 || !strings.EqualFold(parts[0], "Token") && !strings.EqualFold(parts[0], "Bearer") {
		return nil, unauthenticated(msgNotAuthenticated)
	}
	switch {
	case len(parts) == 1:
		return nil, unauthenticated("Invalid token header. No credentials provided.")
	case len(parts) > 2:
		return nil, unauthenticated("Invalid token header. Token string should not contain spaces.")
	case !utf8.ValidString(parts[1]):
		return nil, unauthenticated("Invalid token header. Token string should not contain invalid characters.")
	}
	sess, err := a.svc.Session(ctx, parts[1])
	if twofactor.CodeOf(err) == twofactor.CodeNotFound {
		return nil, unauthenticated("Invalid token.")
	}
	if err != nil {
		return nil, err
	}
	if sess.Kind != twofactor.SessionToken || sess.UserID == "" {
		return nil, unauthenticated("Invalid token.")
	}
	u, err := a.svc.Users().UserByID(ctx, sess.UserID)
	if errors.Is(err, twofactor.ErrNotFound) || err == nil && !u.Active {
		return nil, unauthenticated("User inactive or deleted.")
	}
	if err != nil {
		return nil, twofactor.AsError(err)
	}
	return sess, nil
}

// permitted refuses, with Django REST framework's 403, a token that no
// second factor verified while the user has two-factor on (a token issued
// before it was turned on, or whose verifying device was removed): it
// must not manage what a second factor protects.
func (a *API) permitted(ctx context.Context, sess *twofactor.Session) error {
	if sess.Verified() {
		return nil
	}
	on, err := a.svc.Enabled(ctx, sess.UserID)
	if err != nil {
		return err
	}
	if on {
		return &failure{status: http.StatusForbidden, body: detail{msgPermissionDenied}}
	}
	return nil
}
