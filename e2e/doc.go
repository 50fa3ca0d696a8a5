// Package e2e holds the browser end-to-end tests of the complete site that
// `twofactor serve` runs (SPEC §12): the real handler — configuration,
// SQLite store, core service, pages, API and staff console, assembled by
// internal/app and internal/server — served on a local port and driven by
// headless Chromium through github.com/chromedp/chromedp.
//
// Each scenario is its own test with its own database and users: setting
// up an authenticator app from the QR code (decoded with zbarimg, the code
// cross-checked with oathtool), signing in with a code, with a backup code,
// with a remembered browser, disabling two-factor with a step-up code, the
// staff console's refusal of unverified sessions, setting up text messages
// (the code read from a local Twilio peer, internal/twiliotest), signing in
// with a voice call (the peer fetches the call's script from the site with
// Twilio's signatures and hears the digits) and with an emailed code (a
// local SMTP peer, internal/smtptest), and security keys with Chromium's
// virtual authenticators (the DevTools WebAuthn domain): registering one in
// the setup wizard, refusing the same authenticator twice, signing in with
// it, refusing a cloned key (a signature count that went back), adding a
// second key, and confirming a sensitive change with a key (step-up).
//
// The package has no code outside its tests. The tests need the Debian
// packages chromium, zbar-tools and oathtool; without them they skip, or
// fail when TWOFACTOR_TEST_REQUIRE_ALL=1 (see internal/testenv).
//
// When a test fails, a screenshot of the whole page (screenshot.png), the
// page's address and text (page.txt), its HTML (page.html), the steps the
// test took (steps.txt) and the server's log (server.log) are written to
// $TWOFACTOR_E2E_ARTIFACTS/<test name>, or when that variable is not set to
// <temporary directory>/twofactor-e2e/<test name>, and the test logs where.
package e2e
