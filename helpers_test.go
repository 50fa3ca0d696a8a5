package twofactor_test

import (
	"context"
	"encoding/hex"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/otp"
	"github.com/twofactor/twofactor/password"
	"github.com/twofactor/twofactor/secret"
	"github.com/twofactor/twofactor/store/sqlite"
)

var ctx = context.Background()

// fakeClock is a settable clock: tests move time instead of sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// env is a service on a fresh SQLite database with a fake clock.
type env struct {
	svc    *twofactor.Service
	store  *sqlite.Store
	clock  *fakeClock
	keys   *secret.Keyring
	mu     sync.Mutex
	events []twofactor.Event
}

var testKey = mustHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// cheapPasswords keeps argon2id fast in tests.
var cheapPasswords = password.Params{Time: 1, MemoryKiB: 64, Threads: 1}

func newEnv(t testing.TB, tweak ...func(*twofactor.Options)) *env {
	t.Helper()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := secret.NewKeyring(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return newEnvOn(t, st, keys, tweak...)
}

func newEnvOn(t testing.TB, st *sqlite.Store, keys *secret.Keyring, tweak ...func(*twofactor.Options)) *env {
	t.Helper()
	e := &env{store: st, clock: &fakeClock{t: time.Unix(100, 0)}, keys: keys}
	opts := twofactor.DefaultOptions()
	opts.Issuer = "example.com"
	opts.Password = cheapPasswords
	for _, f := range tweak {
		f(&opts)
	}
	svc, err := twofactor.New(twofactor.Config{Store: st, Keys: keys, Options: opts, Clock: e.clock,
		Hooks: []twofactor.Hook{func(_ context.Context, ev twofactor.Event) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.events = append(e.events, ev)
		}}})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func (e *env) eventKinds() []twofactor.EventKind {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []twofactor.EventKind
	for _, ev := range e.events {
		out = append(out, ev.Kind)
	}
	return out
}

func (e *env) resetEvents() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = nil
}

// user creates a built-in user with password "correct horse".
func (e *env) user(t testing.TB, name string) *twofactor.User {
	t.Helper()
	u, err := e.svc.Builtin().Create(ctx, twofactor.NewUser{Username: name, Password: "correct horse", Email: name + "@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// totp imports a confirmed TOTP device with key for u.
func (e *env) totp(t testing.TB, u *twofactor.User, key []byte) *twofactor.Device {
	t.Helper()
	en, err := e.svc.ImportTOTP(ctx, twofactor.OperatorActor(u.ID), twofactor.TOTPSpec{Key: key}, u.Username)
	if err != nil {
		t.Fatal(err)
	}
	return en.Device
}

// code returns the 6-digit TOTP code of key at counter c.
func code(key []byte, c int64) string {
	return otp.Format(otp.HOTP(key, uint64(c), 6, otp.SHA1), 6)
}

// now returns the code of key for the clock's current step.
func (e *env) now(key []byte) string {
	return code(key, e.clock.Now().Unix()/30)
}

func (e *env) device(t testing.TB, id string) *twofactor.Device {
	t.Helper()
	d, err := e.store.DeviceByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// wantCode asserts that err is a *twofactor.Error with the code (and
// reason, if not "").
func wantCode(t testing.TB, err error, code twofactor.Code, reason string) *twofactor.Error {
	t.Helper()
	var e *twofactor.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want a *twofactor.Error with code %s", err, code)
	}
	if e.Code != code || (reason != "" && e.Reason != reason) {
		t.Fatalf("got %s/%s (%v), want %s/%s", e.Code, e.Reason, err, code, reason)
	}
	return e
}

func ok(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
