package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/i18n"
	"golang.org/x/text/language"
)

// RequestState is what [Handler.Middleware] knows about a request: its
// session (if any), who is signed in, and whether a second factor verified
// the session. It is the equivalent of django-otp's request.user with
// is_verified(). Reading it costs nothing; the user record is loaded only
// when [RequestState.User] is called.
type RequestState struct {
	h       *Handler
	r       *http.Request
	token   string
	session *twofactor.Session
	err     error

	mu      sync.Mutex
	user    *twofactor.User
	userErr error
	loaded  bool
	loc     *i18n.Localizer
}

type stateKey struct{}

// FromContext returns the state [Handler.Middleware] put into ctx, or nil
// when the middleware did not run.
func FromContext(ctx context.Context) *RequestState {
	st, _ := ctx.Value(stateKey{}).(*RequestState)
	return st
}

// State returns the request's state. Without [Handler.Middleware] it is an
// anonymous state (never nil).
func State(r *http.Request) *RequestState {
	if st := FromContext(r.Context()); st != nil {
		return st
	}
	return &RequestState{r: r}
}

// Session returns the request's session, nil when it has none.
func (s *RequestState) Session() *twofactor.Session { return s.session }

// UserID returns the id of the signed-in user, "" when nobody is signed in.
func (s *RequestState) UserID() string {
	if s.session == nil {
		return ""
	}
	return s.session.UserID
}

// IsAuthenticated reports whether a user is signed in (with or without a
// second factor).
func (s *RequestState) IsAuthenticated() bool { return s.UserID() != "" }

// IsVerified reports whether a second factor verified the session
// (django-otp's user.is_verified()). The core un-verifies a session when
// the device that verified it is removed or two-factor is disabled, so this
// needs no device read.
func (s *RequestState) IsVerified() bool { return s.session.Verified() }

// Err returns the failure that kept the session from being read (the
// database is down), nil normally. A request with an error looks anonymous.
func (s *RequestState) Err() error { return s.err }

// User returns the signed-in user, loading it on the first call; nil and
// no error when nobody is signed in.
func (s *RequestState) User(ctx context.Context) (*twofactor.User, error) {
	if !s.IsAuthenticated() || s.h == nil {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		s.user, s.userErr = s.h.svc.Users().UserByID(ctx, s.session.UserID)
		if s.userErr != nil {
			s.userErr = userError(s.userErr)
		}
		s.loaded = true
	}
	return s.user, s.userErr
}

// userError turns a user source's error into the core's error type.
func userError(err error) error {
	if errors.Is(err, twofactor.ErrNotFound) {
		return &twofactor.Error{Code: twofactor.CodeNotFound, Message: "Not found.", Err: err}
	}
	return twofactor.AsError(err)
}

// setSession records a session that this request started (sign-in).
func (s *RequestState) setSession(token string, sess *twofactor.Session, u *twofactor.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token, s.session = token, sess
	s.user, s.userErr, s.loaded = u, nil, u != nil
}

// localizer returns the request's localizer, negotiated on first use.
func (s *RequestState) localizer() *i18n.Localizer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loc == nil {
		s.loc = s.h.negotiate(s.r)
	}
	return s.loc
}

// Middleware puts the request's [RequestState] into its context, reading
// the session cookie with one store read. Wrap the whole application with
// it (the pages of [Handler.Routes] apply it themselves when it is
// missing). A missing, unknown or expired cookie makes the request
// anonymous; a store failure too, with [RequestState.Err] set.
func (h *Handler) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if FromContext(r.Context()) != nil {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, h.withState(r))
	})
}

// withState returns r with a fresh state (and the client, for the audit
// trail) in its context.
func (h *Handler) withState(r *http.Request) *http.Request {
	ctx := twofactor.WithClient(r.Context(), clientOf(r))
	st := &RequestState{h: h}
	if c, err := r.Cookie(h.cfg.SessionCookie); err == nil && c.Value != "" {
		sess, err := h.svc.Session(ctx, c.Value)
		switch twofactor.CodeOf(err) {
		case "":
			st.token, st.session = c.Value, sess
		case twofactor.CodeNotFound:
		default:
			st.err = err
			h.log.ErrorContext(ctx, "reading the session failed", "err", err)
		}
	}
	r = r.WithContext(context.WithValue(ctx, stateKey{}, st))
	st.r = r
	return r
}

// client describes where a request came from, for the audit trail.
func clientOf(r *http.Request) twofactor.Client {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ua := r.UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return twofactor.Client{Address: addr, UserAgent: strings.ToValidUTF8(ua, "\uFFFD")}
}

// secure reports whether cookies of this request get the Secure attribute.
func (h *Handler) secure(r *http.Request) bool { return h.cfg.Secure || r.TLS != nil }

// setSessionCookie hands the browser its session token. Max-Age (counted
// on the server's clock) rather than Expires alone decides when the browser
// drops it, so a browser with a wrong clock keeps it as long as the server.
func (h *Handler) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cfg.SessionCookie, Value: token, Path: "/", Expires: expires,
		MaxAge: max(1, int(expires.Sub(h.svc.Now())/time.Second)),
		Secure: h.secure(r), HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// clearSessionCookie deletes the session cookie.
func (h *Handler) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cfg.SessionCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(1, 0),
		Secure: h.secure(r), HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// langCookie is the cookie of the language switcher.
const langCookie = "lang"

// negotiate picks the language of a request: the configured Language, else
// the switcher's ?lang= or cookie, else Accept-Language, among the offered
// languages (English when none fits).
func (h *Handler) negotiate(r *http.Request) *i18n.Localizer {
	if h.forced != nil {
		return h.forced
	}
	var prefs []string
	if r != nil {
		if q := r.URL.Query().Get("lang"); q != "" && len(q) <= 35 {
			prefs = append(prefs, q)
		}
		if c, err := r.Cookie(langCookie); err == nil && len(c.Value) <= 35 {
			prefs = append(prefs, c.Value)
		}
		prefs = append(prefs, r.Header.Get("Accept-Language"))
	}
	tag := h.matchLanguage(prefs...)
	return h.cfg.Catalog.Localizer(tag)
}

// matchLanguage matches preferences against the offered languages.
func (h *Handler) matchLanguage(prefs ...string) language.Tag {
	for _, p := range prefs {
		if p == "" {
			continue
		}
		if len(p) > 1024 {
			p = p[:1024]
		}
		desired, _, err := language.ParseAcceptLanguage(p)
		if err != nil || len(desired) == 0 {
			continue
		}
		if _, i, conf := h.langMatcher.Match(desired...); conf != language.No && i >= 0 && i < len(h.langs) {
			return h.langs[i]
		}
	}
	return h.langs[0]
}

// validText reports whether a form value is usable text: valid UTF-8
// without NUL, of at most max bytes.
func validText(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}
