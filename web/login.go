package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/twofactor/twofactor"
)

// loginPage is the data of the password step.
type loginPage struct {
	Next string // the safe next to carry on, "" for the default
}

// tokenPage is the data of the code step.
type tokenPage struct {
	Instruction string // English id: what to do with the expected device
	Device      string // the expected device's name
	// Destination is where the expected device's code was sent, masked
	// ("" for devices that make their own codes).
	Destination string
	Digits      int
	// Numeric is false for a device whose codes are not digits (a
	// YubiKey): the field then does not ask for a numeric keyboard.
	Numeric bool
	// Resend offers to send the expected device a new code, Cooldown
	// seconds after the last one.
	Resend    bool
	Cooldown  int
	Others    []otherDevice
	Backup    bool   // the user has backup codes left
	Remember  string // English id of the remember label ("" = feature off)
	RememberN int
	// WebAuthn is set when the expected device is a security key: the
	// request options of the ceremony begun for the page (JSON). The step
	// then has a security-key button instead of the code field.
	WebAuthn string
	// KeyUnavailable is set when the expected device is a security key
	// but no ceremony could begin (the message is on the form); KeyID
	// then chooses the key again, to retry.
	KeyUnavailable bool
	KeyID          string
}

// otherDevice is a device offered as an alternative at the code step. The
// user's security keys are one choice (any of them answers the same
// ceremony), named "Use a security key" without a name.
type otherDevice struct {
	ID, Action, Name string
	// Destination is the masked destination the Action names.
	Destination string
}

// parseForm reads a posted form within the size bound; a body too large or
// malformed answers 413 or 400 and returns false.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.errorPage(w, r, http.StatusRequestEntityTooLarge, "")
		} else {
			h.errorPage(w, r, http.StatusBadRequest, "")
		}
		return false
	}
	return true
}

// safeNext checks a "next" for this handler (see the package function).
func (h *Handler) safeNext(next string) string {
	return safeNext(next, h.cfg.LoginURL, h.cfg.LoginRedirectURL)
}

// loginGet shows the password step. A GET abandons a sign-in in progress
// (the seed's wizard reset): a later code post falls back to the password
// step.
func (h *Handler) loginGet(w http.ResponseWriter, r *http.Request) {
	if d := h.loadData(r); d.Login != "" {
		_ = h.svc.CancelLogin(r.Context(), d.Login)
		d.Login, d.LoginNext, d.LoginCeremony = "", "", ""
		if err := h.saveData(w, r, d); err != nil {
			h.fail(w, r, err, inLogin, nil)
			return
		}
	}
	h.renderLogin(w, r, newForm(), r.URL.Query().Get("next"))
}

// renderLogin shows the password step with f.
func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, f *form, next string) {
	data := loginPage{}
	if next != "" && h.safeNext(next) == next {
		data.Next = next
	}
	p := h.newPage(r, msg("Login"), data)
	p.Form = f
	h.render(w, r, http.StatusOK, "login.html", p)
}

// loginPost handles both steps; the hidden field step says which.
func (h *Handler) loginPost(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	if State(r).err != nil {
		h.fail(w, r, State(r).err, inLogin, nil)
		return
	}
	switch r.PostForm.Get("step") {
	case "auth":
		h.loginPassword(w, r)
	case "token":
		h.loginCode(w, r)
	default:
		h.errorPage(w, r, http.StatusBadRequest, "")
	}
}

// loginPassword is the password step. With two-factor off the user is
// signed in; with it on, a remembered browser may skip the code step,
// else the code step is shown. The password is never shown again nor kept.
func (h *Handler) loginPassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	loc := h.localizer(r)
	f := newForm()
	username, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
	next := r.FormValue("next")
	f.set("username", username)
	if strings.TrimSpace(username) == "" {
		f.fieldError("username", loc.T("This field is required."))
	}
	if pw == "" {
		f.fieldError("password", loc.T("This field is required."))
	}
	if f.HasErrors() {
		h.renderLogin(w, r, f, next)
		return
	}
	res, err := h.svc.Login(ctx, username, pw)
	if err != nil {
		if !h.fail(w, r, err, inLogin, f) {
			h.renderLogin(w, r, f, next)
		}
		return
	}
	next = h.safeNext(next)
	d := h.loadData(r)
	if d.Login != "" { // a sign-in started earlier in this browser is replaced
		_ = h.svc.CancelLogin(ctx, d.Login)
	}
	if !res.MFARequired {
		h.signIn(w, r, res.User, nil, next, false)
		return
	}
	if dev := h.recognize(ctx, w, r, res.User); dev != nil {
		_ = h.svc.CancelLogin(ctx, res.Token)
		h.signIn(w, r, res.User, dev, next, false)
		return
	}
	d.Login, d.LoginNext = res.Token, next
	if err := h.saveData(w, r, d); err != nil {
		h.fail(w, r, err, inLogin, nil)
		return
	}
	// A primary device that receives its codes (sms, call, email) gets
	// one now — once per cooldown: the same sign-in posted again (a
	// reload) sends nothing and says so.
	h.renderTokenStep(w, r, d, newForm(), true)
}

// sendLoginCode sends the code of the sign-in's device id (ChooseDevice),
// adding what happened to f: a notice when resend asked for a new code,
// the reason when none was sent (the cooldown, the daily limit, a gateway
// failure). A device id that is not one of the user's confirmed devices
// changes nothing (the seed falls back to the default device the same
// way). It reports false when it answered the request itself (the sign-in
// timed out, the database failed).
func (h *Handler) sendLoginCode(w http.ResponseWriter, r *http.Request, d sessionData, id string, f *form, resend bool) bool {
	dev, err := h.svc.ChooseDevice(r.Context(), d.Login, id)
	switch twofactor.CodeOf(err) {
	case "":
		if resend && dev.Interactive() {
			f.notice(h.localizer(r).T("We sent you a new code."))
		}
		return true
	case twofactor.CodeNotFound:
		return true
	case twofactor.CodeValidationFailed:
		if e := twofactor.AsError(err); e.Field == "device" {
			return true
		}
	case twofactor.CodeExpired:
		h.timedOut(w, r, d)
		return false
	}
	if h.fail(w, r, err, inLogin, f) {
		return false
	}
	f.flatten()
	return true
}

// loginCode is the code step: a device choice, or a code (or backup code).
func (h *Handler) loginCode(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := h.loadData(r)
	if d.Login == "" { // no sign-in in progress: start at the password step
		h.renderLogin(w, r, newForm(), "")
		return
	}
	f := newForm()
	if id := r.PostForm.Get("device"); id != "" {
		// Choosing a device that receives its codes sends one.
		if h.sendLoginCode(w, r, d, id, f, false) {
			h.renderToken(w, r, d, f)
		}
		return
	}
	if _, ok := r.PostForm["credential"]; ok {
		h.loginKey(w, r, d)
		return
	}
	if r.PostForm.Get("resend") != "" {
		ls, err := h.svc.Challenge(ctx, d.Login)
		if twofactor.CodeOf(err) == twofactor.CodeExpired {
			h.timedOut(w, r, d)
			return
		}
		if err != nil {
			h.fail(w, r, err, inLogin, nil)
			return
		}
		if h.sendLoginCode(w, r, d, ls.Device.ID, f, true) {
			h.renderToken(w, r, d, f)
		}
		return
	}
	if r.PostForm.Get("backup") != "" {
		f.Action = "backup"
	}
	res, err := h.svc.CompleteLogin(ctx, d.Login, r.PostForm.Get("token"))
	if twofactor.CodeOf(err) == twofactor.CodeExpired {
		h.timedOut(w, r, d)
		return
	}
	if err != nil {
		if !h.fail(w, r, err, inLogin, f) {
			h.renderToken(w, r, d, f)
		}
		return
	}
	h.signIn(w, r, res.User, res.Device, h.safeNext(d.LoginNext), r.PostForm.Get("remember") != "")
}

// loginKey is the code step answered by a security key: the credential
// the browser returned for the ceremony the session keeps. A ceremony that
// is gone (expired, used, or not this sign-in's) is begun again with the
// step, not the sign-in; a response that does not verify is one failed
// attempt, shown on the step with a new ceremony.
func (h *Handler) loginKey(w http.ResponseWriter, r *http.Request, d sessionData) {
	f := newForm()
	f.Action = "webauthn"
	cred := r.PostForm.Get("credential")
	if cred == "" {
		f.fieldError("", h.localizer(r).T(msgNeedsJavaScript))
		h.renderToken(w, r, d, f)
		return
	}
	res, err := h.svc.CompleteLoginWebAuthn(r.Context(), d.Login, d.LoginCeremony, []byte(cred))
	switch {
	case err == nil:
		h.signIn(w, r, res.User, res.Device, h.safeNext(d.LoginNext), r.PostForm.Get("remember") != "")
	case isCeremonyExpired(err):
		f.fieldError("", h.localizer(r).T(twofactor.AsError(err).Message))
		h.renderToken(w, r, d, f)
	case twofactor.CodeOf(err) == twofactor.CodeExpired:
		h.timedOut(w, r, d)
	default:
		if !h.fail(w, r, keyError(err), inLogin, f) {
			f.flatten()
			h.renderToken(w, r, d, f)
		}
	}
}

// timedOut restarts a sign-in whose challenge expired.
func (h *Handler) timedOut(w http.ResponseWriter, r *http.Request, d sessionData) {
	d.Login, d.LoginNext, d.LoginCeremony = "", "", ""
	if err := h.saveData(w, r, d); err != nil {
		h.fail(w, r, err, inLogin, nil)
		return
	}
	f := newForm()
	f.fieldError("", h.localizer(r).T("Your session has timed out. Please login again."))
	h.renderLogin(w, r, f, "")
}

// renderToken shows the code step of the sign-in d holds.
func (h *Handler) renderToken(w http.ResponseWriter, r *http.Request, d sessionData, f *form) {
	h.renderTokenStep(w, r, d, f, false)
}

// renderTokenStep shows the code step of the sign-in d holds; with send,
// the expected device is first sent its code when it receives codes.
func (h *Handler) renderTokenStep(w http.ResponseWriter, r *http.Request, d sessionData, f *form, send bool) {
	ls, err := h.svc.Challenge(r.Context(), d.Login)
	if twofactor.CodeOf(err) == twofactor.CodeExpired {
		h.timedOut(w, r, d)
		return
	}
	if err != nil {
		h.fail(w, r, err, inLogin, nil)
		return
	}
	if send && ls.Device.Interactive() && !h.sendLoginCode(w, r, d, ls.Device.ID, f, false) {
		return
	}
	dev := ls.Device
	data := tokenPage{Device: dev.Name, Digits: dev.Digits, Backup: ls.BackupCodes > 0,
		Destination: dev.MaskedDestination(), Numeric: dev.Kind != twofactor.KindYubiKey,
		Resend: dev.Interactive(), Cooldown: cooldownSeconds(h.svc, dev.Kind)}
	data.Instruction = h.instruction(dev.Kind)
	key := dev.Kind == twofactor.KindWebAuthn
	if key {
		// Every showing of the step begins a new ceremony (each is good
		// once), kept in the session.
		options, ceremony, err := h.svc.BeginWebAuthnLogin(r.Context(), d.Login, h.pageOrigin(r))
		if err == nil {
			d.LoginCeremony = ceremony
			err = h.saveData(w, r, d)
		}
		switch {
		case err == nil:
			data.WebAuthn = string(options)
		case twofactor.CodeOf(err) == twofactor.CodeExpired:
			h.timedOut(w, r, d)
			return
		default:
			if h.fail(w, r, err, inLogin, f) {
				return
			}
			f.flatten()
			data.KeyUnavailable, data.KeyID = true, dev.ID
		}
	}
	for _, o := range ls.Others {
		if o.Kind == twofactor.KindWebAuthn {
			// The keys are one choice: a ceremony allows all of them.
			if key || slices.ContainsFunc(data.Others, func(od otherDevice) bool { return od.Action == msg("Use a security key") }) {
				continue
			}
			data.Others = append(data.Others, otherDevice{ID: o.ID, Action: msg("Use a security key")})
			continue
		}
		data.Others = append(data.Others, otherDevice{ID: o.ID, Action: h.action(o.Kind), Name: o.Name,
			Destination: o.MaskedDestination()})
	}
	if age := h.svc.Options().RememberAge; age > 0 {
		data.Remember, data.RememberN = rememberLabel(age)
	}
	if key && f.Action != "backup" {
		f.flatten() // the step has no code field to show them under
	}
	p := h.newPage(r, msg("Login"), data)
	p.Form = f
	p.Script = data.WebAuthn != ""
	h.render(w, r, http.StatusOK, "login_token.html", p)
}

// signIn ends the sign-in: a new session (the old one, and any token
// planted before, is gone), the remember cookie when asked for, and the
// policy: a user who must set up two-factor is sent to the setup first.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, u *twofactor.User, dev *twofactor.Device, next string, remember bool) {
	ctx := r.Context()
	st := State(r)
	token, sess, err := h.svc.SignIn(ctx, twofactor.SessionWeb, st.session, u, dev)
	if err != nil {
		h.fail(w, r, err, inLogin, nil)
		return
	}
	h.setSessionCookie(w, r, token, sess.ExpiresAt)
	st.setSession(token, sess, u)
	if dev != nil && remember && h.svc.Options().RememberAge > 0 {
		rc, err := h.svc.RememberBrowser(ctx, u.ID, dev)
		if err != nil {
			h.log.ErrorContext(ctx, "remembering the browser failed", "err", err)
		} else {
			h.setRemember(w, r, rc, h.svc.Now())
		}
	}
	if dev == nil {
		must, err := h.mustSetUp(ctx, u)
		if err != nil {
			h.log.ErrorContext(ctx, "evaluating the two-factor policy failed", "err", err)
		}
		if must {
			if err := h.saveData(w, r, sessionData{Next: next}); err != nil {
				h.fail(w, r, err, inLogin, nil)
				return
			}
			redirect(w, r, h.setupURL(""), http.StatusFound)
			return
		}
	}
	redirect(w, r, next, http.StatusFound)
}

// logoutGet asks to confirm signing out (signing out is a POST, so that
// another site cannot sign the user out with a link).
func (h *Handler) logoutGet(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "logout.html", h.newPage(r, msg("Sign out"), nil))
}

// logoutPost signs out.
func (h *Handler) logoutPost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := State(r)
	if st.session != nil {
		if d := h.loadData(r); d.Login != "" {
			_ = h.svc.CancelLogin(ctx, d.Login)
		}
		if err := h.svc.SignOut(ctx, st.session); err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
		st.setSession("", nil, nil)
	}
	h.clearSessionCookie(w, r)
	redirect(w, r, h.cfg.LogoutRedirectURL, http.StatusFound)
}

// standardMethods are the built-in methods, whose texts serve devices of
// kinds that Config.Methods does not cover.
var standardMethods = StandardMethods()

// methodFor returns the setup method of a device kind: the configured one,
// else the built-in one; nil when none.
func (h *Handler) methodFor(k twofactor.Kind) *Method {
	for _, ms := range [][]Method{h.cfg.Methods, standardMethods} {
		for i := range ms {
			if slices.Contains(ms[i].Kinds, k) {
				return &ms[i]
			}
		}
	}
	return nil
}

// instruction is what to do with a device of kind k at the code step.
func (h *Handler) instruction(k twofactor.Kind) string {
	if m := h.methodFor(k); m != nil && m.Instruction != "" {
		return m.Instruction
	}
	return msg("Please enter the code from your authentication device.")
}

// action is the text of the button that picks a device of kind k.
func (h *Handler) action(k twofactor.Kind) string {
	if m := h.methodFor(k); m != nil && m.Action != "" {
		return m.Action
	}
	return msg("Use this authentication device")
}
