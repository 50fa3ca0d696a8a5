package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/internal/metrics"
)

func TestMetrics(t *testing.T) {
	m := metrics.New()
	hook := m.Hook()
	ctx := context.Background()
	hook(ctx, twofactor.Event{Kind: twofactor.EventUserVerified, DeviceKind: twofactor.KindTOTP})
	hook(ctx, twofactor.Event{Kind: twofactor.EventVerificationFailed, DeviceKind: twofactor.KindTOTP})
	hook(ctx, twofactor.Event{Kind: twofactor.EventVerificationFailed, DeviceKind: twofactor.KindStatic})
	hook(ctx, twofactor.Event{Kind: twofactor.EventThrottled, DeviceKind: twofactor.KindTOTP})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /devices/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := m.Middleware(mux)
	for _, p := range []string{"/devices/abc", "/devices/def", "/nowhere"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	out := string(body)
	for _, want := range []string{
		`twofactor_verifications_total{kind="totp",outcome="success"} 1`,
		`twofactor_verifications_total{kind="totp",outcome="failure"} 1`,
		`twofactor_verifications_total{kind="static",outcome="failure"} 1`,
		`twofactor_throttled_total{kind="totp"} 1`,
		`twofactor_events_total{event="verification_failed"} 2`,
		`twofactor_http_request_duration_seconds_count{method="GET",route="GET /devices/{id}",status="4xx"} 2`,
		`twofactor_http_request_duration_seconds_count{method="GET",route="unmatched",status="4xx"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(out, "abc") || strings.Contains(out, "def") {
		t.Error("a path id leaked into a label")
	}
}
