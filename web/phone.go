package web

import (
	"net/http"
	"strings"

	"github.com/twofactor/twofactor"
)

// phoneRegisterPage is the data of the backup phone page: the number and
// method form, or, once a code was sent, the code form.
type phoneRegisterPage struct {
	Methods []methodChoice
	// Sent is true at the code step; Instruction, Destination and Digits
	// describe the code, Cooldown the seconds between two codes.
	Sent        bool
	Instruction string
	Destination string
	Digits      int
	Cooldown    int
}

// phoneUnregisterPage is the data of the page that asks for a fresh code
// before a phone is removed.
type phoneUnregisterPage struct {
	Device deviceView
}

// phoneSetupMethods returns the available methods that send codes to a
// phone (sms, call).
func (h *Handler) phoneSetupMethods(r *http.Request) []*Method {
	var out []*Method
	for _, m := range h.available(r) {
		if m.Phone && len(m.Kinds) > 0 && isPhone(m.Kinds[0]) {
			out = append(out, m)
		}
	}
	return out
}

// phoneAllowed checks that a backup phone may be added: a phone method is
// available (else to the profile, as the seed) and two-factor is on (else
// to the setup wizard: the first device is set up there). Otherwise it
// answers the request itself and returns nil.
func (h *Handler) phoneAllowed(w http.ResponseWriter, r *http.Request, a *acct) []*Method {
	ms := h.phoneSetupMethods(r)
	if len(ms) == 0 {
		redirect(w, r, h.cfg.LoginRedirectURL, http.StatusFound)
		return nil
	}
	enabled, err := h.svc.Enabled(r.Context(), a.user.ID)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return nil
	}
	if !enabled {
		redirect(w, r, h.setupURL(""), http.StatusFound)
		return nil
	}
	return ms
}

// phoneRegisterGet shows the backup phone page: the number and method
// form, or the code form of the phone being registered.
func (h *Handler) phoneRegisterGet(w http.ResponseWriter, r *http.Request) {
	a := h.account(w, r)
	if a == nil {
		return
	}
	ms := h.phoneAllowed(w, r, a)
	if ms == nil {
		return
	}
	h.renderPhoneRegister(w, r, a, ms, h.loadData(r), newForm())
}

// renderPhoneRegister shows the step of the registration d holds.
func (h *Handler) renderPhoneRegister(w http.ResponseWriter, r *http.Request, a *acct, ms []*Method, d sessionData, f *form) {
	var data phoneRegisterPage
	if d.PhoneDevice != "" {
		dev, err := h.svc.Device(r.Context(), a.user.ID, d.PhoneDevice)
		switch {
		case twofactor.CodeOf(err) == twofactor.CodeNotFound || (err == nil && (dev.Confirmed || !isPhone(dev.Kind))):
			// Gone (or finished elsewhere): start again with the form.
			d.PhoneDevice = ""
			if err := h.saveData(w, r, d); err != nil {
				h.fail(w, r, err, inAction, nil)
				return
			}
		case err != nil:
			h.fail(w, r, err, inAction, nil)
			return
		default:
			data = phoneRegisterPage{Sent: true, Instruction: instructionOf(dev.Kind), Destination: dev.MaskedDestination(),
				Digits: dev.Digits, Cooldown: cooldownSeconds(h.svc, dev.Kind)}
		}
	}
	if !data.Sent {
		checked := f.Value("method")
		if h.phoneMethod(ms, checked) == nil {
			checked = ms[0].Code
		}
		for _, m := range ms {
			data.Methods = append(data.Methods, methodChoice{Code: m.Code, Label: m.Label, Checked: m.Code == checked})
		}
	}
	p := h.newPage(r, msg("Add Backup Phone"), data)
	p.Form = f
	if !data.Sent {
		// Adding a phone needs a fresh second factor (the core's rule).
		p.setStepUp(h.stepUpFor(r, a.st.session, a.user.ID, f, false))
		if p.StepUp == nil {
			f.flatten("phone_number", "method")
		}
	}
	h.render(w, r, http.StatusOK, "phone_register.html", p)
}

// phoneMethod returns the method of ms with that code, nil when none.
func (h *Handler) phoneMethod(ms []*Method, code string) *Method {
	for _, m := range ms {
		if m.Code == code {
			return m
		}
	}
	return nil
}

// phoneRegisterPost moves the registration on; the hidden field step says
// from where: phone (number and method: the phone is added and sent a
// code), token (the code confirms it), resend, cancel.
func (h *Handler) phoneRegisterPost(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	a := h.account(w, r)
	if a == nil {
		return
	}
	ms := h.phoneAllowed(w, r, a)
	if ms == nil {
		return
	}
	ctx := r.Context()
	loc := h.localizer(r)
	d := h.loadData(r)
	f := newForm()
	registerURL := h.path("/account/two_factor/phone/register/")
	switch r.PostForm.Get("step") {
	case "phone":
		keepValues(r, f)
		if stop, err := h.stepUp(r, a.st.session, a.user.ID, f); stop || err != nil {
			if err == nil || !h.fail(w, r, err, inStepUp, f) {
				h.renderPhoneRegister(w, r, a, ms, d, f)
			}
			return
		}
		code, number := r.PostForm.Get("method"), strings.TrimSpace(r.PostForm.Get("phone_number"))
		m := h.phoneMethod(ms, code)
		switch {
		case code == "":
			f.fieldError("method", loc.T("This field is required."))
		case m == nil:
			f.fieldError("method", loc.T("Select a valid choice. %s is not one of the available choices.", shorten(code, 40)))
		}
		if number == "" {
			f.fieldError("phone_number", loc.T("This field is required."))
		} else if !validText(number, 256) {
			f.fieldError("phone_number", loc.T("Please enter a valid phone number, including your country code starting with + or 00."))
		}
		if f.HasErrors() {
			h.renderPhoneRegister(w, r, a, ms, d, f)
			return
		}
		if d.PhoneDevice != "" { // a number typed again replaces the pending one
			if err := removeUnconfirmed(ctx, h.svc, a.actor(), d.PhoneDevice); err != nil {
				h.fail(w, r, err, inAction, nil)
				return
			}
			d.PhoneDevice = ""
		}
		dev, err := h.svc.AddPhone(ctx, a.actor(), m.Kinds[0], number, "")
		if err != nil {
			if err := h.saveData(w, r, d); err != nil {
				h.fail(w, r, err, inAction, nil)
				return
			}
			if !h.fail(w, r, err, inSetup, f) {
				f.flatten("phone_number", "method", "token") // a step-up refusal stays with the step-up field
				h.renderPhoneRegister(w, r, a, ms, d, f)
			}
			return
		}
		d.PhoneDevice = dev.ID
		if err := h.saveData(w, r, d); err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
		redirect(w, r, registerURL, http.StatusSeeOther)
	case "token":
		if d.PhoneDevice == "" {
			redirect(w, r, registerURL, http.StatusSeeOther)
			return
		}
		_, err := h.svc.ConfirmDevice(ctx, a.actor(), d.PhoneDevice, r.PostForm.Get("token"))
		if twofactor.CodeOf(err) == twofactor.CodeNotFound || twofactor.CodeOf(err) == twofactor.CodeConflict {
			redirect(w, r, registerURL, http.StatusSeeOther) // gone or confirmed meanwhile: start again
			return
		}
		if err != nil {
			if !h.fail(w, r, err, inSetup, f) {
				f.flatten("token")
				h.renderPhoneRegister(w, r, a, ms, d, f)
			}
			return
		}
		d.PhoneDevice = ""
		if err := h.saveData(w, r, d); err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
		redirect(w, r, h.path("/account/two_factor/"), http.StatusSeeOther)
	case "resend":
		if d.PhoneDevice == "" {
			redirect(w, r, registerURL, http.StatusSeeOther)
			return
		}
		_, err := h.svc.SendCode(ctx, a.user.ID, d.PhoneDevice)
		if twofactor.CodeOf(err) == twofactor.CodeNotFound {
			redirect(w, r, registerURL, http.StatusSeeOther)
			return
		}
		if err != nil {
			if !h.fail(w, r, err, inSetup, f) {
				f.flatten()
				h.renderPhoneRegister(w, r, a, ms, d, f)
			}
			return
		}
		f.notice(loc.T("We sent you a new code."))
		h.renderPhoneRegister(w, r, a, ms, d, f)
	case "cancel":
		if d.PhoneDevice != "" {
			if err := removeUnconfirmed(ctx, h.svc, a.actor(), d.PhoneDevice); err != nil {
				h.fail(w, r, err, inAction, nil)
				return
			}
			d.PhoneDevice = ""
			if err := h.saveData(w, r, d); err != nil {
				h.fail(w, r, err, inAction, nil)
				return
			}
		}
		redirect(w, r, h.path("/account/two_factor/"), http.StatusSeeOther)
	default:
		h.errorPage(w, r, http.StatusBadRequest, "")
	}
}

// phoneUnregister removes one of the user's phones (sms, call). Another
// user's device, an unknown id and a device that is not a phone are not
// found. Removing a confirmed device needs a fresh code (step-up, the
// core's rule): without one the page asks for it.
func (h *Handler) phoneUnregister(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	a := h.account(w, r)
	if a == nil {
		return
	}
	id := r.PathValue("id")
	if !token(id, 1, 64) {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	ctx := r.Context()
	dev, err := h.svc.Device(ctx, a.user.ID, id)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	if !isPhone(dev.Kind) {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	f := newForm()
	stop, err := h.stepUp(r, a.st.session, a.user.ID, f)
	if err == nil && !stop {
		err = h.svc.RemoveDevice(ctx, a.actor(), dev.ID)
	}
	if stop || err != nil {
		if err == nil || !h.fail(w, r, err, inStepUp, f) {
			f.flatten("token")
			p := h.newPage(r, msg("Unregister phone number"), phoneUnregisterPage{Device: h.viewDevice(dev)})
			p.Form = f
			p.setStepUp(h.stepUpFor(r, a.st.session, a.user.ID, f, true))
			h.render(w, r, http.StatusOK, "phone_unregister.html", p)
		}
		return
	}
	if d := h.loadData(r); d.PhoneDevice == dev.ID {
		d.PhoneDevice = ""
		if err := h.saveData(w, r, d); err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
	}
	redirect(w, r, h.path("/account/two_factor/"), http.StatusSeeOther)
}
