package deux

import (
	"bytes"
	"context"
	"database/sql"
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
	"github.com/twofactor/twofactor/gateway/fake"
	"github.com/twofactor/twofactor/internal/pgtest"
	"github.com/twofactor/twofactor/password"
	"github.com/twofactor/twofactor/secret"
	"github.com/twofactor/twofactor/store/postgres"
	"github.com/twofactor/twofactor/store/sqlite"
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

const pw = "correct horse battery"

// harness is the deux API, /api/v1 and the OAuth2 endpoint on one real
// HTTP server over a fresh database, with a fake clock, a fake SMS
// gateway (which also mails the notices) and one OAuth2 client.
type harness struct {
	t        testing.TB
	svc      *twofactor.Service
	store    twofactor.Store
	clock    *fakeClock
	gw       *fake.Gateway
	srv      *httptest.Server
	logs     *lockedBuffer
	clientID string
	secret   string
	// allow5xx lets a test of failing dependencies see 5xx answers.
	allow5xx bool
}

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

var testKey = []byte("0123456789abcdef0123456789abcdef")

func newHarness(t testing.TB, k storeKind, tweak ...func(*twofactor.Options)) *harness {
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
	keys, err := secret.NewKeyring(testKey)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, store: st, clock: &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}, logs: &lockedBuffer{}}
	log := slog.New(slog.NewTextHandler(h.logs, nil))
	h.gw = fake.New(slog.New(slog.DiscardHandler))
	opts := twofactor.DefaultOptions()
	opts.Password = password.Params{Time: 1, MemoryKiB: 64, Threads: 1}
	opts.SignIn = twofactor.SignInLimit{}
	for _, f := range tweak {
		f(&opts)
	}
	h.svc, err = twofactor.New(twofactor.Config{Store: st, Keys: keys, Options: opts, Clock: h.clock, Logger: log,
		SMS: h.gw, Mailer: h.gw})
	if err != nil {
		t.Fatal(err)
	}
	o, err := oauth2.New(oauth2.Config{Service: h.svc, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Service: h.svc, OAuth2: o, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := api.New(api.Config{Service: h.svc, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	d.Register(mux)
	mux.Handle("/api/v1/", v1.Handler())
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	c, sec, err := h.svc.CreateOAuthClient(bg, "deux app")
	if err != nil {
		t.Fatal(err)
	}
	h.clientID, h.secret = c.ID, sec
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

// deactivate makes a user inactive.
func (h *harness) deactivate(id string) {
	h.t.Helper()
	db := h.store.(interface{ DB() *sql.DB }).DB()
	if _, err := db.ExecContext(bg, "UPDATE twofactor_users SET active = FALSE WHERE id = $1", id); err != nil {
		h.t.Fatal(err)
	}
}

// ---- requests ---------------------------------------------------------------

// req is one request.
type req struct {
	method, path string
	token        string // sent as "Token <token>"
	auth         string // a raw Authorization header; overrides token
	basic        bool   // HTTP Basic with the OAuth2 client
	// json is sent as JSON (a string or []byte as it is); form as
	// x-www-form-urlencoded; multipart as multipart/form-data.
	json        any
	form        url.Values
	multipart   url.Values
	contentType string // overrides the body's
}

// resp is an answer.
type resp struct {
	status int
	header http.Header
	raw    string
	json   map[string]any
}

func (r *resp) String() string { return r.raw }

func (r *resp) str(k string) string {
	s, _ := r.json[k].(string)
	return s
}

func (h *harness) do(r req) *resp {
	h.t.Helper()
	var body []byte
	ct := ""
	switch {
	case r.json != nil:
		ct = "application/json"
		switch b := r.json.(type) {
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
	case r.form != nil:
		ct, body = "application/x-www-form-urlencoded", []byte(r.form.Encode())
	case r.multipart != nil:
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, vs := range r.multipart {
			for _, v := range vs {
				if err := mw.WriteField(k, v); err != nil {
					h.t.Fatal(err)
				}
			}
		}
		if err := mw.Close(); err != nil {
			h.t.Fatal(err)
		}
		ct, body = mw.FormDataContentType(), b.Bytes()
	}
	if r.contentType != "" {
		ct = r.contentType
	}
	hr, err := http.NewRequest(r.method, h.srv.URL+r.path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if ct != "" && ct != "-" {
		hr.Header.Set("Content-Type", ct)
	}
	switch {
	case r.auth != "":
		hr.Header.Set("Authorization", r.auth)
	case r.token != "":
		hr.Header.Set("Authorization", "Token "+r.token)
	case r.basic:
		hr.SetBasicAuth(h.clientID, h.secret)
	}
	res, err := h.srv.Client().Do(hr)
	if err != nil {
		h.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	out := &resp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.json); err != nil {
			h.t.Errorf("%s %s: the answer is not a JSON object: %v: %q", r.method, r.path, err, raw)
		}
	}
	if out.status >= 500 && !h.allow5xx {
		h.t.Errorf("%s %s answered %d %s", r.method, r.path, out.status, raw)
	}
	return out
}

// want fails the test unless r has the status and, when body is not "",
// exactly that body.
func want(t testing.TB, r *resp, status int, body string) {
	t.Helper()
	if r.status != status || (body != "" && r.raw != body) {
		t.Fatalf("got %d %s\nwant %d %s", r.status, r.raw, status, body)
	}
	if ct := r.header.Get("Content-Type"); r.raw != "" && !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
}

// The JSON bodies of deux, as observed (seeds-observed §4).
const (
	bodyNotAuthenticated = `{"detail":"Authentication credentials were not provided."}`
	bodyDisabledDetail   = `{"detail":"Two factor authentication is not enabled."}`
	bodyDisabledBackup   = `{"backup_code":"Two factor authentication is not enabled."}`
	bodyEnabledList      = `{"detail":["Two factor authentication is already enabled."]}`
	bodyInvalidPhone     = `{"phone_number":["Please enter a valid phone number."]}`
	bodyPhoneRequired    = `{"phone_number":["This field is required."]}`
	bodyInvalidCodeField = `{"mfa_code":["Please enter a valid code."]}`
	bodyMFARequired      = `{"mfa_required":true,"mfa_type":"sms"}`
	bodyOff              = `{"enabled":false}`
	bodyBadLogin         = `{"non_field_errors":["Unable to log in with provided credentials."]}`
	bodyBadCode          = `{"non_field_errors":["Please enter a valid code."]}`
	bodyBadBackup        = `{"non_field_errors":["Please enter a valid backup code."]}`
	bodyBothCodes        = `{"non_field_errors":["Login does not take both a verification and backup code."]}`
	bodySMSFailed        = `{"detail":"SMS failed to send."}`
)

// bodyOn is GET /mfa/ of an enabled user with that number.
func bodyOn(digits string) string {
	return `{"enabled":true,"challenge_type":"sms","phone_number":"` + digits + `"}`
}

// bodyRequested is the answer of sms/request.
func bodyRequested(digits string) string { return `{"enabled":false,"phone_number":"` + digits + `"}` }

// ---- flows ------------------------------------------------------------------

// login signs in through deux's authtoken endpoint with JSON and returns
// the answer.
func (h *harness) login(name string, kv ...string) *resp {
	h.t.Helper()
	body := map[string]any{"username": name, "password": pw}
	for i := 0; i+1 < len(kv); i += 2 {
		body[kv[i]] = kv[i+1]
	}
	return h.do(req{method: "POST", path: "/mfa/authtoken/login/", json: body})
}

// token signs in a user without two-factor and returns the token.
func (h *harness) token(name string) string {
	h.t.Helper()
	r := h.login(name)
	want(h.t, r, 200, "")
	tok := r.str("token")
	if tok == "" || len(r.json) != 1 {
		h.t.Fatalf("login: %s", r)
	}
	return tok
}

// sms is the last code sent to the deux number digits.
func (h *harness) sms(digits string) string {
	h.t.Helper()
	m, ok := h.gw.Last("+" + digits)
	if !ok {
		h.t.Fatalf("no SMS to +%s", digits)
	}
	return m.Code
}

// sent counts the SMS sent to the deux number digits.
func (h *harness) sent(digits string) int {
	n := 0
	for _, m := range h.gw.Messages() {
		if m.To == "+"+digits {
			n++
		}
	}
	return n
}

// enable turns two-factor on for the token's user through sms/request and
// sms/verify, as a deux client does.
func (h *harness) enable(tok, digits string) {
	h.t.Helper()
	want(h.t, h.do(req{method: "PUT", path: "/mfa/sms/request/", token: tok, json: map[string]any{"phone_number": digits}}), 200, bodyRequested(digits))
	want(h.t, h.do(req{method: "PUT", path: "/mfa/sms/verify/", token: tok, json: map[string]any{"mfa_code": h.sms(digits)}}), 200, bodyOn(digits))
}

// mfaUser is a user with two-factor on through deux, and a verified token.
func (h *harness) mfaUser(name, digits string) (*twofactor.User, string) {
	h.t.Helper()
	u := h.user(name)
	tok := h.token(name)
	h.enable(tok, digits)
	return u, tok
}

// recoveryCode gets a new recovery code with a token verified just now.
func (h *harness) recoveryCode(tok string) string {
	h.t.Helper()
	r := h.do(req{method: "GET", path: "/mfa/recovery/", token: tok})
	want(h.t, r, 200, "")
	return r.str("backup_code")
}

// loginWithCode signs in with the SMS code the password step sends and
// returns the token.
func (h *harness) loginWithCode(name, digits string) string {
	h.t.Helper()
	h.clock.Add(2 * time.Minute) // past the cooldown: a new code is sent
	want(h.t, h.login(name), 200, bodyMFARequired)
	r := h.login(name, "mfa_code", h.sms(digits))
	want(h.t, r, 200, "")
	return r.str("token")
}

// status is GET /mfa/.
func (h *harness) status(tok string) *resp {
	h.t.Helper()
	return h.do(req{method: "GET", path: "/mfa/", token: tok})
}
