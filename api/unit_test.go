package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

// TestCoreProblem: every core code has its status, in one mapping.
func TestCoreProblem(t *testing.T) {
	now := start
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{&twofactor.Error{Code: twofactor.CodeInvalidCredentials}, 401, "invalid_credentials"},
		{&twofactor.Error{Code: twofactor.CodeMFARequired}, 401, "mfa_required"},
		{&twofactor.Error{Code: twofactor.CodeInvalidCode}, 400, "invalid_code"},
		{&twofactor.Error{Code: twofactor.CodeThrottled, RetryAt: now.Add(1500 * time.Millisecond)}, 429, "throttled"},
		{&twofactor.Error{Code: twofactor.CodeStepUpRequired}, 403, "step_up_required"},
		{&twofactor.Error{Code: twofactor.CodeNotFound}, 404, "not_found"},
		{&twofactor.Error{Code: twofactor.CodeValidationFailed, Field: "name"}, 400, "validation_failed"},
		{&twofactor.Error{Code: twofactor.CodeConflict}, 409, "conflict"},
		{&twofactor.Error{Code: twofactor.CodeExpired}, 410, "expired"},
		{&twofactor.Error{Code: twofactor.CodeNoDevice}, 409, "no_device"},
		{&twofactor.Error{Code: twofactor.CodeUnavailable}, 503, "unavailable"},
		{&twofactor.Error{Code: "added_later"}, 400, "added_later"},
		{errors.New("disk on fire"), 503, "unavailable"},
		{fmt.Errorf("wrapped: %w", &twofactor.Error{Code: twofactor.CodeNotFound}), 404, "not_found"},
	}
	for _, tt := range tests {
		p := coreProblem(tt.err, now, nil)
		if p.Status != tt.status || p.Code != tt.code || p.Type != ProblemTypeBase+tt.code || p.Title == "" {
			t.Errorf("%v → %d %s %q %q, want %d %s", tt.err, p.Status, p.Code, p.Type, p.Title, tt.status, tt.code)
		}
		if (p.Status == 401) != (p.wwwAuthenticate != "") {
			t.Errorf("%v: WWW-Authenticate %q", tt.err, p.wwwAuthenticate)
		}
		if strings.Contains(p.Detail, "disk on fire") {
			t.Errorf("an internal cause reached the detail: %q", p.Detail)
		}
	}
	if p := coreProblem(tests[3].err, now, nil); p.RetryAfter != 2 {
		t.Errorf("retry_after %d, want 2 (rounded up)", p.RetryAfter)
	}
	p := coreProblem(&twofactor.Error{Code: twofactor.CodeValidationFailed, Field: "code", Message: "m"}, now, map[string]string{"code": "backup_code"})
	if p.Field != "backup_code" || len(p.Errors) != 1 || p.Errors[0].Field != "backup_code" {
		t.Errorf("renamed field: %+v", p)
	}
	// Every code the core defines has a status and a title.
	for _, c := range []twofactor.Code{twofactor.CodeInvalidCredentials, twofactor.CodeMFARequired, twofactor.CodeInvalidCode,
		twofactor.CodeThrottled, twofactor.CodeStepUpRequired, twofactor.CodeNotFound, twofactor.CodeValidationFailed,
		twofactor.CodeConflict, twofactor.CodeExpired, twofactor.CodeNoDevice, twofactor.CodeUnavailable} {
		if _, ok := statusOf[c]; !ok || titles[string(c)] == "" {
			t.Errorf("code %s has no status or title", c)
		}
	}
}

// TestRecover: a panic (a bug) is a logged 500 problem, not a dropped
// connection.
func TestRecover(t *testing.T) {
	h := newHarness(t, onSQLite)
	rec := httptest.NewRecorder()
	h.api.recover(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })).
		ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/mfa", nil))
	if rec.Code != 500 || rec.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(rec.Body.String(), CodeInternal) {
		t.Fatalf("panic answered %d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if !strings.Contains(h.logs.String(), "boom") {
		t.Errorf("panic not logged: %s", h.logs)
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without a service succeeded")
	}
	h := newHarness(t, onSQLite)
	if _, err := New(Config{Service: h.svc, MaxBodyBytes: -1}); err == nil {
		t.Error("New with a negative body limit succeeded")
	}
	a, err := New(Config{Service: h.svc, MaxBodyBytes: 10, Issuer: "Example", Logger: slogTo(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(`{"username":"alice","password":"x"}`))
	r.Header.Set("Content-Type", "application/json")
	a.Handler().ServeHTTP(rec, r)
	if rec.Code != 413 {
		t.Errorf("a body over MaxBodyBytes answered %d", rec.Code)
	}
	if got := a.issuerFor(httptest.NewRequest("GET", "http://host.example:8000/", nil)); got != "Example" {
		t.Errorf("issuer %q, want the configured one", got)
	}
}

func TestIssuerFor(t *testing.T) {
	a := &API{}
	for host, want := range map[string]string{
		"example.com":      "example.com",
		"example.com:8443": "example.com",
		"[::1]:8000":       "::1",
		"":                 "twofactor",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		if got := a.issuerFor(r); got != want {
			t.Errorf("host %q: issuer %q, want %q", host, got, want)
		}
	}
}

// TestDestinations: every device representation shows the core's masked
// destination, never the number or address itself.
func TestDestinations(t *testing.T) {
	tests := []struct {
		kind twofactor.Kind
		dst  string
		want string
	}{
		{twofactor.KindTOTP, "", ""},
		{twofactor.KindTOTP, "ignored", ""},
		{twofactor.KindSMS, "+31612345667", "+31 * ******67"},
		{twofactor.KindCall, "+15555550199", "+1 ***-***-**99"},
		{twofactor.KindEmail, "bobbie@example.com", "b****e@example.com"},
		{twofactor.KindYubiKey, "ccccccbcgujh", ""},
	}
	for _, tt := range tests {
		d := &twofactor.Device{Kind: tt.kind, Destination: tt.dst}
		if got := deviceOf(d).Destination; got != d.MaskedDestination() || (tt.want != "" && got != tt.want) || (tt.want == "" && got != "") {
			t.Errorf("%s %q → %q, want %q", tt.kind, tt.dst, got, tt.want)
		}
		if got := methodOf(d).Destination; got != d.MaskedDestination() {
			t.Errorf("method %s %q → %q", tt.kind, tt.dst, got)
		}
		if tt.dst != "" && tt.kind != twofactor.KindTOTP && strings.Contains(deviceOf(d).Destination, tt.dst) {
			t.Errorf("%s %q shown unmasked", tt.kind, tt.dst)
		}
	}
}

func TestIsToken68(t *testing.T) {
	for s, want := range map[string]bool{
		"abc": true, "a-b.c_d~e+f/g": true, "abc==": true, "YWJj": true,
		"": false, "=": false, "a=b": false, "a b": false, "a\"b": false, "é": false, "a,b": false,
	} {
		if isToken68(s) != want {
			t.Errorf("isToken68(%q) = %v", s, !want)
		}
	}
}

func TestPosition(t *testing.T) {
	body := []byte("{\n  \"a\": x\n}")
	for off, want := range map[int64]string{
		0:   "line 1, column 1 (byte 0)",
		2:   "line 2, column 1 (byte 2)",
		9:   "line 2, column 8 (byte 9)",
		100: "line 3, column 2 (byte 12)",
		-5:  "line 1, column 1 (byte 0)",
	} {
		if got := position(body, off); got != want {
			t.Errorf("position(%d) = %q, want %q", off, got, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("héllo", 2); got != "h…" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("abc", 5); got != "abc" {
		t.Errorf("truncate = %q", got)
	}
}
