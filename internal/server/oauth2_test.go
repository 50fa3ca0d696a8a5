package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/twofactor/twofactor"
)

// TestOAuth2Mounted: `twofactor serve` answers the OAuth2 endpoints.
func TestOAuth2Mounted(t *testing.T) {
	a := openApp(t, io.Discard)
	h, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, sec, err := a.Service.CreateOAuthClient(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Builtin().Create(ctx, twofactor.NewUser{Username: "alice", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	post := func(path string, form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.ID, sec)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := post("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"correct horse battery"}})
	var tok map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); rec.Code != http.StatusOK || err != nil || tok["access_token"] == nil {
		t.Fatalf("POST /oauth2/token: %d %s", rec.Code, rec.Body)
	}
	rec = post("/oauth2/introspect", url.Values{"token": {tok["access_token"].(string)}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"active":true`) {
		t.Fatalf("POST /oauth2/introspect: %d %s", rec.Code, rec.Body)
	}
	if rec = post("/oauth2/revoke", url.Values{"token": {tok["refresh_token"].(string)}}); rec.Code != http.StatusOK {
		t.Fatalf("POST /oauth2/revoke: %d %s", rec.Code, rec.Body)
	}
	if status, _ := get(t, h, "GET", "/oauth2/token"); status != http.StatusMethodNotAllowed {
		t.Fatalf("GET /oauth2/token: %d, want 405", status)
	}
}
