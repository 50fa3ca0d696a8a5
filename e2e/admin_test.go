package e2e

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/twofactor/twofactor"
)

// TestStaffConsole checks that the staff console (/admin/) opens only to
// a staff session verified by a second factor (admin.require_verified, on
// by default): staff without two-factor see why they are refused; a
// session that signed in with the password alone before two-factor was
// turned on, and a sign-in stopped at the code step, are sent to sign in;
// after the code the console opens, lists the users, and disables another
// user's two-factor.
func TestStaffConsole(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	root := s.newAccount("root", true)
	bob := s.newAccount("bob", false).withTOTP()
	b := newBrowser(t, s)
	toLogin := "/account/login/?next=" + url.QueryEscape("/admin/")

	// Staff without two-factor: refused with the reason.
	b.signIn(root)
	b.at("/account/two_factor/")
	b.open("/admin/")
	if !b.has("#admin-setup-required") || b.has("#admin-users") {
		t.Fatalf("staff without two-factor reached the console; the page says:\n%s", b.text("main"))
	}

	// Two-factor turned on for root meanwhile (by an operator): this
	// session was verified by no second factor, so it must sign in again.
	root.withTOTP()
	b.open("/admin/")
	b.at(toLogin)
	if b.has("#admin-users") {
		t.Fatal("an unverified session reached the console")
	}

	// A sign-in stopped at the code step is not signed in either.
	b.signOut()
	b.signIn(root)
	b.at("/account/login/")
	if !b.has("#id_token") {
		t.Fatalf("no code step for staff with two-factor; the page says:\n%s", b.text("main"))
	}
	b.open("/admin/")
	b.at(toLogin)

	// Signed in with the code, from the page the console sent to: back to
	// the console, which lists both users.
	b.typeInto("#id_username", root.name)
	b.typeInto("#id_password", password)
	b.submit("form button.primary")
	b.enterCode(root.nextCode(), false)
	b.at("/admin/")
	b.mustShow("#admin-total", "2 users")
	b.mustShow("#admin-users", "bob")
	b.mustShow("#adoption-facts", "2 (100%)")

	// The console disables bob's two-factor (freshly verified: no code
	// asked).
	b.submit(fmt.Sprintf(`#admin-users tr[data-user-id=%q] a.user`, bob.user.ID))
	b.at("/admin/users/" + bob.user.ID + "/")
	b.mustShow("#admin-devices", "Authenticator app")
	if b.has("#id_token") {
		t.Fatal("the console asks for a code right after the sign-in")
	}
	b.click("form.disable #id_understand")
	b.submit("#admin-disable-submit")
	b.at("/admin/users/" + bob.user.ID + "/?notice=disabled")
	b.mustShow("#admin-notice", "Two-factor authentication was disabled for this user.")
	if bob.enabled() {
		t.Fatal("bob's two-factor is still on")
	}
	if !bob.hasEvent(twofactor.EventTwoFactorDisabled, "") {
		t.Fatalf("no two_factor_disabled event on bob's trail: %+v", bob.events())
	}
}
