package web

import (
	"net/http"

	"github.com/twofactor/twofactor"
)

// backupPage is the data of the backup codes page.
type backupPage struct {
	Count int
	Codes []string // new codes, shown once
}

// backupGet shows how many backup codes are left and offers new ones.
func (h *Handler) backupGet(w http.ResponseWriter, r *http.Request) {
	a := h.account(w, r)
	if a == nil {
		return
	}
	h.renderBackup(w, r, a, newForm(), nil)
}

func (h *Handler) renderBackup(w http.ResponseWriter, r *http.Request, a *acct, f *form, codes []string) {
	ctx := r.Context()
	enabled, err := h.svc.Enabled(ctx, a.user.ID)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	if !enabled {
		redirect(w, r, h.cfg.LoginRedirectURL, http.StatusFound)
		return
	}
	n, err := h.svc.BackupCodesRemaining(ctx, a.user.ID)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	p := h.newPage(r, msg("Backup Tokens"), backupPage{Count: n, Codes: codes})
	p.Form = f
	if codes == nil {
		p.setStepUp(h.stepUpFor(r, a.st.session, a.user.ID, f, false))
	}
	h.render(w, r, http.StatusOK, "backup_tokens.html", p)
}

// backupPost replaces the backup codes (step-up) and shows the new ones
// once.
func (h *Handler) backupPost(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	a := h.account(w, r)
	if a == nil {
		return
	}
	f := newForm()
	if stop, err := h.stepUp(r, a.st.session, a.user.ID, f); stop || err != nil {
		if err == nil || !h.fail(w, r, err, inStepUp, f) {
			h.renderBackup(w, r, a, f, nil)
		}
		return
	}
	codes, err := h.svc.RegenerateBackupCodes(r.Context(), a.actor())
	if err != nil {
		if !h.fail(w, r, err, inStepUp, f) {
			h.renderBackup(w, r, a, f, nil)
		}
		return
	}
	h.renderBackup(w, r, a, f, codes)
}

// disableGet asks to confirm turning two-factor off.
func (h *Handler) disableGet(w http.ResponseWriter, r *http.Request) {
	a := h.account(w, r)
	if a == nil {
		return
	}
	h.renderDisable(w, r, a, newForm())
}

func (h *Handler) renderDisable(w http.ResponseWriter, r *http.Request, a *acct, f *form) {
	enabled, err := h.svc.Enabled(r.Context(), a.user.ID)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	if !enabled {
		redirect(w, r, h.cfg.LoginRedirectURL, http.StatusFound)
		return
	}
	p := h.newPage(r, msg("Disable Two-factor Authentication"), nil)
	p.Form = f
	p.setStepUp(h.stepUpFor(r, a.st.session, a.user.ID, f, false))
	h.render(w, r, http.StatusOK, "disable.html", p)
}

// disablePost turns two-factor off: the box "understand" must be ticked,
// and a fresh code is needed (step-up).
func (h *Handler) disablePost(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	a := h.account(w, r)
	if a == nil {
		return
	}
	f := newForm()
	send := r.PostForm.Get("send") != "" // asking for a code needs no tick yet
	if r.PostForm.Get("understand") == "" && !send {
		f.fieldError("understand", h.localizer(r).T("This field is required."))
		h.renderDisable(w, r, a, f)
		return
	}
	if r.PostForm.Get("understand") != "" {
		f.set("understand", "on")
	}
	if stop, err := h.stepUp(r, a.st.session, a.user.ID, f); stop || err != nil {
		if err == nil || !h.fail(w, r, err, inStepUp, f) {
			h.renderDisable(w, r, a, f)
		}
		return
	}
	if err := h.svc.Disable(r.Context(), a.actor()); err != nil {
		if !h.fail(w, r, err, inStepUp, f) {
			h.renderDisable(w, r, a, f)
		}
		return
	}
	redirect(w, r, h.cfg.LoginRedirectURL, http.StatusFound)
}

// devicesPage is the data of the device list.
type devicesPage struct {
	Devices []deviceView
}

// devicesGet lists the user's devices.
func (h *Handler) devicesGet(w http.ResponseWriter, r *http.Request) {
	a := h.account(w, r)
	if a == nil {
		return
	}
	st, err := h.svc.Status(r.Context(), a.user.ID)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	var data devicesPage
	for i := range st.Devices {
		data.Devices = append(data.Devices, h.viewDevice(&st.Devices[i]))
	}
	h.render(w, r, http.StatusOK, "devices.html", h.newPage(r, msg("Authentication devices"), data))
}

// deviceAdd is the setup wizard.
func (h *Handler) deviceAdd(w http.ResponseWriter, r *http.Request) {
	redirect(w, r, h.path("/account/two_factor/setup/"), http.StatusFound)
}

// devicePage is the data of one device's page.
type devicePage struct {
	Device deviceView
}

// userDevice returns the user's device named by the path, answering 404
// for an unknown id, another user's device, or the backup codes (which
// have their own page).
func (h *Handler) userDevice(w http.ResponseWriter, r *http.Request, a *acct) *twofactor.Device {
	id := r.PathValue("id")
	if !token(id, 1, 64) {
		h.errorPage(w, r, http.StatusNotFound, "")
		return nil
	}
	d, err := h.svc.Device(r.Context(), a.user.ID, id)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return nil
	}
	if d.Kind == twofactor.KindStatic {
		h.errorPage(w, r, http.StatusNotFound, "")
		return nil
	}
	return d
}

// deviceGet shows one device with its actions: rename, make primary,
// remove.
func (h *Handler) deviceGet(w http.ResponseWriter, r *http.Request) {
	a := h.account(w, r)
	if a == nil {
		return
	}
	d := h.userDevice(w, r, a)
	if d == nil {
		return
	}
	h.renderDevice(w, r, a, d, newForm())
}

func (h *Handler) renderDevice(w http.ResponseWriter, r *http.Request, a *acct, d *twofactor.Device, f *form) {
	if _, ok := f.values["name"]; !ok {
		f.set("name", d.Name)
	}
	p := h.newPage(r, msg("Authentication device"), devicePage{Device: h.viewDevice(d)})
	p.Form = f
	p.setStepUp(h.stepUpFor(r, a.st.session, a.user.ID, f, false))
	h.render(w, r, http.StatusOK, "device.html", p)
}

// deviceAction runs a posted action on one of the user's devices and goes
// back to to, or shows the device page with the action's error.
func (h *Handler) deviceAction(w http.ResponseWriter, r *http.Request, action string, stepUp bool,
	run func(a *acct, d *twofactor.Device) error, to string) {
	if !h.parseForm(w, r) {
		return
	}
	a := h.account(w, r)
	if a == nil {
		return
	}
	d := h.userDevice(w, r, a)
	if d == nil {
		return
	}
	f := newForm()
	f.Action = action
	var err error
	if stepUp {
		var stop bool
		if stop, err = h.stepUp(r, a.st.session, a.user.ID, f); stop && err == nil {
			h.renderDevice(w, r, a, d, f)
			return
		}
	}
	if err == nil {
		err = run(a, d)
	}
	if err != nil {
		if !h.fail(w, r, err, inStepUp, f) {
			h.renderDevice(w, r, a, d, f)
		}
		return
	}
	if to == "" {
		to = h.path("/account/two_factor/devices/" + d.ID + "/")
	}
	redirect(w, r, to, http.StatusSeeOther)
}

// deviceRename renames a device (field name).
func (h *Handler) deviceRename(w http.ResponseWriter, r *http.Request) {
	h.deviceAction(w, r, "rename", false, func(a *acct, d *twofactor.Device) error {
		return h.svc.RenameDevice(r.Context(), a.actor(), d.ID, r.PostForm.Get("name"))
	}, "")
}

// devicePrimary makes a device the primary one (step-up).
func (h *Handler) devicePrimary(w http.ResponseWriter, r *http.Request) {
	h.deviceAction(w, r, "primary", true, func(a *acct, d *twofactor.Device) error {
		return h.svc.SetPrimary(r.Context(), a.actor(), d.ID)
	}, h.path("/account/two_factor/devices/"))
}

// deviceRemove removes a device (step-up, unless it was never confirmed).
func (h *Handler) deviceRemove(w http.ResponseWriter, r *http.Request) {
	h.deviceAction(w, r, "remove", true, func(a *acct, d *twofactor.Device) error {
		return h.svc.RemoveDevice(r.Context(), a.actor(), d.ID)
	}, h.path("/account/two_factor/devices/"))
}

// browserRevoke forgets one remembered browser of the user.
func (h *Handler) browserRevoke(w http.ResponseWriter, r *http.Request) {
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
	if err := h.svc.RevokeBrowser(r.Context(), a.actor(), id); err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	redirect(w, r, h.path("/account/two_factor/"), http.StatusSeeOther)
}

// browsersRevoke forgets every remembered browser of the user.
func (h *Handler) browsersRevoke(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	a := h.account(w, r)
	if a == nil {
		return
	}
	if _, err := h.svc.RevokeBrowsers(r.Context(), a.actor()); err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	redirect(w, r, h.path("/account/two_factor/"), http.StatusSeeOther)
}
