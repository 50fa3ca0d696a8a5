package deux

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/api/oauth2"
)

// challengeSMS is deux's challenge type, and mfa_type of an sms primary.
const challengeSMS = "sms"

// representation is deux's MultiFactorAuthSerializer output.
type representation struct {
	Enabled       bool   `json:"enabled"`
	ChallengeType string `json:"challenge_type,omitempty"`
	PhoneNumber   string `json:"phone_number,omitempty"`
}

// state is a user's two-factor state as deux sees it.
type state struct {
	// enabled: two-factor on with an sms primary device.
	enabled bool
	// primary is the user's primary device (nil when two-factor is off).
	primary *twofactor.Device
	// pending is the newest unconfirmed sms device, the phone of an
	// sms/request not yet verified.
	pending *twofactor.Device
}

// phone is the state's number in deux's form.
func (s *state) phone() string {
	switch {
	case s.enabled:
		return deuxNumber(s.primary.Destination)
	case s.pending != nil:
		return deuxNumber(s.pending.Destination)
	}
	return ""
}

func (s *state) representation() representation {
	r := representation{Enabled: s.enabled, PhoneNumber: s.phone()}
	if s.enabled {
		r.ChallengeType = challengeSMS
	}
	return r
}

// deuxNumber is an E.164 number as deux shows it: digits only.
func deuxNumber(e164 string) string { return strings.TrimPrefix(e164, "+") }

func (a *API) state(ctx context.Context, userID string) (*state, error) {
	st, err := a.svc.Status(ctx, userID)
	if err != nil {
		return nil, err
	}
	s := &state{primary: st.Primary}
	s.enabled = st.Enabled && st.Primary.Kind == twofactor.KindSMS
	for i := range st.Devices {
		d := &st.Devices[i]
		if d.Kind == twofactor.KindSMS && !d.Confirmed && (s.pending == nil || !d.CreatedAt.Before(s.pending.CreatedAt)) {
			s.pending = d
		}
	}
	return s, nil
}

// root is GET and DELETE /mfa/.
func (a *API) root(c *call) error {
	st, err := a.state(c.ctx, c.sess.UserID)
	if err != nil {
		return err
	}
	if c.r.Method != http.MethodDelete {
		return c.reply(http.StatusOK, st.representation())
	}
	if !st.enabled {
		return badRequest(msgDisabled)
	}
	err = a.svc.DeuxDisable(c.ctx, c.actor())
	switch twofactor.CodeOf(err) {
	case "":
		return c.noContent()
	case twofactor.CodeNoDevice:
		return badRequest(msgDisabled)
	case twofactor.CodeStepUpRequired:
		return &failure{status: http.StatusForbidden, body: detail{msgPermissionDenied}}
	}
	return err
}

// sendFailure maps the failure to send a code to deux's answers.
func (a *API) sendFailure(c *call, err error) error {
	e := twofactor.AsError(err)
	switch e.Code {
	case twofactor.CodeValidationFailed:
		return badRequest(msgInvalidPhone)
	case twofactor.CodeGatewayFailed:
		a.log.WarnContext(c.ctx, "deux: message gateway failed", "path", c.r.URL.Path, "err", err)
		return badRequest(msgSMSFailed)
	}
	return err
}

// isCooldown reports whether err refuses a code inside the device's
// cooldown: the code sent before is still valid.
func isCooldown(err error) bool {
	e := twofactor.AsError(err)
	return e != nil && e.Code == twofactor.CodeThrottled && e.Reason == twofactor.ReasonCooldown
}

// smsRequest is PUT|PATCH /mfa/sms/request/: a code to a new phone.
func (a *API) smsRequest(c *call) error {
	in, err := cleanAll(smsRequestFields, c.data)
	if err != nil {
		return err
	}
	st, err := a.state(c.ctx, c.sess.UserID)
	if err != nil {
		return err
	}
	if st.enabled {
		return &failure{status: http.StatusBadRequest, body: detailList{[]string{msgEnabled}}}
	}
	digits := in["phone_number"]
	if st.pending != nil && st.pending.Destination == "+"+digits {
		// The same phone again: a new code, once per cooldown.
		if _, err := a.svc.SendCode(c.ctx, c.sess.UserID, st.pending.ID); err != nil && !isCooldown(err) {
			return a.sendFailure(c, err)
		}
		return c.reply(http.StatusOK, representation{PhoneNumber: digits})
	}
	d, err := a.svc.AddDeuxPhone(c.ctx, c.actor(), digits)
	if err != nil {
		return a.sendFailure(c, err)
	}
	// deux kept one number: setups of other numbers are abandoned.
	all, err := a.svc.Status(c.ctx, c.sess.UserID)
	if err != nil {
		return err
	}
	for _, o := range all.Devices {
		if o.Kind == twofactor.KindSMS && !o.Confirmed && o.ID != d.ID {
			if err := a.svc.RemoveDevice(c.ctx, c.actor(), o.ID); err != nil && twofactor.CodeOf(err) != twofactor.CodeNotFound {
				return err
			}
		}
	}
	return c.reply(http.StatusOK, representation{PhoneNumber: digits})
}

// smsVerify is PUT|PATCH /mfa/sms/verify/: the code confirms the pending
// phone, which becomes the primary device, and two-factor is on.
func (a *API) smsVerify(c *call) error {
	in, err := cleanAll(smsVerifyFields, c.data)
	if err != nil {
		return err
	}
	st, err := a.state(c.ctx, c.sess.UserID)
	if err != nil {
		return err
	}
	if st.enabled {
		return &failure{status: http.StatusBadRequest, body: detailList{[]string{msgEnabled}}}
	}
	badCode := invalid(fieldErrors{{"mfa_code", []string{msgInvalidCode}}})
	if st.pending == nil {
		return badCode
	}
	conf, err := a.svc.ConfirmInSession(c.ctx, c.sess, st.pending.ID, in["mfa_code"])
	switch twofactor.CodeOf(err) {
	case "":
	case twofactor.CodeInvalidCode, twofactor.CodeValidationFailed, twofactor.CodeNotFound, twofactor.CodeConflict:
		return badCode
	default:
		return err
	}
	if !conf.Device.Primary {
		// Two-factor was on with another kind of device: the phone becomes
		// the primary, as deux has it, with the verification just made.
		if err := a.svc.SetPrimary(c.ctx, c.actor(), conf.Device.ID); err != nil {
			return err
		}
	}
	if conf.BackupCodes != nil {
		// Two-factor just turned on. deux made one new backup code then,
		// shown by GET /mfa/recovery/; the backup codes of the core, which
		// no deux client sees, are replaced by it.
		if _, err := a.svc.DeuxRecoveryCode(c.ctx, c.actor()); err != nil {
			return err
		}
	}
	return c.reply(http.StatusOK, representation{Enabled: true, ChallengeType: challengeSMS, PhoneNumber: deuxNumber(conf.Device.Destination)})
}

// recoveryCode is deux's BackupCodeSerializer output.
type recoveryCode struct {
	BackupCode string `json:"backup_code"`
}

// recovery is GET /mfa/recovery/: a new recovery code on every call.
func (a *API) recovery(c *call) error {
	st, err := a.state(c.ctx, c.sess.UserID)
	if err != nil {
		return err
	}
	if !st.enabled {
		return &failure{status: http.StatusBadRequest, body: recoveryCode{msgDisabled}}
	}
	if c.r.Method == http.MethodHead {
		// A HEAD shows nothing, so it makes nothing.
		return c.reply(http.StatusOK, struct{}{})
	}
	code, err := a.svc.DeuxRecoveryCode(c.ctx, c.actor())
	switch twofactor.CodeOf(err) {
	case "":
		return c.reply(http.StatusOK, recoveryCode{code})
	case twofactor.CodeStepUpRequired:
		return &failure{status: http.StatusForbidden, body: detail{msgStepUp}}
	case twofactor.CodeNoDevice:
		return &failure{status: http.StatusBadRequest, body: recoveryCode{msgDisabled}}
	}
	return err
}

// tokenAnswer is the answer of a sign-in.
type tokenAnswer struct {
	Token string `json:"token"`
}

// mfaRequired is the answer of a sign-in that needs a code.
type mfaRequired struct {
	MFARequired bool   `json:"mfa_required"`
	MFAType     string `json:"mfa_type"`
}

// mfaType names a primary device's kind as deux's mfa_type.
func mfaType(k twofactor.Kind) string { return string(k) }

// login is POST /mfa/authtoken/login/.
func (a *API) login(c *call) error {
	in, err := cleanAll(loginFields, c.data)
	if err != nil {
		return err
	}
	res, err := a.svc.Login(c.ctx, in["username"], in["password"])
	if err != nil {
		if twofactor.CodeOf(err) == twofactor.CodeInvalidCredentials {
			return nonField(msgInvalidLogin)
		}
		return err
	}
	if !res.MFARequired {
		return a.issue(c, res.User, nil)
	}
	code, backup := in["mfa_code"], in["backup_code"]
	switch {
	case code != "" && backup != "":
		_ = a.svc.CancelLogin(c.ctx, res.Token)
		return nonField(msgBothCodes)
	case code != "":
		done, err := a.svc.CompleteLoginDeviceCode(c.ctx, res.Token, code)
		if err != nil {
			_ = a.svc.CancelLogin(c.ctx, res.Token)
			return codeFailure(err, nonField(msgInvalidCode))
		}
		return a.issue(c, done.User, done.Device)
	case backup != "":
		done, err := a.svc.CompleteLoginDeuxRecovery(c.ctx, res.Token, backup)
		if err != nil {
			_ = a.svc.CancelLogin(c.ctx, res.Token)
			return codeFailure(err, nonField(msgInvalidBackup))
		}
		return a.issue(c, done.User, done.Device)
	}
	kind, err := a.challenge(c, res.Token)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, mfaRequired{MFARequired: true, MFAType: kind})
}

// codeFailure maps a refused code to refused, keeping throttles (429) and
// failures of the service as they are.
func codeFailure(err error, refused *failure) error {
	switch twofactor.CodeOf(err) {
	case twofactor.CodeInvalidCode, twofactor.CodeValidationFailed, twofactor.CodeNoDevice,
		twofactor.CodeNotFound, twofactor.CodeExpired:
		return refused
	}
	return err
}

// challenge sends the code of a sign-in without one to the primary device
// (when it receives codes, once per cooldown: inside it the code sent
// before stays valid) and returns the primary's kind. The login challenge
// is abandoned: the client's next request signs in afresh.
func (a *API) challenge(c *call, loginToken string) (string, error) {
	defer func() { _ = a.svc.CancelLogin(context.WithoutCancel(c.ctx), loginToken) }()
	d, err := a.svc.ChooseDevice(c.ctx, loginToken, "")
	if err != nil && !isCooldown(err) {
		return "", a.sendFailure(c, err)
	}
	return mfaType(d.Kind), nil
}

// issue answers a new API token for u, verified by d unless d is nil.
func (a *API) issue(c *call, u *twofactor.User, d *twofactor.Device) error {
	tok, _, err := a.svc.SignIn(c.ctx, twofactor.SessionToken, nil, u, d)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, tokenAnswer{tok})
}

// oauthToken is POST /mfa/oauth2/token/: the OAuth2 token endpoint in deux's
// dialect. The user's part of a password grant — credentials, codes, the
// need for a code — is answered as deux did, {"detail": …} or
// {"mfa_required": true, …}; the rest (client authentication, grant
// types, the tokens) as the endpoint answers it (RFC 6749).
func (a *API) oauthToken(c *call) error {
	o := a.oauth.ExchangeWith(c.r.WithContext(c.ctx), oauth2.ExchangeOptions{CompleteBackupCode: a.svc.CompleteLoginDeuxRecovery})
	e := o.Err
	if e == nil {
		oauth2.WriteOutcome(c.w, o)
		return nil
	}
	cause := twofactor.AsError(e.Cause)
	switch {
	case e.Code == oauth2.CodeMFARequired && e.MFA != nil:
		kind, err := a.challenge(c, e.MFA.Token)
		if err != nil {
			return err
		}
		return c.reply(http.StatusOK, mfaRequired{MFARequired: true, MFAType: kind})
	case e.Code == oauth2.CodeThrottled:
		return throttled(e.RetryAfter)
	case errors.Is(e, oauth2.ErrBothCodes):
		return badRequest(msgBothCodes)
	case cause != nil && cause.Code == twofactor.CodeInvalidCredentials:
		return badRequest(msgInvalidLogin)
	case cause != nil && cause.Code != twofactor.CodeUnavailable && e.Param == "mfa_code":
		return badRequest(msgInvalidCode)
	case cause != nil && cause.Code != twofactor.CodeUnavailable && e.Param == "backup_code":
		return badRequest(msgInvalidBackup)
	}
	oauth2.WriteOutcome(c.w, o)
	return nil
}
