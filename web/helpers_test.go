package web

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/hex"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/otp"
	"github.com/twofactor/twofactor/password"
	"github.com/twofactor/twofactor/secret"
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

// countingStore counts the store reads a request makes.
type countingStore struct {
	twofactor.Store
	sessionReads, deviceReads, userReads, otherReads atomic.Int64
}

func (s *countingStore) reset() {
	s.sessionReads.Store(0)
	s.deviceReads.Store(0)
	s.userReads.Store(0)
	s.otherReads.Store(0)
}

func (s *countingStore) SessionByHash(ctx context.Context, h [][]byte) (*twofactor.Session, error) {
	s.sessionReads.Add(1)
	return s.Store.SessionByHash(ctx, h)
}

func (s *countingStore) DeviceByID(ctx context.Context, id string) (*twofactor.Device, error) {
	s.deviceReads.Add(1)
	return s.Store.DeviceByID(ctx, id)
}

func (s *countingStore) DevicesByUser(ctx context.Context, id string) ([]twofactor.Device, error) {
	s.deviceReads.Add(1)
	return s.Store.DevicesByUser(ctx, id)
}

func (s *countingStore) UserByID(ctx context.Context, id string) (*twofactor.UserRecord, error) {
	s.userReads.Add(1)
	return s.Store.UserByID(ctx, id)
}

func (s *countingStore) CountBackupCodes(ctx context.Context, id string) (int, error) {
	s.otherReads.Add(1)
	return s.Store.CountBackupCodes(ctx, id)
}

func (s *countingStore) BrowserByID(ctx context.Context, id string) (*twofactor.RememberedBrowser, error) {
	s.otherReads.Add(1)
	return s.Store.BrowserByID(ctx, id)
}

func (s *countingStore) ChallengeByHash(ctx context.Context, h [][]byte) (*twofactor.Challenge, error) {
	s.otherReads.Add(1)
	return s.Store.ChallengeByHash(ctx, h)
}

func (s *countingStore) reads() int64 {
	return s.sessionReads.Load() + s.deviceReads.Load() + s.userReads.Load() + s.otherReads.Load()
}

// env is a service on a fresh SQLite database with a fake clock, the pages,
// and a small application protected by RequireVerified.
type env struct {
	t     testing.TB
	svc   *twofactor.Service
	store *countingStore
	sq    *sqlite.Store
	clock *fakeClock
	h     *Handler
	app   http.Handler
	logs  *syncBuffer
}

var testKey = mustHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")

// fixtureKey is the TOTP key of the users' devices (RFC 6238 test key).
var fixtureKey = []byte("12345678901234567890")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type envOpts struct {
	opts func(*twofactor.Options)
	web  func(*Config)
	core func(*twofactor.Config) // gateways, YubiCloud
}

func newEnv(t testing.TB, o ...envOpts) *env {
	t.Helper()
	sq, err := sqlite.Open(bg, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	if err := sq.Migrate(bg); err != nil {
		t.Fatal(err)
	}
	keys, err := secret.NewKeyring(testKey)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, sq: sq, store: &countingStore{Store: sq}, clock: &fakeClock{t: time.Unix(1_700_000_000, 0)}, logs: &syncBuffer{}}
	opts := twofactor.DefaultOptions()
	opts.Password = password.Params{Time: 1, MemoryKiB: 64, Threads: 1}
	for _, x := range o {
		if x.opts != nil {
			x.opts(&opts)
		}
	}
	logger := slog.New(slog.NewTextHandler(e.logs, nil))
	coreCfg := twofactor.Config{Store: e.store, Keys: keys, Options: opts, Clock: e.clock, Logger: logger}
	for _, x := range o {
		if x.core != nil {
			x.core(&coreCfg)
		}
	}
	e.svc, err = twofactor.New(coreCfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Service: e.svc, Logger: logger}
	for _, x := range o {
		if x.web != nil {
			x.web(&cfg)
		}
	}
	e.h, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if err := e.h.Register(mux); err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := State(r)
		io.WriteString(w, "secret ok user="+st.UserID())
	})
	mux.Handle("/secret/", RequireVerified(RequireOptions{})(ok))
	mux.Handle("/secret/raise_anonymous/", RequireVerified(RequireOptions{RaiseAnonymous: true})(ok))
	mux.Handle("/secret/raise_unverified/", RequireVerified(RequireOptions{RaiseAnonymous: true, RaiseUnverified: true})(ok))
	mux.Handle("/secret/verification_url/", RequireVerified(RequireOptions{VerificationURL: "/verify/"})(ok))
	mux.Handle("/secret/if_configured/", RequireVerified(RequireOptions{IfConfigured: true})(ok))
	mux.Handle("/secret/custom/", RequireVerified(RequireOptions{LoginURL: "/other-login/", RedirectFieldName: "back"})(ok))
	e.app = e.h.Middleware(mux)
	return e
}

// user creates a built-in user with password "correct horse".
func (e *env) user(name string) *twofactor.User {
	e.t.Helper()
	u, err := e.svc.Builtin().Create(bg, twofactor.NewUser{Username: name, Password: "correct horse", Email: name + "@example.com"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// staff creates a staff user.
func (e *env) staff(name string) *twofactor.User {
	e.t.Helper()
	u, err := e.svc.Builtin().Create(bg, twofactor.NewUser{Username: name, Password: "correct horse", Staff: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// totp gives u a confirmed TOTP device with key (the operator's way).
func (e *env) totp(u *twofactor.User, key []byte, name string) *twofactor.Device {
	e.t.Helper()
	en, err := e.svc.ImportTOTP(bg, twofactor.OperatorActor(u.ID), twofactor.TOTPSpec{Key: key, Name: name}, u.Username)
	if err != nil {
		e.t.Fatal(err)
	}
	return en.Device
}

// backupCodes gives u a fresh set of backup codes.
func (e *env) backupCodes(u *twofactor.User) []string {
	e.t.Helper()
	codes, err := e.svc.RegenerateBackupCodes(bg, twofactor.OperatorActor(u.ID))
	if err != nil {
		e.t.Fatal(err)
	}
	return codes
}

// code returns the current TOTP code of key, moving the clock on by one
// step first so that no code is used twice.
func (e *env) code(key []byte) string {
	e.clock.Add(30 * time.Second)
	return otp.Format(otp.HOTP(key, uint64(e.clock.Now().Unix()/30), 6, otp.SHA1), 6)
}

// codeAt returns the code of key at the current step plus offset, without
// moving the clock.
func (e *env) codeAt(key []byte, offset int64) string {
	return otp.Format(otp.HOTP(key, uint64(e.clock.Now().Unix()/30+offset), 6, otp.SHA1), 6)
}

// client is a browser: it keeps cookies and does not follow redirects.
type client struct {
	e       *env
	h       http.Handler
	jar     map[string]*http.Cookie
	headers map[string]string
	tls     bool
}

func (e *env) client() *client {
	return &client{e: e, h: e.app, jar: map[string]*http.Cookie{}, headers: map[string]string{}}
}

// resp is a response.
type resp struct {
	status  int
	header  http.Header
	body    string
	cookies []*http.Cookie
}

func (r *resp) location() string { return r.header.Get("Location") }

func (r *resp) cookie(name string) *http.Cookie {
	for _, c := range r.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// text returns the body with tags removed and entities decoded, spaces
// collapsed: what a user reads.
func (r *resp) text() string {
	s := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(r.body, " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

func (c *client) do(method, target string, body io.Reader, ctype string) *resp {
	c.e.t.Helper()
	req := httptest.NewRequest(method, target, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	if !c.tls {
		req.TLS = nil
	}
	for _, ck := range c.jar {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	res := rec.Result()
	out := &resp{status: res.StatusCode, header: res.Header, body: rec.Body.String(), cookies: res.Cookies()}
	for _, ck := range out.cookies {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.jar, ck.Name)
		} else {
			c.jar[ck.Name] = ck
		}
	}
	if out.status >= 500 && out.status != http.StatusServiceUnavailable {
		c.e.t.Errorf("%s %s: status %d\n%s\nlogs:\n%s", method, target, out.status, out.body, c.e.logs.String())
	}
	return out
}

func (c *client) get(target string) *resp { return c.do("GET", target, nil, "") }

func (c *client) post(target string, form url.Values) *resp {
	return c.do("POST", target, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

// login signs in with a password: step 1.
func (c *client) login(username, pw string, extra ...string) *resp {
	f := url.Values{"step": {"auth"}, "username": {username}, "password": {pw}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return c.post("/account/login/", f)
}

// token posts the code step.
func (c *client) token(code string, extra ...string) *resp {
	f := url.Values{"step": {"token"}, "token": {code}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return c.post("/account/login/", f)
}

// signIn signs in fully (password, then the code of key when asked).
func (c *client) signIn(username string, key []byte) {
	c.e.t.Helper()
	r := c.login(username, "correct horse")
	if r.status == 200 && key != nil {
		r = c.token(c.e.code(key))
	}
	if r.status != http.StatusFound {
		c.e.t.Fatalf("sign-in of %s: status %d\n%s", username, r.status, r.text())
	}
}

// session returns the client's session as the store has it.
func (c *client) session() *twofactor.Session {
	ck := c.jar["twofactor_session"]
	if ck == nil {
		return nil
	}
	s, err := c.e.svc.Session(bg, ck.Value)
	if err != nil {
		return nil
	}
	return s
}

// forms returns the forms of a page: action and hidden fields.
type pageForm struct {
	action string
	fields url.Values
	body   string
}

var (
	formRE   = regexp.MustCompile(`(?s)<form([^>]*)>(.*?)</form>`)
	attrRE   = regexp.MustCompile(`(\w[\w-]*)="([^"]*)"`)
	inputRE  = regexp.MustCompile(`<input([^>]*)>`)
	buttonRE = regexp.MustCompile(`<button([^>]*)>`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

func (r *resp) forms() []pageForm {
	var out []pageForm
	for _, f := range formRE.FindAllStringSubmatch(r.body, -1) {
		pf := pageForm{action: attrs(f[1])["action"], fields: url.Values{}, body: f[2]}
		for _, in := range inputRE.FindAllStringSubmatch(f[2], -1) {
			a := attrs(in[1])
			if a["type"] == "hidden" {
				pf.fields.Set(a["name"], a["value"])
			}
		}
		out = append(out, pf)
	}
	return out
}

// input returns the attributes of the input named name (the first one).
func (r *resp) input(name string) map[string]string {
	for _, in := range inputRE.FindAllStringSubmatch(r.body, -1) {
		a := attrs(in[1])
		if a["name"] == name {
			return a
		}
	}
	return nil
}

// buttons returns the attributes of every button named name.
func (r *resp) buttons(name string) []map[string]string {
	var out []map[string]string
	for _, b := range buttonRE.FindAllStringSubmatch(r.body, -1) {
		if a := attrs(b[1]); a["name"] == name {
			out = append(out, a)
		}
	}
	return out
}

// submit posts the form of the page whose action is action (the first
// such form), with its hidden fields and the given values.
func (c *client) submit(r *resp, action string, values ...string) *resp {
	c.e.t.Helper()
	for _, f := range r.forms() {
		if f.action != action {
			continue
		}
		for i := 0; i+1 < len(values); i += 2 {
			f.fields.Set(values[i], values[i+1])
		}
		return c.post(action, f.fields)
	}
	c.e.t.Fatalf("no form posting to %s in:\n%s", action, r.body)
	return nil
}

// secretOf reads the TOTP key shown by the setup page.
func secretOf(t testing.TB, r *resp) []byte {
	t.Helper()
	m := regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", r.body)
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// codesOf reads the backup codes shown by a page.
func codesOf(r *resp) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<li><code>([a-z0-9-]+)</code></li>`).FindAllStringSubmatch(r.body, -1) {
		out = append(out, m[1])
	}
	return out
}

func wantStatus(t testing.TB, r *resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; Location %q\n%s", r.status, status, r.location(), r.text())
	}
}

func wantRedirect(t testing.TB, r *resp, to string) {
	t.Helper()
	if r.status != http.StatusFound && r.status != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect to %s\n%s", r.status, to, r.text())
	}
	if r.location() != to {
		t.Fatalf("redirect to %q, want %q", r.location(), to)
	}
}

func wantText(t testing.TB, r *resp, texts ...string) {
	t.Helper()
	txt := r.text()
	for _, s := range texts {
		if !strings.Contains(txt, s) {
			t.Fatalf("page lacks %q:\n%s", s, txt)
		}
	}
}

func wantNoText(t testing.TB, r *resp, texts ...string) {
	t.Helper()
	txt := r.text()
	for _, s := range texts {
		if strings.Contains(txt, s) {
			t.Fatalf("page has %q:\n%s", s, txt)
		}
	}
}
