package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

func TestRequireVerified(t *testing.T) {
	e := newEnv(t)
	withDevice := e.user("withdevice")
	e.totp(withDevice, fixtureKey, "Phone")
	e.user("nodevice")
	late := e.user("late")

	anon := e.client()
	verifiedC := e.client()
	verifiedC.signIn("withdevice", fixtureKey)
	noDevice := e.client()
	noDevice.signIn("nodevice", nil)
	lateC := e.client()
	lateC.signIn("late", nil)
	e.totp(late, []byte("lateelatelateelatela"), "Late") // added after this sign-in

	tests := []struct {
		name     string
		c        *client
		path     string
		status   int
		location string
		text     string
	}{
		{"anonymous", anon, "/secret/?x=1", 302, "/account/login/?next=%2Fsecret%2F%3Fx%3D1", ""},
		{"anonymous raise_anonymous", anon, "/secret/raise_anonymous/", 403, "", "Permission Denied"},
		{"anonymous custom login and field", anon, "/secret/custom/", 302, "/other-login/?back=%2Fsecret%2Fcustom%2F", ""},
		{"anonymous if_configured", anon, "/secret/if_configured/", 302, "/account/login/?next=%2Fsecret%2Fif_configured%2F", ""},
		{"verified", verifiedC, "/secret/", 200, "", "secret ok"},
		{"verified raise", verifiedC, "/secret/raise_unverified/", 200, "", "secret ok"},
		{"no device", noDevice, "/secret/", 403, "", "Enable Two-Factor Authentication"},
		{"no device raise_unverified", noDevice, "/secret/raise_unverified/", 403, "", "Permission Denied"},
		{"no device verification_url", noDevice, "/secret/verification_url/", 302, "/verify/?next=%2Fsecret%2Fverification_url%2F", ""},
		{"no device if_configured", noDevice, "/secret/if_configured/", 200, "", "secret ok"},
		{"no device raise_anonymous", noDevice, "/secret/raise_anonymous/", 403, "", "Enable Two-Factor Authentication"},
		{"device added after sign-in", lateC, "/secret/", 302, "/account/login/?next=%2Fsecret%2F", ""},
		{"device added after sign-in raise_anonymous", lateC, "/secret/raise_anonymous/", 403, "", "Permission Denied"},
		{"device added after sign-in if_configured", lateC, "/secret/if_configured/", 302, "/account/login/?next=%2Fsecret%2Fif_configured%2F", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.c.get(tt.path)
			if r.status != tt.status || r.location() != tt.location || !strings.Contains(r.text(), tt.text) {
				t.Fatalf("GET %s = %d %q %q, want %d %q %q", tt.path, r.status, r.location(), r.text(), tt.status, tt.location, tt.text)
			}
		})
	}
	// The explanation page links to the setup, returning to the page.
	r := noDevice.get("/secret/")
	if !strings.Contains(r.body, `href="/account/two_factor/setup/?next=%2Fsecret%2F"`) || !strings.Contains(r.text(), "Go back") {
		t.Fatalf("403 page:\n%s", r.body)
	}
	if r.header.Get("Content-Security-Policy") == "" {
		t.Fatal("the 403 page lacks the security headers")
	}
	// Removing the device un-verifies the session.
	d, _ := e.svc.Status(bg, withDevice.ID)
	if err := e.svc.RemoveDevice(bg, twofactor.OperatorActor(withDevice.ID), d.Primary.ID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, verifiedC.get("/secret/"), 403)
}

// TestRequireVerifiedFollowsToSetup: a user without two-factor goes from a
// protected page to the setup and back (seed test_views_mixins).
func TestRequireVerifiedSetupRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.user("alice")
	c := e.client()
	c.signIn("alice", nil)
	r := c.get("/secret/")
	wantStatus(t, r, 403)
	r = c.get("/account/two_factor/setup/?next=%2Fsecret%2F")
	r = c.submit(r, "/account/two_factor/setup/")
	r = c.get("/account/two_factor/setup/")
	key := secretOf(t, r)
	r = c.submit(r, "/account/two_factor/setup/", "token", e.code(key))
	wantStatus(t, r, 200)
	if len(codesOf(r)) != 10 {
		t.Fatal("no backup codes")
	}
	// Continue goes through the complete page back to the protected page.
	if !strings.Contains(r.body, `href="/account/two_factor/setup/complete/"`) {
		t.Fatalf("continue link:\n%s", r.body)
	}
	wantRedirect(t, c.get("/account/two_factor/setup/complete/"), "/secret/")
	wantStatus(t, c.get("/secret/"), 200)
	// The next is used once.
	wantStatus(t, c.get("/account/two_factor/setup/complete/"), 200)
}

func TestRequireVerifiedWithoutMiddleware(t *testing.T) {
	h := RequireVerified(RequireOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Fatal("an unchecked request went through")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	// The handler's own version applies the middleware itself.
	e, c, _, _ := verified(t)
	hv := e.h.RequireVerified(RequireOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	c.h = hv
	if r := c.get("/x"); r.status != 200 || r.body != "ok" {
		t.Fatalf("Handler.RequireVerified = %d %q", r.status, r.body)
	}
}

// TestRequireVerifiedReads is SPEC §11 row 2: on a verified session,
// RequireVerified costs one store read (the session) and no device read.
func TestRequireVerifiedReads(t *testing.T) {
	e, c, _, _ := verified(t)
	for range 3 {
		e.store.reset()
		wantStatus(t, c.get("/secret/"), 200)
		if s, d, all := e.store.sessionReads.Load(), e.store.deviceReads.Load(), e.store.reads(); s != 1 || d != 0 || all != 1 {
			t.Fatalf("a verified request read the store %d times (%d session, %d device reads), want 1 session read", all, s, d)
		}
	}
	// A minute later the session's last-seen time is written once (a
	// write, not a read): still one read.
	e.clock.Add(2 * time.Minute)
	e.store.reset()
	wantStatus(t, c.get("/secret/"), 200)
	if all := e.store.reads(); all != 1 {
		t.Fatalf("%d reads", all)
	}
}

func TestPolicyRequired(t *testing.T) {
	e := newEnv(t, envOpts{opts: func(o *twofactor.Options) { o.Policy = twofactor.PolicyRequired }})
	e.user("alice")
	c := e.client()
	r := c.login("alice", "correct horse", "next", "/secret/")
	wantRedirect(t, r, "/account/two_factor/setup/")
	// A protected page sends to the setup too, even with if_configured.
	wantRedirect(t, c.get("/secret/if_configured/"), "/account/two_factor/setup/?next=%2Fsecret%2Fif_configured%2F")
	// The account pages say why.
	wantText(t, c.get("/account/two_factor/"), "Two-factor authentication is required for your account.")
	r = c.submit(c.get("/account/two_factor/setup/"), "/account/two_factor/setup/")
	r = c.get("/account/two_factor/setup/")
	key := secretOf(t, r)
	r = c.submit(r, "/account/two_factor/setup/", "token", e.code(key))
	wantStatus(t, r, 200)
	wantRedirect(t, c.get("/account/two_factor/setup/complete/"), "/secret/") // the next of the sign-in
	wantStatus(t, c.get("/secret/"), 200)
}

func TestPolicyRequiredForStaff(t *testing.T) {
	e := newEnv(t, envOpts{opts: func(o *twofactor.Options) { o.Policy = twofactor.PolicyRequiredForStaff }})
	e.user("alice")
	e.staff("root")
	wantRedirect(t, e.client().login("alice", "correct horse"), "/account/two_factor/")
	wantRedirect(t, e.client().login("root", "correct horse"), "/account/two_factor/setup/")
}

func TestPolicyGrace(t *testing.T) {
	e := newEnv(t, envOpts{opts: func(o *twofactor.Options) {
		o.Policy = twofactor.PolicyRequired
		o.PolicyGrace = 3 * 24 * time.Hour
	}})
	e.user("alice")
	c := e.client()
	wantRedirect(t, c.login("alice", "correct horse"), "/account/two_factor/")
	wantText(t, c.get("/account/two_factor/"), "Two-factor authentication will be required in 3 days")
	e.clock.Add(2*24*time.Hour + time.Hour)
	wantText(t, c.get("/account/two_factor/"), "Two-factor authentication will be required in 1 day")
	wantStatus(t, c.get("/secret/if_configured/"), 200)
	e.clock.Add(24 * time.Hour)
	wantRedirect(t, c.get("/secret/if_configured/"), "/account/two_factor/setup/?next=%2Fsecret%2Fif_configured%2F")
	wantRedirect(t, e.client().login("alice", "correct horse"), "/account/two_factor/setup/")
}
