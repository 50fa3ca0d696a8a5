package cli

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor/config"
	"github.com/twofactor/twofactor/internal/app"
	"github.com/twofactor/twofactor/internal/testenv"
)

// cheapEnv keeps password hashing fast in tests.
var cheapEnv = map[string]string{
	"TWOFACTOR_PASSWORD_ARGON2_MEMORY_KIB": "64",
	"TWOFACTOR_PASSWORD_ARGON2_TIME":       "1",
}

// noThrottle turns the backoffs off, for tests that submit several codes
// in a row and are not about throttling.
var noThrottle = map[string]string{
	"TWOFACTOR_THROTTLE_TOTP":   "0",
	"TWOFACTOR_THROTTLE_STATIC": "0",
	"TWOFACTOR_THROTTLE_USER":   "0",
}

// harness runs the CLI in-process against one database with a fixed
// environment.
type harness struct {
	t   *testing.T
	dir string
	db  string // database URL
	env map[string]string
}

// newHarness returns a harness on a new SQLite database in a temporary
// directory, with envs merged into the environment.
func newHarness(t *testing.T, envs ...map[string]string) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, db: "sqlite:" + filepath.Join(dir, "t.db"), env: map[string]string{}}
	for _, e := range append([]map[string]string{cheapEnv}, envs...) {
		for k, v := range e {
			h.env[k] = v
		}
	}
	return h
}

// result is the outcome of one run.
type result struct {
	stdout, stderr string
	code           int
}

// program returns a Program reading stdin and the harness environment.
func (h *harness) program(stdin io.Reader, stdout, stderr io.Writer) *Program {
	env := h.env
	environ := make([]string, 0, len(env))
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	sort.Strings(environ)
	return &Program{
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		LookupEnv: func(name string) (string, bool) { v, ok := env[name]; return v, ok },
		Environ:   environ,
	}
}

// run runs the CLI with args followed by --database, standard input stdin.
func (h *harness) run(stdin string, args ...string) result {
	h.t.Helper()
	args = append(append([]string(nil), args...), "--database", h.db)
	return h.runRaw(stdin, args...)
}

// runRaw runs the CLI with exactly args.
func (h *harness) runRaw(stdin string, args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	code := h.program(strings.NewReader(stdin), &out, &errb).Run(context.Background(), args)
	return result{out.String(), errb.String(), code}
}

// ok runs the command and fails the test unless it exits 0.
func (h *harness) ok(stdin string, args ...string) string {
	h.t.Helper()
	r := h.run(stdin, args...)
	if r.code != 0 {
		h.t.Fatalf("twofactor %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs the command and checks that it exits 1 with exactly want on
// stderr (one line) and nothing on stdout.
func (h *harness) fails(want string, args ...string) {
	h.t.Helper()
	r := h.run("", args...)
	checkFailure(h.t, r, want, args)
}

func checkFailure(t *testing.T, r result, want string, args []string) {
	t.Helper()
	if r.code != 1 || r.stdout != "" || r.stderr != want+"\n" {
		t.Errorf("twofactor %s:\n got exit %d, stdout %q, stderr %q\nwant exit 1, no stdout, stderr %q",
			strings.Join(args, " "), r.code, r.stdout, r.stderr, want+"\n")
	}
}

// createUser creates a user with a password through the CLI.
func (h *harness) createUser(name string) {
	h.t.Helper()
	h.ok("password-"+name+"\n", "user", "create", name, "--password-stdin")
}

// addTOTP adds a TOTP device with key (hex) and returns its device id.
func (h *harness) addTOTP(name, key string, flags ...string) string {
	h.t.Helper()
	out := h.ok("", append([]string{"totp", "add", name, "--key", key}, flags...)...)
	m := regexp.MustCompile(`(?m)^device id: ([a-z2-7]+)$`).FindStringSubmatch(out)
	if m == nil {
		h.t.Fatalf("no device id in:\n%s", out)
	}
	return m[1]
}

// open opens the harness database directly, as the CLI does.
func (h *harness) open() *app.App {
	h.t.Helper()
	cfg, err := config.Load(config.LoadOptions{
		Env:   func(name string) (string, bool) { v, ok := h.env[name]; return v, ok },
		Flags: map[string]string{"database_url": h.db},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { a.Close() })
	return a
}

// oathtool returns the TOTP code of a hex key at now+offset, computed by
// oathtool (Debian package oathtool), independently of our code.
func oathtool(t *testing.T, key string, digits, step int, offset time.Duration) string {
	t.Helper()
	bin := testenv.Command(t, "oathtool", "oathtool")
	at := time.Now().Add(offset).UTC().Format("2006-01-02 15:04:05 UTC")
	out, err := exec.Command(bin, "--totp", "-d", itoa(digits), "-s", itoa(step)+"s", "-N", at, key).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func itoa(n int) string { return strconv.Itoa(n) }

// halfBlocks turns QR lines drawn with Unicode half blocks (glyphs on
// light modules, Terminal(w, false)) into a bitmap of modules, true for
// dark, independently of package qr.
func halfBlocks(t *testing.T, lines []string) [][]bool {
	t.Helper()
	var rows [][]bool
	for _, line := range lines {
		var top, bottom []bool
		for _, r := range line {
			switch r {
			case '█':
				top, bottom = append(top, true), append(bottom, true)
			case '▀':
				top, bottom = append(top, true), append(bottom, false)
			case '▄':
				top, bottom = append(top, false), append(bottom, true)
			case ' ':
				top, bottom = append(top, false), append(bottom, false)
			default:
				t.Fatalf("unexpected %q in the QR code", r)
			}
		}
		rows = append(rows, top, bottom)
	}
	n := len(rows[0])
	rows = rows[:n] // the last half row lies outside an odd-sized image
	img := make([][]bool, n)
	for y := range img {
		if len(rows[y]) != n {
			t.Fatalf("QR row %d has %d modules, want %d", y, len(rows[y]), n)
		}
		img[y] = make([]bool, n)
		for x := range img[y] {
			img[y][x] = !rows[y][x] // a glyph marks a light module
		}
	}
	return img
}

// zbar renders a bitmap as a PNG and decodes it with zbarimg (Debian
// package zbar-tools).
func zbar(t *testing.T, bits [][]bool) string {
	t.Helper()
	bin := testenv.Command(t, "zbarimg", "zbar-tools")
	const scale = 6
	n := len(bits) * scale
	img := image.NewGray(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			v := uint8(0xff)
			if bits[y/scale][x/scale] {
				v = 0
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	file := filepath.Join(t.TempDir(), "qr.png")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command(bin, "--raw", "-q", "--nodbus", "-Sdisable", "-Sqrcode.enable", "-Sqrcode.binary", file).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	return strings.TrimSuffix(string(out), "\n")
}

// TestMain runs the tests in a temporary working directory, so that a
// command falling back to the default database (sqlite:twofactor.db, in the
// working directory) cannot leave files in the source tree.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "twofactor-cli-test-")
	if err != nil {
		panic(err)
	}
	if err := os.Chdir(dir); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
