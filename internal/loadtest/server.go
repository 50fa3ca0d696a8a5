package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twofactor/twofactor/config"
	"github.com/twofactor/twofactor/internal/app"
	"github.com/twofactor/twofactor/internal/server"
)

// Environment of the server process started by [Run] (see [ServeMain]).
const (
	// EnvServe selects the server process's target: TargetVerify or
	// TargetHello. A program whose environment has it set runs ServeMain.
	EnvServe = "LOADTEST_SERVE"
	// envDatabase and envSecretKey configure the verify server.
	envDatabase  = "LOADTEST_DATABASE_URL"
	envSecretKey = "LOADTEST_SECRET_KEY"
	// envPprof asks the server process to serve net/http/pprof on a second
	// local port.
	envPprof = "LOADTEST_PPROF"
)

// Lines the server process prints on its standard output.
const (
	lineListening = "listening "
	linePprof     = "pprof "
)

// serverProc is a running server: in a process of its own or in this one.
type serverProc struct {
	url, pprof string
	cmd        *exec.Cmd     // nil in process
	stopFn     func()        // in process
	exited     chan struct{} // closed when the process has exited
}

// start starts the server the options ask for.
func start(ctx context.Context, o Options, cfg config.Config, env []string) (*serverProc, error) {
	if o.InProcess {
		return startInProcess(ctx, o.Target, cfg)
	}
	cmd := o.Command()
	cmd.Env = append(append(os.Environ(), env...), EnvServe+"="+o.Target)
	if o.CPUProfile != "" {
		cmd.Env = append(cmd.Env, envPprof+"=1")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the server process: %w", err)
	}
	p := &serverProc{cmd: cmd, exited: make(chan struct{})}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		line := lines.Text()
		if v, ok := strings.CutPrefix(line, linePprof); ok {
			p.pprof = v
		}
		if v, ok := strings.CutPrefix(line, lineListening); ok {
			p.url = v
			break
		}
	}
	go func() {
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		close(p.exited)
	}()
	if p.url == "" {
		p.stop()
		return nil, errors.New("the server process exited before listening")
	}
	return p, nil
}

// stop stops the server and waits for it.
func (p *serverProc) stop() {
	if p.cmd == nil {
		p.stopFn()
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// pid is the server's process id.
func (p *serverProc) pid() int {
	if p.cmd == nil {
		return os.Getpid()
	}
	return p.cmd.Process.Pid
}

// cpu returns the server process's CPU time so far (user + system).
func (p *serverProc) cpu() time.Duration { return processCPU(p.pid()) }

// processCPU returns a process's CPU time so far (user + system).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses: state is
	// field 3, utime 14 and stime 15.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks
}

// peakRSS returns the server's VmHWM in bytes and where it was read.
func (p *serverProc) peakRSS() (int64, string) {
	where := fmt.Sprintf("VmHWM of the server process (/proc/%d/status)", p.pid())
	if p.cmd == nil {
		where = "VmHWM of this process, which also ran the clients and the enrolment"
	}
	return vmHWM(p.pid()), where
}

// vmHWM reads a process's peak resident set size.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// startInProcess serves target from this process.
func startInProcess(ctx context.Context, target string, cfg config.Config) (*serverProc, error) {
	h, cleanup, err := handler(ctx, target, cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cleanup()
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: server.ReadHeaderTimeout}
	go func() { _ = srv.Serve(ln) }()
	return &serverProc{url: "http://" + ln.Addr().String(), stopFn: func() {
		_ = srv.Close()
		cleanup()
	}}, nil
}

// handler returns the handler of a target and what closes it.
func handler(ctx context.Context, target string, cfg config.Config) (http.Handler, func(), error) {
	switch target {
	case TargetHello:
		return http.HandlerFunc(hello), func() {}, nil
	case TargetVerify:
		a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err != nil {
			return nil, nil, err
		}
		h, err := server.New(a)
		if err != nil {
			a.Close()
			return nil, nil, err
		}
		return h, func() { a.Close() }, nil
	}
	return nil, nil, fmt.Errorf("unknown target %q", target)
}

// helloAnswer has the size of a real token answer.
var helloAnswer = []byte(`{"token":"` + strings.Repeat("x", 43) + `","token_type":"Bearer","mfa":true,"expires_at":"2030-01-01T00:00:00Z"}` + "\n")

// hello is the plain net/http handler: it reads the body and answers a
// fixed token.
func hello(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(helloAnswer)
}

// ServeMain is the server process of a run: the program that Options.Command
// starts calls it when its environment has EnvServe. It serves the target on
// 127.0.0.1 with a port of its own, prints "listening URL" on its standard
// output, and stops on SIGTERM or SIGINT. The verify target is what
// `twofactor serve` runs (server.Run on internal/app), configured by the
// environment Run passes: the defaults with the given database and key and
// the per-address sign-in limit off.
func ServeMain() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	target := os.Getenv(EnvServe)
	if os.Getenv(envPprof) != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.Handle("/debug/pprof/heap", pprof.Handler("heap"))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		go func() { _ = http.Serve(ln, mux) }()
		fmt.Println(linePprof + "http://" + ln.Addr().String())
	}
	if target == TargetVerify {
		cfg := config.Default()
		cfg.DatabaseURL, cfg.SecretKey = os.Getenv(envDatabase), os.Getenv(envSecretKey)
		cfg.RateLimit.SignIn = config.Rate{}
		a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err != nil {
			return err
		}
		defer a.Close()
		return server.Run(ctx, a, "127.0.0.1:0", func(u string) { fmt.Println(lineListening + u) })
	}
	h, cleanup, err := handler(ctx, target, config.Config{})
	if err != nil {
		return err
	}
	defer cleanup()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: server.ReadHeaderTimeout}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Println(lineListening + "http://" + ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// fetchProfile saves a CPU profile of secs seconds from a pprof endpoint.
func fetchProfile(base string, secs int, path string) error {
	return fetch(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs), path)
}

// fetch saves what a GET of url answers to the file at path.
func fetch(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
