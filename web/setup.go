package web

import (
	"context"
	"net/http"
	"slices"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/qr"
)

// SetupHandler serves one method's step of the setup wizard. The wizard
// keeps the method and the device id in the session, renders the method's
// template, maps errors to form messages and completes the setup; the
// method does the rest through the core.
type SetupHandler interface {
	// Begin starts a setup for s.User and returns the id of the
	// unconfirmed device it added, or "" when the step must first ask for
	// something (a phone number) in Submit.
	Begin(ctx context.Context, s *Setup) (deviceID string, err error)
	// Page returns the template (a page of the templates directory, or
	// one of Config.Templates) and the data that show the step. A
	// CodeNotFound error means the setup is gone: the wizard starts over.
	Page(ctx context.Context, s *Setup) (template string, data any, err error)
	// Submit handles the posted step. It returns the confirmation when the
	// device is confirmed, which completes the wizard, or nil and no error
	// when the step moved on (it may have set s.DeviceID).
	Submit(ctx context.Context, s *Setup) (*twofactor.Confirmation, error)
}

// Setup is a setup in progress, as a SetupHandler sees it.
type Setup struct {
	// Request is the request being served (PostFormValue reads the form).
	Request *http.Request
	// Service is the core service.
	Service *twofactor.Service
	// Session is the signed-in session; Session.Actor() acts for the user.
	Session *twofactor.Session
	// User is the signed-in user.
	User *twofactor.User
	// Method is the code of the method being set up: the value of the
	// step field of its forms.
	Method string
	// DeviceID is the device being set up ("" before one was added).
	DeviceID string
	// Issuer names the site in authenticator apps (see Config.Issuer).
	Issuer string
	// QRCodeURL is the URL of the QR code image of the device being set
	// up (served from the device's enrolment URI).
	QRCodeURL string
	// Notice, set by Submit, is a message (an English id) to show on the
	// step, which is then shown again at once ("We sent you a new code.").
	Notice string
	// Origin is the origin of the page (scheme://host[:port]) as the
	// browser sees it, for the ceremonies of security keys.
	Origin string
	// State is the method's own state between its steps, kept sealed in
	// the session and never sent to the browser (the WebAuthn method keeps
	// its ceremony token there). Page and Submit may change it; the wizard
	// saves it, and forgets it when the setup ends.
	State string
}

// wizardPage is the data of the welcome and method steps.
type wizardPage struct {
	Enabled bool // two-factor is already on: this adds a device
	Methods []methodChoice
}

// methodChoice is one radio button of the method step.
type methodChoice struct {
	Code, Label string
	Checked     bool
}

// completePage is the data of the setup complete page.
type completePage struct {
	Codes        []string // the new backup codes, shown once ("" when none)
	Continue     string   // where "Continue" goes
	PhoneMethods bool
}

// available returns the methods that can be offered for r: those the
// service is configured for (a built-in method's kind is in
// Service.Methods) and whose Available says yes.
func (h *Handler) available(r *http.Request) []*Method {
	offered := h.svc.Methods()
	var out []*Method
	for i := range h.cfg.Methods {
		m := &h.cfg.Methods[i]
		if m.requires != "" && !slices.Contains(offered, m.requires) {
			continue
		}
		if m.Available == nil || m.Available(r) {
			out = append(out, m)
		}
	}
	return out
}

// availableMethod returns the available method with that code, nil if
// there is none.
func (h *Handler) availableMethod(r *http.Request, code string) *Method {
	for _, m := range h.available(r) {
		if m.Code == code {
			return m
		}
	}
	return nil
}

// issuer names the site in authenticator apps: Config.Issuer, else the
// core's issuer, else the request's host name without the port.
func (h *Handler) issuer(r *http.Request) string {
	if h.cfg.Issuer != "" {
		return h.cfg.Issuer
	}
	if iss := h.svc.Options().Issuer; iss != "" {
		return iss
	}
	return hostName(r.Host)
}

// setup returns the Setup of the request's setup in progress with m.
func (h *Handler) setup(r *http.Request, a *acct, m *Method, d sessionData) *Setup {
	return &Setup{Request: r, Service: h.svc, Session: a.st.session, User: a.user, Method: m.Code, DeviceID: d.SetupDevice,
		Issuer: h.issuer(r), QRCodeURL: h.path("/account/two_factor/qrcode/"), Origin: h.pageOrigin(r), State: d.SetupState}
}

// setupGet shows the wizard: the step of the setup in progress, else the
// welcome step. A safe ?next= is kept to return to after the setup.
func (h *Handler) setupGet(w http.ResponseWriter, r *http.Request) {
	a := h.account(w, r)
	if a == nil {
		return
	}
	d := h.loadData(r)
	if next := r.URL.Query().Get("next"); next != "" && h.safeNext(next) == next && d.Next != next {
		d.Next = next
		if err := h.saveData(w, r, d); err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
	}
	if m := h.availableMethod(r, d.SetupMethod); m != nil && d.SetupMethod != "" {
		h.renderMethodStep(w, r, a, m, d, newForm())
		return
	}
	h.renderWelcome(w, r, a, "setup_welcome.html", newForm(), "")
}

// renderWelcome shows the welcome or the method step.
func (h *Handler) renderWelcome(w http.ResponseWriter, r *http.Request, a *acct, tmpl string, f *form, checked string) {
	enabled, err := h.svc.Enabled(r.Context(), a.user.ID)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	data := wizardPage{Enabled: enabled}
	for i, m := range h.available(r) {
		data.Methods = append(data.Methods, methodChoice{Code: m.Code, Label: m.Label,
			Checked: m.Code == checked || (checked == "" && i == 0)})
	}
	p := h.newPage(r, msg("Enable Two-Factor Authentication"), data)
	p.Form = f
	p.Banner = h.policyBanner(r, a.user)
	if enabled {
		p.setStepUp(h.stepUpFor(r, a.st.session, a.user.ID, f, false))
	}
	if p.StepUp == nil {
		f.flatten("method") // no step-up field to show a code's error under
	}
	h.render(w, r, http.StatusOK, tmpl, p)
}

// stepUpAgain ends the setup with method m whose step was refused for want
// of a fresh second factor (the verification went stale during the setup)
// and shows the first steps again, which ask for one.
func (h *Handler) stepUpAgain(w http.ResponseWriter, r *http.Request, a *acct, m *Method, d sessionData, err error) {
	if aerr := h.abandonSetup(r, a, &d); aerr != nil {
		h.fail(w, r, aerr, inAction, nil)
		return
	}
	if serr := h.saveData(w, r, d); serr != nil {
		h.fail(w, r, serr, inAction, nil)
		return
	}
	f := newForm()
	h.fail(w, r, err, inStepUp, f)
	tmpl := "setup_welcome.html"
	if len(h.available(r)) > 1 {
		tmpl = "setup_method.html"
	}
	h.renderWelcome(w, r, a, tmpl, f, m.Code)
}

// renderMethodStep shows the method's step of the setup in progress; when
// the setup is gone, the wizard starts over.
func (h *Handler) renderMethodStep(w http.ResponseWriter, r *http.Request, a *acct, m *Method, d sessionData, f *form) {
	s := h.setup(r, a, m, d)
	tmpl, data, err := m.Setup.Page(r.Context(), s)
	if twofactor.CodeOf(err) == twofactor.CodeStepUpRequired {
		h.stepUpAgain(w, r, a, m, d, err)
		return
	}
	if twofactor.CodeOf(err) == twofactor.CodeNotFound {
		d.SetupMethod, d.SetupDevice, d.SetupState = "", "", ""
		if err := h.saveData(w, r, d); err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
		h.renderWelcome(w, r, a, "setup_welcome.html", newForm(), "")
		return
	}
	if err != nil {
		h.fail(w, r, err, inSetup, nil)
		return
	}
	if s.State != d.SetupState {
		d.SetupState = s.State
		if err := h.saveData(w, r, d); err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
	}
	if _, ok := h.pages.sets[tmpl]; !ok {
		h.log.ErrorContext(r.Context(), "a setup method names an unknown template", "method", m.Code, "template", tmpl)
		h.errorPage(w, r, http.StatusInternalServerError, "")
		return
	}
	p := h.newPage(r, m.Label, data)
	p.Form = f
	if sd, ok := data.(scripted); ok {
		p.Script = sd.needsScript()
	}
	h.render(w, r, http.StatusOK, tmpl, p)
}

// setupPost moves the wizard on; the hidden field step says from where.
func (h *Handler) setupPost(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	a := h.account(w, r)
	if a == nil {
		return
	}
	loc := h.localizer(r)
	d := h.loadData(r)
	step := r.PostForm.Get("step")
	if step == "welcome" || step == "method" {
		// Adding a device once two-factor is on needs a fresh second
		// factor (the core's rule): the first steps ask for it when the
		// session's is old, and check it before the method begins.
		f := newForm()
		if stop, err := h.stepUp(r, a.st.session, a.user.ID, f); stop || err != nil {
			if err == nil || !h.fail(w, r, err, inStepUp, f) {
				tmpl := "setup_welcome.html"
				if step == "method" {
					tmpl = "setup_method.html"
				}
				checked := r.PostForm.Get("method")
				if h.availableMethod(r, checked) == nil {
					checked = ""
				}
				h.renderWelcome(w, r, a, tmpl, f, checked)
			}
			return
		}
	}
	switch step {
	case "welcome":
		ms := h.available(r)
		switch len(ms) {
		case 0:
			f := newForm()
			f.fieldError("", loc.T("No method to set up two-factor authentication is available."))
			h.renderWelcome(w, r, a, "setup_welcome.html", f, "")
		case 1: // the method step is skipped when there is nothing to choose
			h.beginSetup(w, r, a, ms[0], d)
		default:
			h.renderWelcome(w, r, a, "setup_method.html", newForm(), "")
		}
	case "method":
		code := r.PostForm.Get("method")
		f := newForm()
		if code == "" {
			f.fieldError("method", loc.T("This field is required."))
			h.renderWelcome(w, r, a, "setup_method.html", f, "")
			return
		}
		m := h.availableMethod(r, code)
		if m == nil {
			f.fieldError("method", loc.T("Select a valid choice. %s is not one of the available choices.", shorten(code, 40)))
			h.renderWelcome(w, r, a, "setup_method.html", f, "")
			return
		}
		h.beginSetup(w, r, a, m, d)
	case "cancel":
		if err := h.abandonSetup(r, a, &d); err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
		if err := h.saveData(w, r, d); err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
		redirect(w, r, h.path("/account/two_factor/"), http.StatusSeeOther)
	case "":
		h.errorPage(w, r, http.StatusBadRequest, "")
	default:
		m := h.availableMethod(r, step)
		if m == nil {
			h.errorPage(w, r, http.StatusBadRequest, "")
			return
		}
		if d.SetupMethod != m.Code { // no such setup in progress (any more)
			redirect(w, r, h.path("/account/two_factor/setup/"), http.StatusSeeOther)
			return
		}
		h.submitSetup(w, r, a, m, d)
	}
}

// beginSetup starts a setup with method m, abandoning the session's
// previous one (its unconfirmed device is removed).
func (h *Handler) beginSetup(w http.ResponseWriter, r *http.Request, a *acct, m *Method, d sessionData) {
	if err := h.abandonSetup(r, a, &d); err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	id, err := m.Setup.Begin(r.Context(), h.setup(r, a, m, sessionData{}))
	if err != nil {
		// The method could not start (its first code could not be sent):
		// the choice is shown again with the reason.
		f := newForm()
		if !h.fail(w, r, err, inSetup, f) {
			f.flatten("method", "token") // a step-up refusal stays with the step-up field
			tmpl := "setup_welcome.html"
			if len(h.available(r)) > 1 {
				tmpl = "setup_method.html"
			}
			if err := h.saveData(w, r, d); err != nil {
				h.fail(w, r, err, inAction, nil)
				return
			}
			h.renderWelcome(w, r, a, tmpl, f, m.Code)
		}
		return
	}
	d.SetupMethod, d.SetupDevice, d.SetupState = m.Code, id, ""
	if err := h.saveData(w, r, d); err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	redirect(w, r, h.path("/account/two_factor/setup/"), http.StatusSeeOther)
}

// abandonSetup removes the unconfirmed device of the session's setup in
// progress and forgets the setup. A device confirmed meanwhile is kept.
func (h *Handler) abandonSetup(r *http.Request, a *acct, d *sessionData) error {
	if d.SetupDevice != "" {
		dev, err := h.svc.Device(r.Context(), a.user.ID, d.SetupDevice)
		switch {
		case twofactor.CodeOf(err) == twofactor.CodeNotFound:
		case err != nil:
			return err
		case !dev.Confirmed:
			if err := h.svc.RemoveDevice(r.Context(), a.actor(), dev.ID); err != nil && twofactor.CodeOf(err) != twofactor.CodeNotFound {
				return err
			}
		}
	}
	d.SetupMethod, d.SetupDevice, d.SetupState = "", "", ""
	return nil
}

// submitSetup hands the posted method step to the method and completes the
// wizard when it confirms the device: the session is then verified by it,
// and new backup codes (when this turned two-factor on) are shown once.
func (h *Handler) submitSetup(w http.ResponseWriter, r *http.Request, a *acct, m *Method, d sessionData) {
	s := h.setup(r, a, m, d)
	conf, err := m.Setup.Submit(r.Context(), s)
	if twofactor.CodeOf(err) == twofactor.CodeStepUpRequired {
		d.SetupDevice = s.DeviceID
		h.stepUpAgain(w, r, a, m, d, err)
		return
	}
	if twofactor.CodeOf(err) == twofactor.CodeNotFound { // the device is gone: start over
		d.SetupMethod, d.SetupDevice, d.SetupState = "", "", ""
		if err := h.saveData(w, r, d); err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
		redirect(w, r, h.path("/account/two_factor/setup/"), http.StatusSeeOther)
		return
	}
	if s.DeviceID != d.SetupDevice || s.State != d.SetupState { // the step added a device (or replaced it), or moved on
		d.SetupDevice, d.SetupState = s.DeviceID, s.State
		if err := h.saveData(w, r, d); err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
	}
	if err != nil {
		f := newForm()
		keepValues(r, f)
		if !h.fail(w, r, err, inSetup, f) {
			h.renderMethodStep(w, r, a, m, d, f)
		}
		return
	}
	if conf == nil { // the step moved on
		if s.Notice != "" {
			f := newForm()
			f.notice(h.localizer(r).T(s.Notice))
			h.renderMethodStep(w, r, a, m, d, f)
			return
		}
		redirect(w, r, h.path("/account/two_factor/setup/"), http.StatusSeeOther)
		return
	}
	if err := h.verifiedBy(w, r, a, conf); err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	d.SetupMethod, d.SetupDevice, d.SetupState = "", "", ""
	if err := h.saveData(w, r, d); err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	if len(conf.BackupCodes) == 0 {
		redirect(w, r, h.path("/account/two_factor/setup/complete/"), http.StatusSeeOther)
		return
	}
	data := completePage{Codes: conf.BackupCodes, Continue: h.path("/account/two_factor/"), PhoneMethods: h.phoneMethods(r)}
	if d.Next != "" {
		data.Continue = h.path("/account/two_factor/setup/complete/")
	}
	h.render(w, r, http.StatusOK, "setup_complete.html", h.newPage(r, msg("Enable Two-Factor Authentication"), data))
}

// keepValues copies the posted values a step shows again after an error
// (never a code, a credential or a password).
func keepValues(r *http.Request, f *form) {
	for _, k := range []string{"phone_number", "email", "method", "name"} {
		if v := r.PostForm.Get(k); v != "" && validText(v, 256) {
			f.set(k, v)
		}
	}
}

// verifiedBy makes sure the session is verified by the device whose
// confirmation c turned two-factor on (it then came with backup codes), so
// that the user who just proved it is not asked to sign in again (the
// seed's "no double login"). ConfirmInSession and AddYubiKeyOTPInSession do
// it themselves; a security key, whose registration the core finishes
// outside the session, gets a new session verified by it, as a sign-in
// with it would. A further device verifies nothing: it proves possession
// of itself, not of the account's existing factors, so it must not open
// the step-up actions.
func (h *Handler) verifiedBy(w http.ResponseWriter, r *http.Request, a *acct, c *twofactor.Confirmation) error {
	sess, dev := a.st.session, c.Device
	if c.BackupCodes == nil || dev == nil || sess.DeviceID == dev.ID || dev.UserID != a.user.ID || !dev.Confirmed {
		return nil
	}
	token, ns, err := h.svc.SignIn(r.Context(), twofactor.SessionWeb, sess, a.user, dev)
	if err != nil {
		return err
	}
	h.setSessionCookie(w, r, token, ns.ExpiresAt)
	a.st.setSession(token, ns, a.user)
	return nil
}

// setupComplete congratulates, or returns to where the user was going when
// a policy or a protected page sent them to the setup.
func (h *Handler) setupComplete(w http.ResponseWriter, r *http.Request) {
	a := h.account(w, r)
	if a == nil {
		return
	}
	enabled, err := h.svc.Enabled(r.Context(), a.user.ID)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	if !enabled {
		redirect(w, r, h.path("/account/two_factor/setup/"), http.StatusFound)
		return
	}
	if d := h.loadData(r); d.Next != "" {
		next := h.safeNext(d.Next)
		d.Next = ""
		if err := h.saveData(w, r, d); err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
		redirect(w, r, next, http.StatusFound)
		return
	}
	data := completePage{Continue: h.path("/account/two_factor/"), PhoneMethods: h.phoneMethods(r)}
	h.render(w, r, http.StatusOK, "setup_complete.html", h.newPage(r, msg("Enable Two-Factor Authentication"), data))
}

// qrcode draws the QR code of the setup in progress: SVG, or PNG with
// ?format=png. Without a setup in progress it is not found.
func (h *Handler) qrcode(w http.ResponseWriter, r *http.Request) {
	a := h.account(w, r)
	if a == nil {
		return
	}
	d := h.loadData(r)
	if d.SetupDevice == "" {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	uri, err := h.svc.EnrollmentURI(r.Context(), a.actor(), d.SetupDevice, a.user.Username)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	uri.Issuer = h.issuer(r)
	code, err := qr.Encode(uri.IssuerPrefixed())
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	var body []byte
	ct := "image/svg+xml; charset=utf-8"
	if r.URL.Query().Get("format") == "png" {
		if body, err = code.PNG(6); err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
		ct = "image/png"
	} else {
		body = code.SVG()
	}
	hd := w.Header()
	hd.Set("Content-Type", ct)
	hd.Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}
