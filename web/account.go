package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/twofactor/twofactor"
)

// sessionData is the pages' state kept in the session, sealed by the core.
// It never holds a password, a device key or a code: only a login
// challenge token, security-key ceremony tokens, the ids of devices being
// set up, and local paths.
type sessionData struct {
	// Login is the token of the sign-in in progress (the password step
	// passed); LoginNext is where to go once it completes.
	Login     string `json:"login,omitempty"`
	LoginNext string `json:"login_next,omitempty"`
	// SetupMethod and SetupDevice are the setup in progress: the method's
	// code and the unconfirmed device.
	SetupMethod string `json:"setup_method,omitempty"`
	SetupDevice string `json:"setup_device,omitempty"`
	// Next is where to go after a setup the policy or RequireVerified sent
	// the user to.
	Next string `json:"next,omitempty"`
	// PhoneDevice is the unconfirmed backup phone being registered.
	PhoneDevice string `json:"phone_device,omitempty"`
	// SetupState is the setup method's own state (Setup.State: the
	// WebAuthn step's ceremony token).
	SetupState string `json:"setup_state,omitempty"`
	// LoginCeremony is the token of the security-key ceremony of the
	// sign-in's code step (the core binds it to the sign-in as well).
	LoginCeremony string `json:"login_ceremony,omitempty"`
}

// loadData returns the session's page state; no session, no data, and data
// that cannot be opened (a key rotated away) is no data.
func (h *Handler) loadData(r *http.Request) sessionData {
	var d sessionData
	st := State(r)
	if st.session == nil {
		return d
	}
	raw, err := h.svc.SessionData(st.session)
	if err != nil {
		h.log.WarnContext(r.Context(), "session data could not be opened; starting afresh", "err", err)
		return d
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &d); err != nil {
			h.log.WarnContext(r.Context(), "session data could not be read; starting afresh", "err", err)
			return sessionData{}
		}
	}
	return d
}

// saveData stores the page state in the session, starting an anonymous
// session (and setting its cookie) when the request has none.
func (h *Handler) saveData(w http.ResponseWriter, r *http.Request, d sessionData) error {
	st := State(r)
	ctx := r.Context()
	if st.session == nil {
		if d == (sessionData{}) {
			return nil
		}
		token, sess, err := h.svc.NewSession(ctx, twofactor.SessionWeb, "")
		if err != nil {
			return err
		}
		h.setSessionCookie(w, r, token, sess.ExpiresAt)
		st.setSession(token, sess, nil)
	}
	var raw []byte
	if d != (sessionData{}) {
		var err error
		if raw, err = json.Marshal(d); err != nil {
			return fmt.Errorf("encode session data: %w", err)
		}
	}
	return h.svc.SetSessionData(ctx, st.session, raw)
}

// acct is a request that may use the account pages.
type acct struct {
	st   *RequestState
	user *twofactor.User
}

// actor is who acts through the request's session.
func (a *acct) actor() twofactor.Actor { return a.st.session.Actor() }

// account lets a request use the account pages: it must be signed in and,
// when the user has two-factor on, verified by a second factor (a session
// signed in with the password alone before two-factor was turned on by
// other means must sign in again). Otherwise it answers the request itself
// (a redirect to the sign-in page, or an error page) and returns nil.
func (h *Handler) account(w http.ResponseWriter, r *http.Request) *acct {
	st := State(r)
	ctx := r.Context()
	if st.err != nil {
		h.fail(w, r, st.err, inAction, nil)
		return nil
	}
	if !st.IsAuthenticated() {
		h.toLogin(w, r, h.cfg.LoginURL, "next")
		return nil
	}
	if !st.IsVerified() {
		enabled, err := h.svc.Enabled(ctx, st.UserID())
		if err != nil {
			h.fail(w, r, err, inAction, nil)
			return nil
		}
		if enabled {
			h.toLogin(w, r, h.cfg.LoginURL, "next")
			return nil
		}
	}
	u, err := st.User(ctx)
	if twofactor.CodeOf(err) == twofactor.CodeNotFound || (err == nil && u == nil) {
		// The user was deleted: the session is worthless.
		_ = h.svc.SignOut(ctx, st.session)
		h.clearSessionCookie(w, r)
		h.toLogin(w, r, h.cfg.LoginURL, "next")
		return nil
	}
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return nil
	}
	return &acct{st: st, user: u}
}

// toLogin redirects to a sign-in (or verification) URL with the current
// URL as the redirect field; field "-" leaves it out.
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request, to, field string) {
	if field != "-" && field != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + url.QueryEscape(field) + "=" + url.QueryEscape(r.URL.RequestURI())
	}
	redirect(w, r, to, http.StatusFound)
}

// policyBanner returns the banner of the two-factor policy for u: a
// countdown during the grace period, a demand once it is over, nothing
// when the policy does not reach u or u has two-factor on.
func (h *Handler) policyBanner(r *http.Request, u *twofactor.User) *banner {
	ps, err := h.svc.PolicyFor(r.Context(), u)
	if err != nil || !ps.Required || ps.Enabled {
		return nil
	}
	loc := h.localizer(r)
	b := &banner{Link: h.path("/account/two_factor/setup/"), Go: loc.T("Enable Two-Factor Authentication")}
	if ps.MustSetUp {
		b.Text = loc.T("Two-factor authentication is required for your account.")
		return b
	}
	days := int(math.Ceil(ps.Deadline.Sub(h.svc.Now()).Hours() / 24))
	b.Text = loc.T("Two-factor authentication will be required in %d days", max(days, 1))
	return b
}

// setupURL is the setup wizard, with a next to come back to.
func (h *Handler) setupURL(next string) string {
	u := h.path("/account/two_factor/setup/")
	if next != "" {
		u += "?next=" + url.QueryEscape(next)
	}
	return u
}

// mustSetUp reports whether the policy demands that u set up two-factor
// before going on.
func (h *Handler) mustSetUp(ctx context.Context, u *twofactor.User) (bool, error) {
	ps, err := h.svc.PolicyFor(ctx, u)
	if err != nil {
		return false, err
	}
	return ps.MustSetUp, nil
}
