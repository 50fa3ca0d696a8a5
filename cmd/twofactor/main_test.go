package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runMainVar makes the test binary run main instead of the tests, so the
// tests can run the real program (exit codes, signals) as a subprocess.
const runMainVar = "TWOFACTOR_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainVar) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// command returns the program as a subprocess with args.
func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), runMainVar+"=1",
		"TWOFACTOR_PASSWORD_ARGON2_MEMORY_KIB=64", "TWOFACTOR_PASSWORD_ARGON2_TIME=1")
	return cmd
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestExitCodes(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "t.db")
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, 2, "usage: twofactor"},
		{[]string{"bogus"}, 2, `twofactor: unknown command "bogus"`},
		{[]string{"status", "nobody", "--database", db}, 1, `twofactor: user "nobody" does not exist`},
		{[]string{"migrate", "--database", db}, 0, ""},
		{[]string{"key", "generate"}, 0, ""},
	}
	for _, tt := range tests {
		var stderr strings.Builder
		cmd := command(t, tt.args...)
		cmd.Stderr = &stderr
		err := cmd.Run()
		if code := exitCode(err); code != tt.code || !strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("twofactor %q: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr.String(), tt.code, tt.stderr)
		}
	}
}

// TestServeStopsOnSIGTERM runs `twofactor serve` and stops it with SIGTERM:
// it shuts down gracefully and exits 0.
func TestServeStopsOnSIGTERM(t *testing.T) {
	cmd := command(t, "serve", "--addr", "127.0.0.1:0", "--log-format", "json",
		"--database", "sqlite:"+filepath.Join(t.TempDir(), "t.db"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "twofactor is serving" {
				urls <- line.URL
			}
		}
		close(urls)
	}()
	var url string
	select {
	case url = <-urls:
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not log its URL")
	}
	if url == "" {
		t.Fatal("serve exited before serving")
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if code := exitCode(err); code != 0 {
			t.Errorf("serve exited %d after SIGTERM, want 0", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
}
