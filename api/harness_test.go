package api

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/gateway/fake"
	"github.com/twofactor/twofactor/internal/pgtest"
	"github.com/twofactor/twofactor/internal/yubicloudtest"
	"github.com/twofactor/twofactor/otp"
	"github.com/twofactor/twofactor/password"
	"github.com/twofactor/twofactor/secret"
	"github.com/twofactor/twofactor/store/postgres"
	"github.com/twofactor/twofactor/store/sqlite"
	"github.com/twofactor/twofactor/yubikey"
)

var bg = context.Background()

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

// start is the fake clock's first time: the start of a TOTP step, so a
// test has 30 seconds before codes change.
var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const pw = "correct horse battery"

// harness is the API on a fresh store, served over real HTTP.
type harness struct {
	t     testing.TB
	svc   *twofactor.Service
	store twofactor.Store
	clock *fakeClock
	api   *API
	srv   *httptest.Server
	logs  *lockedBuffer
	// gw is the fake gateway of sms, call and email (nil with
	// withoutGateways); yubi the validation service (withYubiCloud).
	gw   *fake.Gateway
	yubi *yubicloudtest.Server
	// allow5xx lets a test of failing dependencies see 503s and 502s.
	allow5xx bool
	// origin is the server's origin as a browser would send it, with the
	// host name localhost (a WebAuthn relying party id cannot be an IP
	// address); withWebAuthn configures the relying party for it.
	origin string
}

// harnessOption changes how the harness builds the service.
type harnessOption func(*twofactor.Config, *harness)

// withoutGateways leaves sms, call and email unconfigured.
func withoutGateways(c *twofactor.Config, _ *harness) { c.SMS, c.Caller, c.Mailer = nil, nil, nil }

// yubiKeyAPIKey is the API key of the test validation service.
var yubiKeyAPIKey = []byte("0123456789abcdef0123")

// withYubiCloud adds a validation service that knows the test key.
func withYubiCloud(c *twofactor.Config, h *harness) {
	h.yubi = yubicloudtest.New(h.t, "42", yubiKeyAPIKey)
	h.yubi.AddKey(yubiPublic, yubiPrivate, yubiAES)
	client, err := yubikey.NewClient(h.yubi.URL(), "42", base64.StdEncoding.EncodeToString(yubiKeyAPIKey))
	if err != nil {
		h.t.Fatal(err)
	}
	c.YubiCloud = client
}

// The test YubiKey (django-otp-yubikey's alice).
var (
	yubiPrivate = [6]byte{0x5d, 0xc3, 0x04, 0x90, 0x95, 0x6b}
	yubiAES     = [16]byte{0xfb, 0x36, 0x2a, 0x08, 0x53, 0xbe, 0x5e, 0x53, 0x06, 0xd5, 0xcc, 0x24, 0x83, 0xf2, 0x79, 0xcb}
)

const yubiPublic = "cccccccbcbcd"

// yubiOTP is an OTP the test key types.
func yubiOTP(session uint16, use uint8) string {
	return yubikey.Token(yubiPublic, yubikey.OTP{UID: yubiPrivate, Session: session, SessionUse: use, Timestamp: 0x0153f8, Random: 0x1234}, yubiAES)
}

// sentCode is the last code sent to the number or address.
func (h *harness) sentCode(to string) string {
	h.t.Helper()
	m, ok := h.gw.Last(to)
	if !ok {
		h.t.Fatalf("nothing was sent to %s", to)
	}
	return m.Code
}

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// storeKind names a store the API tests run on.
type storeKind string

const (
	onSQLite   storeKind = "sqlite"
	onPostgres storeKind = "postgres"
)

// bothStores runs test on SQLite and on PostgreSQL (which skips without
// TWOFACTOR_TEST_POSTGRES, and fails under TWOFACTOR_TEST_REQUIRE_ALL=1).
func bothStores(t *testing.T, test func(t *testing.T, h *harness), tweak ...func(*twofactor.Options)) {
	t.Helper()
	for _, k := range []storeKind{onSQLite, onPostgres} {
		t.Run(string(k), func(t *testing.T) { test(t, newHarness(t, k, tweak...)) })
	}
}

// bothStoresWith is bothStores with harness options.
func bothStoresWith(t *testing.T, hopts []harnessOption, test func(t *testing.T, h *harness), tweak ...func(*twofactor.Options)) {
	t.Helper()
	for _, k := range []storeKind{onSQLite, onPostgres} {
		t.Run(string(k), func(t *testing.T) { test(t, newHarnessWith(t, k, hopts, tweak...)) })
	}
}

func openStore(t testing.TB, k storeKind) twofactor.Store {
	t.Helper()
	var st twofactor.Store
	var err error
	switch k {
	case onSQLite:
		st, err = sqlite.Open(bg, filepath.Join(t.TempDir(), "t.db"))
	case onPostgres:
		st, err = postgres.Open(bg, pgtest.Fresh(t))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(bg); err != nil {
		t.Fatal(err)
	}
	return st
}

var testKey, _ = hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")

func newHarness(t testing.TB, k storeKind, tweak ...func(*twofactor.Options)) *harness {
	t.Helper()
	return newHarnessWith(t, k, nil, tweak...)
}

// newHarnessWith is newHarness with harness options: by default sms, call
// and email go through a fake gateway, and YubiKeys are not offered.
func newHarnessWith(t testing.TB, k storeKind, hopts []harnessOption, tweak ...func(*twofactor.Options)) *harness {
	t.Helper()
	st := openStore(t, k)
	keys, err := secret.NewKeyring(testKey)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, store: st, clock: &fakeClock{t: start}, logs: &lockedBuffer{}}
	// The server listens before the service is made, so that a WebAuthn
	// relying party can name its origin.
	h.srv = httptest.NewUnstartedServer(nil)
	t.Cleanup(h.srv.Close)
	h.origin = "http://localhost:" + strconv.Itoa(h.srv.Listener.Addr().(*net.TCPAddr).Port)
	opts := twofactor.DefaultOptions()
	opts.Password = password.Params{Time: 1, MemoryKiB: 64, Threads: 1}
	opts.SignIn = twofactor.SignInLimit{} // tests of the limit turn it on
	for _, f := range tweak {
		f(&opts)
	}
	h.gw = fake.New(slogTo(io.Discard))
	cfg := twofactor.Config{Store: st, Keys: keys, Options: opts, Clock: h.clock, SMS: h.gw, Caller: h.gw, Mailer: h.gw}
	for _, o := range hopts {
		o(&cfg, h)
	}
	if cfg.SMS == nil {
		h.gw = nil
	}
	h.svc, err = twofactor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.api, err = New(Config{Service: h.svc, Logger: slogTo(h.logs)})
	if err != nil {
		t.Fatal(err)
	}
	h.srv.Config.Handler = h.api.Handler()
	h.srv.Start()
	return h
}

// user creates a user with the password pw.
func (h *harness) user(name string) *twofactor.User {
	h.t.Helper()
	u, err := h.svc.Builtin().Create(bg, twofactor.NewUser{Username: name, Password: pw, Email: name + "@example.com"})
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

// ---- requests -----------------------------------------------------------

// req is one request to the API.
type req struct {
	method, path string
	token        string // sent as Bearer
	auth         string // a raw Authorization header; overrides token
	body         any    // encoded as JSON (a string is sent as it is)
	contentType  string // default application/json when there is a body
	header       http.Header
	// bad marks a request that does not conform to the OpenAPI document
	// on purpose; its response is still validated.
	bad bool
}

// resp is an answer.
type resp struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

func (r *resp) str(key string) string {
	s, _ := r.json[key].(string)
	return s
}

func (r *resp) String() string { return fmt.Sprintf("%d %s", r.status, r.raw) }

// do sends r over HTTP, then validates the response — and the request
// unless it is bad — against the OpenAPI document.
func (h *harness) do(r req) *resp {
	h.t.Helper()
	var body []byte
	switch b := r.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			h.t.Fatal(err)
		}
	}
	build := func() *http.Request {
		var rd io.Reader = http.NoBody
		if body != nil {
			rd = bytes.NewReader(body)
		}
		hr, err := http.NewRequest(r.method, h.srv.URL+r.path, rd)
		if err != nil {
			h.t.Fatal(err)
		}
		for k, v := range r.header {
			hr.Header[k] = v
		}
		if body != nil && hr.Header.Get("Content-Type") == "" && r.contentType != noContentType {
			ct := r.contentType
			if ct == "" {
				ct = "application/json"
			}
			hr.Header.Set("Content-Type", ct)
		}
		switch {
		case r.auth != "":
			hr.Header.Set("Authorization", r.auth)
		case r.token != "":
			hr.Header.Set("Authorization", "Bearer "+r.token)
		}
		return hr
	}
	res, err := h.srv.Client().Do(build())
	if err != nil {
		h.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	out := &resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && res.Request.Method != http.MethodHead {
		if err := json.Unmarshal(raw, &out.json); err != nil && r.path != "/api/v1/openapi.json" {
			h.t.Errorf("%s %s: answer is not a JSON object: %v: %s", r.method, r.path, err, raw)
		}
	}
	if out.status >= 500 && !h.allow5xx {
		h.t.Errorf("%s %s answered %s", r.method, r.path, out)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		h.t.Errorf("%s %s: Cache-Control %q", r.method, r.path, cc)
	}
	res.Body = io.NopCloser(bytes.NewReader(raw))
	h.validate(build(), res, !r.bad)
	return out
}

func (h *harness) post(path, token string, body any) *resp {
	h.t.Helper()
	return h.do(req{method: "POST", path: path, token: token, body: body})
}

func (h *harness) get(path, token string) *resp {
	h.t.Helper()
	return h.do(req{method: "GET", path: path, token: token})
}

func (h *harness) del(path, token string) *resp {
	h.t.Helper()
	return h.do(req{method: "DELETE", path: path, token: token})
}

// want fails the test unless r has the status (and, for problems, the
// code).
func want(t testing.TB, r *resp, status int, code string) {
	t.Helper()
	if r.status != status || (code != "" && r.str("code") != code) {
		t.Fatalf("got %s, want %d %s", r, status, code)
	}
	if status >= 400 {
		if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("problem with Content-Type %q", ct)
		}
	}
}

// ---- flows --------------------------------------------------------------

// login signs in a user without two-factor and returns the token.
func (h *harness) login(name string) string {
	h.t.Helper()
	r := h.post("/api/v1/login", "", map[string]any{"username": name, "password": pw})
	want(h.t, r, 200, "")
	return r.str("token")
}

// mfaToken signs in a user with two-factor up to the second step.
func (h *harness) mfaToken(name string) (string, *resp) {
	h.t.Helper()
	r := h.post("/api/v1/login", "", map[string]any{"username": name, "password": pw})
	want(h.t, r, 401, "mfa_required")
	return r.str("mfa_token"), r
}

// enrolled is a TOTP device added and confirmed through the API.
type enrolled struct {
	id      string
	key     []byte
	backups []string
}

// enroll adds and confirms a TOTP device with the token.
func (h *harness) enroll(token, name string) enrolled {
	h.t.Helper()
	r := h.post("/api/v1/mfa/devices", token, map[string]any{"kind": "totp", "name": name})
	want(h.t, r, 201, "")
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(r.str("secret"))
	if err != nil {
		h.t.Fatal(err)
	}
	id := r.json["device"].(map[string]any)["id"].(string)
	c := h.post("/api/v1/mfa/devices/"+id+"/confirm", token, map[string]any{"code": h.code(key)})
	want(h.t, c, 200, "")
	e := enrolled{id: id, key: key}
	if bc, ok := c.json["backup_codes"].([]any); ok {
		for _, b := range bc {
			e.backups = append(e.backups, b.(string))
		}
	}
	return e
}

// verifiedToken signs a user with two-factor in with a code from d.
func (h *harness) verifiedToken(name string, d enrolled) string {
	h.t.Helper()
	mt, _ := h.mfaToken(name)
	h.nextStep()
	r := h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": h.code(d.key)})
	want(h.t, r, 200, "")
	return r.str("token")
}

// code is the TOTP code of key now.
func (h *harness) code(key []byte) string {
	return otp.Format(otp.HOTP(key, uint64(h.clock.Now().Unix()/30), 6, otp.SHA1), 6)
}

// nextStep moves the clock to the next TOTP step, so a new code is due.
func (h *harness) nextStep() { h.clock.Add(30 * time.Second) }

// ---- OpenAPI validation -------------------------------------------------

var (
	validatorOnce sync.Once
	docValidator  validator.Validator
	validatorErr  error
)

func openapiValidator() (validator.Validator, error) {
	validatorOnce.Do(func() {
		doc, err := libopenapi.NewDocument(OpenAPI())
		if err != nil {
			validatorErr = err
			return
		}
		v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
		if len(errs) > 0 {
			validatorErr = fmt.Errorf("%v", errs)
			return
		}
		docValidator = v
	})
	return docValidator, validatorErr
}

// coverage records which endpoints had a request and response validated
// against the document, by status class.
var coverage = struct {
	sync.Mutex
	seen map[string]map[string]bool // "POST /api/v1/login" → "2xx", "4xx"
}{seen: map[string]map[string]bool{}}

var routeMux = func() *http.ServeMux {
	m := http.NewServeMux()
	for _, e := range endpoints {
		m.Handle(e.method+" "+e.path, http.NotFoundHandler())
	}
	return m
}()

// validate checks res (and hr, if checkRequest) against the document.
func (h *harness) validate(hr *http.Request, res *http.Response, checkRequest bool) {
	h.t.Helper()
	v, err := openapiValidator()
	if err != nil {
		h.t.Fatalf("openapi document: %v", err)
	}
	_, pattern := routeMux.Handler(hr)
	if pattern == "" {
		return // 404 and 405 answers: no operation to check them against
	}
	what := hr.Method + " " + hr.URL.Path
	if checkRequest {
		if ok, errs := v.ValidateHttpRequestSync(hr); !ok {
			h.t.Errorf("request %s does not match the OpenAPI document:%s", what, describe(errs))
			checkRequest = false
		}
		hr = cloneRequest(hr)
	}
	if ok, errs := v.ValidateHttpResponse(hr, res); !ok {
		h.t.Errorf("response %d of %s does not match the OpenAPI document:%s", res.StatusCode, what, describe(errs))
		return
	}
	if checkRequest {
		coverage.Lock()
		defer coverage.Unlock()
		if coverage.seen[pattern] == nil {
			coverage.seen[pattern] = map[string]bool{}
		}
		coverage.seen[pattern][fmt.Sprintf("%dxx", res.StatusCode/100)] = true
	}
}

func cloneRequest(r *http.Request) *http.Request {
	c := r.Clone(bg)
	c.Body = http.NoBody
	return c
}

func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s: %s", e.Message, e.Reason)
		for _, s := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s at %s (%s)", s.Reason, s.FieldPath, s.KeywordLocation)
		}
	}
	return b.String()
}

// slogTo is a logger writing text to w.
func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// TestMain checks, after a full run, that every endpoint had a success and
// an error validated against the OpenAPI document, request and response.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && fullRun() {
		var missing []string
		for _, e := range endpoints {
			p := e.method + " " + e.path
			seen := coverage.seen[p]
			if !seen["2xx"] {
				missing = append(missing, p+": no success")
			}
			if !seen["4xx"] && p != "GET /api/v1/openapi.json" {
				missing = append(missing, p+": no error")
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(os.Stderr, "FAIL: endpoints without a request and response validated against the OpenAPI document:\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

// fullRun reports whether every test ran (no -run, -fuzz or -bench
// filter, not -short).
func fullRun() bool {
	for _, name := range []string{"test.run", "test.fuzz", "test.bench", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}

// decodeSecret decodes a base32 secret from the API.
func decodeSecret(t testing.TB, s string) []byte {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
