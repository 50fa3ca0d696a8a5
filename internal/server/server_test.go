package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofactor/twofactor/config"
	"github.com/twofactor/twofactor/internal/app"
	"github.com/twofactor/twofactor/store"
)

// openApp opens an application on a new SQLite database, logging to log.
func openApp(t *testing.T, log io.Writer) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "t.db")
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func get(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

func TestHandler(t *testing.T) {
	a := openApp(t, io.Discard)
	h, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/healthz", 200, "ok\n"},
		{"GET", "/readyz", 200, "ok\n"},
		{"HEAD", "/healthz", 200, ""},
		{"POST", "/healthz", 405, ""},
		{"GET", "/nope", 404, ""},
	}
	for _, tt := range tests {
		status, body := get(t, h, tt.method, tt.path)
		if status != tt.status || (tt.body != "" && body != tt.body) {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, status, body, tt.status, tt.body)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}

	// A closed store is not ready; the process is still alive.
	a.Store.Close()
	if status, body := get(t, h, "GET", "/readyz"); status != 503 || body != "database unavailable\n" {
		t.Errorf("readyz with a closed store = %d %q, want 503", status, body)
	}
	if status, _ := get(t, h, "GET", "/healthz"); status != 200 {
		t.Errorf("healthz with a closed store = %d, want 200", status)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunGracefulShutdown checks that a request in flight when shutdown
// starts still completes, and that Run then returns nil.
func TestRunGracefulShutdown(t *testing.T) {
	var logs syncBuffer
	a := openApp(t, &logs)
	started := make(chan struct{})
	mux := http.NewServeMux()
	if err := routes(mux, a); err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, a, "127.0.0.1:0", mux, func(u string) { ready <- u }) }()
	url := <-ready

	type reply struct {
		body string
		err  error
	}
	replies := make(chan reply, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			replies <- reply{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		replies <- reply{string(b), err}
	}()
	<-started
	cancel()
	r := <-replies
	if r.err != nil || r.body != "done" {
		t.Errorf("in-flight request: %q, %v; want it to finish", r.body, r.err)
	}
	if err := <-errc; err != nil {
		t.Errorf("Run = %v, want nil after a graceful shutdown", err)
	}
	out := logs.String()
	for _, want := range []string{"twofactor is serving", "url=" + url, `database="sqlite `, `methods="totp, backup codes"`,
		"there are no users yet; create the first one with: twofactor user create NAME --staff", "stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
}

func TestRunListenError(t *testing.T) {
	a := openApp(t, io.Discard)
	err := Run(context.Background(), a, "256.0.0.1:1", nil)
	if err == nil || !strings.HasPrefix(err.Error(), "listen on 256.0.0.1:1: ") {
		t.Errorf("Run on a bad address = %v", err)
	}
}

func TestDatabase(t *testing.T) {
	tests := []struct {
		url  string
		want string
	}{
		{"sqlite:twofactor.db", "sqlite twofactor.db"},
		{"postgres://tf:hunter2@db.example:5432/twofactor?sslmode=require&password=hunter2", "postgres tf@db.example:5432/twofactor"},
		{"postgresql://db.example/tf", "postgres db.example/tf"},
	}
	for _, tt := range tests {
		target, err := store.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		got := Database(target)
		if got != tt.want || strings.Contains(got, "hunter2") {
			t.Errorf("Database(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestListenURL(t *testing.T) {
	tests := map[string]string{
		"127.0.0.1:8000": "http://127.0.0.1:8000",
		"0.0.0.0:8000":   "http://localhost:8000",
		"[::]:8000":      "http://localhost:8000",
		"[::1]:8000":     "http://[::1]:8000",
	}
	for addr, want := range tests {
		a, err := netResolve(addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := listenURL(a); got != want {
			t.Errorf("listenURL(%s) = %q, want %q", addr, got, want)
		}
	}
}

func netResolve(addr string) (net.Addr, error) { return net.ResolveTCPAddr("tcp", addr) }

// TestMetricsEndpoint: /metrics serves Prometheus text, counts requests by
// route pattern and the core's verification events.
func TestMetricsEndpoint(t *testing.T) {
	a := openApp(t, io.Discard)
	h, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, `twofactor_http_request_duration_seconds_count{method="GET",route="GET /healthz",status="2xx"} 1`) {
		t.Fatalf("metrics: %d\n%s", rec.Code, body)
	}
}
