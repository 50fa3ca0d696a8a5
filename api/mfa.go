package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/qr"
)

// status describes the caller's two-factor state.
func (a *API) status(c *call) error {
	st, err := a.svc.Status(c.ctx, c.sess.UserID)
	if err != nil {
		return err
	}
	res := statusResponse{Enabled: st.Enabled, Devices: make([]device, 0, len(st.Devices)), BackupCodesRemaining: st.BackupCodes}
	if st.Primary != nil {
		id := st.Primary.ID
		res.Primary = &id
	}
	for i := range st.Devices {
		res.Devices = append(res.Devices, deviceOf(&st.Devices[i]))
	}
	return c.reply(http.StatusOK, res)
}

// disable turns two-factor off (step-up, in the core).
func (a *API) disable(c *call) error {
	if err := a.svc.Disable(c.ctx, c.actor()); err != nil {
		return err
	}
	return c.noContent()
}

// addDevice starts the enrolment of a device. For totp the answer carries
// the key, once, as base32, as an otpauth URI and as a QR code; sms, call
// and email devices are sent their first code now (a device whose code
// cannot be sent is not kept); a YubiKey is proven by its OTP and so
// confirmed at once, and the token is verified by it.
func (a *API) addDevice(c *call, req *addDeviceRequest) error {
	kind := twofactor.Kind(req.Kind)
	if !slices.Contains(a.svc.Methods(), kind) {
		return invalid(fieldError{"kind", "The kind " + req.Kind + " is not available on this server."})
	}
	switch kind {
	case twofactor.KindSMS, twofactor.KindCall:
		d, err := a.svc.AddPhone(c.ctx, c.actor(), kind, req.PhoneNumber, req.Name)
		if err != nil {
			return remap(err, a, map[string]string{"method": "kind"})
		}
		return c.reply(http.StatusCreated, deviceResponse{Device: deviceOf(d)})
	case twofactor.KindEmail:
		d, err := a.svc.AddEmail(c.ctx, c.actor(), req.Email, req.Name)
		if err != nil {
			return remap(err, a, map[string]string{"method": "kind"})
		}
		return c.reply(http.StatusCreated, deviceResponse{Device: deviceOf(d)})
	case twofactor.KindYubiKey:
		conf, err := a.svc.AddYubiKeyOTPInSession(c.ctx, c.sess, req.OTP, req.Name)
		if err != nil {
			return remap(err, a, map[string]string{"method": "kind", "token": "otp"})
		}
		return c.reply(http.StatusCreated, deviceResponse{Device: deviceOf(conf.Device), BackupCodes: conf.BackupCodes})
	}
	return a.addTOTP(c, req)
}

// addTOTP adds an authenticator app.
func (a *API) addTOTP(c *call, req *addDeviceRequest) error {
	u, err := a.svc.Users().UserByID(c.ctx, c.sess.UserID)
	if errors.Is(err, twofactor.ErrNotFound) {
		return unauthorized(CodeInvalidToken, "The token's user no longer exists.")
	}
	if err != nil {
		return twofactor.AsError(fmt.Errorf("load user: %w", err))
	}
	spec := twofactor.TOTPSpec{Name: req.Name}
	if req.Digits != nil {
		spec.Digits = *req.Digits
	}
	en, err := a.svc.AddTOTP(c.ctx, c.actor(), spec, u.Username)
	if err != nil {
		return err
	}
	en.URI.Issuer = a.issuerFor(c.r)
	uri := en.URI.String()
	code, err := qr.Encode(uri)
	if err != nil {
		// The URI is a few hundred bytes at most, far below what a QR code
		// holds; should it ever not fit, the setup is abandoned rather
		// than left half-made.
		if rerr := a.svc.RemoveDevice(c.ctx, c.actor(), en.Device.ID); rerr != nil {
			a.log.ErrorContext(c.ctx, "api: remove a device whose QR code failed", "err", rerr)
		}
		return twofactor.AsError(fmt.Errorf("draw the setup QR code: %w", err))
	}
	return c.reply(http.StatusCreated, enrollmentResponse{Device: deviceOf(en.Device), Secret: en.Secret(),
		OTPAuthURI: uri, QRSVG: code.SVGDataURI()})
}

// confirmDevice confirms a new device with a code from it; it marks the
// token verified by it. When this turns two-factor on, the answer carries
// the new backup codes, shown once.
func (a *API) confirmDevice(c *call, req *confirmRequest) error {
	conf, err := a.svc.ConfirmInSession(c.ctx, c.sess, c.r.PathValue("id"), req.Code)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, deviceResponse{Device: deviceOf(conf.Device), BackupCodes: conf.BackupCodes})
}

// challengeDevice sends a new code to a device that receives codes (sms,
// call, email), once per cooldown (429 inside it, and past the user's daily
// limit). Devices that show their own codes are refused with 409.
func (a *API) challengeDevice(c *call) error {
	d, err := a.svc.Device(c.ctx, c.sess.UserID, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if !d.Interactive() {
		return newProblem(http.StatusConflict, string(twofactor.CodeConflict),
			"This device shows its own codes ("+string(d.Kind)+"); there is nothing to send.")
	}
	if _, err := a.svc.SendCode(c.ctx, c.sess.UserID, d.ID); err != nil {
		return err
	}
	return c.reply(http.StatusAccepted, challengeResponse{Method: methodOf(d), Sent: true})
}

// setPrimary makes a device the primary one (step-up, in the core).
func (a *API) setPrimary(c *call) error {
	id := c.r.PathValue("id")
	if err := a.svc.SetPrimary(c.ctx, c.actor(), id); err != nil {
		return remap(err, a, map[string]string{"device": "id"})
	}
	return a.replyDevice(c, id)
}

// renameDevice renames a device.
func (a *API) renameDevice(c *call, req *renameRequest) error {
	id := c.r.PathValue("id")
	if err := a.svc.RenameDevice(c.ctx, c.actor(), id, req.Name); err != nil {
		return err
	}
	return a.replyDevice(c, id)
}

// replyDevice answers the device id as it is now.
func (a *API) replyDevice(c *call, id string) error {
	d, err := a.svc.Device(c.ctx, c.sess.UserID, id)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, deviceResponse{Device: deviceOf(d)})
}

// removeDevice removes a device (step-up for a confirmed one, in the core).
func (a *API) removeDevice(c *call) error {
	if err := a.svc.RemoveDevice(c.ctx, c.actor(), c.r.PathValue("id")); err != nil {
		return err
	}
	return c.noContent()
}

// regenerateBackupCodes replaces the backup codes (step-up, in the core).
func (a *API) regenerateBackupCodes(c *call) error {
	codes, err := a.svc.RegenerateBackupCodes(c.ctx, c.actor())
	if err != nil {
		return err
	}
	return c.reply(http.StatusCreated, codesResponse{Codes: codes})
}

// browsers lists the remembered browsers.
func (a *API) browsers(c *call) error {
	bs, err := a.svc.Browsers(c.ctx, c.sess.UserID)
	if err != nil {
		return err
	}
	res := browsersResponse{Browsers: make([]browser, 0, len(bs))}
	for _, b := range bs {
		res.Browsers = append(res.Browsers, browser{ID: b.ID, DeviceID: b.DeviceID, CreatedAt: stamp(b.CreatedAt),
			ExpiresAt: stamp(b.ExpiresAt), LastUsedAt: stamp(b.LastUsedAt), UserAgent: b.UserAgent, Address: b.Address})
	}
	return c.reply(http.StatusOK, res)
}

// revokeBrowser forgets a remembered browser.
func (a *API) revokeBrowser(c *call) error {
	if err := a.svc.RevokeBrowser(c.ctx, c.actor(), c.r.PathValue("id")); err != nil {
		return err
	}
	return c.noContent()
}
