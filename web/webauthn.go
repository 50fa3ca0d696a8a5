package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/twofactor/twofactor"
)

// Security keys and passkeys (WebAuthn) on the pages. The ceremonies run in
// the browser (static/webauthn.js, the pages' only script): a page embeds
// the options of a ceremony the core began (in a data-options attribute,
// non-executable JSON, binary members in base64url), the script calls
// navigator.credentials.create or .get with them, puts the credential's
// JSON into the form's hidden field credential and submits the form. The
// token of a registration or sign-in ceremony stays in the session, so it
// answers only there; a step-up ceremony's token goes with its page (the
// core binds it to the session), so that two tabs keep their own.
//
// Element hooks, kept stable for the script and for browser tests:
//
//	[data-webauthn=create|get]   a form (its submit runs the ceremony) or a
//	                             button (its click does, for its form);
//	                             data-options holds the options
//	input[name=credential]       the hidden field the script fills
//	[data-webauthn-error]        where the script says what went wrong
//	                             (role=alert, hidden until then)
//	#webauthn-register           the setup step's form
//	#webauthn-login              the sign-in's security-key form
//	button.webauthn-stepup       a step-up form's security-key button, with
//	                             input[name=ceremony] (the page's ceremony)

// maxCredential bounds the credential JSON a form may post, in bytes (the
// core bounds it too; a registration with a long attestation certificate
// chain is a few KiB).
const maxCredential = 48 << 10

// Messages of the security-key forms.
const (
	msgNeedsJavaScript = "A browser with JavaScript is needed to use a security key."
	msgKeyNotValid     = "The security key response is not valid."
)

// WebAuthnMethod is the setup method of a security key or passkey
// (WebAuthn): the step runs the browser's registration ceremony, which
// proves the key and adds it confirmed at once. It needs JavaScript in the
// browser (every other page works without). It is offered when the
// Service has a WebAuthn relying party (Config.WebAuthn).
func WebAuthnMethod() Method {
	return Method{
		Code:        "webauthn",
		Label:       msg("Security key (WebAuthn)"),
		Kinds:       []twofactor.Kind{twofactor.KindWebAuthn},
		Action:      msg("Authenticate using a WebAuthn-compatible device"),
		Instruction: msg("Please use your WebAuthn-compatible device to authenticate."),
		Setup:       webauthnSetup{},
		requires:    twofactor.KindWebAuthn,
	}
}

// webauthnSetup is the WebAuthn method's step of the wizard. Its ceremony
// token is the setup's State.
type webauthnSetup struct{}

// webauthnSetupPage is the data of the WebAuthn step.
type webauthnSetupPage struct {
	Step string
	// Options are the creation options for the browser (JSON), "" when
	// no ceremony could begin; Unavailable then says why (an English id).
	Options     string
	Unavailable string
}

// scripted is page data that may need the security-key script.
type scripted interface{ needsScript() bool }

// needsScript reports whether the step runs a ceremony.
func (p webauthnSetupPage) needsScript() bool { return p.Options != "" }

// Begin adds nothing: the key is added when its registration is finished.
func (webauthnSetup) Begin(ctx context.Context, s *Setup) (string, error) { return "", nil }

// Page begins a registration ceremony for the page's origin and shows the
// button that runs it. Every showing begins a new ceremony (each is good
// once); an origin the configuration does not accept is said on the page.
func (webauthnSetup) Page(ctx context.Context, s *Setup) (string, any, error) {
	data := webauthnSetupPage{Step: s.Method}
	options, ceremony, err := s.Service.BeginWebAuthnRegistration(ctx, s.Session.Actor(), s.Origin)
	if err != nil {
		if e := twofactor.AsError(err); e != nil && e.Code == twofactor.CodeValidationFailed {
			data.Unavailable = e.Message
			s.State = ""
			return "setup_webauthn.html", data, nil
		}
		return "", nil, err
	}
	s.State = ceremony
	data.Options = string(options)
	return "setup_webauthn.html", data, nil
}

// Submit finishes the ceremony with the credential the browser created:
// the key is added, confirmed, and the wizard verifies the session by it.
func (webauthnSetup) Submit(ctx context.Context, s *Setup) (*twofactor.Confirmation, error) {
	form := s.Request.PostForm
	cred, ceremony := form.Get("credential"), s.State
	if cred == "" {
		return nil, &twofactor.Error{Code: twofactor.CodeValidationFailed, Message: msg(msgNeedsJavaScript)}
	}
	if !validText(cred, maxCredential) {
		return nil, &twofactor.Error{Code: twofactor.CodeInvalidCode, Message: msg(msgKeyNotValid), Reason: twofactor.ReasonMalformed}
	}
	// The core checks the name ("" = "Security key"). Any attempt uses
	// the ceremony up; after an error the step shows a new one.
	name := strings.TrimSpace(form.Get("name"))
	s.State = ""
	return s.Service.FinishWebAuthnRegistration(ctx, s.Session.Actor(), ceremony, []byte(cred), name)
}

// pageOrigin is the origin (scheme://host[:port]) of the page a request
// comes from or is for, as the browser sees it: what WebAuthn ceremonies
// are bound to. A posted form carries it in its Origin header (checked
// against the Host by the cross-origin protection); a page being shown
// (GET), or a post whose Origin the browser hid ("null", as under
// Referrer-Policy no-referrer), has it from the request: https under TLS
// or with Config.Secure (behind a TLS-terminating proxy), and the Host.
// Nothing from a form body is ever used.
func (h *Handler) pageOrigin(r *http.Request) string {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if o := r.Header.Get("Origin"); o != "" && o != "null" && len(o) <= 2048 {
			if u, err := url.Parse(o); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Path == "" {
				return o
			}
		}
	}
	scheme := "http"
	if r.TLS != nil || h.cfg.Secure {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// isCeremonyExpired reports whether err says that a WebAuthn ceremony is
// gone (unknown, expired, used, or begun elsewhere): the ceremony is begun
// again, not the sign-in.
func isCeremonyExpired(err error) bool {
	e := twofactor.AsError(err)
	return e != nil && e.Code == twofactor.CodeExpired && e.Reason == twofactor.ReasonCeremony
}

// keyError is the error a security-key response shows: a response that
// did not verify says so in the words of a key, not of a typed code.
func keyError(err error) error {
	if e := twofactor.AsError(err); e != nil && e.Code == twofactor.CodeInvalidCode {
		return &twofactor.Error{Code: twofactor.CodeInvalidCode, Message: msg(msgKeyNotValid), Reason: e.Reason, Err: err}
	}
	return err
}

// hasKeys reports whether the user can use a security key here: WebAuthn
// is configured and one of devs is a confirmed key.
func (h *Handler) hasKeys(devs []twofactor.Device) bool {
	if !h.webauthnOn() {
		return false
	}
	for i := range devs {
		if devs[i].Kind == twofactor.KindWebAuthn && devs[i].Confirmed {
			return true
		}
	}
	return false
}

// webauthnOn reports whether the Service has a WebAuthn relying party.
func (h *Handler) webauthnOn() bool {
	for _, k := range h.svc.Methods() {
		if k == twofactor.KindWebAuthn {
			return true
		}
	}
	return false
}
