package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/i18n"
)

func TestCrossOriginRefused(t *testing.T) {
	e := newEnv(t)
	e.user("alice")
	c := e.client()
	// A cross-site form post: refused before anything happens.
	c.headers["Sec-Fetch-Site"] = "cross-site"
	r := c.login("alice", "correct horse")
	wantStatus(t, r, 403)
	wantText(t, r, "This request came from another site and was refused.")
	if c.session() != nil {
		t.Fatal("a cross-site post signed in")
	}
	c.headers = map[string]string{"Origin": "https://evil.example"}
	wantStatus(t, c.login("alice", "correct horse"), 403)
	// Same origin, and clients that send neither header: accepted.
	c.headers = map[string]string{"Sec-Fetch-Site": "same-origin"}
	wantRedirect(t, c.login("alice", "correct horse"), "/account/two_factor/")
	c.headers = map[string]string{"Origin": "http://example.com"}
	wantRedirect(t, c.login("alice", "correct horse"), "/account/two_factor/")
	// A cross-site GET is a safe method: allowed (and changes nothing).
	c.headers = map[string]string{"Sec-Fetch-Site": "cross-site"}
	wantStatus(t, c.get("/account/two_factor/"), 200)
	wantStatus(t, c.post("/account/logout/", nil), 403)
	if c.session() == nil {
		t.Fatal("a cross-site post signed out")
	}
}

func TestSecurityHeaders(t *testing.T) {
	e, c, _, _ := verified(t)
	mux := http.NewServeMux()
	mux.Handle("/account/", e.h.Routes())
	c.h = e.h.Middleware(mux)
	for _, p := range []string{"/account/login/", "/account/two_factor/", "/account/two_factor/nope/", "/account/two_factor/devices/x/"} {
		r := c.get(p)
		if p == "/account/two_factor/nope/" && r.status != 404 {
			t.Errorf("%s: %d", p, r.status)
		}
		h := r.header
		if h.Get("Content-Security-Policy") != "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" ||
			h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, h)
		}
		// No inline script or style anywhere.
		for _, bad := range []string{"<script", "style=", "<style", "javascript:"} {
			if strings.Contains(r.body, bad) {
				t.Errorf("%s contains %q", p, bad)
			}
		}
	}
	r := c.get("/account/static/style.css")
	wantStatus(t, r, 200)
	if ct := r.header.Get("Content-Type"); ct != "text/css; charset=utf-8" || !strings.Contains(r.body, "prefers-color-scheme: dark") {
		t.Fatalf("style sheet %q", ct)
	}
	wantStatus(t, c.get("/account/static/nope.css"), 404)
	wantStatus(t, c.get("/account/static/..%2Fhandler.go"), 404)
	_ = e
}

func TestBadInput(t *testing.T) {
	e, c, u, _ := verified(t)
	e.user("bob")
	anon := e.client()
	huge := strings.Repeat("a", 100<<10)
	bodies := []struct {
		name, ctype, body string
		want              int
	}{
		{"huge", "application/x-www-form-urlencoded", "step=auth&username=" + huge, 413},
		{"bad encoding", "application/x-www-form-urlencoded", "step=%zz&username=%", 400},
		{"multipart garbage", "multipart/form-data; boundary=x", "--x\r\ngarbage", 400},
		{"invalid utf-8", "application/x-www-form-urlencoded", "step=auth&username=%ff%fe&password=%ff", 200},
		{"nul", "application/x-www-form-urlencoded", "step=auth&username=a%00b&password=x", 200},
		{"no content type", "", "step=auth", 400},
	}
	for _, b := range bodies {
		r := anon.do("POST", "/account/login/", strings.NewReader(b.body), b.ctype)
		if r.status != b.want {
			t.Errorf("%s: status %d, want %d", b.name, r.status, b.want)
		}
	}
	// Every page, every method, garbage form values: never a 500.
	pages := []string{"/account/login/", "/account/logout/", "/account/two_factor/", "/account/two_factor/setup/",
		"/account/two_factor/qrcode/", "/account/two_factor/setup/complete/", "/account/two_factor/backup/tokens/",
		"/account/two_factor/disable/", "/account/two_factor/devices/", "/account/two_factor/devices/add/",
		"/account/two_factor/devices/x/", "/account/two_factor/devices/x/rename/", "/account/two_factor/devices/x/primary/",
		"/account/two_factor/devices/x/remove/", "/account/two_factor/devices/browsers/revoke/",
		"/account/two_factor/devices/browsers/revoke/x/"}
	garbage := url.Values{"step": {"token", "\xff"}, "token": {"\x00\xff" + huge[:3000]}, "device": {"../../etc"},
		"method": {"totp\x00"}, "name": {"\x01"}, "understand": {"\xff"}, "next": {"//evil"}, "remember": {"on"}}
	for _, cl := range []*client{anon, c} {
		for _, p := range pages {
			for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
				e.clock.Add(3 * time.Second)
				r := cl.do(m, p+"?next=%00&lang=%ff&format=%00", strings.NewReader(garbage.Encode()), "application/x-www-form-urlencoded")
				if r.status >= 500 {
					t.Errorf("%s %s: %d", m, p, r.status)
				}
			}
		}
	}
	if enabled, _ := e.svc.Enabled(bg, u.ID); !enabled {
		t.Fatal("garbage disabled two-factor")
	}
	// Garbage session cookies are anonymous.
	for _, v := range []string{"x", strings.Repeat("A", 4000), "%00", "a.b.c", "__"} {
		g := e.client()
		g.jar["twofactor_session"] = &http.Cookie{Name: "twofactor_session", Value: v}
		wantRedirect(t, g.get("/account/two_factor/"), "/account/login/?next=%2Faccount%2Ftwo_factor%2F")
		wantRedirect(t, g.get("/secret/"), "/account/login/?next=%2Fsecret%2F")
	}
	// Garbage headers.
	g := e.client()
	g.headers["Accept-Language"] = strings.Repeat("x-", 3000) + "\xff"
	g.headers["User-Agent"] = strings.Repeat("\xff", 5000)
	wantStatus(t, g.get("/account/login/"), 200)
	wantStatus(t, g.login("alice", "wrong password"), 200)
}

func TestDatabaseDown(t *testing.T) {
	e, c, _, _ := verified(t)
	e.sq.Close()
	for _, p := range []string{"/account/two_factor/", "/secret/", "/account/two_factor/devices/"} {
		r := c.get(p)
		wantStatus(t, r, 503)
		wantText(t, r, "The service is temporarily unavailable. Please try again.")
	}
	r := e.client().login("alice", "correct horse")
	wantStatus(t, r, 503)
	// The sign-in page itself still renders.
	wantStatus(t, e.client().get("/account/login/"), 200)
	if !strings.Contains(e.logs.String(), "level=ERROR") {
		t.Fatal("the failure was not logged")
	}
}

func TestRecover(t *testing.T) {
	e := newEnv(t)
	h := e.h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "Something went wrong on our side") {
		t.Fatalf("panic gave %d %q", rec.Code, rec.Body.String())
	}
	if !strings.Contains(e.logs.String(), "panic serving a page") || !strings.Contains(e.logs.String(), "boom") {
		t.Fatal("the panic was not logged")
	}
}

func TestBasePathAndRoutes(t *testing.T) {
	e := newEnv(t, envOpts{web: func(c *Config) { c.BasePath = "/auth/" }})
	e.user("alice")
	mux := http.NewServeMux()
	mux.Handle("/auth/", e.h.Routes())
	c := e.client()
	c.h = mux
	r := c.get("/auth/account/login/")
	wantStatus(t, r, 200)
	if !strings.Contains(r.body, `action="/auth/account/login/"`) || !strings.Contains(r.body, `href="/auth/account/static/style.css"`) {
		t.Fatalf("URLs without the base path:\n%s", r.body)
	}
	r = c.post("/auth/account/login/", url.Values{"step": {"auth"}, "username": {"alice"}, "password": {"correct horse"}})
	wantRedirect(t, r, "/auth/account/two_factor/")
	wantStatus(t, c.get("/auth/account/two_factor/"), 200)
	wantStatus(t, c.get("/auth/nothing/"), 404)
	cfg := e.h.Config()
	if cfg.LoginURL != "/auth/account/login/" || cfg.LogoutRedirectURL != "/auth/account/login/" {
		t.Fatalf("defaults %+v", cfg)
	}
}

func TestNewErrors(t *testing.T) {
	e := newEnv(t)
	for _, cfg := range []Config{
		{},
		{Service: e.svc, BasePath: "auth"},
		{Service: e.svc, LoginURL: "https://evil.example/"},
		{Service: e.svc, SessionCookie: "bad name"},
		{Service: e.svc, Remember: CookieConfig{Prefix: "a;b"}},
		{Service: e.svc, Language: "!!"},
		{Service: e.svc, Languages: []string{"de"}},
		{Service: e.svc, Methods: []Method{{Code: "x"}}},
		{Service: e.svc, Methods: []Method{TOTPMethod(), TOTPMethod()}},
		{Service: e.svc, Templates: fstest.MapFS{"login.html": {Data: []byte("{{define \"content\"}}{{.Nope")}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	// Register refuses a conflicting mux instead of panicking.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /account/login/{$}", func(http.ResponseWriter, *http.Request) {})
	if err := e.h.Register(mux); err == nil {
		t.Error("Register on a conflicting mux succeeded")
	}
}

func TestTemplateOverride(t *testing.T) {
	e := newEnv(t, envOpts{web: func(c *Config) {
		c.Templates = fstest.MapFS{"login.html": {Data: []byte(`{{define "content"}}<p>Custom sign-in {{.T "Log in"}}</p>{{end}}`)}}
	}})
	r := e.client().get("/account/login/")
	wantText(t, r, "Custom sign-in Log in", "Account Security")
	wantNoText(t, r, "Enter your credentials.")
}

func TestLanguages(t *testing.T) {
	cat, err := i18n.Load(fstest.MapFS{
		"en.json": {Data: []byte(`{"Enter your credentials.": "Enter your credentials.", "Log in": "Log in"}`)},
		"de.json": {Data: []byte(`{"Enter your credentials.": "Geben Sie Ihre Zugangsdaten ein.", "Log in": "Anmelden"}`)},
		"he.json": {Data: []byte(`{"Log in": "כניסה"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOpts{web: func(c *Config) { c.Catalog = cat }})
	c := e.client()
	c.headers["Accept-Language"] = "de-DE,de;q=0.9"
	r := c.get("/account/login/")
	wantText(t, r, "Geben Sie Ihre Zugangsdaten ein.", "Anmelden", "Password:") // Password: falls back to English
	if !strings.Contains(r.body, `<html lang="de" dir="ltr">`) || r.header.Get("Content-Language") != "de" {
		t.Fatal("no German lang attribute")
	}
	// The switcher: ?lang= sets a cookie that wins over Accept-Language.
	wantText(t, r, "Deutsch", "English", "עברית")
	r = c.get("/account/login/?lang=he")
	if !strings.Contains(r.body, `<html lang="he" dir="rtl">`) {
		t.Fatalf("no RTL:\n%s", r.body[:200])
	}
	if ck := r.cookie("lang"); ck == nil || ck.Value != "he" {
		t.Fatalf("lang cookie %v", ck)
	}
	wantText(t, c.get("/account/login/"), "כניסה")
	// Unknown languages: English.
	c2 := e.client()
	c2.headers["Accept-Language"] = "fr"
	wantText(t, c2.get("/account/login/?lang=xx-garbage!"), "Enter your credentials.")
	// A forced language: no switcher, no negotiation.
	e2 := newEnv(t, envOpts{web: func(c *Config) { c.Catalog = cat; c.Language = "de" }})
	c3 := e2.client()
	c3.headers["Accept-Language"] = "he"
	r = c3.get("/account/login/?lang=he")
	wantText(t, r, "Anmelden")
	wantNoText(t, r, "English")
	// A subset of languages.
	e3 := newEnv(t, envOpts{web: func(c *Config) { c.Catalog = cat; c.Languages = []string{"en", "he"} }})
	c4 := e3.client()
	c4.headers["Accept-Language"] = "de"
	wantText(t, c4.get("/account/login/"), "Enter your credentials.")
	// The first offered language is the default.
	e4 := newEnv(t, envOpts{web: func(c *Config) { c.Catalog = cat; c.Languages = []string{"de", "en"} }})
	c5 := e4.client()
	c5.headers["Accept-Language"] = "fr"
	wantText(t, c5.get("/account/login/"), "Anmelden")
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		err   error
		where errContext
		want  failure
	}{
		{errors.New("disk on fire"), inLogin, failure{page: true, status: 503, id: "The service is temporarily unavailable. Please try again."}},
		{&twofactor.Error{Code: twofactor.CodeNotFound, Message: "Not found."}, inAction, failure{page: true, status: 404, id: "Not found."}},
		{&twofactor.Error{Code: twofactor.CodeInvalidCode, Message: "Invalid token. Please make sure you have entered it correctly."}, inSetup,
			failure{field: "token", id: "Entered token is not valid."}},
		{&twofactor.Error{Code: twofactor.CodeThrottled, Failures: 3}, inLogin,
			failure{field: "token", id: "Verification temporarily disabled because of %d failed attempts, please try again soon.", args: []any{3}}},
		{&twofactor.Error{Code: twofactor.CodeValidationFailed, Field: "code", Message: "x"}, inLogin, failure{field: "token", id: "x"}},
		{&twofactor.Error{Code: twofactor.CodeValidationFailed, Field: "digits", Message: "x"}, inLogin, failure{id: "x"}},
		{&twofactor.Error{Code: twofactor.CodeExpired, Message: "x"}, inLogin, failure{id: "x"}},
	}
	for _, tt := range tests {
		got := failureOf(tt.err, tt.where)
		if got.page != tt.want.page || got.status != tt.want.status || got.field != tt.want.field || got.id != tt.want.id || len(got.args) != len(tt.want.args) {
			t.Errorf("failureOf(%v) = %+v, want %+v", tt.err, got, tt.want)
		}
	}
}
