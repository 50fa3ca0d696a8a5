package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/api"
)

// TestAPIMounted checks that the JSON API answers under /api/v1/ next to
// the pages: its document, a sign-in, a problem for an unknown path.
func TestAPIMounted(t *testing.T) {
	a := openApp(t, io.Discard)
	h, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Builtin().Create(context.Background(), twofactor.NewUser{Username: "alice", Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), api.OpenAPI()) {
		t.Fatalf("GET /api/v1/openapi.json = %d", rec.Code)
	}
	r := httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(`{"username":"alice","password":"correct horse"}`))
	r.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var tok struct {
		Token string `json:"token"`
		MFA   bool   `json:"mfa"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); rec.Code != 200 || err != nil || tok.Token == "" {
		t.Fatalf("POST /api/v1/login = %d %s", rec.Code, rec.Body)
	}
	r = httptest.NewRequest("GET", "/api/v1/mfa", nil)
	r.Header.Set("Authorization", "Bearer "+tok.Token)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"enabled":false`) {
		t.Fatalf("GET /api/v1/mfa = %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/nope", nil))
	if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("GET /api/v1/nope = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}
