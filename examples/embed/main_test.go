package main

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor/otp"
	"github.com/twofactor/twofactor/secret"
)

// client is a browser without JavaScript: it keeps cookies and does not
// follow redirects, so the test sees each one.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a GET (form nil) or a form POST and returns the status, the
// Location header and the body.
func (c *client) do(path string, form url.Values) (int, string, string) {
	c.t.Helper()
	var resp *http.Response
	var err error
	if form == nil {
		resp, err = c.http.Get(c.base + path)
	} else {
		resp, err = c.http.PostForm(c.base+path, form)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// expect checks a response.
func (c *client) expect(what string, status int, location string, body string, wantStatus int, wantLocation, wantText string) {
	c.t.Helper()
	if status != wantStatus || location != wantLocation || !strings.Contains(body, wantText) {
		c.t.Fatalf("%s: %d %q, want %d %q with %q; body:\n%s", what, status, location, wantStatus, wantLocation, wantText, body)
	}
}

// authenticator is the user's app: it gives a code the server has not
// seen yet (the current step's, or the next one's).
type authenticator struct {
	key    []byte
	digits int
	period int64
	last   int64
}

func (a *authenticator) code() string {
	for {
		now := time.Now().Unix() / a.period
		step := max(now, a.last+1)
		if step <= now+1 {
			a.last = step
			return otp.Format(otp.HOTP(a.key, uint64(step), a.digits, otp.SHA1), a.digits)
		}
		time.Sleep(time.Until(time.Unix((now+1)*a.period, 0)))
	}
}

// wrong returns a code of the right form that the app does not give
// anywhere near now.
func (a *authenticator) wrong() string {
	now := time.Now().Unix() / a.period
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

var (
	otpauthLink = regexp.MustCompile(`href="(otpauth://[^"]+)"`)
	backupCode  = regexp.MustCompile(`<li><code>([2-9a-z]{5}-[2-9a-z]{5})</code></li>`)
)

// TestFlow walks the example over HTTP as a user would: the protected page
// sends to sign in; with the password alone (two-factor off) it explains
// why it stays closed; the user sets up an authenticator under /security/;
// the page opens; a new sign-in asks for the code.
func TestFlow(t *testing.T) {
	t.Setenv(keyVar, "")
	t.Setenv(oldKeysVar, "")
	dir := t.TempDir()
	a, err := newApp(context.Background(), appConfig{DBPath: filepath.Join(dir, "embed.db"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	c := newClient(t, srv.URL)
	const login = securityPrefix + "/account/login/"

	st, loc, body := c.do("/reports/", nil)
	c.expect("anonymous /reports/", st, loc, body, http.StatusFound, login+"?next=%2Freports%2F", "")
	st, loc, body = c.do(login+"?next=%2Freports%2F", nil)
	c.expect("sign-in page", st, loc, body, http.StatusOK, "", `name="next" value="/reports/"`)

	// The application's own password check decides.
	st, loc, body = c.do(login, url.Values{"step": {"auth"}, "username": {"bob"}, "password": {"wrong password"}, "next": {"/reports/"}})
	c.expect("wrong password", st, loc, body, http.StatusOK, "", "Please enter a correct username and password.")
	st, loc, body = c.do(login, url.Values{"step": {"auth"}, "username": {"bob"}, "password": {"bob-password"}, "next": {"/reports/"}})
	c.expect("password", st, loc, body, http.StatusFound, "/reports/", "")

	// Signed in without two-factor: the page explains and links to the setup.
	st, loc, body = c.do("/reports/", nil)
	c.expect("/reports/ without two-factor", st, loc, body, http.StatusForbidden, "", securityPrefix+"/account/two_factor/setup/")
	if !strings.Contains(body, "The reports hold customer figures") {
		t.Fatalf("the application's template of the 403 page is not used:\n%s", body)
	}
	st, loc, body = c.do("/", nil)
	c.expect("home", st, loc, body, http.StatusOK, "", "Signed in as <strong>bob</strong>, with the password alone.")

	// The setup wizard, under the prefix.
	const setup = securityPrefix + "/account/two_factor/setup/"
	st, loc, body = c.do(setup, url.Values{"step": {"welcome"}})
	c.expect("welcome", st, loc, body, http.StatusSeeOther, setup, "")
	st, loc, body = c.do(setup, nil)
	c.expect("TOTP step", st, loc, body, http.StatusOK, "", `src="`+securityPrefix+`/account/two_factor/qrcode/"`)
	m := otpauthLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no otpauth link on the TOTP step:\n%s", body)
	}
	uri, err := otp.ParseKeyURI(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if uri.Issuer != "Embed example" || uri.Account != "bob" {
		t.Fatalf("otpauth URI %+v", uri)
	}
	app := &authenticator{key: uri.Secret, digits: uri.Digits, period: uri.Period}
	st, loc, body = c.do(setup, url.Values{"step": {"totp"}, "token": {app.code()}})
	c.expect("confirm", st, loc, body, http.StatusOK, "", "Congratulations")
	if codes := backupCode.FindAllStringSubmatch(body, -1); len(codes) != 10 {
		t.Fatalf("%d backup codes shown, want 10:\n%s", len(codes), body)
	}

	// Verified by the confirmation: the page opens.
	st, loc, body = c.do("/reports/", nil)
	c.expect("/reports/ verified", st, loc, body, http.StatusOK, "", "Quarterly figures")

	// The JSON API knows two-factor is on now.
	st, body = postJSON(t, srv.URL+"/api/v1/login", `{"username":"bob","password":"bob-password"}`)
	if st != http.StatusUnauthorized || !strings.Contains(body, `"mfa_required"`) {
		t.Fatalf("POST /api/v1/login: %d %s", st, body)
	}

	// A new sign-in asks for the code, and then goes where it was asked to.
	st, loc, body = c.do(securityPrefix+"/account/logout/", url.Values{})
	c.expect("sign out", st, loc, body, http.StatusFound, login, "")
	st, loc, body = c.do("/reports/", nil)
	c.expect("/reports/ signed out", st, loc, body, http.StatusFound, login+"?next=%2Freports%2F", "")
	st, loc, body = c.do(login, url.Values{"step": {"auth"}, "username": {"bob"}, "password": {"bob-password"}, "next": {"/reports/"}})
	c.expect("password with two-factor on", st, loc, body, http.StatusOK, "", `id="id_token"`)
	st, loc, body = c.do(login, url.Values{"step": {"token"}, "token": {app.wrong()}})
	c.expect("wrong code", st, loc, body, http.StatusOK, "", "Invalid token.")
	// The default backoff (throttle factor 1 s) refuses the next attempt
	// for a second after one failure.
	time.Sleep(1100 * time.Millisecond)
	st, loc, body = c.do(login, url.Values{"step": {"token"}, "token": {app.code()}})
	c.expect("code", st, loc, body, http.StatusFound, "/reports/", "")
	st, loc, body = c.do("/reports/", nil)
	c.expect("/reports/ after the code", st, loc, body, http.StatusOK, "", "Signed in as <strong>bob</strong>, verified by a second factor.")

	// The key file was created next to the database, readable by its owner
	// only.
	fi, err := os.Stat(filepath.Join(dir, keyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode().Perm())
	}
}

// postJSON posts a JSON body and returns the status and the body.
func postJSON(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestKeys checks where the key comes from: the environment, else the key
// file, with older keys for a rotation.
func TestKeys(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	k1, err := secret.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := secret.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}

	t.Setenv(keyVar, k1)
	t.Setenv(oldKeysVar, "")
	ring, err := loadKeys(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, keyFileName)); !os.IsNotExist(err) {
		t.Fatalf("a key file was written although %s is set: %v", keyVar, err)
	}
	sealed, err := ring.Seal([]byte("device key"), secret.AAD{Table: "t", Column: "c", Row: "r"})
	if err != nil {
		t.Fatal(err)
	}

	// Rotation: the new key current, the old one still opens what it sealed.
	t.Setenv(keyVar, k2)
	t.Setenv(oldKeysVar, k1)
	ring2, err := loadKeys(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ring2.Open(sealed, secret.AAD{Table: "t", Column: "c", Row: "r"}); err != nil || string(got) != "device key" {
		t.Fatalf("open after rotation: %q, %v", got, err)
	}
	if !ring2.NeedsRotation(sealed) {
		t.Fatal("a value sealed under the old key does not need rotation")
	}

	t.Setenv(keyVar, "not a key")
	if _, err := loadKeys(dir, log); err == nil || !strings.Contains(err.Error(), keyVar) {
		t.Fatalf("bad key: %v", err)
	}
	t.Setenv(keyVar, k2)
	t.Setenv(oldKeysVar, k1+", nope")
	if _, err := loadKeys(dir, log); err == nil || !strings.Contains(err.Error(), oldKeysVar+"[1]") {
		t.Fatalf("bad old key: %v", err)
	}

	// Without the variable: the key file, created once, then read back.
	t.Setenv(keyVar, "")
	t.Setenv(oldKeysVar, "")
	if _, err := loadKeys(dir, log); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(filepath.Join(dir, keyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadKeys(dir, log); err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(filepath.Join(dir, keyFileName))
	if err != nil || string(again) != string(first) {
		t.Fatalf("the key file changed: %v", err)
	}
}

// TestRun starts the program as main does, on a free port: it prints
// where to open it, serves, and stops when its context ends.
func TestRun(t *testing.T) {
	t.Setenv(keyVar, "")
	t.Setenv(oldKeysVar, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, "127.0.0.1:0", filepath.Join(t.TempDir(), "embed.db"), pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var base string
	for lines.Scan() {
		line := lines.Text()
		if rest, ok := strings.CutPrefix(line, "Open "); ok {
			base, _, _ = strings.Cut(rest, " ")
			base = strings.TrimSuffix(base, "/")
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }() // the rest of the output
	if base == "" {
		t.Fatalf("run printed no address: %v", <-done)
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Example application") {
		t.Fatalf("GET /: %d\n%s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}
