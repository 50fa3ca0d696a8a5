// Package metrics exposes twofactor's Prometheus metrics: verifications by
// device kind and outcome, throttling refusals, and request latency by route.
// It learns about verifications through the core's event hooks, so every
// front end is counted the same way, and it never records a user, code or
// address in a label.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/twofactor/twofactor"
)

// Metrics holds the collectors of one server.
type Metrics struct {
	reg           *prometheus.Registry
	verifications *prometheus.CounterVec
	throttled     *prometheus.CounterVec
	events        *prometheus.CounterVec
	requests      *prometheus.HistogramVec
}

// New returns metrics registered in a registry of their own (with the Go
// runtime and process collectors).
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twofactor_verifications_total",
			Help: "Second-factor verifications by device kind and outcome (success, failure).",
		}, []string{"kind", "outcome"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twofactor_throttled_total",
			Help: "Attempts refused by a throttle, by device kind (\"\" for the per-address sign-in limit).",
		}, []string{"kind"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twofactor_events_total",
			Help: "Security events by kind (the audit trail's kinds).",
		}, []string{"event"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "twofactor_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern, method and status class.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method", "status"}),
	}
	m.reg.MustRegister(m.verifications, m.throttled, m.events, m.requests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Hook counts the core's events; register it in twofactor.Config.Hooks.
func (m *Metrics) Hook() twofactor.Hook {
	return func(_ context.Context, e twofactor.Event) {
		m.events.WithLabelValues(string(e.Kind)).Inc()
		switch e.Kind {
		case twofactor.EventUserVerified:
			m.verifications.WithLabelValues(string(e.DeviceKind), "success").Inc()
		case twofactor.EventVerificationFailed:
			m.verifications.WithLabelValues(string(e.DeviceKind), "failure").Inc()
		case twofactor.EventThrottled:
			m.throttled.WithLabelValues(string(e.DeviceKind)).Inc()
		}
	}
}

// Middleware observes the latency of every request, labelled with the
// route pattern the ServeMux matched (never the raw path, so labels stay
// few and carry no ids).
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.status/100)+"xx").Observe(time.Since(start).Seconds())
	})
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
