package e2e

import (
	"testing"

	"github.com/twofactor/twofactor"
)

// TestRememberBrowser signs in with "remember this browser" ticked, then
// signs in again with the password alone; after the browser is revoked on
// the profile page, the next sign-in asks for the code again.
func TestRememberBrowser(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	hedy := s.newAccount("hedy", false).withTOTP()
	b := newBrowser(t, s)

	b.signIn(hedy)
	b.at("/account/login/")
	b.mustShow("label[for=id_remember]", "1 day")
	b.enterCode(hedy.nextCode(), true)
	b.at("/account/two_factor/")
	b.mustShow("main", "this browser")
	if !hedy.hasEvent(twofactor.EventBrowserRemembered, "") {
		t.Fatalf("no browser_remembered event: %+v", hedy.events())
	}

	// Remembered: the password is enough.
	b.signOut()
	b.signIn(hedy)
	b.at("/account/two_factor/")
	b.mustShow("header", "Signed in as hedy")

	// Revoke this browser (its own button, not "Revoke all").
	b.submit(`main form.inline[action*="/browsers/revoke/"] button`)
	b.at("/account/two_factor/")
	b.mustShow("main", "No browser is remembered.")
	if !hedy.hasEvent(twofactor.EventBrowserRevoked, "") {
		t.Fatalf("no browser_revoked event: %+v", hedy.events())
	}

	// The code is asked again.
	b.signOut()
	b.signIn(hedy)
	b.at("/account/login/")
	if !b.has("#id_token") {
		t.Fatalf("no code step after the browser was revoked; the page says:\n%s", b.text("body"))
	}
	b.enterCode(hedy.nextCode(), false)
	b.at("/account/two_factor/")
	b.mustShow("main", "No browser is remembered.")
}
