package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/config"
)

// Security keys in a real browser: Chromium's virtual authenticators (the
// DevTools WebAuthn domain) answer the pages' script as a USB key would,
// touched at once (automaticPresenceSimulation). The site is browsed at
// http://localhost:<port> — a secure context whose host can be a relying
// party id, which 127.0.0.1 cannot — and lists that origin in
// webauthn.origins and public_url.

// primaryKey is the profile's line for a security key as primary device:
// the seed's "Primary method: Authenticate using a WebAuthn-compatible
// device".
const primaryKey = "Primary method: Authenticate using a WebAuthn-compatible device"

// newWebAuthnSite opens a site with WebAuthn on (webauthn.rp_name), browsed
// at localhost, changed by edit when it is not nil.
func newWebAuthnSite(t *testing.T, edit func(*config.Config)) *site {
	t.Helper()
	var base string
	s := newSiteAt(t, func(cfg *config.Config, url string) {
		base = strings.Replace(url, "://127.0.0.1:", "://localhost:", 1)
		cfg.PublicURL = base
		cfg.WebAuthn.RPName = "twofactor e2e"
		cfg.WebAuthn.Origins = []string{base}
		if edit != nil {
			edit(cfg)
		}
	})
	if !strings.HasPrefix(base, "http://localhost:") {
		t.Fatalf("the site is at %s, not on 127.0.0.1", s.srv.URL)
	}
	s.base = base
	return s
}

// authenticator is a virtual authenticator of the browser's tab.
type authenticator struct {
	b  *browser
	id webauthn.AuthenticatorID
}

// addAuthenticator plugs a new virtual USB security key (CTAP2, with user
// verification, no resident keys) into the tab.
func (b *browser) addAuthenticator() *authenticator {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, stepTimeout)
	defer cancel()
	b.note("add a virtual authenticator")
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.t.Fatalf("enable the WebAuthn domain: %v", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportUsb,
			HasResidentKey: false, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
	if err != nil {
		b.t.Fatalf("add a virtual authenticator: %v", err)
	}
	return &authenticator{b: b, id: res.AuthenticatorID}
}

// remove unplugs the authenticator.
func (a *authenticator) remove() {
	a.b.t.Helper()
	ctx, cancel := context.WithTimeout(a.b.tab, stepTimeout)
	defer cancel()
	a.b.note("remove the virtual authenticator")
	if _, err := chromedp.Call(ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: a.id}); err != nil {
		a.b.t.Fatalf("remove the virtual authenticator: %v", err)
	}
}

// credentials returns the credentials the authenticator holds.
func (a *authenticator) credentials() []*webauthn.Credential {
	a.b.t.Helper()
	ctx, cancel := context.WithTimeout(a.b.tab, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: a.id})
	if err != nil {
		a.b.t.Fatalf("read the authenticator's credentials: %v", err)
	}
	return res.Credentials
}

// only returns the authenticator's one credential.
func (a *authenticator) only() *webauthn.Credential {
	a.b.t.Helper()
	creds := a.credentials()
	if len(creds) != 1 {
		a.b.t.Fatalf("the authenticator holds %d credentials, want 1", len(creds))
	}
	return creds[0]
}

// setCount replaces the credential by a copy with the signature counter
// count: a clone of the key (count lower than the server saw) or the key
// moving on.
func (a *authenticator) setCount(c *webauthn.Credential, count float64) {
	a.b.t.Helper()
	ctx, cancel := context.WithTimeout(a.b.tab, stepTimeout)
	defer cancel()
	a.b.note("set the credential's sign count to %v", count)
	if _, err := chromedp.Call(ctx, webauthn.RemoveCredential, webauthn.RemoveCredentialParams{AuthenticatorID: a.id, CredentialID: c.CredentialID}); err != nil {
		a.b.t.Fatalf("remove the credential: %v", err)
	}
	if _, err := chromedp.Call(ctx, addCredential, addCredentialParams{AuthenticatorID: a.id, Credential: credentialParams{
		CredentialID: c.CredentialID, IsResidentCredential: c.IsResidentCredential, RpID: c.RpID,
		PrivateKey: c.PrivateKey, UserHandle: c.UserHandle, SignCount: count}}); err != nil {
		a.b.t.Fatalf("add the credential back: %v", err)
	}
}

// addCredential is WebAuthn.addCredential with only the members a plain
// security key's credential has: cdproto's Credential always sends
// generateCmtgKeyOnNextOperation, which an authenticator without the cmtgKey
// extension refuses.
var addCredential = cdp.Command[addCredentialParams, cdp.Empty]{Method: webauthn.CommandAddCredential}

type addCredentialParams struct {
	AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
	Credential      credentialParams         `json:"credential"`
}

type credentialParams struct {
	CredentialID         []byte  `json:"credentialId"`
	IsResidentCredential bool    `json:"isResidentCredential"`
	RpID                 string  `json:"rpId"`
	PrivateKey           []byte  `json:"privateKey"`
	UserHandle           []byte  `json:"userHandle,omitempty"`
	SignCount            float64 `json:"signCount"`
}

// waitShown waits until the element sel is shown (not hidden) and its text
// contains want, and fails the test otherwise: a message the script puts
// on the page without loading another.
func (b *browser) waitShown(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e && !e.hidden ? e.textContent : ""; })()`, sel)
	for {
		got := run(b, "read "+sel, chromedp.Evaluate[string](js))
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s does not show %q within %s; it shows %q; the page says:\n%s", sel, want, stepTimeout, got, b.text("main"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// registerKey runs the setup wizard's security-key step from the profile
// page (the first device, or one more) with the tab's authenticator, and
// checks that the wizard completed.
func (b *browser) registerKey(name string, first bool) {
	b.t.Helper()
	b.open("/account/two_factor/setup/")
	b.submit("main form button.primary") // welcome
	b.at("/account/two_factor/setup/")
	b.click("#id_method_webauthn")
	b.submit("main form button.primary") // method
	b.at("/account/two_factor/setup/")
	b.mustShow("main", "your browser asks you to insert and touch your key")
	if name != "" {
		b.typeInto("#id_name", name)
	}
	b.submit("#webauthn-start") // the ceremony, then the form
	if first {
		b.mustShow("main", "Congratulations, you've successfully enabled two-factor authentication.")
		if codes := strings.Fields(b.text("ol.codes")); len(codes) != 10 {
			b.t.Fatalf("%d backup codes shown, want 10", len(codes))
		}
		return
	}
	b.at("/account/two_factor/setup/complete/")
	b.mustShow("main", "Congratulations")
}

// signInWithKey does the password step and answers the code step with the
// tab's authenticator.
func (b *browser) signInWithKey(a *account) {
	b.t.Helper()
	b.signIn(a)
	b.at("/account/login/")
	b.mustShow("main", "Please use your WebAuthn-compatible device to authenticate.")
	if b.has("#id_token") {
		b.t.Fatal("the key's step asks for a typed code")
	}
	b.submit("#webauthn-start")
}

// TestWebAuthnSetupAndSignIn is the seed's end-to-end test with a real
// browser: a security key is registered in the setup wizard (two-factor
// turns on, with backup codes), registering the same authenticator again
// is refused with a message on the page, and after signing out the key
// signs in: the profile names it the seed's way.
func TestWebAuthnSetupAndSignIn(t *testing.T) {
	t.Parallel()
	s := newWebAuthnSite(t, nil)
	ada := s.newAccount("ada", false)
	b := newBrowser(t, s)
	key := b.addAuthenticator()

	b.signIn(ada)
	b.at("/account/two_factor/")
	b.registerKey("Blue key", true)
	if !ada.enabled() {
		t.Fatal("two-factor is not on after the setup")
	}
	cred := key.only()
	if cred.RpID != "localhost" {
		t.Fatalf("the credential is for the relying party %q, want localhost", cred.RpID)
	}
	b.submit("main a.button.primary") // Continue
	b.at("/account/two_factor/")
	b.mustShow("main", primaryKey)
	b.mustShow("main", "Blue key · Security key")

	// The same authenticator again: the options exclude its credential,
	// the browser refuses, the page says why and nothing is posted.
	b.open("/account/two_factor/devices/add/")
	b.at("/account/two_factor/setup/")
	b.submit("main form button.primary")
	b.click("#id_method_webauthn")
	b.submit("main form button.primary")
	b.click("#webauthn-start")
	b.waitShown("#webauthn-register [data-webauthn-error]", "This security key is already registered.")
	b.at("/account/two_factor/setup/")
	if n := len(key.credentials()); n != 1 {
		t.Fatalf("the authenticator holds %d credentials", n)
	}
	st, err := s.app.Service.Status(context.Background(), ada.user.ID)
	if err != nil || len(st.Devices) != 1 {
		t.Fatalf("devices %+v, %v", st, err)
	}

	b.signOut()
	b.signIn(ada)
	b.at("/account/login/")
	// The user cancels the browser's dialog (the browser rejects with a
	// NotAllowedError): the page says so, posts nothing, and the button
	// works again.
	b.do("cancel the next request", chromedp.Evaluate[chromedp.Void](
		`navigator.credentials.get = () => Promise.reject(new DOMException("cancelled", "NotAllowedError"))`))
	b.click("#webauthn-start")
	b.waitShown("#webauthn-login [data-webauthn-error]", "The security key request was cancelled or timed out")
	b.at("/account/login/")
	b.do("answer the next request", chromedp.Evaluate[chromedp.Void](`delete navigator.credentials.get`))
	b.submit("#webauthn-start")
	b.at("/account/two_factor/")
	b.mustShow("header", "Signed in as ada")
	b.mustShow("main", primaryKey)
	if !ada.hasEvent(twofactor.EventUserVerified, "") {
		t.Fatalf("no user_verified event: %+v", ada.events())
	}
	if c := key.only(); c.SignCount <= cred.SignCount {
		t.Fatalf("the sign count did not move: %v then %v", cred.SignCount, c.SignCount)
	}
}

// TestWebAuthnClonedKey: an assertion whose signature count is not above
// the one the server saw last (a cloned key) is refused with a message,
// and audited as a replay; the genuine key, moving on, still works.
func TestWebAuthnClonedKey(t *testing.T) {
	t.Parallel()
	s := newWebAuthnSite(t, nil)
	grace := s.newAccount("grace", false)
	b := newBrowser(t, s)
	key := b.addAuthenticator()

	b.signIn(grace)
	b.registerKey("", true)
	b.signOut()
	b.signInWithKey(grace)
	b.at("/account/two_factor/")
	seen := key.only()
	b.signOut()

	// The clone: the same credential with a counter behind the server's.
	key.setCount(seen, max(0, seen.SignCount-2))
	b.signInWithKey(grace)
	b.at("/account/login/")
	b.mustShow("main", "The security key response is not valid.")
	b.mustShow("main", "Please use your WebAuthn-compatible device to authenticate.")
	if !grace.hasEvent(twofactor.EventVerificationFailed, twofactor.ReasonReplayed) {
		t.Fatalf("no replay in the audit trail: %+v", grace.events())
	}
	// The genuine key has moved on past it: accepted, from the same step.
	key.setCount(key.only(), seen.SignCount+10)
	b.submit("#webauthn-start")
	b.at("/account/two_factor/")
	b.mustShow("header", "Signed in as grace")
}

// TestWebAuthnSecondKey adds a second security key from the devices page
// (another authenticator: the first one's credential is excluded) and
// signs in with it alone.
func TestWebAuthnSecondKey(t *testing.T) {
	t.Parallel()
	s := newWebAuthnSite(t, nil)
	linus := s.newAccount("linus", false)
	b := newBrowser(t, s)
	first := b.addAuthenticator()

	b.signIn(linus)
	b.registerKey("Blue key", true)
	b.signOut()
	b.signInWithKey(linus)
	b.at("/account/two_factor/")

	first.remove()
	second := b.addAuthenticator()
	b.registerKey("Red key", false)
	if n := len(second.credentials()); n != 1 {
		t.Fatalf("the second authenticator holds %d credentials", n)
	}
	b.open("/account/two_factor/devices/")
	b.mustShow("main", "Blue key")
	b.mustShow("main", "Red key")
	b.mustShow("main", "Alternative")

	b.signOut()
	b.signInWithKey(linus)
	b.at("/account/two_factor/")
	b.mustShow("header", "Signed in as linus")
	st, err := s.app.Service.Status(context.Background(), linus.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	var red *twofactor.Device
	for i := range st.Devices {
		if st.Devices[i].Name == "Red key" {
			red = &st.Devices[i]
		}
	}
	if red == nil || red.LastUsedAt.IsZero() {
		t.Fatalf("the second key did not sign in: %+v", st.Devices)
	}
}

// TestWebAuthnStepUp disables two-factor from a session whose verification
// is older than step_up_age, confirming with the security key: the form
// offers the key (and a backup code), and the key's answer is the fresh
// verification.
func TestWebAuthnStepUp(t *testing.T) {
	t.Parallel()
	s := newWebAuthnSite(t, func(c *config.Config) { c.StepUpAge = stepUpAge })
	alan := s.newAccount("alan", false)
	b := newBrowser(t, s)
	b.addAuthenticator()

	b.signIn(alan)
	b.registerKey("", true)
	verified := time.Now()
	time.Sleep(time.Until(verified.Add(stepUpAge + 500*time.Millisecond)))

	b.open("/account/two_factor/disable/")
	if !b.has("button.webauthn-stepup") {
		t.Fatalf("the disable page offers no security key %s after the setup; it says:\n%s", time.Since(verified).Round(time.Millisecond), b.text("main"))
	}
	b.mustShow("main", "Confirm it is you: use your security key, or enter a backup code.")
	// The box is checked by the browser before the key is asked.
	b.click("button.webauthn-stepup")
	if run(b, "read whether the key was asked", chromedp.Evaluate[bool](`document.querySelector('input[name="credential"]').value !== ""`)) {
		t.Fatal("the key was asked although the box is not ticked")
	}
	b.click("#id_understand")
	b.submit("button.webauthn-stepup")
	b.at("/account/two_factor/")
	b.mustShow("main", "Two-factor authentication is not enabled for your account.")
	if alan.enabled() {
		t.Fatal("two-factor is still on")
	}
}
