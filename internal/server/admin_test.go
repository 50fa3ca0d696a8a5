package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/twofactor/twofactor"
)

// TestAdminConfig checks that admin.require_verified reaches the pages and
// that the standalone server serves the staff console.
func TestAdminConfig(t *testing.T) {
	a := openApp(t, io.Discard)
	if w := webConfig(a); w.AdminRequireVerified == nil || !*w.AdminRequireVerified {
		t.Fatalf("admin.require_verified default: %v", w.AdminRequireVerified)
	}
	a.Config.Admin.RequireVerified = false
	if w := webConfig(a); w.AdminRequireVerified == nil || *w.AdminRequireVerified {
		t.Fatalf("admin.require_verified=false: %v", w.AdminRequireVerified)
	}
	// With it off, a password-only staff session sees the console.
	h, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Builtin().Create(context.Background(), twofactor.NewUser{Username: "root", Password: "correct horse", Staff: true}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/", nil))
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/account/login/?next=%2Fadmin%2F" {
		t.Fatalf("GET /admin/ anonymous = %d %q", rec.Code, rec.Header().Get("Location"))
	}
	form := url.Values{"step": {"auth"}, "username": {"root"}, "password": {"correct horse"}}
	req := httptest.NewRequest("POST", "/account/login/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var session *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "twofactor_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("sign-in = %d, no session cookie", rec.Code)
	}
	req = httptest.NewRequest("GET", "/admin/", nil)
	req.AddCookie(session)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="admin-users"`) {
		t.Fatalf("GET /admin/ as password-only staff with admin.require_verified=false = %d", rec.Code)
	}
}
