package e2e

import (
	"bytes"
	"encoding/base32"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/twofactor/twofactor/internal/testenv"
	"github.com/twofactor/twofactor/otp"
)

// TestSetupFromScratch signs in with the password alone, runs the setup
// wizard, reads the QR code from the screen as a phone would (zbarimg on a
// screenshot of the image), checks it against the otpauth:// link and the
// secret printed on the page, computes the code from what the QR code
// says (cross-checked with oathtool), confirms, and sees the ten backup
// codes once.
func TestSetupFromScratch(t *testing.T) {
	t.Parallel()
	zbarimg := testenv.Command(t, "zbarimg", "zbar-tools")
	oathtool := testenv.Command(t, "oathtool", "oathtool")
	s := newSite(t, nil)
	ada := s.newAccount("ada", false)
	b := newBrowser(t, s)

	b.signIn(ada)
	b.at("/account/two_factor/")
	b.mustShow("main", "Two-factor authentication is not enabled for your account.")
	b.submit("main a.button.primary") // Enable Two-Factor Authentication
	b.at("/account/two_factor/setup/")
	b.submit("main form button.primary") // the welcome step; TOTP is the only method
	b.at("/account/two_factor/setup/")

	// The QR image is served by the site (same origin, allowed by the CSP)
	// and drawn: a screenshot of it decodes to the otpauth:// link.
	if w := run(b, "read the QR image's width", chromedp.Evaluate[int](`document.querySelector(".qr img").naturalWidth`)); w == 0 {
		t.Fatal("the QR image did not load")
	}
	png := run(b, "screenshot the QR image", chromedp.ScreenshotScale(chromedp.CSS(".qr img"), 3))
	shot := filepath.Join(t.TempDir(), "qr.png")
	writeFile(t, filepath.Dir(shot), filepath.Base(shot), png)
	out, err := exec.Command(zbarimg, "--raw", "-q", shot).Output()
	if err != nil {
		saveArtifact(t, "qr.png", png)
		t.Fatalf("zbarimg could not decode the QR code: %v", err)
	}
	decoded := strings.TrimSpace(string(out))
	link := run(b, "read the otpauth link", chromedp.Evaluate[string](`document.querySelector(".secret").closest("a").getAttribute("href")`))
	if decoded != link {
		t.Fatalf("the QR code says\n  %s\nthe link on the page says\n  %s", decoded, link)
	}
	uri, err := otp.ParseKeyURI(decoded)
	if err != nil {
		t.Fatalf("the QR code's URI %q: %v", decoded, err)
	}
	if uri.Type != "totp" || uri.Account != "ada" || uri.Issuer == "" || uri.Algorithm != otp.SHA1 {
		t.Fatalf("the QR code's URI: %+v", uri)
	}
	secretText := strings.ReplaceAll(b.text(".secret"), " ", "")
	if want := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(uri.Secret); secretText != want {
		t.Fatalf("the secret printed on the page %q is not the QR code's %q", secretText, want)
	}

	// The code from the scanned key, as an app computes it, agrees with
	// oathtool's for the same moment.
	digits, period := uri.Digits, uri.Period
	if digits == 0 {
		digits = otp.DefaultDigits
	}
	if period == 0 {
		period = otp.DefaultStep
	}
	code, step := totpCode(uri.Secret, uri.Algorithm, digits, period, 0)
	oath, err := exec.Command(oathtool, "--totp", "-b", "-d", strconv.Itoa(digits), "-s", strconv.FormatInt(period, 10),
		"-N", "@"+strconv.FormatInt(step*period, 10), secretText).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	if got := string(bytes.TrimSpace(oath)); got != code {
		t.Fatalf("oathtool says %s for step %d, we computed %s", got, step, code)
	}

	b.typeInto("#id_token", code)
	b.submit("main form button.primary")
	b.mustShow("main", "Congratulations, you've successfully enabled two-factor authentication.")
	codes := strings.Fields(b.text("ol.codes"))
	if len(codes) != 10 {
		t.Fatalf("%d backup codes shown, want 10: %q", len(codes), codes)
	}
	form := regexp.MustCompile(`^[2-9a-z]{5}-[2-9a-z]{5}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !form.MatchString(c) || seen[c] {
			t.Fatalf("backup codes %q: %q is not a new code of the form xxxxx-xxxxx", codes, c)
		}
		seen[c] = true
	}
	if !ada.enabled() {
		t.Fatal("two-factor is not on after the setup")
	}

	b.submit("main a.button.primary") // Continue
	b.at("/account/two_factor/")
	b.mustShow("main", "You have 10 backup tokens remaining.")
	// The codes were shown once: the page of the finished setup does not
	// show them again.
	b.open("/account/two_factor/setup/complete/")
	b.mustShow("main", "Congratulations")
	if b.has("ol.codes") {
		t.Fatal("the backup codes are shown a second time")
	}
}
