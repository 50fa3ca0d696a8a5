package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

// TestPages checks that the pages are mounted next to /healthz and that
// "/" sends to the right place.
func TestPages(t *testing.T) {
	a := openApp(t, io.Discard)
	h, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Builtin().Create(context.Background(), twofactor.NewUser{Username: "alice", Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	do := func(method, target string, body url.Values, cookie *http.Cookie) *http.Response {
		t.Helper()
		var r *http.Request
		if body != nil {
			r = httptest.NewRequest(method, target, strings.NewReader(body.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r = httptest.NewRequest(method, target, nil)
		}
		if cookie != nil {
			r.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result()
	}
	if r := do("GET", "/", nil, nil); r.StatusCode != 302 || r.Header.Get("Location") != "/account/login/" {
		t.Fatalf("GET / anonymous = %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	r := do("GET", "/account/login/", nil, nil)
	if r.StatusCode != 200 || r.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("GET /account/login/ = %d", r.StatusCode)
	}
	if r := do("GET", "/account/static/style.css", nil, nil); r.StatusCode != 200 {
		t.Fatalf("style sheet: %d", r.StatusCode)
	}
	r = do("POST", "/account/login/", url.Values{"step": {"auth"}, "username": {"alice"}, "password": {"correct horse"}}, nil)
	if r.StatusCode != 302 || r.Header.Get("Location") != "/account/two_factor/" {
		t.Fatalf("sign-in = %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == "twofactor_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly {
		t.Fatalf("session cookie %+v", session)
	}
	if r := do("GET", "/", nil, session); r.StatusCode != 302 || r.Header.Get("Location") != "/account/two_factor/" {
		t.Fatalf("GET / signed in = %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := do("GET", "/account/two_factor/", nil, session); r.StatusCode != 200 {
		t.Fatalf("profile = %d", r.StatusCode)
	}
	// Cross-site posts are refused.
	req := httptest.NewRequest("POST", "/account/logout/", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(session)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 403 {
		t.Fatalf("cross-site sign-out = %d", rec.Code)
	}
}

// TestWebConfig checks the mapping of the configuration onto the pages.
func TestWebConfig(t *testing.T) {
	a := openApp(t, io.Discard)
	c := &a.Config
	c.LoginURL, c.LoginRedirectURL, c.LogoutRedirectURL = "/in/", "/home/", "/bye/"
	c.Issuer, c.Language, c.PublicURL = "Example", "en", "HTTPS://example.com"
	c.Remember.Age = time.Hour
	c.Remember.CookiePrefix, c.Remember.Domain, c.Remember.Path = "rc_", "example.com", "/account/"
	c.Remember.Secure, c.Remember.HTTPOnly, c.Remember.SameSite = true, false, "Strict"
	w := webConfig(a)
	if w.Service != a.Service || w.LoginURL != "/in/" || w.LoginRedirectURL != "/home/" || w.LogoutRedirectURL != "/bye/" ||
		w.Issuer != "Example" || w.Language != "en" || !w.Secure || w.Logger != a.Log {
		t.Fatalf("web config %+v", w)
	}
	rc := w.Remember
	if rc.Prefix != "rc_" || rc.Domain != "example.com" || rc.Path != "/account/" || !rc.Secure || rc.HTTPOnly == nil || *rc.HTTPOnly ||
		rc.SameSite != http.SameSiteStrictMode {
		t.Fatalf("remember cookie config %+v", rc)
	}
	if _, err := New(a); err != nil {
		t.Fatalf("New with a custom configuration: %v", err)
	}
	c.PublicURL = "http://example.com"
	if webConfig(a).Secure {
		t.Fatal("Secure on a plain-HTTP public URL")
	}
}
