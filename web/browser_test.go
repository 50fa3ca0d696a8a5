package web

import (
	"context"
	"encoding/base32"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/internal/testenv"
)

// TestBrowser drives the pages with headless Chromium (SPEC §12): setup
// with the QR code, backup codes, sign-in with TOTP and the remember box,
// a remembered sign-in, and disabling two-factor — with the real HTML,
// CSS and CSP, no JavaScript of ours.
func TestBrowser(t *testing.T) {
	chromium := testenv.Command(t, "chromium", "chromium")
	e := newEnv(t, envOpts{opts: func(o *twofactor.Options) { o.RememberAge = 7 * 24 * time.Hour }})
	e.user("alice")
	srv := httptest.NewServer(e.app)
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium),
		chromedp.Flag("no-sandbox", true), chromedp.WindowSize(1000, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	// at waits until the browser shows path.
	at := func(path string) {
		t.Helper()
		start := time.Now()
		for {
			loc, err := chromedp.Run(ctx, chromedp.Location())
			if err != nil {
				t.Fatalf("waiting for %s: %v", path, err)
			}
			if u, err := url.Parse(loc); err == nil && u.RequestURI() == path {
				return
			}
			if ctx.Err() != nil || time.Since(start) > 10*time.Second {
				page, _ := chromedp.Run(ctx, chromedp.Text("body"))
				t.Fatalf("the browser is at %s, not %s:\n%s", loc, path, page)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	signIn := func() {
		do("sign in", chromedp.Navigate(srv.URL+"/account/login/"),
			chromedp.SendKeys("#id_username", "alice"),
			chromedp.SendKeys("#id_password", "correct horse"),
			chromedp.Click("form button.primary"))
	}

	// Password only (two-factor is off): the profile offers the setup.
	signIn()
	at("/account/two_factor/")
	do("open the setup", chromedp.Click("a.button.primary"))
	at("/account/two_factor/setup/")
	do("welcome", chromedp.Click("form button.primary"), chromedp.WaitVisible(".secret"))
	// The QR image loads (same origin, allowed by the CSP). It may still
	// be loading when the page's text is shown (a busy machine): wait
	// until the browser is done with it, then check that it was drawn.
	var w int
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(".qr img").complete`))
		if err == nil && done {
			w, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector(".qr img").naturalWidth`))
		}
		if err != nil || (!done && time.Since(start) > 10*time.Second) {
			t.Fatalf("the QR image did not load: %v", err)
		}
		if done {
			break
		}
	}
	if w == 0 {
		t.Fatal("the QR image did not load: it has no width")
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(text(".secret"), " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	do("confirm", chromedp.SendKeys("#id_token", e.code(key)), chromedp.Click("form button.primary"), chromedp.WaitVisible("ol.codes"))
	codes := strings.Fields(text("ol.codes"))
	if len(codes) != 10 {
		t.Fatalf("backup codes shown: %q", codes)
	}
	do("continue", chromedp.Click("a.button.primary"))
	at("/account/two_factor/")
	if !strings.Contains(text("main"), "You have 10 backup tokens remaining.") {
		t.Fatalf("profile:\n%s", text("main"))
	}

	// Sign out, sign in with the code and the remember box.
	do("sign out", chromedp.Click("header form button"))
	at("/account/login/")
	signIn()
	do("code step", chromedp.WaitVisible("#id_token"),
		chromedp.SendKeys("#id_token", e.code(key)),
		chromedp.Click("#id_remember"),
		chromedp.Click("form button.primary"))
	at("/account/two_factor/")
	if !strings.Contains(text("main"), "this browser") {
		t.Fatalf("the browser is not listed as remembered:\n%s", text("main"))
	}

	// The remembered browser signs in with the password alone.
	do("sign out", chromedp.Click("header form button"))
	at("/account/login/")
	signIn()
	at("/account/two_factor/")

	// Disable two-factor.
	do("disable", chromedp.Navigate(srv.URL+"/account/two_factor/disable/"),
		chromedp.Click("#id_understand"),
		chromedp.Click("form button.danger"))
	at("/account/two_factor/")
	if !strings.Contains(text("main"), "Two-factor authentication is not enabled for your account.") {
		t.Fatalf("after disable:\n%s", text("main"))
	}
}
