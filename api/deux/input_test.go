package deux

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

// TestSweep sends malformed bodies, media types, headers, methods and
// paths to every route of deux and asserts that no answer is a 5xx, that
// every answer is JSON of deux's shapes ({"detail": …}, field lists, or
// the RFC 6749 error of the token endpoint), and that nothing changed.
func TestSweep(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.token("alice")
		_, mfaTok := h.mfaUser("bob", "15555550123")
		bodies := []string{
			"", " ", "{", "}", "{}", "[]", "null", "true", `"x"`, "123", "1.5", "{}{}", `{"a":1}`, `{"":""}`,
			"\xff\xfe\xfd", "{\"phone_number\":\"\xff\"}", strings.Repeat("[", 20000), strings.Repeat(`{"a":`, 5000),
			`{"phone_number":"` + strings.Repeat("9", 60000) + `"}`, `{"mfa_code":"` + strings.Repeat("1", 1000) + `"}`,
			`{"username":"alice","password":"` + pw + `","mfa_code":"x","backup_code":"y"}`,
			`{"username":"bob","password":"` + pw + `","backup_code":"` + strings.Repeat("F", 12) + `"}`,
			"username=alice&password=%zz&mfa_code=%00", "grant_type=password&username=bob&password=" + pw + "&mfa_code=%ff",
			strings.Repeat("x", DefaultMaxBodyBytes+1),
		}
		for _, f := range []string{"phone_number", "mfa_code", "username", "password", "backup_code", "grant_type"} {
			for _, v := range []string{"1", "1.5", "-1", "1e400", "true", "null", "[]", "{}", `"x"`, `""`, `"\u0000"`, `" "`, "99999999999999999999"} {
				bodies = append(bodies, `{"`+f+`":`+v+`}`)
			}
		}
		contentTypes := []string{"application/json", "application/x-www-form-urlencoded", "multipart/form-data",
			"multipart/form-data; boundary=x", "text/plain", "-", "application/json; charset=utf-16", ";;;", "application/vnd.api+json"}
		auths := []string{"", "Token", "Token x", "Token !", "Bearer", "Basic Zm9vOmJhcg==", "Token " + strings.Repeat("A", 5000),
			"Token " + tok, "Token " + mfaTok, "Token \xff", "Token a b c"}
		var paths []string
		for _, e := range endpoints {
			base := "/mfa/" + e.path
			if e.path == "" {
				base = "/mfa"
			}
			paths = append(paths, strings.TrimSuffix(base, "/")+"/", strings.TrimSuffix(base, "/"), base+".json")
		}
		paths = append(paths, "/mfa/x", "/mfa/sms/request/x", "/mfa/%00", "/mfa/..%2F..%2Fetc", "/mfa/"+strings.Repeat("a", 2000))
		methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

		var n int
		send := func(method, path, auth, ct, body string) {
			r, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			if ct != "-" && ct != "" {
				r.Header.Set("Content-Type", ct)
			}
			if strings.Contains(path, "oauth2") && auth == "" {
				r.SetBasicAuth(h.clientID, h.secret)
			}
			res, err := h.srv.Client().Do(r)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			n++
			if res.StatusCode >= 500 {
				t.Fatalf("%s %s (%q, %q, %.40q) answered %d %s", method, path, auth, ct, body, res.StatusCode, raw)
			}
			if method == "HEAD" || res.StatusCode == http.StatusNoContent {
				return
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%s %s: %d not a JSON object: %q", method, path, res.StatusCode, raw)
			}
			if res.StatusCode >= 400 && !deuxErrorShape(m) {
				t.Fatalf("%s %s: %d of an unknown shape: %s", method, path, res.StatusCode, raw)
			}
		}
		for _, p := range paths {
			for _, m := range methods {
				send(m, p, "Token "+tok, "application/json", "{}")
			}
		}
		for _, e := range endpoints {
			p := "/mfa/" + e.path + "/"
			for _, m := range e.methods {
				for _, b := range bodies {
					send(m, p, "Token "+tok, "application/json", b)
				}
				for _, ct := range contentTypes {
					for _, b := range []string{"", "{}", "{", "a=b", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--\r\n"} {
						send(m, p, "Token "+tok, ct, b)
					}
				}
				for _, a := range auths {
					if m == "DELETE" && a == "Token "+mfaTok {
						continue // that one is a success: disabling
					}
					send(m, p, a, "application/json", "{}")
				}
			}
		}
		t.Logf("%d requests, none answered 5xx", n)
		// Nothing changed: alice has nothing, bob has his phone.
		want(t, h.status(tok), 200, bodyOff)
		want(t, h.status(mfaTok), 200, bodyOn("15555550123"))
	}, func(o *twofactor.Options) { o.UserThrottle = 0 })
}

// deuxErrorShape reports whether an error answer has one of deux's shapes:
// {"detail": string or [string]}, {"field": [string], …}, {"backup_code":
// string}, or the OAuth2 endpoint's {"error": …}.
func deuxErrorShape(m map[string]json.RawMessage) bool {
	if len(m) == 0 {
		return false
	}
	if e, ok := m["error"]; ok {
		var s string
		return json.Unmarshal(e, &s) == nil && s != ""
	}
	for k, v := range m {
		var s string
		var list []string
		switch {
		case json.Unmarshal(v, &s) == nil:
			if s == "" || (k != "detail" && k != "backup_code") {
				return false
			}
		case json.Unmarshal(v, &list) == nil:
			if len(list) == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// TestUnavailable: a failing database is a 503 {"detail": …}, logged, and
// the API recovers.
func TestUnavailable(t *testing.T) {
	h := newHarness(t, onSQLite)
	h.allow5xx = true
	h.user("alice")
	tok := h.token("alice")
	if err := h.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := h.status(tok)
	if r.status != 503 || r.str("detail") == "" {
		t.Fatalf("closed database: %d %s", r.status, r)
	}
	if !strings.Contains(h.logs.String(), "deux: service unavailable") {
		t.Fatal("not logged")
	}
}

// TestGatewayDown: a failing SMS provider at sign-in is deux's send failure
// and logged; the sign-in works once it is back.
func TestGatewayDown(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.mfaUser("alice", "15555550123")
		h.clock.Add(2 * time.Minute)
		h.gw.SetError(twofactor.ErrGatewayUnavailable)
		want(t, h.login("alice"), 400, bodySMSFailed)
		if !strings.Contains(h.logs.String(), "deux: message gateway failed") {
			t.Fatal("not logged")
		}
		h.gw.SetError(nil)
		want(t, h.login("alice"), 200, bodyMFARequired)
	})
}

// TestPanic: a bug is a 500 {"detail": …}, logged with its stack.
func TestPanic(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t, onSQLite)
	a, err := New(Config{Service: h.svc, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w := &panicWriter{header: http.Header{}}
	r, _ := http.NewRequest("GET", "/mfa/", nil)
	r.Header.Set("Authorization", "Token x")
	func() {
		defer func() { _ = recover() }()
		a.Handler().ServeHTTP(w, r)
	}()
	if w.status != 500 || !strings.Contains(logs.String(), "deux: panic") {
		t.Fatalf("status %d, log %q", w.status, logs.String())
	}
}

// panicWriter panics the first time its header is asked for, standing in
// for a bug in a view.
type panicWriter struct {
	header http.Header
	asked  bool
	status int
	body   bytes.Buffer
}

func (w *panicWriter) Header() http.Header {
	if !w.asked {
		w.asked = true
		panic("a bug")
	}
	return w.header
}

func (w *panicWriter) WriteHeader(status int) { w.status = status }

func (w *panicWriter) Write(b []byte) (int, error) { return w.body.Write(b) }
