package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/twofactor/twofactor"
)

// errContext is where an error happened; it picks the seed's wording where
// the seed had a different text for the same refusal.
type errContext int

const (
	inLogin  errContext = iota // the sign-in code step
	inSetup                    // confirming a new device ("Entered token is not valid.")
	inStepUp                   // the code of a sensitive action
	inAction                   // any other account action
)

// failure is how a page shows an error: on the form (a field, or the whole
// form) or as an error page.
type failure struct {
	page   bool   // render an error page with status
	status int    // the error page's status
	field  string // the form field at fault; "" = the whole form
	id     string // English message id
	args   []any
	// retryAt, when set, is when a refused sending may be retried: the
	// message's last argument is the number of seconds until then,
	// counted by fail on the service's clock.
	retryAt time.Time
}

// failureOf maps a core error to what the user sees. It is the one place
// where *twofactor.Error meets HTTP on the pages: codes become form
// messages or error pages, internal causes never reach the user.
func failureOf(err error, where errContext) failure {
	e := twofactor.AsError(err)
	if e == nil {
		return failure{}
	}
	switch e.Code {
	case twofactor.CodeUnavailable:
		return failure{page: true, status: http.StatusServiceUnavailable, id: e.Message}
	case twofactor.CodeNotFound:
		return failure{page: true, status: http.StatusNotFound, id: msg("Not found.")}
	case twofactor.CodeForbidden:
		return failure{page: true, status: http.StatusForbidden, id: msg("You do not have permission to access this page.")}
	case twofactor.CodeInvalidCredentials:
		return failure{id: e.Message}
	case twofactor.CodeInvalidCode:
		if where == inSetup {
			return failure{field: "token", id: msg("Entered token is not valid.")}
		}
		return failure{field: "token", id: e.Message}
	case twofactor.CodeThrottled:
		switch e.Reason {
		case twofactor.ReasonCooldown:
			// A code was sent moments ago (SPEC §4.2): it is still valid,
			// and the page says when another may be sent.
			return failure{id: msg("A code was sent a moment ago. You can ask for another one in %d seconds."), retryAt: e.RetryAt}
		case twofactor.ReasonDailyLimit:
			return failure{id: e.Message}
		}
		if e.Failures == 0 {
			// Not a device's failures: the sign-in rate of the address.
			return failure{id: e.Message}
		}
		// The core formats its count into the message; the catalog has the
		// message with its plural forms, so translate from the count.
		return failure{field: "token", id: msg("Verification temporarily disabled because of %d failed attempts, please try again soon."),
			args: []any{e.Failures}}
	case twofactor.CodeGatewayFailed:
		// The provider failed: nothing was sent and no half-made device
		// was kept. A form says so and stays; without one, 503.
		return failure{status: http.StatusServiceUnavailable, id: e.Message}
	case twofactor.CodeStepUpRequired, twofactor.CodeNoDevice:
		return failure{field: "token", id: e.Message}
	case twofactor.CodeValidationFailed:
		return failure{field: formField(e.Field), id: e.Message}
	case twofactor.CodeExpired, twofactor.CodeConflict, twofactor.CodeMFARequired:
		return failure{id: e.Message}
	}
	return failure{id: e.Message}
}

// formField maps the core's field names to the pages' form fields.
func formField(coreField string) string {
	switch coreField {
	case "code":
		return "token"
	case "name", "understand", "method", "phone_number", "email", "token":
		return coreField
	}
	return ""
}

// fail shows err: an error page (logging an internal failure), or a message
// added to f. It reports whether it answered the request itself; if not,
// the caller renders the form again with f.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, where errContext, f *form) bool {
	fl := failureOf(err, where)
	if fl.page {
		if fl.status >= 500 {
			h.log.ErrorContext(r.Context(), "a page failed", "path", r.URL.Path, "err", err)
		}
		h.errorPage(w, r, fl.status, fl.id)
		return true
	}
	loc := h.localizer(r)
	if !fl.retryAt.IsZero() {
		e := &twofactor.Error{RetryAt: fl.retryAt}
		fl.args = append(fl.args, int(e.RetryAfter(h.svc.Now())/time.Second))
	}
	if f == nil { // no form to show it on
		status := fl.status
		if status == 0 {
			status = http.StatusBadRequest
		}
		text := fl.id
		if len(fl.args) > 0 { // the page translates its text: pass it formatted, verbs escaped
			text = strings.ReplaceAll(loc.T(fl.id, fl.args...), "%", "%%")
		}
		h.errorPage(w, r, status, text)
		return true
	}
	f.fieldError(fl.field, loc.T(fl.id, fl.args...))
	return false
}
