package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/twofactor/twofactor"
)

// maxRememberCookies bounds how many remember cookies one sign-in checks
// (each is a store read): a browser stuffed with cookies cannot make a
// sign-in expensive. Cookies beyond it are deleted.
const maxRememberCookies = 8

// parseRememberCookie splits a remember cookie into the remembered
// browser's id (the name after prefix) and its secret (the value). Both are
// URL-safe base64 or base32 text of bounded length; anything else is not a
// remember cookie of ours and ok is false.
func parseRememberCookie(prefix, name, value string) (id, secretValue string, ok bool) {
	if prefix == "" || !strings.HasPrefix(name, prefix) {
		return "", "", false
	}
	id = name[len(prefix):]
	if !token(id, 1, 64) || !token(value, 16, 256) {
		return "", "", false
	}
	return id, value, true
}

// token reports whether s is min to max characters of URL-safe base64
// (which includes lower-case base32).
func token(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// recognize looks for a remember cookie that lets u skip the code step
// (SPEC §4.4). The core decides; a cookie it does not honour — malformed,
// forged, expired, revoked, from before a password change, for a removed
// device, or another user's — is deleted, never an error page. A store
// failure is logged and the code is asked.
func (h *Handler) recognize(ctx context.Context, w http.ResponseWriter, r *http.Request, u *twofactor.User) *twofactor.Device {
	prefix := h.cfg.Remember.Prefix
	n := 0
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, prefix) {
			continue
		}
		n++
		id, sec, ok := parseRememberCookie(prefix, c.Name, c.Value)
		if !ok || n > maxRememberCookies {
			h.deleteRemember(w, r, c.Name)
			continue
		}
		d, err := h.svc.RecognizeBrowser(ctx, u, id, sec)
		switch twofactor.CodeOf(err) {
		case "":
			return d
		case twofactor.CodeNotFound:
			// Another user's remembered browser (a shared computer) stays
			// theirs; anything else invalid goes.
			if twofactor.AsError(err).Reason != twofactor.ReasonOtherUser {
				h.deleteRemember(w, r, c.Name)
			}
		default:
			h.log.ErrorContext(ctx, "checking a remembered browser failed", "err", err)
		}
	}
	return nil
}

// setRemember sets the cookie of a remembered browser.
func (h *Handler) setRemember(w http.ResponseWriter, r *http.Request, rc *twofactor.RememberedCookie, now time.Time) {
	rcfg := h.cfg.Remember
	http.SetCookie(w, &http.Cookie{
		Name: rcfg.Prefix + rc.ID, Value: rc.Secret,
		Path: rcfg.Path, Domain: rcfg.Domain,
		MaxAge: max(1, int(rc.Expires.Sub(now)/time.Second)), Expires: rc.Expires,
		Secure: rcfg.Secure || h.secure(r), HttpOnly: *rcfg.HTTPOnly, SameSite: rcfg.SameSite,
	})
}

// deleteRemember deletes a remember cookie.
func (h *Handler) deleteRemember(w http.ResponseWriter, r *http.Request, name string) {
	rcfg := h.cfg.Remember
	if !validCookieName(name) {
		return // a name we could not even write back; the browser keeps it, we ignore it
	}
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: rcfg.Path, Domain: rcfg.Domain, MaxAge: -1, Expires: time.Unix(1, 0),
		Secure: rcfg.Secure || h.secure(r), HttpOnly: *rcfg.HTTPOnly, SameSite: rcfg.SameSite,
	})
}

// rememberLabel is the label of the remember checkbox for an age: minutes
// under an hour, hours under a day, else days (seed §3.6).
func rememberLabel(age time.Duration) (id string, n int) {
	switch {
	case age < time.Hour:
		return msg("Don't ask again on this device for %d minutes"), int(age / time.Minute)
	case age < 24*time.Hour:
		return msg("Don't ask again on this device for %d hours"), int(age / time.Hour)
	default:
		return msg("Don't ask again on this device for %d days"), int(age / (24 * time.Hour))
	}
}
