package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/secret"
)

// waEnv is an env whose service has a WebAuthn relying party (the pages'
// origin, http://example.com, decides the RP id).
func waEnv(t *testing.T, o ...envOpts) *env {
	t.Helper()
	o = append([]envOpts{{core: func(c *twofactor.Config) { c.WebAuthn = &twofactor.WebAuthnConfig{RPName: "Example"} }}}, o...)
	return newEnv(t, o...)
}

// key registers a new software key for u through the service (as if set
// up earlier) and returns it.
func (e *env) key(u *twofactor.User, name string) (*softKey, *twofactor.Device) {
	e.t.Helper()
	k := newSoftKey(e.t)
	a := twofactor.OperatorActor(u.ID)
	options, ceremony, err := e.svc.BeginWebAuthnRegistration(bg, a, testPageOrigin)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := k.create(e.t, string(options))
	if err != nil {
		e.t.Fatal(err)
	}
	conf, err := e.svc.FinishWebAuthnRegistration(bg, a, ceremony, []byte(resp), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return k, conf.Device
}

// credential posts a security-key credential to the sign-in's code step.
func (c *client) credential(cred string, extra ...string) *resp {
	f := url.Values{"step": {"token"}, "credential": {cred}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return c.post("/account/login/", f)
}

// wantScript checks that a page loads the security-key script (and only
// from the site) and embeds non-executable options.
func wantScript(t *testing.T, r *resp) {
	t.Helper()
	if !strings.Contains(r.body, `<script src="/account/static/webauthn.js"`) {
		t.Fatalf("the page does not load the script:\n%s", r.body)
	}
	if strings.Count(r.body, "<script") != 1 || strings.Contains(r.body, "</script><script") {
		t.Fatalf("more than the one script:\n%s", r.body)
	}
	if optionsOf(r) == "" {
		t.Fatalf("no options on the page:\n%s", r.body)
	}
}

// TestWebAuthnMethodOffered: the wizard offers security keys only when
// the service has a relying party.
func TestWebAuthnMethodOffered(t *testing.T) {
	e := newEnv(t)
	e.user("alice")
	c := e.client()
	c.signIn("alice", nil)
	r := c.submit(c.get("/account/two_factor/setup/"), "/account/two_factor/setup/")
	wantNoText(t, r, "Security key")
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"webauthn"}})
	wantText(t, r, "Select a valid choice. webauthn is not one of the available choices.")
	wantStatus(t, c.post("/account/two_factor/setup/", url.Values{"step": {"webauthn"}, "credential": {"{}"}}), 400)

	e = waEnv(t)
	e.user("alice")
	c = e.client()
	c.signIn("alice", nil)
	r = c.submit(c.get("/account/two_factor/setup/"), "/account/two_factor/setup/")
	wantText(t, r, "Token generator", "Security key (WebAuthn)")
	if r.input("method") == nil || !strings.Contains(r.body, `value="webauthn"`) {
		t.Fatalf("no webauthn radio:\n%s", r.body)
	}
}

// TestSetupWebAuthn registers a key in the wizard: the step embeds the
// creation options (base64url, the user's keys excluded) with the script
// and a text for browsers without JavaScript; the credential finishes the
// registration, which turns two-factor on, shows the backup codes once
// and verifies the session by the key (a new session: the core finishes
// registrations outside the session). The profile then names the key the
// seed's way.
func TestSetupWebAuthn(t *testing.T) {
	e := waEnv(t)
	u := e.user("alice")
	c := e.client()
	r := chooseMethod(t, c, "alice", "webauthn")
	wantStatus(t, r, 200)
	wantScript(t, r)
	wantText(t, r, "A browser with JavaScript is needed to use a security key.", "Register security key")
	if r.input("credential")["type"] != "hidden" || r.input("token") != nil {
		t.Fatalf("fields: credential %v, token %v", r.input("credential"), r.input("token"))
	}
	o := parseOptions(t, optionsOf(r))
	if o.PublicKey.RP.ID != "example.com" || len(o.PublicKey.Challenge) != 43 || strings.ContainsAny(o.PublicKey.Challenge, "+/=") {
		t.Fatalf("options %+v", o)
	}
	before := c.jar["twofactor_session"].Value
	k := newSoftKey(t)
	cred, err := k.create(t, optionsOf(r))
	if err != nil {
		t.Fatal(err)
	}
	r = c.submit(r, "/account/two_factor/setup/", "credential", cred, "name", "Blue key")
	wantStatus(t, r, 200)
	wantText(t, r, "Congratulations, you've successfully enabled two-factor authentication.")
	if len(codesOf(r)) != 10 {
		t.Fatal("no backup codes")
	}
	st, _ := e.svc.Status(bg, u.ID)
	if st.Primary == nil || st.Primary.Kind != twofactor.KindWebAuthn || st.Primary.Name != "Blue key" || st.Primary.Destination != k.credID() {
		t.Fatalf("status %+v", st)
	}
	if s := c.session(); !s.Verified() || s.DeviceID != st.Primary.ID {
		t.Fatalf("session %+v", s)
	}
	if c.jar["twofactor_session"].Value == before {
		t.Fatal("the session was not renewed")
	}
	wantStatus(t, c.get("/secret/"), 200)
	r = c.get("/account/two_factor/")
	wantText(t, r, "Primary method: Authenticate using a WebAuthn-compatible device", "Blue key · Security key", "You have 10 backup tokens remaining.")
	if strings.Contains(r.body, "<script") {
		t.Fatal("the profile loads the script")
	}
	// The wizard's state is gone: the setup page starts over.
	wantText(t, c.get("/account/two_factor/setup/"), "this adds another authentication method")
}

// TestSetupWebAuthnSecondKey adds keys from the devices page: the same
// authenticator is excluded by the options (the browser refuses it) and,
// answered anyway, refused by the server with a message; another key is
// added as an alternative, named "Security key" by default, renamed and
// removed like every device.
func TestSetupWebAuthnSecondKey(t *testing.T) {
	e := waEnv(t)
	u := e.user("alice")
	first, _ := e.key(u, "")
	e.backupCodes(u)
	c := e.client()
	r := c.login("alice", "correct horse")
	wantRedirect(t, c.credential(first.get(t, optionsOf(r))), "/account/two_factor/")

	wantRedirect(t, c.get("/account/two_factor/devices/add/"), "/account/two_factor/setup/")
	r = c.get("/account/two_factor/setup/")
	wantText(t, r, "Two-factor authentication is already enabled for your account")
	wantRedirect(t, c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"webauthn"}}), "/account/two_factor/setup/")
	r = c.get("/account/two_factor/setup/")
	if _, err := first.create(t, optionsOf(r)); err != errExcluded {
		t.Fatalf("the registered key is not excluded: %v", err)
	}
	r = c.submit(r, "/account/two_factor/setup/", "credential", first.createFor(parseOptions(t, optionsOf(r)), testPageOrigin))
	wantStatus(t, r, 200)
	wantText(t, r, "This security key is already registered.", "Register security key")
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 1 {
		t.Fatalf("devices %+v", st.Devices)
	}

	second := newSoftKey(t)
	cred, err := second.create(t, optionsOf(r))
	if err != nil {
		t.Fatal(err)
	}
	verifiedBy := c.session().DeviceID
	r = c.submit(r, "/account/two_factor/setup/", "credential", cred)
	wantRedirect(t, r, "/account/two_factor/setup/complete/")
	// A further key proves itself, not the account: the session stays
	// verified by the first one.
	if s := c.session(); s == nil || s.DeviceID != verifiedBy {
		t.Fatalf("session %+v", s)
	}
	st, _ := e.svc.Status(bg, u.ID)
	if len(st.Devices) != 2 || st.Devices[1].Name != "Security key" || st.Devices[1].Primary {
		t.Fatalf("devices %+v", st.Devices)
	}
	id := st.Devices[1].ID
	r = c.get("/account/two_factor/devices/")
	wantText(t, r, "Security key", "Primary", "Alternative")
	wantText(t, c.get("/account/two_factor/"), "Other authentication methods", "Security key")
	wantRedirect(t, c.post("/account/two_factor/devices/"+id+"/rename/", url.Values{"name": {"Spare"}}), "/account/two_factor/devices/"+id+"/")
	wantText(t, c.get("/account/two_factor/devices/"+id+"/"), "Spare")

	// The second key signs in too.
	c2 := e.client()
	r = c2.login("alice", "correct horse")
	if n := len(parseOptions(t, optionsOf(r)).PublicKey.AllowCredentials); n != 2 {
		t.Fatalf("%d keys allowed", n)
	}
	wantRedirect(t, c2.credential(second.get(t, optionsOf(r))), "/account/two_factor/")
	if s := c2.session(); s.DeviceID != id {
		t.Fatal("not verified by the second key")
	}

	wantRedirect(t, c.post("/account/two_factor/devices/"+id+"/remove/", nil), "/account/two_factor/devices/")
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 1 {
		t.Fatalf("devices %+v", st.Devices)
	}
}

// TestSetupWebAuthnBadInput: the step's hidden field with nothing,
// garbage, a huge value, a response for another session's ceremony, for
// an expired ceremony, or from another origin: a message on the step
// (never a server error) with a new ceremony, and nothing registered.
func TestSetupWebAuthnBadInput(t *testing.T) {
	e := waEnv(t)
	u := e.user("alice")
	c := e.client()
	r := chooseMethod(t, c, "alice", "webauthn")
	k := newSoftKey(t)
	post := func(cred string) *resp {
		t.Helper()
		res := c.post("/account/two_factor/setup/", url.Values{"step": {"webauthn"}, "credential": {cred}})
		wantStatus(t, res, 200)
		if optionsOf(res) == "" {
			t.Fatalf("no new ceremony:\n%s", res.text())
		}
		return res
	}
	wantText(t, post(""), "A browser with JavaScript is needed to use a security key.")
	for _, garbage := range []string{"{", "null", `{"id":"x","type":"public-key","response":{}}`, "\xff\xfe", strings.Repeat("1", 40<<10),
		`{"id":"` + strings.Repeat("A", 40<<10) + `"}`} {
		wantText(t, post(garbage), "Entered token is not valid.")
	}
	// Larger than any form: refused before it is read.
	huge := url.Values{"step": {"webauthn"}, "credential": {strings.Repeat("x", 70<<10)}}
	wantStatus(t, c.post("/account/two_factor/setup/", huge), http.StatusRequestEntityTooLarge)

	// Another session of the same user began its own ceremony: a
	// response to it is not an answer to this session's.
	other := e.client()
	ro := chooseMethod(t, other, "alice", "webauthn")
	r = c.get("/account/two_factor/setup/")
	cred, _ := k.create(t, optionsOf(ro))
	wantText(t, post(cred), "Entered token is not valid.")

	// Another origin (a page relayed by a phishing site).
	r = c.get("/account/two_factor/setup/")
	wantText(t, post(k.createFor(parseOptions(t, optionsOf(r)), "http://evil.example")), "Entered token is not valid.")

	// The ceremony expired: the step says so and begins a new one, which
	// works.
	r = c.get("/account/two_factor/setup/")
	cred, _ = k.create(t, optionsOf(r))
	e.clock.Add(twofactor.WebAuthnCeremonyTTL + time.Second)
	r = post(cred)
	wantText(t, r, "The security key request has expired. Please try again.", "Register security key")
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 0 {
		t.Fatalf("devices %+v", st.Devices)
	}
	// A bad name is said under the field and the name kept.
	cred, _ = k.create(t, optionsOf(r))
	r = c.submit(r, "/account/two_factor/setup/", "credential", cred, "name", strings.Repeat("n", 65))
	wantText(t, r, "Ensure this value has at most 64 characters.")
	if r.input("name")["value"] != strings.Repeat("n", 65) {
		t.Fatal("the name is not shown again")
	}
	cred, _ = k.create(t, optionsOf(r))
	wantStatus(t, c.submit(r, "/account/two_factor/setup/", "credential", cred, "name", "Key"), 200)
	if on, _ := e.svc.Enabled(bg, u.ID); !on {
		t.Fatal("the key was not registered")
	}
}

// TestSetupWebAuthnOriginRefused: a page served from an origin the
// configuration does not list says that keys cannot be used from there.
func TestSetupWebAuthnOriginRefused(t *testing.T) {
	e := newEnv(t, envOpts{core: func(c *twofactor.Config) {
		c.WebAuthn = &twofactor.WebAuthnConfig{RPName: "Example", Origins: []string{"https://login.example.com"}}
	}})
	e.user("alice")
	c := e.client()
	r := chooseMethod(t, c, "alice", "webauthn")
	wantStatus(t, r, 200)
	wantText(t, r, "Security keys cannot be used from this address.")
	if optionsOf(r) != "" || strings.Contains(r.body, "<script") {
		t.Fatal("a ceremony on a page from an origin that is not configured")
	}
	// Behind a TLS proxy (Config.Secure) on that host it works.
	e = newEnv(t, envOpts{core: func(c *twofactor.Config) {
		c.WebAuthn = &twofactor.WebAuthnConfig{RPName: "Example", Origins: []string{"https://example.com"}}
	}, web: func(c *Config) { c.Secure = true }})
	e.user("alice")
	c = e.client()
	r = chooseMethod(t, c, "alice", "webauthn")
	if o := parseOptions(t, optionsOf(r)); o.PublicKey.RP.ID != "example.com" {
		t.Fatalf("options %+v", o)
	}
}

// TestLoginWebAuthn: a user whose primary device is a key signs in with
// it: the code step runs the assertion (the seed's texts), offers the
// user's other devices and backup codes, and remembers the browser when
// asked.
func TestLoginWebAuthn(t *testing.T) {
	e := waEnv(t, envOpts{opts: func(o *twofactor.Options) { o.RememberAge = 24 * time.Hour }})
	u := e.user("alice")
	k, dev := e.key(u, "Blue key")
	e.totp(u, fixtureKey, "App")
	e.backupCodes(u)
	c := e.client()
	r := c.login("alice", "correct horse", "next", "/secret/")
	wantStatus(t, r, 200)
	wantScript(t, r)
	wantText(t, r, "Please use your WebAuthn-compatible device to authenticate.", "Use a security key",
		"Enter the token generated by your token generator (App)", "Use Backup Token",
		"A browser with JavaScript is needed to use a security key.")
	if r.input("token") == nil || r.input("credential")["type"] != "hidden" {
		t.Fatal("fields")
	}
	if strings.Contains(r.body, `id="id_token"`) {
		t.Fatal("a code field for a security key")
	}
	o := parseOptions(t, optionsOf(r))
	if o.PublicKey.RPID != "example.com" || len(o.PublicKey.AllowCredentials) != 1 || o.PublicKey.AllowCredentials[0].ID != k.credID() {
		t.Fatalf("options %+v", o)
	}
	wantRedirect(t, c.credential(k.get(t, optionsOf(r)), "remember", "on"), "/secret/")
	if s := c.session(); !s.Verified() || s.DeviceID != dev.ID {
		t.Fatalf("session %+v", s)
	}
	wantText(t, c.get("/account/two_factor/"), "Primary method: Authenticate using a WebAuthn-compatible device")
	if len(c.jar) < 2 {
		t.Fatal("no remember cookie")
	}
	// Remembered: the next sign-in skips the key.
	wantRedirect(t, c.login("alice", "correct horse"), "/account/two_factor/")

	// Without JavaScript the button posts an empty credential: the step
	// says why, and the other ways still work.
	c2 := e.client()
	c2.login("alice", "correct horse")
	r = c2.credential("")
	wantText(t, r, "A browser with JavaScript is needed to use a security key.", "Please use your WebAuthn-compatible device to authenticate.")
	// A code typed for the key (a hand-made post): the step says the key
	// takes no code.
	r = c2.token(e.code(fixtureKey))
	wantText(t, r, "This device cannot verify codes here.", "Please use your WebAuthn-compatible device to authenticate.")
	r = c2.post("/account/login/", url.Values{"step": {"token"}, "device": {r.buttons("device")[0]["value"]}})
	wantText(t, r, "Please enter the token generated by your token generator.")
	wantRedirect(t, c2.token(e.code(fixtureKey)), "/account/two_factor/")
}

// TestLoginWebAuthnChoice: a user whose primary is an app is offered
// "Use a security key" once for all their keys; choosing it runs the
// assertion. A user whose primary is a key is not offered the other keys
// (the ceremony allows them all).
func TestLoginWebAuthnChoice(t *testing.T) {
	e := waEnv(t)
	u := e.user("alice")
	e.totp(u, fixtureKey, "App")
	k1, d1 := e.key(u, "Blue key")
	k2, d2 := e.key(u, "Red key")
	c := e.client()
	r := c.login("alice", "correct horse")
	wantText(t, r, "Please enter the token generated by your token generator.")
	if optionsOf(r) != "" || strings.Contains(r.body, "<script") {
		t.Fatal("a ceremony for a TOTP step")
	}
	bs := r.buttons("device")
	if len(bs) != 1 || (bs[0]["value"] != d1.ID && bs[0]["value"] != d2.ID) {
		t.Fatalf("device buttons %v", bs)
	}
	wantText(t, r, "Use a security key")
	wantNoText(t, r, "Blue key", "Red key")
	r = c.post("/account/login/", url.Values{"step": {"token"}, "device": {bs[0]["value"]}})
	wantText(t, r, "Please use your WebAuthn-compatible device to authenticate.", "Enter the token generated by your token generator (App)")
	if bs := r.buttons("device"); len(bs) != 1 {
		t.Fatalf("device buttons %v", bs)
	}
	// Either key answers.
	wantRedirect(t, c.credential(k2.get(t, optionsOf(r))), "/account/two_factor/")
	_, _ = k1, d1
}

// TestLoginWebAuthnBadInput: a ceremony that expired is begun again (not
// the sign-in); garbage, a huge value, another user's key, an unknown
// key and a cloned key (a lower signature count) are refused as an
// invalid key response; a ceremony from another sign-in is not this one's;
// the login timeout still restarts the sign-in. Never a server error.
func TestLoginWebAuthnBadInput(t *testing.T) {
	e := waEnv(t, envOpts{opts: func(o *twofactor.Options) {
		o.UserThrottle, o.LoginTimeout, o.Throttle[twofactor.KindWebAuthn] = 0, 10*time.Minute, 0
		o.SignIn = twofactor.SignInLimit{}
	}})
	u := e.user("alice")
	k, dev := e.key(u, "")
	bob := e.user("bob")
	bk, _ := e.key(bob, "")
	c := e.client()
	r := c.login("alice", "correct horse")
	bad := func(cred, want string) *resp {
		t.Helper()
		e.clock.Add(time.Second)
		res := c.credential(cred)
		wantStatus(t, res, 200)
		wantText(t, res, want, "Please use your WebAuthn-compatible device to authenticate.")
		if optionsOf(res) == "" {
			t.Fatalf("no new ceremony:\n%s", res.text())
		}
		return res
	}
	// Expired: the step begins a new ceremony, which works afterwards.
	cred := k.get(t, optionsOf(r))
	e.clock.Add(twofactor.WebAuthnCeremonyTTL + time.Second)
	r = bad(cred, "The security key request has expired. Please try again.")
	for _, garbage := range []string{"{", "[]", `{"id":"","type":"public-key"}`, "\x00\xff", strings.Repeat("a", 40<<10)} {
		r = bad(garbage, "The security key response is not valid.")
	}
	huge := url.Values{"step": {"token"}, "credential": {strings.Repeat("x", 70<<10)}}
	wantStatus(t, c.post("/account/login/", huge), http.StatusRequestEntityTooLarge)
	r = bad(bk.get(t, optionsOf(r)), "The security key response is not valid.")
	r = bad(newSoftKey(t).get(t, optionsOf(r)), "The security key response is not valid.")
	// Another sign-in of the same user: its ceremony is not this one's.
	c2 := e.client()
	r2 := c2.login("alice", "correct horse")
	r = bad(k.get(t, optionsOf(r2)), "The security key response is not valid.")

	// A clone: the key's count goes back.
	good := k.get(t, optionsOf(r))
	wantRedirect(t, c.credential(good), "/account/two_factor/")
	c3 := e.client()
	r = c3.login("alice", "correct horse")
	k.count -= 2
	e.clock.Add(time.Second)
	r = c3.credential(k.get(t, optionsOf(r)))
	wantText(t, r, "The security key response is not valid.")
	evs, _ := e.svc.Events(bg, u.ID, 50)
	replayed := false
	for _, ev := range evs {
		if ev.Kind == twofactor.EventVerificationFailed && ev.DeviceID == dev.ID && ev.Reason == twofactor.ReasonReplayed {
			replayed = true
		}
	}
	if !replayed {
		t.Fatalf("no replay event: %+v", evs)
	}
	k.count += 10
	e.clock.Add(time.Second)
	wantRedirect(t, c3.credential(k.get(t, optionsOf(r))), "/account/two_factor/")

	// The sign-in timed out: back to the password step.
	c4 := e.client()
	r = c4.login("alice", "correct horse")
	e.clock.Add(11 * time.Minute)
	r = c4.credential(k.get(t, optionsOf(r)))
	wantText(t, r, "Your session has timed out. Please login again.")
	if r.input("password") == nil {
		t.Fatal("not the password step")
	}
	// No sign-in at all: the password step.
	if r := e.client().credential("{}"); r.input("password") == nil {
		t.Fatal("not the password step")
	}
}

// TestLoginWebAuthnUnavailable: keys registered while WebAuthn was on
// cannot answer once it is off: the step says so and offers the rest.
func TestLoginWebAuthnUnavailable(t *testing.T) {
	on := waEnv(t)
	u := on.user("alice")
	on.key(u, "")
	on.totp(u, fixtureKey, "App")
	on.backupCodes(u)
	// The same database, without WebAuthn.
	off, err := twofactor.New(twofactor.Config{Store: on.store, Keys: mustKeyring(t), Options: on.svc.Options(), Clock: on.clock})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Service: off})
	if err != nil {
		t.Fatal(err)
	}
	c := on.client()
	c.h = h.Routes()
	r := c.login("alice", "correct horse")
	wantStatus(t, r, 200)
	wantText(t, r, "This method is not available.", "Enter the token generated by your token generator (App)", "Use Backup Token")
	if optionsOf(r) != "" {
		t.Fatal("a ceremony without WebAuthn")
	}
	wantStatus(t, c.credential("{}"), 200)
}

// TestLoginWebAuthnThrottled: failed key responses are throttled like
// every device's codes, and the step says so.
func TestLoginWebAuthnThrottled(t *testing.T) {
	e := waEnv(t)
	u := e.user("alice")
	k, _ := e.key(u, "")
	c := e.client()
	r := c.login("alice", "correct horse")
	r = c.credential("{}")
	wantText(t, r, "The security key response is not valid.")
	r = c.credential(k.get(t, optionsOf(r)))
	wantText(t, r, "Verification temporarily disabled because of 1 failed attempt, please try again soon.")
	e.clock.Add(2 * time.Second)
	wantRedirect(t, c.credential(k.get(t, optionsOf(r))), "/account/two_factor/")
}

// TestLoginWebAuthnRateLimited: when the address's sign-in rate stops the
// ceremony from beginning, the step says so and offers to try again.
func TestLoginWebAuthnRateLimited(t *testing.T) {
	e := waEnv(t, envOpts{opts: func(o *twofactor.Options) { o.SignIn = twofactor.SignInLimit{Count: 1, Per: time.Minute, Burst: 1} }})
	u := e.user("alice")
	k, dev := e.key(u, "")
	c := e.client()
	r := c.login("alice", "correct horse")
	wantStatus(t, r, 200)
	wantText(t, r, "Too many sign-in attempts", "Try again")
	if optionsOf(r) != "" {
		t.Fatal("a ceremony past the rate")
	}
	if bs := r.buttons("device"); len(bs) != 1 || bs[0]["value"] != dev.ID {
		t.Fatalf("buttons %v", bs)
	}
	e.clock.Add(time.Minute)
	r = c.post("/account/login/", url.Values{"step": {"token"}, "device": {dev.ID}})
	e.clock.Add(time.Minute)
	wantRedirect(t, c.credential(k.get(t, optionsOf(r))), "/account/two_factor/")
}

// stepUpKey signs alice (key primary, backup codes) in with her key and
// moves the clock past the step-up age.
func stepUpKey(t *testing.T, o ...envOpts) (*env, *client, *twofactor.User, *softKey, []string) {
	t.Helper()
	e := waEnv(t, o...)
	u := e.user("alice")
	k, _ := e.key(u, "Blue key")
	codes := e.backupCodes(u)
	c := e.client()
	r := c.login("alice", "correct horse")
	wantRedirect(t, c.credential(k.get(t, optionsOf(r))), "/account/two_factor/")
	e.clock.Add(11 * time.Minute)
	return e, c, u, k, codes
}

// TestStepUpWebAuthn: the sensitive forms of a user with a key offer it
// (a ceremony bound to the session) and a backup code; the key's answer
// is the fresh verification the action needs.
func TestStepUpWebAuthn(t *testing.T) {
	e, c, u, k, codes := stepUpKey(t)
	r := c.get("/account/two_factor/disable/")
	wantScript(t, r)
	wantText(t, r, "Confirm it is you: use your security key, or enter a backup code.", "Use a security key")
	if in := r.input("token"); in == nil || in["required"] != "" {
		t.Fatalf("code field %v", in)
	}
	if len(r.buttons("send")) != 0 {
		t.Fatal("a send button for a key")
	}
	o := parseOptions(t, optionsOf(r))
	if len(o.PublicKey.AllowCredentials) != 1 {
		t.Fatalf("options %+v", o)
	}
	// A typed code that is not a backup code: refused, nothing done.
	r = c.post("/account/two_factor/disable/", url.Values{"understand": {"on"}, "token": {"123456"}})
	wantText(t, r, "Invalid token.")
	e.clock.Add(time.Second)
	r = c.post("/account/two_factor/disable/", url.Values{"understand": {"on"}, "credential": {k.get(t, optionsOf(r))}, "ceremony": {ceremonyOf(r)}})
	wantRedirect(t, r, "/account/two_factor/")
	if on, _ := e.svc.Enabled(bg, u.ID); on {
		t.Fatal("still enabled")
	}
	_ = codes
}

// TestStepUpWebAuthnForms: every form that needs step-up takes the key:
// new backup codes, make primary, remove a device, and a backup code
// still works.
func TestStepUpWebAuthnForms(t *testing.T) {
	e, c, u, k, codes := stepUpKey(t)
	app := e.totp(u, fixtureKey, "App")
	// The app is not primary, but it takes the code.
	r := c.get("/account/two_factor/backup/tokens/")
	wantText(t, r, "Confirm it is you: use your security key, or enter a code from your authentication device or a backup code.")
	r = c.post("/account/two_factor/backup/tokens/", url.Values{"credential": {k.get(t, optionsOf(r))}, "ceremony": {ceremonyOf(r)}})
	if len(codesOf(r)) != 10 {
		t.Fatalf("no new codes:\n%s", r.text())
	}
	codes = codesOf(r)

	e.clock.Add(11 * time.Minute)
	dp := "/account/two_factor/devices/" + app.ID + "/"
	r = c.get(dp)
	if strings.Count(r.body, `class="secondary webauthn-stepup"`) != 2 {
		t.Fatalf("key buttons:\n%s", r.body)
	}
	r = c.post(dp+"primary/", url.Values{"credential": {k.get(t, optionsOf(r))}, "ceremony": {ceremonyOf(r)}})
	wantRedirect(t, r, "/account/two_factor/devices/")
	st, _ := e.svc.Status(bg, u.ID)
	if st.Primary.ID != app.ID {
		t.Fatal("the app is not primary")
	}

	// Primary app: the code field takes its codes; the key still offered.
	e.clock.Add(11 * time.Minute)
	keyID := st.Devices[1].ID
	kp := "/account/two_factor/devices/" + keyID + "/"
	r = c.get(kp)
	wantText(t, r, "Confirm it is you: use your security key, or enter a code from your authentication device or a backup code.")
	wantText(t, c.post(kp+"remove/", url.Values{"token": {"000000"}}), "Invalid token.")
	e.clock.Add(time.Second)
	wantRedirect(t, c.post(kp+"remove/", url.Values{"token": {codes[0]}}), "/account/two_factor/devices/")
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 1 {
		t.Fatalf("devices %+v", st.Devices)
	}
	// No key left: no ceremony, no script.
	e.clock.Add(11 * time.Minute)
	r = c.get("/account/two_factor/disable/")
	if optionsOf(r) != "" || strings.Contains(r.body, "<script") {
		t.Fatal("a ceremony without a key")
	}
	wantText(t, r, "This change needs a fresh code: enter one from your authentication device, or a backup code.")
}

// TestStepUpWebAuthnBadInput: a step-up ceremony that expired is begun
// again with a message; a response to another session's ceremony,
// another user's key, garbage: refused, the action not done, never a
// server error.
func TestStepUpWebAuthnBadInput(t *testing.T) {
	e, c, u, k, _ := stepUpKey(t, envOpts{opts: func(o *twofactor.Options) { o.UserThrottle, o.Throttle[twofactor.KindWebAuthn] = 0, 0 }})
	bob := e.user("bob")
	bk, _ := e.key(bob, "")
	r := c.get("/account/two_factor/disable/")
	post := func(page *resp, cred, want string) *resp {
		t.Helper()
		e.clock.Add(time.Second)
		res := c.post("/account/two_factor/disable/", url.Values{"understand": {"on"}, "credential": {cred}, "ceremony": {ceremonyOf(page)}})
		wantStatus(t, res, 200)
		wantText(t, res, want)
		if optionsOf(res) == "" {
			t.Fatalf("no new ceremony:\n%s", res.text())
		}
		if on, _ := e.svc.Enabled(bg, u.ID); !on {
			t.Fatal("disabled")
		}
		return res
	}
	cred := k.get(t, optionsOf(r))
	e.clock.Add(twofactor.WebAuthnCeremonyTTL + time.Second)
	r = post(r, cred, "The security key request has expired. Please try again.")
	r = post(r, "{", "The security key response is not valid.")
	r = post(r, bk.get(t, optionsOf(r)), "The security key response is not valid.")
	// The ceremony of this page, with the response to another page's.
	old := r
	r = c.get("/account/two_factor/disable/")
	r = post(r, k.get(t, optionsOf(old)), "The security key response is not valid.")
	// Another session of alice's began its own ceremony: its token and
	// its response are not this session's.
	c2 := e.client()
	r2 := c2.login("alice", "correct horse")
	wantRedirect(t, c2.credential(k.get(t, optionsOf(r2))), "/account/two_factor/")
	e.clock.Add(11 * time.Minute)
	r2 = c2.get("/account/two_factor/disable/")
	r = post(r2, k.get(t, optionsOf(r2)), "The security key request has expired. Please try again.")
	// Two pages of this session (two tabs): each page's own ceremony
	// answers.
	r = c.get("/account/two_factor/disable/")
	other := c.get("/account/two_factor/backup/tokens/")
	if ceremonyOf(r) == ceremonyOf(other) {
		t.Fatal("two pages share a ceremony")
	}
	// Without the box ticked, nothing is checked (the ceremony is not
	// used); then the first tab's ceremony answers, although the second
	// tab began one since.
	res := c.post("/account/two_factor/disable/", url.Values{"credential": {k.get(t, optionsOf(r))}, "ceremony": {ceremonyOf(r)}})
	wantText(t, res, "This field is required.")
	wantRedirect(t, c.post("/account/two_factor/disable/", url.Values{"understand": {"on"}, "credential": {k.get(t, optionsOf(r))}, "ceremony": {ceremonyOf(r)}}), "/account/two_factor/")
}

// TestStepUpSendCode closes the gap of users whose primary receives its
// codes: the sensitive forms offer "Send me a code" before the code field;
// a second request inside the cooldown is refused with the time to wait;
// the code sent confirms the change.
func TestStepUpSendCode(t *testing.T) {
	e, gw := gwEnv(t)
	u := e.user("alice")
	d := phoneDevice(t, e, gw, u, twofactor.KindSMS, testNumber)
	c := e.client()
	c.login("alice", "correct horse")
	wantRedirect(t, c.token(lastCode(t, gw, testNumber)), "/account/two_factor/")
	e.clock.Add(11 * time.Minute)
	r := c.get("/account/two_factor/disable/")
	wantText(t, r, "We can send a code to "+testMasked+".", "Send me a code")
	if bs := r.buttons("send"); len(bs) != 1 || bs[0]["formnovalidate"] == "" && !strings.Contains(r.body, "formnovalidate") {
		t.Fatalf("send buttons %v", bs)
	}
	if strings.Index(r.body, `name="send"`) > strings.Index(r.body, `name="token"`) {
		t.Fatal("the send button is not before the code field")
	}
	if strings.Contains(r.body, "<script") {
		t.Fatal("a script without a key")
	}
	n := len(sentTo(gw, testNumber))
	r = c.post("/account/two_factor/disable/", url.Values{"send": {"1"}})
	wantStatus(t, r, 200)
	wantText(t, r, "We sent you a code.")
	if len(sentTo(gw, testNumber)) != n+1 {
		t.Fatal("no code sent")
	}
	if on, _ := e.svc.Enabled(bg, u.ID); !on {
		t.Fatal("disabled by asking for a code")
	}
	r = c.post("/account/two_factor/disable/", url.Values{"send": {"1"}, "understand": {"on"}})
	wantText(t, r, "A code was sent a moment ago. You can ask for another one in 60 seconds.")
	if len(sentTo(gw, testNumber)) != n+1 {
		t.Fatal("a second code inside the cooldown")
	}
	// The other forms: backup codes, and the phone's own page.
	r = c.get("/account/two_factor/backup/tokens/")
	wantText(t, r, "Send me a code")
	r = c.get("/account/two_factor/devices/" + d.ID + "/")
	if len(r.buttons("send")) != 1 { // the primary cannot be made primary: only the remove form
		t.Fatalf("send buttons %v", r.buttons("send"))
	}
	r = c.post("/account/two_factor/disable/", url.Values{"understand": {"on"}, "token": {lastCode(t, gw, testNumber)}})
	wantRedirect(t, r, "/account/two_factor/")
	if on, _ := e.svc.Enabled(bg, u.ID); on {
		t.Fatal("still enabled")
	}
}

// TestStepUpSendCodeOtherForms: the phone unregister page and the device
// page send too, and show the notice on the right form.
func TestStepUpSendCodeOtherForms(t *testing.T) {
	e, gw := gwEnv(t)
	u := e.user("alice")
	phoneDevice(t, e, gw, u, twofactor.KindSMS, testNumber)
	backup := phoneDevice(t, e, gw, u, twofactor.KindCall, "+31101234568")
	c := e.client()
	c.login("alice", "correct horse")
	wantRedirect(t, c.token(lastCode(t, gw, testNumber)), "/account/two_factor/")
	e.clock.Add(11 * time.Minute)
	up := "/account/two_factor/phone/unregister/" + backup.ID + "/"
	r := c.post(up, nil)
	wantText(t, r, "Please confirm it is you", "Send me a code")
	r = c.post(up, url.Values{"send": {"1"}})
	wantText(t, r, "We sent you a code.")
	wantRedirect(t, c.post(up, url.Values{"token": {lastCode(t, gw, testNumber)}}), "/account/two_factor/")
	if _, err := e.svc.Device(bg, u.ID, backup.ID); twofactor.CodeOf(err) != twofactor.CodeNotFound {
		t.Fatal("the phone was not removed")
	}
}

// TestAdminStepUpWebAuthn: staff whose primary is a key disable a user's
// two-factor with the key.
func TestAdminStepUpWebAuthn(t *testing.T) {
	e := waEnv(t)
	staff := e.staff("boss")
	k, _ := e.key(staff, "")
	target := e.user("alice")
	e.totp(target, fixtureKey, "App")
	c := e.client()
	r := c.login("boss", "correct horse")
	wantRedirect(t, c.credential(k.get(t, optionsOf(r))), "/account/two_factor/")
	e.clock.Add(11 * time.Minute)
	page := "/admin/users/" + target.ID + "/"
	r = c.get(page)
	wantScript(t, r)
	// The key's registration came with backup codes.
	wantText(t, r, "Confirm it is you: use your security key, or enter a backup code.", "Your authentication code")
	if in := r.input("token"); in == nil || in["id"] != "id_token" {
		t.Fatalf("code field %v", in)
	}
	r = c.post(page+"disable/", url.Values{"understand": {"on"}, "credential": {k.get(t, optionsOf(r))}, "ceremony": {ceremonyOf(r)}})
	wantRedirect(t, r, page+"?notice=disabled")
	if on, _ := e.svc.Enabled(bg, target.ID); on {
		t.Fatal("still enabled")
	}
}

// TestWebAuthnScript: the script is served as JavaScript, with nosniff
// and the pages' CSP, and holds no inline handler.
func TestWebAuthnScript(t *testing.T) {
	e := newEnv(t)
	r := e.client().get("/account/static/webauthn.js")
	wantStatus(t, r, 200)
	if ct := r.header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	for _, want := range []string{"parseCreationOptionsFromJSON", "parseRequestOptionsFromJSON", "toJSON", "NotAllowedError",
		"InvalidStateError", `name="credential"`, "[data-webauthn-error]"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the script lacks %q", want)
		}
	}
	for _, bad := range []string{"eval(", "innerHTML", "new Function"} {
		if strings.Contains(r.body, bad) {
			t.Errorf("the script uses %q", bad)
		}
	}
}

// ceremonyOf returns the ceremony token of a page's step-up forms.
func ceremonyOf(r *resp) string {
	if in := r.input("ceremony"); in != nil {
		return in["value"]
	}
	return ""
}

// mustKeyring is the tests' keyring (testKey), for a second service on
// the same database.
func mustKeyring(t *testing.T) *secret.Keyring {
	t.Helper()
	k, err := secret.NewKeyring(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSetupStepUp: adding a device once two-factor is on needs a fresh
// second factor (the core's rule); the wizard's first steps ask for it
// when the session's is old — a code, or the security key — and check it
// before the method begins.
func TestSetupStepUp(t *testing.T) {
	e := waEnv(t)
	u := e.user("alice")
	k, _ := e.key(u, "")
	e.totp(u, fixtureKey, "App")
	c := e.client()
	r := c.login("alice", "correct horse")
	wantRedirect(t, c.credential(k.get(t, optionsOf(r))), "/account/two_factor/")
	// Fresh: no question.
	r = c.get("/account/two_factor/setup/")
	if r.input("token") != nil || optionsOf(r) != "" {
		t.Fatal("a step-up right after signing in")
	}
	e.clock.Add(11 * time.Minute)
	r = c.get("/account/two_factor/setup/")
	wantText(t, r, "Confirm it is you: use your security key, or enter a code from your authentication device or a backup code.")
	wantScript(t, r)
	// Without it, the method cannot begin: the choice says why.
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"totp"}})
	wantStatus(t, r, 200)
	wantText(t, r, "Please confirm it is you", "Please select which authentication method you would like to use.")
	if fieldErrors(r, "stepup") == "" {
		t.Fatalf("the refusal is not under the step-up field:\n%s", r.body)
	}
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"totp"}, "token": {"000000"}})
	wantText(t, r, "Invalid token.")
	if st, _ := e.svc.Status(bg, u.ID); len(st.Devices) != 2 {
		t.Fatalf("devices %+v", st.Devices)
	}
	// With the key, from the method step: the method begins.
	e.clock.Add(time.Second)
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"totp"}, "credential": {k.get(t, optionsOf(r))}, "ceremony": {ceremonyOf(r)}})
	wantRedirect(t, r, "/account/two_factor/setup/")
	wantText(t, c.get("/account/two_factor/setup/"), "TOTP Secret:")

	// The verification goes stale during a key's setup: the step sends the
	// user back to the choice, which asks for it.
	wantRedirect(t, c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"webauthn"}}), "/account/two_factor/setup/")
	e.clock.Add(11 * time.Minute)
	r = c.get("/account/two_factor/setup/")
	wantText(t, r, "Please confirm it is you", "Please select which authentication method you would like to use.")
	e.clock.Add(time.Second)
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"webauthn"}, "token": {e.code(fixtureKey)}})
	wantRedirect(t, r, "/account/two_factor/setup/")
	wantText(t, c.get("/account/two_factor/setup/"), "Register security key")
}

// TestPhoneRegisterStepUp: the backup phone page asks for a fresh second
// factor too, and a user whose primary receives its codes can have one
// sent from it.
func TestPhoneRegisterStepUp(t *testing.T) {
	e, gw := gwEnv(t)
	u := e.user("alice")
	phoneDevice(t, e, gw, u, twofactor.KindSMS, testNumber)
	c := e.client()
	c.login("alice", "correct horse")
	wantRedirect(t, c.token(lastCode(t, gw, testNumber)), "/account/two_factor/")
	e.clock.Add(11 * time.Minute)
	r := c.get("/account/two_factor/phone/register/")
	wantText(t, r, "Send me a code", "This change needs a fresh code")
	r = c.post("/account/two_factor/phone/register/", url.Values{"step": {"phone"}, "method": {"sms"}, "phone_number": {"+31101234568"}})
	wantText(t, r, "Please confirm it is you")
	if r.input("phone_number")["value"] != "+31101234568" {
		t.Fatal("the number is not kept")
	}
	r = c.post("/account/two_factor/phone/register/", url.Values{"step": {"phone"}, "send": {"1"}})
	wantText(t, r, "We sent you a code.")
	r = c.post("/account/two_factor/phone/register/", url.Values{"step": {"phone"}, "method": {"sms"},
		"phone_number": {"+31101234568"}, "token": {lastCode(t, gw, testNumber)}})
	wantRedirect(t, r, "/account/two_factor/phone/register/")
	wantText(t, c.get("/account/two_factor/phone/register/"), "We've sent a token to your phone number.")
}
