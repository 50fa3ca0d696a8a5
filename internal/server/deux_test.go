package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/config"
	"github.com/twofactor/twofactor/internal/app"
)

// TestDeuxMounted checks that the deux-compatible API answers under /mfa/
// next to the pages and /api/v1, with the configured SMS gateway and the
// OAuth2 clients of the CLI: a deux client enables two-factor and signs in
// with the SMS code, and the token works at /api/v1.
func TestDeuxMounted(t *testing.T) {
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "t.db")
	cfg.SMS.Gateway = "fake"
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	h, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Service.Builtin().Create(ctx, twofactor.NewUser{Username: "alice", Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	client, secret, err := a.Service.CreateOAuthClient(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, token, body string) (int, string) {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.RemoteAddr = "192.0.2.1:1234"
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
			if strings.Contains(body, "=") && !strings.HasPrefix(body, "{") {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
		}
		if token != "" {
			r.Header.Set("Authorization", "Token "+token)
		}
		if strings.Contains(path, "oauth2") {
			r.SetBasicAuth(client.ID, secret)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code, rec.Body.String()
	}
	code, body := do("GET", "/mfa/", "", "")
	if code != 401 || body != `{"detail":"Authentication credentials were not provided."}` {
		t.Fatalf("GET /mfa/ anonymous = %d %s", code, body)
	}
	code, body = do("POST", "/mfa/authtoken/login/", "", `{"username":"alice","password":"correct horse"}`)
	tok, ok := strings.CutPrefix(body, `{"token":"`)
	if code != 200 || !ok {
		t.Fatalf("login = %d %s", code, body)
	}
	tok = strings.TrimSuffix(tok, `"}`)
	for _, p := range []string{"/mfa", "/mfa/", "/mfa.json"} {
		if code, body = do("GET", p, tok, ""); code != 200 || body != `{"enabled":false}` {
			t.Fatalf("GET %s = %d %s", p, code, body)
		}
	}
	if code, body = do("PUT", "/mfa/sms/request/", tok, `{"phone_number":"15555550123"}`); code != 200 {
		t.Fatalf("sms/request = %d %s", code, body)
	}
	m, ok := a.Gateways.Fake.Last("+15555550123")
	if !ok {
		t.Fatal("no SMS")
	}
	if code, body = do("PUT", "/mfa/sms/verify", tok, `{"mfa_code":"`+m.Code+`"}`); code != 200 ||
		body != `{"enabled":true,"challenge_type":"sms","phone_number":"15555550123"}` {
		t.Fatalf("sms/verify = %d %s", code, body)
	}
	if code, body = do("POST", "/mfa/oauth2/token/", "", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"correct horse"}}.Encode()); code != 200 ||
		body != `{"mfa_required":true,"mfa_type":"sms"}` {
		t.Fatalf("oauth2/token = %d %s", code, body)
	}
	r := httptest.NewRequest("GET", "/api/v1/mfa", nil)
	r.Header.Set("Authorization", "Token "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"kind":"sms"`) {
		t.Fatalf("GET /api/v1/mfa = %d %s", rec.Code, rec.Body)
	}
	if code, body = do("GET", "/mfa/nope/", tok, ""); code != 404 || body != `{"detail":"Not found."}` {
		t.Fatalf("GET /mfa/nope/ = %d %s", code, body)
	}
}
