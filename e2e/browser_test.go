package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/twofactor/twofactor/internal/testenv"
)

// ArtifactsVar names the directory where a failing test leaves its
// screenshot, page text and logs (one subdirectory per test).
const ArtifactsVar = "TWOFACTOR_E2E_ARTIFACTS"

// Time limits. A step (a navigation, a click and the page it loads) takes
// well under a second here; the limits only bound a hang.
const (
	startTimeout = 30 * time.Second // Chromium starting and opening a tab
	stepTimeout  = 15 * time.Second // one step
)

// browserSlots bounds the number of browsers running at once: each
// Chromium takes most of a core while it starts and renders, and the
// machines here have two.
var browserSlots = make(chan struct{}, 2)

// browser is a headless Chromium with one tab, started for one test. When
// the test fails it leaves a screenshot of the page, the page's text and
// HTML, and the steps the test took in the test's artifacts directory.
type browser struct {
	t    *testing.T
	site *site
	tab  context.Context // the tab's chromedp context; steps derive their deadline from it

	mu    sync.Mutex
	steps []string
}

// newBrowser starts Chromium for the test (skipping or failing when it is
// not installed, see internal/testenv) and closes it when the test ends.
func newBrowser(t *testing.T, s *site) *browser {
	t.Helper()
	chromium := testenv.Command(t, "chromium", "chromium")
	browserSlots <- struct{}{}
	t.Cleanup(func() { <-browserSlots })

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Flag("no-sandbox", true),
		// This machine has no outside network: nothing may try to reach it.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1000, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		// Closes the browser and waits for it to exit.
		if err := chromedp.Cancel(tab); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("closing Chromium: %v", err)
		}
		cancelTab()
	})

	// The first run starts the browser and lives as long as the tab: it
	// must not carry a deadline, so the start is bounded from outside.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(tab) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start Chromium: %v", err)
		}
	case <-time.After(startTimeout):
		cancelAlloc()
		t.Fatalf("Chromium did not start within %s", startTimeout)
	}

	b := &browser{t: t, site: s, tab: tab}
	t.Cleanup(func() {
		if t.Failed() {
			b.saveArtifacts()
		}
	})
	return b
}

// note records a step for the artifacts.
func (b *browser) note(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.steps = append(b.steps, time.Now().Format("15:04:05.000")+"  "+fmt.Sprintf(format, args...))
}

// do runs actions as one step, failing the test with the step's name.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.note("%s", step)
	ctx, cancel := context.WithTimeout(b.tab, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// run runs one action that returns a value.
func run[T any](b *browser, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
	return v
}

// open navigates to a path of the site and waits for the page to load.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.site.URL(path)))
}

// typeInto types text into the field sel.
func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	b.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// click clicks sel without waiting for anything else.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// submit clicks the button (or link) sel and waits until the browser has
// loaded the page that follows, whatever its address: the old document is
// marked, and the step ends when a document without the mark is complete.
// A form answered on its own address (a form error) is a new document too.
func (b *browser) submit(sel string) {
	b.t.Helper()
	run(b, "mark the page before clicking "+sel, chromedp.Evaluate[bool](`window.__e2eOld = true`))
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
	deadline := time.Now().Add(stepTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.tab, time.Second)
		// During the navigation the evaluation may fail (no document yet):
		// that is "not yet".
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__e2eOld !== true && document.readyState === "complete"`))
		cancel()
		if err == nil && done {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no new page loaded within %s after clicking %s (last error: %v)", stepTimeout, sel, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// location returns the path and query of the page shown.
func (b *browser) location() string {
	b.t.Helper()
	loc := run(b, "read the location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatalf("location %q: %v", loc, err)
	}
	return u.RequestURI()
}

// at fails the test unless the browser shows path.
func (b *browser) at(path string) {
	b.t.Helper()
	if loc := b.location(); loc != path {
		b.t.Fatalf("the browser is at %s, want %s; the page says:\n%s", loc, path, b.text("body"))
	}
}

// text returns the visible text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return run(b, "read the text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// has reports whether the page has an element matching sel, now.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	return run(b, "look for "+sel, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q) !== null`, sel)))
}

// mustShow fails the test unless the text of sel contains want.
func (b *browser) mustShow(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); !strings.Contains(got, want) {
		b.t.Fatalf("%s does not say %q; it says:\n%s", sel, want, got)
	}
}

// signIn does the password step of the sign-in as a.
func (b *browser) signIn(a *account) {
	b.t.Helper()
	b.open("/account/login/")
	b.typeInto("#id_username", a.name)
	b.typeInto("#id_password", password)
	b.submit("form button.primary")
}

// enterCode does the code step of the sign-in, ticking "remember this
// browser" when asked to.
func (b *browser) enterCode(code string, remember bool) {
	b.t.Helper()
	b.typeInto("#id_token", code)
	if remember {
		b.click("#id_remember")
	}
	b.submit("form button.primary")
}

// signOut signs out with the button of the page's header.
func (b *browser) signOut() {
	b.t.Helper()
	b.submit("header form button")
	b.at("/account/login/")
}

// saveArtifacts writes what the page shows to the test's artifacts
// directory. It runs in the test's cleanup: failures are reported, the
// rest is still written.
func (b *browser) saveArtifacts() {
	t := b.t
	ctx, cancel := context.WithTimeout(b.tab, stepTimeout)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		saveArtifact(t, "screenshot.png", png)
	} else {
		t.Logf("no screenshot: %v", err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	title, _ := chromedp.Run(ctx, chromedp.Title())
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		text = "(no text: " + err.Error() + ")"
	}
	saveArtifact(t, "page.txt", []byte(fmt.Sprintf("URL: %s\nTitle: %s\n\n%s\n", loc, title, text)))
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement ? document.documentElement.outerHTML : ""`)); err == nil {
		saveArtifact(t, "page.html", []byte(html))
	}
	b.mu.Lock()
	steps := strings.Join(b.steps, "\n") + "\n"
	b.mu.Unlock()
	saveArtifact(t, "steps.txt", []byte(steps))
}

// artifactDir returns the directory of the test's artifacts:
// $TWOFACTOR_E2E_ARTIFACTS/<test name>, else
// <temporary directory>/twofactor-e2e/<test name>. It is outside the
// test's own temporary directory so that it outlives the test.
func artifactDir(t *testing.T) string {
	root := os.Getenv(ArtifactsVar)
	if root == "" {
		root = filepath.Join(os.TempDir(), "twofactor-e2e")
	}
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, t.Name())
	return filepath.Join(root, name)
}

// prepared records the tests whose artifacts directory was emptied of an
// earlier run's files and announced in the log.
var prepared sync.Map

// saveArtifact writes one file of the test's artifacts, emptying the
// directory of an earlier run's files and logging where it is the first
// time.
func saveArtifact(t *testing.T, name string, data []byte) {
	dir := artifactDir(t)
	if _, seen := prepared.LoadOrStore(t, true); !seen {
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("clear the artifacts directory: %v", err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Errorf("create the artifacts directory: %v", err)
			return
		}
		t.Logf("screenshot, page text, steps and server log saved in %s", dir)
	}
	writeFile(t, dir, name, data)
}

// removeRequired removes the required attribute of the field sel, so that
// the browser posts the form without it.
func removeRequired(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.RemoveAttribute(chromedp.CSS(sel), "required")
}

// isChecked reads whether the checkbox sel is ticked.
func isChecked(sel string) chromedp.Action[bool] {
	return chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q).checked`, sel))
}
