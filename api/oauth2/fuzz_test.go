package oauth2_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzTokenEndpoint posts arbitrary bodies of arbitrary content types to
// the token endpoint, authenticated in the body or by HTTP Basic. Whatever
// arrives, the answer is a 2xx with tokens or a 4xx RFC 6749 error object:
// never a 5xx, never a panic.
func FuzzTokenEndpoint(f *testing.F) {
	h := newHarness(f, onSQLite)
	handler := h.o.Handler()
	h.user("alice")
	creds := "client_id=" + url.QueryEscape(h.id) + "&client_secret=" + url.QueryEscape(h.secret)
	jsonCreds := `"client_id":"` + h.id + `","client_secret":"` + h.secret + `"`
	form := "application/x-www-form-urlencoded"
	for _, seed := range []struct {
		ct, body string
		basic    bool
	}{
		{form, "grant_type=password&username=alice&password=correct+horse+battery&" + creds, false},
		{form, "grant_type=password&username=alice&password=correct+horse+battery", true},
		{form, "grant_type=password&username=alice&password=x&mfa_code=123456&backup_code=abcde-fghjk", true},
		{form, "grant_type=refresh_token&refresh_token=abc&scope=read", true},
		{form, "grant_type=refresh_token&refresh_token=abc&" + creds, false},
		{form, "grant_type=%zz&;", true},
		{"application/json", `{"grant_type":"password","username":"alice","password":"correct horse battery",` + jsonCreds + `}`, false},
		{"application/json", `{"grant_type":"password","username":"alice","password":"correct horse battery","mfa_code":123456}`, true},
		{"application/json", `{"grant_type":["password"],"username":{"a":null}}`, true},
		{"application/json; charset=utf-8", `{"grant_type":"password"`, true},
		{"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\npassword\r\n--b--\r\n", true},
		{"text/plain", "grant_type=password", true},
		{"", "", true},
	} {
		f.Add(seed.ct, seed.body, seed.basic)
	}
	f.Fuzz(func(t *testing.T, contentType, body string, basic bool) {
		req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if basic {
			req.SetBasicAuth(h.id, h.secret)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code >= 500 || w.Code < 200 || (w.Code >= 300 && w.Code < 400) {
			t.Fatalf("%q %q: status %d %s", contentType, body, w.Code, w.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%q %q: answer is not JSON: %s", contentType, body, w.Body)
		}
		if w.Code == http.StatusOK {
			if out["access_token"] == nil || out["token_type"] != "Bearer" {
				t.Fatalf("200 without a token: %s", w.Body)
			}
		} else if e, _ := out["error"].(string); e == "" || out["access_token"] != nil {
			t.Fatalf("%d without an error member: %s", w.Code, w.Body)
		}
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("cacheable answer: %v", w.Header())
		}
	})
}
