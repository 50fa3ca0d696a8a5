package e2e

import (
	"testing"
	"time"

	"github.com/twofactor/twofactor/config"
)

// stepUpAge is step_up_age in TestDisableWithStepUp: short, so the test
// can wait past it (the service reads the real clock in the complete
// site; the core's own tests move a fake clock instead).
const stepUpAge = 2 * time.Second

// TestDisableWithStepUp disables two-factor from a session whose
// verification is older than step_up_age: the page asks for a code, the
// action is refused without it, and with it two-factor is off.
func TestDisableWithStepUp(t *testing.T) {
	t.Parallel()
	s := newSite(t, func(c *config.Config) { c.StepUpAge = stepUpAge })
	alan := s.newAccount("alan", false).withTOTP()
	b := newBrowser(t, s)

	b.signIn(alan)
	b.enterCode(alan.nextCode(), false)
	verified := time.Now()
	b.at("/account/two_factor/")

	// Freshly verified: the form needs no code.
	b.open("/account/two_factor/disable/")
	if b.has("#id_stepup") {
		t.Fatal("the disable page asks for a code right after the sign-in")
	}

	time.Sleep(time.Until(verified.Add(stepUpAge + 500*time.Millisecond)))
	b.open("/account/two_factor/disable/")
	if !b.has("#id_stepup") {
		t.Fatalf("the disable page does not ask for a code %s after the sign-in; it says:\n%s", time.Since(verified).Round(time.Millisecond), b.text("main"))
	}

	// Without the code (the browser's own check of the required field
	// removed, as a hand-made request would): refused.
	b.click("#id_understand")
	b.do("post without the code", removeRequired("#id_stepup"))
	b.submit("main form button.danger")
	b.at("/account/two_factor/disable/")
	b.mustShow("#stepup-errors", "Please confirm it is you: enter a code from your authentication device.")
	if !alan.enabled() {
		t.Fatal("two-factor was disabled without a fresh code")
	}

	// With the code: two-factor is off.
	if !run(b, "read the box", isChecked("#id_understand")) {
		b.click("#id_understand")
	}
	b.typeInto("#id_stepup", alan.nextCode())
	b.submit("main form button.danger")
	b.at("/account/two_factor/")
	b.mustShow("main", "Two-factor authentication is not enabled for your account.")
	if alan.enabled() {
		t.Fatal("two-factor is still on")
	}
}
