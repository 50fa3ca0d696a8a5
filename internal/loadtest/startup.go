package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Startup starts `bin serve` runs times on the database at dbURL and
// returns, for each start, the time from just before exec to the first 200
// answer of GET /readyz (polled every 200 µs). Each server is stopped with
// SIGTERM before the next starts. env is added to the environment (a
// secret key for PostgreSQL, for example).
func Startup(ctx context.Context, bin, dbURL string, runs int, env []string) ([]time.Duration, error) {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var out []time.Duration
	for i := 0; i < runs; i++ {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		cmd := exec.CommandContext(ctx, bin, "--database", dbURL, "serve", "--addr", addr)
		cmd.Env = append(os.Environ(), env...)
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		ready := false
		for !ready && time.Since(t0) < 30*time.Second {
			select {
			case err := <-exited:
				return nil, fmt.Errorf("%s serve exited before it was ready: %v", bin, err)
			default:
			}
			resp, err := client.Get("http://" + addr + "/readyz")
			if err == nil {
				resp.Body.Close()
				ready = resp.StatusCode == http.StatusOK
			}
			if !ready {
				time.Sleep(200 * time.Microsecond)
			}
		}
		d := time.Since(t0)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := <-exited; err != nil {
			return nil, fmt.Errorf("%s serve after SIGTERM: %v", bin, err)
		}
		if !ready {
			return nil, fmt.Errorf("%s serve was not ready within 30 s", bin)
		}
		out = append(out, d)
	}
	return out, nil
}

// freeAddr returns a local address with a port nothing listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
