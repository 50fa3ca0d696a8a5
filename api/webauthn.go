package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/twofactor/twofactor"
)

// Security keys (WebAuthn, SPEC §4.2 and §6). Every ceremony has two steps:
// an options endpoint begins it in the core and answers the options for the
// browser (the publicKey member of navigator.credentials.create or .get, as
// PublicKeyCredential.parseCreationOptionsFromJSON and
// parseRequestOptionsFromJSON take it) with an opaque ceremony token; the
// client sends back the ceremony token and the credential the browser made
// (PublicKeyCredential.toJSON()). The core keeps the challenge, checks the
// response, throttles and audits; a ceremony is answered at most once.
//
// The origin a ceremony is for is the request's Origin header, never a
// value of the body (see twofactor.WebAuthnConfig): a browser writes it, and
// the signed client data carries it again. A client without an Origin (not
// a browser) works only when the server has webauthn.origins configured.
//
// When the server has no WebAuthn configured, the ceremony endpoints answer
// 404 not_found, as if they did not exist (a server without them answers
// the same), and a step-up with a credential is 400 on the credential.

// maxOriginLen bounds the Origin header passed to the core.
const maxOriginLen = 2048

// webauthnEnabled reports whether the server offers security keys.
func (a *API) webauthnEnabled() bool {
	return slices.Contains(a.svc.Methods(), twofactor.KindWebAuthn)
}

// requireWebAuthn hides a ceremony endpoint when the server has no WebAuthn.
func (a *API) requireWebAuthn() error {
	if a.webauthnEnabled() {
		return nil
	}
	return newProblem(http.StatusNotFound, string(twofactor.CodeNotFound),
		"Security keys (WebAuthn) are not enabled on this server.")
}

// requestOrigin returns the request's Origin header for the core, "" when
// there is none. Several are refused; the core checks the one.
func requestOrigin(r *http.Request) (string, error) {
	values := r.Header.Values("Origin")
	switch {
	case len(values) == 0:
		return "", nil
	case len(values) > 1:
		return "", invalid(fieldError{"Origin", "Send one Origin header, not several."})
	case len(values[0]) > maxOriginLen:
		return "", invalid(fieldError{"Origin", "The Origin header is too long."})
	}
	return values[0], nil
}

// keyFields renames the core's field names in security-key errors: the
// core says "token" for the response and "origin" for the request's origin.
var keyFields = map[string]string{"token": "credential", "origin": "Origin"}

// keyProblem turns a core error of a ceremony into its problem: a response
// that was not accepted (invalid_code) names the credential.
func (a *API) keyProblem(err error) error {
	err = remap(err, a, keyFields)
	var p *problem
	if errors.As(err, &p) && p.Code == string(twofactor.CodeInvalidCode) && p.Field == "" {
		p.Field = "credential"
		p.Errors = []fieldError{{Field: "credential", Message: p.Detail}}
	}
	return err
}

// ceremonyResponse is the answer of the options endpoints.
type ceremonyResponse struct {
	// Ceremony identifies the ceremony; send it back with the credential.
	Ceremony string `json:"ceremony"`
	// PublicKey is the options' publicKey member, as the core made it.
	PublicKey json.RawMessage `json:"public_key"`
}

// replyCeremony answers the options of a ceremony the core began: the core
// gives {"publicKey": {...}}; the answer carries its publicKey member.
func (c *call) replyCeremony(options []byte, ceremony string) error {
	var o struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil || len(o.PublicKey) == 0 || o.PublicKey[0] != '{' {
		return twofactor.AsError(fmt.Errorf("webauthn options without publicKey: %v", err))
	}
	return c.reply(http.StatusOK, ceremonyResponse{Ceremony: ceremony, PublicKey: o.PublicKey})
}

// loginWebAuthnOptions begins the security-key step of a sign-in: the
// options list the user's keys.
func (a *API) loginWebAuthnOptions(c *call, req *loginWebAuthnOptionsRequest) error {
	if err := a.requireWebAuthn(); err != nil {
		return err
	}
	origin, err := requestOrigin(c.r)
	if err != nil {
		return err
	}
	options, ceremony, err := a.svc.BeginWebAuthnLogin(c.ctx, req.MFAToken, origin)
	if err != nil {
		return a.keyProblem(err)
	}
	return c.replyCeremony(options, ceremony)
}

// loginWebAuthnVerify finishes a sign-in with a security key's assertion
// and issues a token verified by the key.
func (a *API) loginWebAuthnVerify(c *call, req *loginWebAuthnVerifyRequest) error {
	if err := a.requireWebAuthn(); err != nil {
		return err
	}
	res, err := a.svc.CompleteLoginWebAuthn(c.ctx, req.MFAToken, req.Ceremony, req.Credential)
	if err != nil {
		return a.keyProblem(err)
	}
	return a.issue(c, res.User, res.Device)
}

// webauthnRegisterOptions begins registering a security key for the
// caller (step-up once two-factor is on, in the core).
func (a *API) webauthnRegisterOptions(c *call) error {
	if err := a.requireWebAuthn(); err != nil {
		return err
	}
	origin, err := requestOrigin(c.r)
	if err != nil {
		return err
	}
	options, ceremony, err := a.svc.BeginWebAuthnRegistration(c.ctx, c.actor(), origin)
	if err != nil {
		return a.keyProblem(err)
	}
	return c.replyCeremony(options, ceremony)
}

// webauthnRegister finishes a registration: the key is added confirmed.
// When it turns two-factor on, the answer carries the new backup codes and
// the token is verified by the key; a further key does not verify the
// token again (the core's FinishWebAuthnRegistrationInSession).
func (a *API) webauthnRegister(c *call, req *webauthnRegisterRequest) error {
	if err := a.requireWebAuthn(); err != nil {
		return err
	}
	conf, err := a.svc.FinishWebAuthnRegistrationInSession(c.ctx, c.sess, req.Ceremony, req.Credential, req.Name)
	if err != nil {
		return a.keyProblem(err)
	}
	return c.reply(http.StatusCreated, deviceResponse{Device: deviceOf(conf.Device), BackupCodes: conf.BackupCodes})
}

// stepUpWebAuthnOptions begins a security-key step-up for the caller's
// token; the ceremony is bound to the token.
func (a *API) stepUpWebAuthnOptions(c *call) error {
	if err := a.requireWebAuthn(); err != nil {
		return err
	}
	origin, err := requestOrigin(c.r)
	if err != nil {
		return err
	}
	options, ceremony, err := a.svc.BeginWebAuthnStepUp(c.ctx, c.sess, origin)
	if err != nil {
		return a.keyProblem(err)
	}
	return c.replyCeremony(options, ceremony)
}

// stepUpWebAuthn is the step-up with a security key's assertion.
func (a *API) stepUpWebAuthn(c *call, req *stepUpRequest) error {
	if !a.webauthnEnabled() {
		return invalid(fieldError{"credential", "Security keys (WebAuthn) are not enabled on this server."})
	}
	_, err := a.svc.StepUpWebAuthn(c.ctx, c.sess, req.Ceremony, req.Credential)
	return a.keyProblem(err)
}
