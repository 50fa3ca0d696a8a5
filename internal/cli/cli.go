// Package cli is the command line of twofactor: `twofactor serve` and the
// management commands (users, devices, codes, the database and its key).
//
// Every command exits 0 on success; 1 when the operation fails or the
// configuration is invalid, printing one line `twofactor: <message>` on
// standard error; 2 on a usage error (an unknown command or flag, a missing
// or extra argument, a flag value that does not parse), printing the error
// and the command's usage on standard error. `--help` (or `-h`) on any
// command prints its usage on standard output and exits 0.
//
// Flags may come before or after the positional arguments
// (`twofactor totp add bob --digits 8`). The global flags `--database URL`
// and `--config FILE` are accepted before or after the command name.
// Configuration is read as the config package describes: flags, then the
// environment, then the file, then the defaults. Every command but
// `key generate` and `version` opens the database through app.Open, so it
// applies pending migrations and resolves the secret key first.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"

	"golang.org/x/term"

	"github.com/twofactor/twofactor/config"
	"github.com/twofactor/twofactor/internal/app"
)

// Program is one invocation of the command line with its inputs, outputs and
// environment. [Main] builds one from the process; tests build their own.
type Program struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// LookupEnv reads an environment variable, as os.LookupEnv does. Nil
	// means an empty environment.
	LookupEnv func(name string) (string, bool)
	// Environ is the environment as KEY=VALUE entries, as os.Environ
	// returns it; it is only used to warn about misspelt TWOFACTOR_
	// variables.
	Environ []string
	// Ready, when set, is called by `serve` with the server's URL once it
	// listens.
	Ready func(url string)
}

// Main runs the command line with the process environment and returns the
// exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	p := &Program{Stdin: stdin, Stdout: stdout, Stderr: stderr, LookupEnv: os.LookupEnv, Environ: os.Environ()}
	return p.Run(ctx, args)
}

// Run runs the command line with args (without the program name) and
// returns the exit code: 0 success, 1 failure, 2 usage error.
func (p *Program) Run(ctx context.Context, args []string) (code int) {
	defer func() {
		// A bug must not end in a stack trace: report it on one line.
		if r := recover(); r != nil {
			fmt.Fprintf(p.Stderr, "twofactor: internal error: %s\n", oneLine(fmt.Sprint(r)))
			code = 1
		}
	}()
	return p.exit(p.run(ctx, args))
}

// helpRequest is returned when the user asked for help: the text goes to
// standard output and the exit code is 0.
type helpRequest struct{ text string }

func (h *helpRequest) Error() string { return "help requested" }

// usageError is a mistake in the command line: exit code 2, the message and
// the usage on standard error.
type usageError struct {
	msg   string // "" prints only the usage
	usage string
}

func (e *usageError) Error() string { return e.msg }

// exit reports err and returns the exit code for it.
func (p *Program) exit(err error) int {
	var help *helpRequest
	var usage *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		fmt.Fprint(p.Stdout, help.text)
		return 0
	case errors.As(err, &usage):
		if usage.msg != "" {
			fmt.Fprintf(p.Stderr, "twofactor: %s\n", oneLine(usage.msg))
		}
		fmt.Fprint(p.Stderr, usage.usage)
		return 2
	default:
		fmt.Fprintf(p.Stderr, "twofactor: %s\n", oneLine(message(err)))
		return 1
	}
}

// globals are the flags accepted by every command, before or after its name.
type globals struct {
	database string
	config   string
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.database, "database", config.Default().DatabaseURL, "database `URL`: sqlite:PATH or postgres://… (key database_url)")
	fs.StringVar(&g.config, "config", "", "configuration `FILE` (TOML or YAML)")
}

// flagKeys maps the flags that set configuration keys to their keys.
var flagKeys = map[string]string{
	"database":   "database_url",
	"addr":       "addr",
	"log-format": "log_format",
}

// run parses the command line and runs the command.
func (p *Program) run(ctx context.Context, args []string) error {
	var g globals
	gfs := newFlagSet("twofactor")
	g.register(gfs)
	if err := gfs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &helpRequest{text: commandList()}
		}
		return &usageError{msg: flagError(err), usage: commandList()}
	}
	cmd, rest, err := findCommand(gfs.Args())
	if err != nil {
		return err
	}
	// The command's own copy of the global flags: registering a flag
	// resets its variable, which would lose what gfs parsed.
	var cg globals
	fs := newFlagSet("twofactor " + cmd.name)
	cg.register(fs)
	runCmd := cmd.setup(fs)
	pos, err := parseInterleaved(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		return &helpRequest{text: cmd.usage(fs, true)}
	}
	if err != nil {
		return &usageError{msg: flagError(err), usage: cmd.usage(fs, false)}
	}
	if err := cmd.checkArgs(pos); err != nil {
		return &usageError{msg: err.Error(), usage: cmd.usage(fs, false)}
	}
	if cmd.check != nil {
		if err := cmd.check(fs); err != nil {
			return &usageError{msg: err.Error(), usage: cmd.usage(fs, false)}
		}
	}
	e := &env{p: p, args: pos}
	if cmd.standalone {
		return runCmd(ctx, e)
	}
	file := g.config
	flags := map[string]string{}
	for _, set := range []*flag.FlagSet{gfs, fs} { // after the command wins
		set.Visit(func(f *flag.Flag) {
			if key, ok := flagKeys[f.Name]; ok {
				flags[key] = f.Value.String()
			}
			if f.Name == "config" {
				file = f.Value.String()
			}
		})
	}
	if err := e.open(ctx, file, flags); err != nil {
		return err
	}
	defer e.app.Close()
	return runCmd(ctx, e)
}

// singleDash finds the flag names in the flag package's errors, which it
// writes with one dash ("-digits").
var singleDash = regexp.MustCompile(`(^|[\s:])-([A-Za-z])`)

// flagError is the message of a flag parsing error, with flags written as
// the usage shows them (--digits).
func flagError(err error) string {
	return singleDash.ReplaceAllString(err.Error(), "$1--$2")
}

// newFlagSet returns a flag set that reports errors instead of printing
// them or exiting.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseInterleaved parses fs from args, allowing flags after positional
// arguments: it re-parses what follows each positional argument. A "--"
// ends the flags; everything after it is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// env is what a command runs with: the program, its positional arguments
// and, unless the command is standalone, the configuration and the opened
// application.
type env struct {
	p    *Program
	args []string
	cfg  config.Config
	app  *app.App
}

// open loads the configuration and opens the application (database, key,
// migrations, service).
func (e *env) open(ctx context.Context, file string, flags map[string]string) error {
	e.p.warnUnknownEnv()
	cfg, err := config.Load(config.LoadOptions{File: file, Env: e.p.LookupEnv, Flags: flags})
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg, e.p.logger(cfg.LogFormat))
	if err != nil {
		return err
	}
	e.cfg, e.app = cfg, a
	return nil
}

// warnUnknownEnv warns, one line each, about TWOFACTOR_ variables that
// name no configuration key (the test harness's own variables excepted).
func (p *Program) warnUnknownEnv() {
	for _, name := range config.UnknownEnv(p.Environ) {
		if strings.HasPrefix(name, "TWOFACTOR_TEST_") {
			continue
		}
		fmt.Fprintf(p.Stderr, "twofactor: warning: %s is not a configuration variable; it is ignored\n", name)
	}
}

// logger returns the logger for format: text on a terminal and JSON
// otherwise for "auto", else the format named.
func (p *Program) logger(format string) *slog.Logger {
	text := format == "text" || ((format == "auto" || format == "") && isTerminal(p.Stderr))
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if text {
		return slog.New(slog.NewTextHandler(p.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(p.Stderr, opts))
}

// isTerminal reports whether v is a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// oneLine turns every run of white space (line breaks and tabs included)
// into one space, so that a message stays on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
