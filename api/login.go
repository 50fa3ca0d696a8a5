package api

import (
	"fmt"
	"net/http"

	"github.com/twofactor/twofactor"
)

// openapi serves the OpenAPI document.
func (a *API) openapi(c *call) error {
	h := c.w.Header()
	setHeaders(h)
	h.Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(openapiJSON)
	return nil
}

// login is the password step. With two-factor off it issues a token; with
// it on it answers the mfa_required problem carrying the login challenge.
func (a *API) login(c *call, req *loginRequest) error {
	res, err := a.svc.Login(c.ctx, req.Username, req.Password)
	if err != nil {
		return err
	}
	if !res.MFARequired {
		return a.issue(c, res.User, nil)
	}
	st, err := a.svc.Challenge(c.ctx, res.Token)
	if err != nil {
		return fmt.Errorf("describe the new login challenge: %w", err)
	}
	methods := []method{methodOf(st.Device)}
	for i := range st.Others {
		methods = append(methods, methodOf(&st.Others[i]))
	}
	p := newProblem(http.StatusUnauthorized, string(twofactor.CodeMFARequired),
		"The password is right; a second factor is needed: finish with POST /api/v1/login/verify.")
	p.wwwAuthenticate = bearerChallenge
	p.mfa = &mfaChallenge{MFAToken: res.Token, ExpiresAt: stamp(res.ExpiresAt), Methods: methods}
	return p
}

// loginChallenge chooses the device the login's code will come from. A
// device that receives its code (sms, call, email) is sent one now, once
// per cooldown: inside it the device is still chosen, the code sent before
// stays valid, and the answer is 429 with Retry-After.
func (a *API) loginChallenge(c *call, req *loginChallengeRequest) error {
	d, err := a.svc.ChooseDevice(c.ctx, req.MFAToken, req.DeviceID)
	if err != nil {
		return remap(err, a, map[string]string{"device": "device_id"})
	}
	return c.reply(http.StatusAccepted, challengeResponse{Method: methodOf(d), Sent: d.Interactive()})
}

// loginVerify finishes a sign-in with a code or a backup code and issues a
// token verified by the device that checked it. The request says which it
// is: a code is checked against the chosen (or primary) device only, a
// backup code against the backup codes only.
func (a *API) loginVerify(c *call, req *loginVerifyRequest) error {
	if req.BackupCode != "" {
		res, err := a.svc.CompleteLoginBackupCode(c.ctx, req.MFAToken, req.BackupCode)
		if err != nil {
			return remap(err, a, map[string]string{"code": "backup_code"})
		}
		return a.issue(c, res.User, res.Device)
	}
	if req.DeviceID != "" {
		if err := a.chooseForVerify(c, req.MFAToken, req.DeviceID); err != nil {
			return err
		}
	}
	res, err := a.svc.CompleteLoginDeviceCode(c.ctx, req.MFAToken, req.Code)
	if err != nil {
		return err
	}
	return a.issue(c, res.User, res.Device)
}

// chooseForVerify makes deviceID the device verify checks, unless it is
// already: choosing a device that receives codes again would send it a new
// code, which replaces the one the user is typing. A device chosen here for
// the first time that receives codes is sent one (the code typed with it
// then fails: choose such devices with login/challenge first).
func (a *API) chooseForVerify(c *call, token, deviceID string) error {
	st, err := a.svc.Challenge(c.ctx, token)
	if err != nil {
		return err
	}
	if st.Device.ID == deviceID {
		return nil
	}
	_, err = a.svc.ChooseDevice(c.ctx, token, deviceID)
	if e := twofactor.AsError(err); e != nil && e.Code == twofactor.CodeThrottled && e.Reason == twofactor.ReasonCooldown {
		return nil // chosen; the code sent before stays valid
	}
	return remap(err, a, map[string]string{"device": "device_id"})
}

// issue starts a token session for u, verified by d unless d is nil, and
// answers it.
func (a *API) issue(c *call, u *twofactor.User, d *twofactor.Device) error {
	token, sess, err := a.svc.SignIn(c.ctx, twofactor.SessionToken, nil, u, d)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, tokenResponse{Token: token, TokenType: "Bearer", MFA: d != nil, ExpiresAt: stamp(sess.ExpiresAt)})
}

// logout revokes the caller's token.
func (a *API) logout(c *call) error {
	if err := a.svc.SignOut(c.ctx, c.sess); err != nil {
		return err
	}
	return c.noContent()
}

// stepUp verifies a second factor for the caller's token and marks it
// freshly verified, for the actions that need step-up. The request says
// what it is: a code is checked against the primary device only, a backup
// code against the backup codes only, a security key's credential against
// the ceremony begun by POST /api/v1/step-up/webauthn/options.
func (a *API) stepUp(c *call, req *stepUpRequest) error {
	var err error
	switch {
	case req.isKey():
		err = a.stepUpWebAuthn(c, req)
	case req.BackupCode != "":
		_, err = a.svc.StepUpBackupCode(c.ctx, c.sess, req.BackupCode)
		err = remap(err, a, map[string]string{"code": "backup_code"})
	default:
		_, err = a.svc.StepUpDeviceCode(c.ctx, c.sess, "", req.Code)
	}
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, stepUpResponse{VerifiedAt: stamp(c.sess.VerifiedAt)})
}

// remap turns a core error into its problem with the core's field names
// renamed to the request's. Errors other than the core's pass through.
func remap(err error, a *API, fields map[string]string) error {
	if code := twofactor.CodeOf(err); err == nil || len(fields) == 0 || code == twofactor.CodeUnavailable || code == twofactor.CodeGatewayFailed {
		return err
	}
	return coreProblem(err, a.svc.Now(), fields)
}
