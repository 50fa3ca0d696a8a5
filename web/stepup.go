package web

import (
	"context"
	"net/http"

	"github.com/twofactor/twofactor"
)

// Step-up: a sensitive action (new backup codes, disabling two-factor,
// removing a device, changing the primary one, unregistering a phone, the
// staff console's disable) needs a second factor verified within
// Options.StepUpAge. The core enforces it (CodeStepUpRequired); the forms
// ask up front for what the user actually has:
//
//   - a code field, checked against the primary device when it takes typed
//     codes (else the first device that does), or a backup code;
//   - before it, for a primary that receives its codes (text message, call,
//     email), a "Send me a code" button (the cooldown applies);
//   - a security-key button when the user has a key (a ceremony begun for
//     the page, bound to the session by the core; its token is a hidden
//     field of the forms).
//
// Hooks: the code field is input[name=token] (its id per form), the send
// button button[name=send], the key button button.webauthn-stepup.

// stepUpView is what a page's sensitive forms offer to confirm it is the
// user.
type stepUpView struct {
	// Code asks for a code (from the device Device names, or a backup
	// code).
	Code   bool
	Device string
	// Hint explains what to do (an English id).
	Hint string
	// Send offers to send a code to Destination (masked) first.
	Send        bool
	Destination string
	// Key offers the user's security keys: Options are the request
	// options of the ceremony begun for the page, Ceremony its token. The
	// token goes with the form (each page its own ceremony, so two tabs
	// do not take each other's); the core binds it to the session, so it
	// answers in no other.
	Key      bool
	Options  string
	Ceremony string
}

// stepUpPlan is the ways a user can step up.
type stepUpPlan struct {
	// code is the device a typed code is checked against; nil: backup
	// codes only.
	code    *twofactor.Device
	backups int
	keys    bool
}

// takesCodes reports whether devices of kind k are verified by a typed
// code here (or a YubiKey's OTP).
func takesCodes(k twofactor.Kind) bool {
	switch k {
	case twofactor.KindTOTP, twofactor.KindHOTP, twofactor.KindYubiKey, twofactor.KindSMS, twofactor.KindCall, twofactor.KindEmail:
		return true
	}
	return false
}

// stepUpPlan reads the user's devices and works out the ways to step up:
// the primary device takes the code when it can; otherwise a confirmed
// device that makes its own codes, else one that receives them.
func (h *Handler) stepUpPlan(ctx context.Context, userID string) (*stepUpPlan, error) {
	st, err := h.svc.Status(ctx, userID)
	if err != nil {
		return nil, err
	}
	p := &stepUpPlan{backups: st.BackupCodes, keys: h.hasKeys(st.Devices)}
	if st.Primary != nil && takesCodes(st.Primary.Kind) {
		p.code = st.Primary
		return p, nil
	}
	for _, interactive := range []bool{false, true} {
		for i := range st.Devices {
			d := &st.Devices[i]
			if d.Confirmed && takesCodes(d.Kind) && d.Interactive() == interactive {
				p.code = d
				return p, nil
			}
		}
	}
	return p, nil
}

// stepUpFor returns what the page's sensitive forms offer, or nil when
// they need nothing: the session's verification is fresh, and f shows no
// step-up error. With force the forms ask anyway. When the user has a
// security key, a step-up ceremony is begun for the page. A failure to
// tell is logged and shows the plain code field: the action itself will
// say what is wrong.
func (h *Handler) stepUpFor(r *http.Request, sess *twofactor.Session, userID string, f *form, force bool) *stepUpView {
	ctx := r.Context()
	if !force && len(f.Errors("token")) == 0 {
		need, err := h.svc.NeedsStepUp(ctx, sess)
		if err != nil || !need {
			return nil
		}
	}
	plain := &stepUpView{Code: true, Hint: msg("This change needs a fresh code: enter one from your authentication device, or a backup code.")}
	plan, err := h.stepUpPlan(ctx, userID)
	if err != nil {
		h.log.ErrorContext(ctx, "reading the devices for step-up failed", "err", err)
		return plain
	}
	v := &stepUpView{}
	if plan.code != nil {
		v.Device = plan.code.Name
		if plan.code.Interactive() {
			v.Send, v.Destination = true, plan.code.MaskedDestination()
		}
	}
	if plan.keys {
		options, ceremony, err := h.svc.BeginWebAuthnStepUp(ctx, sess, h.pageOrigin(r))
		if err == nil {
			v.Key, v.Options, v.Ceremony = true, string(options), ceremony
		} else if twofactor.CodeOf(err) != twofactor.CodeValidationFailed { // not an origin the keys work from
			h.log.ErrorContext(ctx, "beginning a security-key step-up failed", "err", err)
		}
	}
	v.Code = plan.code != nil || plan.backups > 0 || !v.Key
	switch {
	case v.Key && plan.code != nil:
		v.Hint = msg("Confirm it is you: use your security key, or enter a code from your authentication device or a backup code.")
	case v.Key && v.Code:
		v.Hint = msg("Confirm it is you: use your security key, or enter a backup code.")
	case v.Key:
		v.Hint = msg("Confirm it is you: use your security key.")
	case plan.code == nil && plan.backups > 0:
		v.Hint = msg("This change needs a fresh code: enter one of your backup codes.")
	default:
		v.Hint = plain.Hint
	}
	return v
}

// setStepUp puts the step-up view on the page (and the script, for a
// security key).
func (p *page) setStepUp(v *stepUpView) {
	p.StepUp = v
	if v != nil && v.Key {
		p.Script = true
	}
}

// stepUp confirms it is the user with what a sensitive form posted, before
// the form's action runs: a security key's response (field credential, to
// the ceremony of field ceremony, which must be this session's), else a
// code (field token: the plan's device, or
// a backup code), marking the session freshly verified. Nothing posted is
// no error: the action then needs a fresh verification of the session
// already. It reports stop when the action must not run although nothing
// failed: the form asked for a code to be sent (button send), and f says
// that it was.
func (h *Handler) stepUp(r *http.Request, sess *twofactor.Session, userID string, f *form) (stop bool, err error) {
	ctx := r.Context()
	if r.PostForm.Get("send") != "" {
		plan, err := h.stepUpPlan(ctx, userID)
		if err != nil {
			return true, err
		}
		if plan.code == nil || !plan.code.Interactive() {
			return true, nil // nothing to send: the form is shown again
		}
		if _, err := h.svc.SendCode(ctx, userID, plan.code.ID); err != nil {
			return true, err
		}
		f.notice(h.localizer(r).T("We sent you a code."))
		return true, nil
	}
	if cred := r.PostForm.Get("credential"); cred != "" {
		_, err := h.svc.StepUpWebAuthn(ctx, sess, r.PostForm.Get("ceremony"), []byte(cred))
		return false, keyError(err)
	}
	code := r.PostForm.Get("token")
	if code == "" {
		return false, nil
	}
	plan, err := h.stepUpPlan(ctx, userID)
	if err != nil {
		return false, err
	}
	if plan.code == nil {
		_, err = h.svc.StepUpBackupCode(ctx, sess, code)
	} else {
		_, err = h.svc.StepUpWith(ctx, sess, plan.code.ID, code)
	}
	return false, err
}

// stepUpField is one form's step-up fields, for the template "stepup".
type stepUpField struct {
	*stepUpView
	p *page
	// InputID is the code field's id; Prefix starts the ids of its hint
	// and errors (Prefix-hint, Prefix-errors).
	InputID, Prefix string
	// Label is the code field's label (an English id).
	Label string
	// action names the page's form the errors belong to ("" = the only
	// one).
	action string
}

// StepUpField returns the step-up fields of the page's form action (""
// for a page with one such form), its code field with the id inputID.
func (p *page) StepUpField(inputID, prefix, action string) *stepUpField {
	return &stepUpField{stepUpView: p.StepUp, p: p, InputID: inputID, Prefix: prefix, Label: msg("Authentication code"), action: action}
}

// StaffStepUpField is StepUpField for the staff console, where the code is
// the staff member's own.
func (p *page) StaffStepUpField(inputID, prefix string) *stepUpField {
	f := p.StepUpField(inputID, prefix, "")
	f.Label = msg("Your authentication code")
	if f.stepUpView != nil && !f.Key {
		v := *f.stepUpView
		v.Hint = msg("Confirm it is you: enter a code from your own authentication device, or one of your backup codes.")
		f.stepUpView = &v
	}
	return f
}

// Needed reports whether the form asks for anything.
func (f *stepUpField) Needed() bool { return f.stepUpView != nil }

// T translates for the template.
func (f *stepUpField) T(id string, args ...any) string { return f.p.T(id, args...) }

// Errors returns the code's errors when they belong to this form.
func (f *stepUpField) Errors() []string {
	if f.action != "" && f.p.Form.Action != f.action {
		return nil
	}
	return f.p.Form.Errors("token")
}
