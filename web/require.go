package web

import (
	"log/slog"
	"net/http"

	"github.com/twofactor/twofactor"
)

// RequireOptions are the options of [RequireVerified], those of
// django-otp's otp_required and django-two-factor-auth's
// OTPRequiredMixin.
type RequireOptions struct {
	// IfConfigured lets a signed-in user without two-factor through (only
	// users who turned it on must be verified).
	IfConfigured bool
	// RaiseAnonymous answers an anonymous request (or a signed-in one that
	// is unverified although two-factor is on) with 403 instead of a
	// redirect to LoginURL.
	RaiseAnonymous bool
	// RaiseUnverified answers a signed-in user without two-factor with a
	// plain 403 instead of the page explaining how to enable it.
	RaiseUnverified bool
	// LoginURL is where to sign in (default: the Handler's LoginURL).
	LoginURL string
	// VerificationURL, when set, is where a signed-in user without
	// two-factor is sent (with the redirect field) instead of the 403 page
	// explaining how to enable it.
	VerificationURL string
	// RedirectFieldName is the query parameter carrying the requested URL
	// to LoginURL and VerificationURL (default "next"; "-" leaves it out).
	RedirectFieldName string
}

// RequireVerified returns middleware that lets a request through only when
// a second factor verified its session. It needs [Handler.Middleware]
// around it (or use [Handler.RequireVerified]). The rules (seed §1.3,
// §3.15):
//
//   - verified: through, with no store read beyond the middleware's one
//     read of the session (the core un-verifies sessions when their device
//     goes, so no device is read);
//   - anonymous, or signed in and unverified while two-factor is on: a
//     redirect to LoginURL?next=<path> to sign in (again), or 403 with
//     RaiseAnonymous;
//   - signed in without two-factor: to the setup when the policy demands
//     it (then back to the page); through with IfConfigured; else 403
//     with RaiseUnverified, a redirect to VerificationURL when set, or a
//     403 page explaining why, with "Enable Two-Factor Authentication".
func RequireVerified(opts RequireOptions) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st := FromContext(r.Context())
			if st == nil || st.h == nil {
				// A wiring mistake, not a user's: refuse rather than let an
				// unchecked request through.
				slog.ErrorContext(r.Context(), "refusing a request", "path", r.URL.Path, "err", errMissingState)
				http.Error(w, errMissingState.Error(), http.StatusInternalServerError)
				return
			}
			if st.session.Verified() {
				next.ServeHTTP(w, r)
				return
			}
			st.h.unverified(w, r, st, opts, next)
		})
	}
}

// RequireVerified is the package's RequireVerified with the handler's
// Middleware applied when the request lacks it.
func (h *Handler) RequireVerified(opts RequireOptions) func(http.Handler) http.Handler {
	require := RequireVerified(opts)
	return func(next http.Handler) http.Handler {
		return h.Middleware(require(next))
	}
}

// unverified decides a request RequireVerified did not let through at
// once.
func (h *Handler) unverified(w http.ResponseWriter, r *http.Request, st *RequestState, opts RequireOptions, next http.Handler) {
	ctx := r.Context()
	loginURL := opts.LoginURL
	if loginURL == "" {
		loginURL = h.cfg.LoginURL
	}
	field := opts.RedirectFieldName
	if field == "" {
		field = "next"
	}
	if st.err != nil {
		h.fail(w, r, st.err, inAction, nil)
		return
	}
	toLogin := func() {
		if opts.RaiseAnonymous {
			h.errorPage(w, r, http.StatusForbidden, "")
			return
		}
		h.toLogin(w, r, loginURL, field)
	}
	if !st.IsAuthenticated() {
		toLogin()
		return
	}
	enabled, err := h.svc.Enabled(ctx, st.UserID())
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	if enabled { // two-factor is on but this session did not use it
		toLogin()
		return
	}
	u, err := st.User(ctx)
	if err != nil || u == nil {
		if twofactor.CodeOf(err) == twofactor.CodeNotFound || u == nil {
			toLogin()
			return
		}
		h.fail(w, r, err, inAction, nil)
		return
	}
	must, err := h.mustSetUp(ctx, u)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	switch {
	case must:
		redirect(w, r, h.setupURL(r.URL.RequestURI()), http.StatusFound)
	case opts.IfConfigured:
		next.ServeHTTP(w, r)
	case opts.RaiseUnverified:
		h.errorPage(w, r, http.StatusForbidden, "")
	case opts.VerificationURL != "":
		h.toLogin(w, r, opts.VerificationURL, field)
	default:
		p := h.newPage(r, msg("Permission Denied"), struct{ SetupURL string }{h.setupURL(r.URL.RequestURI())})
		h.render(w, r, http.StatusForbidden, "otp_required.html", p)
	}
}
