package e2e

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/config"
	"github.com/twofactor/twofactor/internal/app"
	"github.com/twofactor/twofactor/internal/server"
	"github.com/twofactor/twofactor/otp"
	"github.com/twofactor/twofactor/secret"
)

// password is the password of every test account.
const password = "correct horse battery"

// site is the complete site of `twofactor serve` — the handler that
// internal/server builds from an app opened by internal/app — on a new
// SQLite database, served on a local port.
type site struct {
	t   *testing.T
	app *app.App
	srv *httptest.Server
	log *syncBuffer // the server's log, saved with the artifacts of a failure
	// base is the address the browser uses ("" = the server's own,
	// http://127.0.0.1:port); see newWebAuthnSite.
	base string
}

// newSite opens a site on a fresh database with the test configuration,
// changed by edit when it is not nil. The test configuration is the
// default one with "remember this browser" on (one day) and the per-device
// and per-user backoff off: a scenario that types a wrong code on purpose
// must not be throttled for its next, right one (the backoff has its own
// tests in the core, without waiting).
func newSite(t *testing.T, edit func(*config.Config)) *site {
	t.Helper()
	return newSiteAt(t, func(cfg *config.Config, _ string) {
		if edit != nil {
			edit(cfg)
		}
	})
}

// newSiteAt is newSite for a configuration that needs the site's own URL
// (public_url, where a voice provider fetches the calls' scripts): the
// port is taken before the configuration is made, and edit gets the URL.
func newSiteAt(t *testing.T, edit func(cfg *config.Config, url string)) *site {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	key, err := secret.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "twofactor.db")
	cfg.SecretKey = key
	cfg.Remember.Age = 24 * time.Hour
	cfg.Throttle = config.Throttle{}
	edit(&cfg, "http://"+srv.Listener.Addr().String())
	logs := &syncBuffer{}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("open the app: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	h, err := server.New(a)
	if err != nil {
		t.Fatalf("build the server's handler: %v", err)
	}
	srv.Config.Handler = h
	srv.Start()
	s := &site{t: t, app: a, srv: srv, log: logs}
	t.Cleanup(func() {
		if t.Failed() {
			saveArtifact(t, "server.log", logs.Bytes())
		}
	})
	return s
}

// URL returns the absolute URL of a path of the site.
func (s *site) URL(path string) string {
	if s.base != "" {
		return s.base + path
	}
	return s.srv.URL + path
}

// account is a user of the site with what the test knows of it: its
// authenticator key, its backup codes, and the last TOTP step it used.
type account struct {
	s        *site
	user     *twofactor.User
	name     string
	key      []byte // the TOTP key; nil without an authenticator
	digits   int
	step     int64
	lastStep int64 // the last time step a code of key was accepted for
	backup   []string
}

// newAccount creates a built-in user with the test password.
func (s *site) newAccount(name string, staff bool) *account {
	s.t.Helper()
	u, err := s.app.Service.Builtin().Create(context.Background(),
		twofactor.NewUser{Username: name, Password: password, Staff: staff})
	if err != nil {
		s.t.Fatalf("create user %s: %v", name, err)
	}
	return &account{s: s, user: u, name: name}
}

// withTOTP gives the account a confirmed authenticator (the operator's way,
// as `twofactor totp add` does), which turns two-factor on.
func (a *account) withTOTP() *account {
	t := a.s.t
	t.Helper()
	e, err := a.s.app.Service.ImportTOTP(context.Background(), twofactor.OperatorActor(a.user.ID), twofactor.TOTPSpec{}, a.name)
	if err != nil {
		t.Fatalf("add an authenticator for %s: %v", a.name, err)
	}
	a.key, a.digits, a.step = e.Key, e.Device.Digits, e.Device.Step
	return a
}

// withBackupCodes gives the account a new set of backup codes.
func (a *account) withBackupCodes() *account {
	t := a.s.t
	t.Helper()
	codes, err := a.s.app.Service.RegenerateBackupCodes(context.Background(), twofactor.OperatorActor(a.user.ID))
	if err != nil {
		t.Fatalf("backup codes for %s: %v", a.name, err)
	}
	a.backup = codes
	return a
}

// enabled reports whether two-factor is on for the account.
func (a *account) enabled() bool {
	a.s.t.Helper()
	on, err := a.s.app.Service.Enabled(context.Background(), a.user.ID)
	if err != nil {
		a.s.t.Fatal(err)
	}
	return on
}

// events returns the account's recent audit events, newest first.
func (a *account) events() []twofactor.Event {
	a.s.t.Helper()
	ev, err := a.s.app.Service.Events(context.Background(), a.user.ID, 100)
	if err != nil {
		a.s.t.Fatal(err)
	}
	return ev
}

// hasEvent reports whether the account's audit trail holds an event of
// that kind (and reason, when not empty).
func (a *account) hasEvent(kind twofactor.EventKind, reason string) bool {
	for _, e := range a.events() {
		if e.Kind == kind && (reason == "" || e.Reason == reason) {
			return true
		}
	}
	return false
}

// nextCode returns a code of the account's authenticator that the server
// has not seen yet, as an app would show it. See [totpCode].
func (a *account) nextCode() string {
	a.s.t.Helper()
	if a.key == nil {
		a.s.t.Fatalf("%s has no authenticator", a.name)
	}
	code, step := totpCode(a.key, otp.SHA1, a.digits, a.step, a.lastStep)
	a.lastStep = step
	return code
}

// wrongCode returns a code of the right form that the account's
// authenticator does not give anywhere near now.
func (a *account) wrongCode() string {
	now := time.Now().Unix() / a.step
	near := map[string]bool{}
	for s := now - 3; s <= now+3; s++ {
		near[otp.Format(otp.HOTP(a.key, uint64(s), a.digits, otp.SHA1), a.digits)] = true
	}
	for i := 0; ; i++ {
		c := fmt.Sprintf("%0*d", a.digits, i)
		if !near[c] {
			return c
		}
	}
}

// totpCode returns the code of key for the current time step, or for the
// step after last when the current one was used already (the server
// accepts one step ahead: totp.tolerance is 1), and the step it is for.
//
// The tests run on the real clock, so the step may change between
// computing a code and the server checking it. The server accepts the
// previous step too, but a code computed in the last two seconds of its
// step is not used: totpCode waits for the next step instead, so that the
// server sees each code at the offset the test meant.
func totpCode(key []byte, alg otp.Algorithm, digits int, period, last int64) (string, int64) {
	const margin = 2 * time.Second
	for {
		now := time.Now()
		cur := now.Unix() / period
		step := max(cur, last+1)
		if step > cur+1 { // both the current step and the next were used
			time.Sleep(time.Until(time.Unix((cur+1)*period, 0)))
			continue
		}
		if step == cur {
			if left := time.Unix((cur+1)*period, 0).Sub(now); left < margin {
				time.Sleep(left)
				continue
			}
		}
		return otp.Format(otp.HOTP(key, uint64(step), digits, alg), digits), step
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of what was written.
func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// writeFile writes data to name in dir, reporting a failure as an error
// of the test without stopping it (artifacts are written during cleanup).
func writeFile(t *testing.T, dir, name string, data []byte) {
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Errorf("save %s: %v", name, err)
	}
}
