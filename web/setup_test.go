package web

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

// startSetup signs alice in (without two-factor) and opens the TOTP step.
func startSetup(t *testing.T, e *env) (*client, *resp) {
	t.Helper()
	e.user("alice")
	c := e.client()
	c.signIn("alice", nil)
	r := c.get("/account/two_factor/setup/")
	wantStatus(t, r, 200)
	r = c.submit(r, "/account/two_factor/setup/")
	wantRedirect(t, r, "/account/two_factor/setup/")
	return c, c.get("/account/two_factor/setup/")
}

func TestSetupWizard(t *testing.T) {
	e := newEnv(t)
	e.user("alice")
	c := e.client()
	c.signIn("alice", nil)
	r := c.get("/account/two_factor/setup/")
	wantStatus(t, r, 200)
	wantText(t, r, "You are about to take your account security to the next level. Follow the steps in this wizard to enable two-factor authentication.")
	// One method: the method step is skipped.
	r = c.submit(r, "/account/two_factor/setup/")
	wantRedirect(t, r, "/account/two_factor/setup/")
	r = c.get("/account/two_factor/setup/")
	wantStatus(t, r, 200)
	wantText(t, r, "TOTP Secret:", "Token:")
	if !strings.Contains(r.body, `<img src="/account/two_factor/qrcode/"`) {
		t.Fatal("no QR image")
	}
	key := secretOf(t, r)
	if len(key) != 20 {
		t.Fatalf("a %d-byte key", len(key))
	}
	if in := r.input("token"); in["autocomplete"] != "one-time-code" || in["inputmode"] != "numeric" {
		t.Fatalf("token input %v", in)
	}
	// The key is not in the session (sealed or not).
	data, _ := e.svc.SessionData(c.session())
	if bytes.Contains(data, key) || strings.Contains(string(data), strings.ReplaceAll(string(key), " ", "")) {
		t.Fatal("the key is in the session")
	}
	// The otpauth link.
	if !strings.Contains(r.body, `href="otpauth://totp/example.com%3A%20alice?secret=`) || !strings.Contains(r.body, "issuer=example.com") {
		t.Fatalf("no otpauth link with the host as issuer:\n%s", r.body)
	}
	// Wrong and empty tokens.
	// (Each failure throttles the device: wait before the next try.)
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", ""), "This field is required.")
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", "123"), "Entered token is not valid.")
	e.clock.Add(5 * time.Second)
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", "abcdef"), "Entered token is not valid.")
	// ±2 steps are refused.
	e.clock.Add(10 * time.Second)
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", e.codeAt(key, 2)), "Entered token is not valid.")
	// The right code: the backup codes are shown once, the session is
	// verified by the new device.
	e.clock.Add(20 * time.Second)
	r = c.submit(r, "/account/two_factor/setup/", "token", e.code(key))
	wantStatus(t, r, 200)
	wantText(t, r, "Congratulations, you've successfully enabled two-factor authentication.", "Print these tokens and keep them somewhere safe.")
	codes := codesOf(r)
	if len(codes) != 10 {
		t.Fatalf("%d backup codes shown, want 10", len(codes))
	}
	if s := c.session(); !s.Verified() {
		t.Fatal("the session is not verified after the setup")
	}
	wantStatus(t, c.get("/secret/"), 200)
	// Never again: the complete page and the backup page do not show them.
	r = c.get("/account/two_factor/setup/complete/")
	wantStatus(t, r, 200)
	wantText(t, r, "Congratulations")
	if len(codesOf(r)) != 0 {
		t.Fatal("the codes are shown again")
	}
	if len(codesOf(c.get("/account/two_factor/backup/tokens/"))) != 0 {
		t.Fatal("the backup page shows the codes")
	}
	// The QR code is gone with the setup.
	wantStatus(t, c.get("/account/two_factor/qrcode/"), 404)
	st, _ := e.svc.Status(bg, c.session().UserID)
	if !st.Enabled || len(st.Devices) != 1 || st.BackupCodes != 10 {
		t.Fatalf("status after setup %+v", st)
	}
}

func TestSetupQRCode(t *testing.T) {
	e := newEnv(t)
	c, _ := startSetup(t, e)
	r := c.get("/account/two_factor/qrcode/")
	wantStatus(t, r, 200)
	if ct := r.header.Get("Content-Type"); ct != "image/svg+xml; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	if r.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(strings.TrimSpace(r.body), "<svg") && !strings.HasPrefix(r.body, "<?xml") {
		t.Fatalf("SVG response %q", r.body[:min(80, len(r.body))])
	}
	r = c.get("/account/two_factor/qrcode/?format=png")
	wantStatus(t, r, 200)
	if ct := r.header.Get("Content-Type"); ct != "image/png" || !strings.HasPrefix(r.body, "\x89PNG") {
		t.Fatalf("PNG response %q", ct)
	}
	// Without a setup: 404; anonymous: to the sign-in page.
	e.user("bob")
	b := e.client()
	b.signIn("bob", nil)
	wantStatus(t, b.get("/account/two_factor/qrcode/"), 404)
	wantRedirect(t, e.client().get("/account/two_factor/qrcode/"), "/account/login/?next=%2Faccount%2Ftwo_factor%2Fqrcode%2F")
}

func TestSetupIssuer(t *testing.T) {
	e := newEnv(t, envOpts{web: func(c *Config) { c.Issuer = "My Site" }})
	_, r := startSetup(t, e)
	if body := html.UnescapeString(r.body); !strings.Contains(body, `otpauth://totp/My%20Site%3A%20alice?secret=`) || !strings.Contains(body, "&issuer=My+Site") {
		t.Fatalf("issuer not used: %q", r.body)
	}
}

func TestSetupRestartRemovesUnconfirmed(t *testing.T) {
	e := newEnv(t)
	c, r := startSetup(t, e)
	first := secretOf(t, r)
	uid := c.session().UserID
	// Start over: a new key, and the first device is gone.
	r = c.get("/account/two_factor/setup/")
	wantText(t, r, "TOTP Secret:") // a GET shows the setup in progress
	if !bytes.Equal(secretOf(t, r), first) {
		t.Fatal("a GET changed the key")
	}
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"welcome"}})
	wantRedirect(t, r, "/account/two_factor/setup/")
	r = c.get("/account/two_factor/setup/")
	second := secretOf(t, r)
	if bytes.Equal(first, second) {
		t.Fatal("restarting kept the key")
	}
	st, _ := e.svc.Status(bg, uid)
	if len(st.Devices) != 1 {
		t.Fatalf("%d devices after a restart, want 1", len(st.Devices))
	}
	// The old key does not confirm anything.
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", e.code(first)), "Entered token is not valid.")
	// Cancel removes the device too.
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"cancel"}})
	wantRedirect(t, r, "/account/two_factor/")
	st, _ = e.svc.Status(bg, uid)
	if len(st.Devices) != 0 {
		t.Fatalf("%d devices after cancel, want 0", len(st.Devices))
	}
	// Posting the step of a setup that is gone goes back to the start.
	wantRedirect(t, c.post("/account/two_factor/setup/", url.Values{"step": {"totp"}, "token": {"123456"}}), "/account/two_factor/setup/")
	wantText(t, c.get("/account/two_factor/setup/"), "You are about to take your account security")
}

func TestSetupAddsSecondDevice(t *testing.T) {
	e := newEnv(t)
	u := e.user("alice")
	e.totp(u, fixtureKey, "Phone")
	c := e.client()
	c.signIn("alice", fixtureKey)
	r := c.get("/account/two_factor/setup/")
	wantText(t, r, "already enabled")
	c.submit(r, "/account/two_factor/setup/")
	r = c.get("/account/two_factor/setup/")
	key := secretOf(t, r)
	r = c.submit(r, "/account/two_factor/setup/", "token", e.code(key))
	// No new backup codes: straight to the complete page.
	wantRedirect(t, r, "/account/two_factor/setup/complete/")
	wantStatus(t, c.get("/account/two_factor/setup/complete/"), 200)
	st, _ := e.svc.Status(bg, u.ID)
	if len(st.Devices) != 2 || st.Primary.Name != "Phone" {
		t.Fatalf("status %+v", st)
	}
}

func TestSetupRequiresVerificationWhenEnabled(t *testing.T) {
	e := newEnv(t)
	u := e.user("alice")
	c := e.client()
	c.signIn("alice", nil)
	// Two-factor is turned on behind this password-only session's back.
	e.totp(u, fixtureKey, "Phone")
	for _, p := range []string{"/account/two_factor/setup/", "/account/two_factor/", "/account/two_factor/devices/",
		"/account/two_factor/backup/tokens/", "/account/two_factor/disable/"} {
		r := c.get(p)
		wantRedirect(t, r, "/account/login/?next="+url.QueryEscape(p))
	}
	wantRedirect(t, c.post("/account/two_factor/setup/", url.Values{"step": {"welcome"}}),
		"/account/login/?next=%2Faccount%2Ftwo_factor%2Fsetup%2F")
}

func TestSetupComplete(t *testing.T) {
	e := newEnv(t)
	u := e.user("alice")
	c := e.client()
	c.signIn("alice", nil)
	// Without two-factor, the complete page sends to the setup.
	wantRedirect(t, c.get("/account/two_factor/setup/complete/"), "/account/two_factor/setup/")
	e.totp(u, fixtureKey, "Phone")
	c.signIn("alice", fixtureKey)
	r := c.get("/account/two_factor/setup/complete/")
	wantStatus(t, r, 200)
	wantText(t, r, "Congratulations", "Back to Account Security")
	wantNoText(t, r, "Add Phone Number")
}

func TestSetupCompletePhoneMethod(t *testing.T) {
	phone := Method{Code: "sms", Label: "Text message", Kinds: []twofactor.Kind{twofactor.KindSMS}, Phone: true, Setup: stubSetup{}}
	e := newEnv(t, envOpts{web: func(c *Config) { c.Methods = append(DefaultMethods(), phone) }})
	u := e.user("alice")
	e.totp(u, fixtureKey, "Phone")
	c := e.client()
	c.signIn("alice", fixtureKey)
	wantText(t, c.get("/account/two_factor/setup/complete/"), "Add Phone Number")
}

// stubSetup is a setup method that never confirms anything.
type stubSetup struct{}

func (stubSetup) Begin(ctx context.Context, s *Setup) (string, error) { return "", nil }
func (stubSetup) Page(ctx context.Context, s *Setup) (string, any, error) {
	return "setup_welcome.html", wizardPage{}, nil
}
func (stubSetup) Submit(ctx context.Context, s *Setup) (*twofactor.Confirmation, error) {
	return nil, &twofactor.Error{Code: twofactor.CodeValidationFailed, Message: "This field is required."}
}

func TestSetupMethodStep(t *testing.T) {
	avail := true
	other := Method{Code: "other", Label: "Email", Kinds: []twofactor.Kind{twofactor.KindEmail}, Setup: stubSetup{},
		Available: func(*http.Request) bool { return avail }}
	e := newEnv(t, envOpts{web: func(c *Config) { c.Methods = append(DefaultMethods(), other) }})
	e.user("alice")
	c := e.client()
	c.signIn("alice", nil)
	r := c.submit(c.get("/account/two_factor/setup/"), "/account/two_factor/setup/")
	wantStatus(t, r, 200)
	wantText(t, r, "Please select which authentication method you would like to use.", "Token generator", "Email")
	if in := r.input("method"); in == nil || in["type"] != "radio" {
		t.Fatalf("method radio %v", in)
	}
	wantText(t, c.post("/account/two_factor/setup/", url.Values{"step": {"method"}}), "This field is required.")
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"<b>evil</b>"}})
	wantText(t, r, "Select a valid choice. <b>evil</b> is not one of the available choices.")
	if strings.Contains(r.body, "<b>evil</b>") {
		t.Fatal("the choice is not escaped")
	}
	// An unavailable method is not offered and not accepted.
	avail = false
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"other"}})
	wantText(t, r, "Select a valid choice.")
	wantNoText(t, r, "Email")
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"totp"}})
	wantRedirect(t, r, "/account/two_factor/setup/")
	wantText(t, c.get("/account/two_factor/setup/"), "TOTP Secret:")
	// A method's own errors are form messages.
	avail = true
	c.post("/account/two_factor/setup/", url.Values{"step": {"method"}, "method": {"other"}})
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"other"}})
	wantStatus(t, r, 200)
	wantText(t, r, "This field is required.")
}

func TestSetupBadInput(t *testing.T) {
	e := newEnv(t)
	c, _ := startSetup(t, e)
	for _, f := range []url.Values{{}, {"step": {"nonsense"}}, {"step": {"\xff\xfe"}}} {
		wantStatus(t, c.post("/account/two_factor/setup/", f), 400)
	}
	r := c.post("/account/two_factor/setup/", url.Values{"step": {"totp"}, "token": {strings.Repeat("9", 5000)}})
	wantText(t, r, "Entered token is not valid.")
	r = c.post("/account/two_factor/setup/", url.Values{"step": {"totp"}, "token": {"\xff\xfe\x00"}})
	wantStatus(t, r, 200)
	// Anonymous: to the sign-in page.
	wantRedirect(t, e.client().post("/account/two_factor/setup/", url.Values{"step": {"welcome"}}),
		"/account/login/?next=%2Faccount%2Ftwo_factor%2Fsetup%2F")
}

func TestSetupThrottled(t *testing.T) {
	e := newEnv(t)
	c, r := startSetup(t, e)
	key := secretOf(t, r)
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", "000000"), "Entered token is not valid.")
	wantText(t, c.submit(r, "/account/two_factor/setup/", "token", e.codeAt(key, 0)), "Verification temporarily disabled because of 1 failed attempt")
}
