package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
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

func TestServe(t *testing.T) {
	h := newHarness(t)
	var stdout, stderr syncBuffer
	p := h.program(strings.NewReader(""), &stdout, &stderr)
	ready := make(chan string, 1)
	p.Ready = func(url string) { ready <- url }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- p.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json", "--database", h.db})
	}()

	var url string
	select {
	case url = <-ready:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not become ready")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, body)
		}
	}
	logs := stderr.String()
	for _, want := range []string{`"msg":"twofactor is serving"`, `"url":"` + url + `"`, `"database":"sqlite `, `"methods":"totp, backup codes"`,
		"twofactor user create NAME --staff"} {
		if !strings.Contains(logs, want) {
			t.Errorf("start-up logs lack %q:\n%s", want, logs)
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d after cancel: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("the server still answers after stopping")
	}
	if stdout.String() != "" {
		t.Errorf("serve wrote to stdout: %q", stdout.String())
	}
}

func TestServeAddressInUse(t *testing.T) {
	h := newHarness(t)
	var stdout, stderr syncBuffer
	p := h.program(strings.NewReader(""), &stdout, &stderr)
	ready := make(chan string, 1)
	p.Ready = func(url string) { ready <- url }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- p.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--database", h.db}) }()
	url := <-ready
	defer func() { cancel(); <-done }()

	r := h.run("", "serve", "--addr", strings.TrimPrefix(url, "http://"))
	if r.code != 1 || !strings.Contains(r.stderr, "twofactor: listen on 127.0.0.1:") {
		t.Errorf("second serve on the same address: exit %d, stderr %q", r.code, r.stderr)
	}
}
