package oauth2_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/api"
	"github.com/twofactor/twofactor/api/oauth2"
	"github.com/twofactor/twofactor/internal/pgtest"
	"github.com/twofactor/twofactor/otp"
	"github.com/twofactor/twofactor/password"
	"github.com/twofactor/twofactor/secret"
	"github.com/twofactor/twofactor/store/postgres"
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

var testKey = []byte("0123456789abcdef0123456789abcdef")

// totpKey is the key of every TOTP device of the tests.
var totpKey = []byte("12345678901234567890")

// harness is the OAuth2 endpoints and /api/v1 on a real HTTP server over a
// fresh database, with a fake clock, cheap password hashing and one
// registered client.
type harness struct {
	t      testing.TB
	svc    *twofactor.Service
	store  twofactor.Store
	clock  *fakeClock
	srv    *httptest.Server
	o      *oauth2.Server
	id     string // the client's id
	secret string // and secret

	mu     sync.Mutex
	events []twofactor.Event
}

// backend names a database the tests run on.
type backend string

const (
	onSQLite   backend = "sqlite"
	onPostgres backend = "postgres"
)

// each runs fn on SQLite and on PostgreSQL (the latter skips without
// TWOFACTOR_TEST_POSTGRES).
func each(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range []backend{onSQLite, onPostgres} {
		t.Run(string(b), func(t *testing.T) { fn(t, b) })
	}
}

func openStore(t testing.TB, b backend) twofactor.Store {
	t.Helper()
	var st twofactor.Store
	var err error
	switch b {
	case onPostgres:
		st, err = postgres.Open(ctx, pgtest.Fresh(t))
	default:
		st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// newHarness starts a harness. By default the sign-in rate limit is off
// (tests about it turn it on with tweak).
func newHarness(t testing.TB, b backend, tweak ...func(*twofactor.Options)) *harness {
	t.Helper()
	h := &harness{t: t, store: openStore(t, b), clock: &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}}
	keys, err := secret.NewKeyring(testKey)
	if err != nil {
		t.Fatal(err)
	}
	opts := twofactor.DefaultOptions()
	opts.Password = password.Params{Time: 1, MemoryKiB: 64, Threads: 1}
	opts.SignIn = twofactor.SignInLimit{}
	for _, f := range tweak {
		f(&opts)
	}
	log := slog.New(slog.DiscardHandler)
	h.svc, err = twofactor.New(twofactor.Config{Store: h.store, Keys: keys, Options: opts, Clock: h.clock, Logger: log,
		Hooks: []twofactor.Hook{func(_ context.Context, e twofactor.Event) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.events = append(h.events, e)
		}}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := oauth2.New(oauth2.Config{Service: h.svc, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	h.o = o
	a, err := api.New(api.Config{Service: h.svc, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oauth2/", o.Handler())
	mux.Handle("/api/v1/", a.Handler())
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	c, sec, err := h.svc.CreateOAuthClient(ctx, "test client")
	if err != nil {
		t.Fatal(err)
	}
	h.id, h.secret = c.ID, sec
	return h
}

// user creates a user with password "correct horse battery".
func (h *harness) user(name string) *twofactor.User {
	h.t.Helper()
	u, err := h.svc.Builtin().Create(ctx, twofactor.NewUser{Username: name, Password: "correct horse battery"})
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

// mfaUser creates a user with a TOTP device (totpKey) and backup codes.
func (h *harness) mfaUser(name string) (*twofactor.User, *twofactor.Device, []string) {
	h.t.Helper()
	u := h.user(name)
	e, err := h.svc.ImportTOTP(ctx, twofactor.OperatorActor(u.ID), twofactor.TOTPSpec{Key: totpKey}, name)
	if err != nil {
		h.t.Fatal(err)
	}
	codes, err := h.svc.RegenerateBackupCodes(ctx, twofactor.OperatorActor(u.ID))
	if err != nil {
		h.t.Fatal(err)
	}
	return u, e.Device, codes
}

// code returns the TOTP code of totpKey now, offset by steps.
func (h *harness) code(steps int64) string {
	return otp.Format(otp.HOTP(totpKey, uint64(h.clock.Now().Unix()/30+steps), 6, otp.SHA1), 6)
}

// next moves the clock to the next TOTP step (and past every one-second
// throttle), so that a new code can be used.
func (h *harness) next() { h.clock.Add(30 * time.Second) }

func (h *harness) eventKinds() []twofactor.EventKind {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []twofactor.EventKind
	for _, e := range h.events {
		out = append(out, e.Kind)
	}
	return out
}

// response is an answer with its JSON body decoded.
type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (r *response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// request sends a request and decodes the answer.
func (h *harness) request(req *http.Request) *response {
	h.t.Helper()
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := &response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			h.t.Fatalf("%s %s: invalid JSON %q: %v", req.Method, req.URL.Path, raw, err)
		}
	}
	return r
}

// post posts body of contentType to path, authenticating the client with
// HTTP Basic unless auth is false.
func (h *harness) post(path, contentType, body string, auth bool) *response {
	h.t.Helper()
	req, err := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth {
		req.SetBasicAuth(url.QueryEscape(h.id), url.QueryEscape(h.secret))
	}
	return h.request(req)
}

// form posts form-urlencoded parameters (pairs of name and value).
func (h *harness) form(path string, kv ...string) *response {
	h.t.Helper()
	return h.post(path, "application/x-www-form-urlencoded", values(kv...).Encode(), true)
}

// token posts to /oauth2/token.
func (h *harness) token(kv ...string) *response {
	h.t.Helper()
	return h.form("/oauth2/token", kv...)
}

// password runs the password grant for name with the extra pairs.
func (h *harness) password(name string, kv ...string) *response {
	h.t.Helper()
	return h.token(append([]string{"grant_type", "password", "username", name, "password", "correct horse battery"}, kv...)...)
}

func values(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func jsonBody(kv ...any) string {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func multipartBody(kv ...string) (string, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(kv); i += 2 {
		_ = w.WriteField(kv[i], kv[i+1])
	}
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

// bearer calls /api/v1 with an access token.
func (h *harness) bearer(method, path, token string) *response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return h.request(req)
}

// wantTokens checks a successful token answer and returns it.
func (h *harness) wantTokens(r *response) *response {
	h.t.Helper()
	if r.status != http.StatusOK {
		h.t.Fatalf("token request: %d %s, want 200 and tokens", r.status, r.raw)
	}
	if r.str("access_token") == "" || r.str("refresh_token") == "" || r.str("token_type") != "Bearer" || r.body["expires_in"] != float64(3600) {
		h.t.Fatalf("token answer %s", r.raw)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		h.t.Fatalf("token answer may be cached: %v", r.header)
	}
	return r
}

// wantError checks an error answer's status and error member and returns
// it.
func (h *harness) wantError(r *response, status int, code string) *response {
	h.t.Helper()
	if r.status != status || r.str("error") != code {
		h.t.Fatalf("got %d %s, want %d error %q", r.status, r.raw, status, code)
	}
	if _, ok := r.body["access_token"]; ok {
		h.t.Fatalf("an error answer carries a token: %s", r.raw)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		h.t.Fatalf("error answer may be cached: %v", r.header)
	}
	return r
}

// introspect asks about a token.
func (h *harness) introspect(token string) *response {
	h.t.Helper()
	r := h.form("/oauth2/introspect", "token", token)
	if r.status != http.StatusOK {
		h.t.Fatalf("introspect: %d %s", r.status, r.raw)
	}
	return r
}
