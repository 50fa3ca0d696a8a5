package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/twofactor/twofactor"
)

// lookupUser returns the user named name; a missing one is an error that
// prints `user "NAME" does not exist`.
func (e *env) lookupUser(ctx context.Context, name string) (*twofactor.User, error) {
	u, err := e.app.Service.Users().UserByName(ctx, name)
	if errors.Is(err, twofactor.ErrNotFound) {
		return nil, forUser(name, errUnknownUser)
	}
	if err != nil {
		return nil, forUser(name, fmt.Errorf("look up user %q: %w", name, err))
	}
	return u, nil
}

// lookupUsers returns the users named, checking them all before anything
// is done: the first unknown name is the error.
func (e *env) lookupUsers(ctx context.Context, names []string) ([]*twofactor.User, error) {
	users := make([]*twofactor.User, 0, len(names))
	for _, name := range names {
		u, err := e.lookupUser(ctx, name)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

// builtin returns the service's built-in users.
func (e *env) builtin() (*twofactor.BuiltinUsers, error) {
	b := e.app.Service.Builtin()
	if b == nil {
		return nil, errNoBuiltinUsers
	}
	return b, nil
}

// setupUserCreate: twofactor user create NAME [--email E] [--staff] [--password-stdin].
func setupUserCreate(fs *flag.FlagSet) runFunc {
	email := fs.String("email", "", "the user's email `ADDRESS`")
	staff := fs.Bool("staff", false, "the user may use the staff console")
	stdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	return func(ctx context.Context, e *env) error {
		name := e.args[0]
		b, err := e.builtin()
		if err != nil {
			return err
		}
		// Refuse what is bound to fail before asking for a password.
		if err := twofactor.ValidateUsername(name); err != nil {
			return forUser(name, err)
		}
		if _, err := e.lookupUser(ctx, name); err == nil {
			return forUser(name, &twofactor.Error{Code: twofactor.CodeConflict, Field: "username"})
		} else if !errors.Is(err, errUnknownUser) {
			return err
		}
		pw, err := e.p.readPassword(ctx, *stdin)
		if err != nil {
			return err
		}
		if _, err := b.Create(ctx, twofactor.NewUser{Username: name, Email: *email, Password: pw, Staff: *staff}); err != nil {
			return forUser(name, err)
		}
		fmt.Fprintf(e.p.Stdout, "created user %q\n", name)
		return nil
	}
}

// setupUserPasswd: twofactor user passwd NAME [--password-stdin].
func setupUserPasswd(fs *flag.FlagSet) runFunc {
	stdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	return func(ctx context.Context, e *env) error {
		u, err := e.lookupUser(ctx, e.args[0])
		if err != nil {
			return err
		}
		pw, err := e.p.readPassword(ctx, *stdin)
		if err != nil {
			return err
		}
		if err := e.app.Service.SetPassword(ctx, u.ID, pw); err != nil {
			return forUser(u.Username, err)
		}
		fmt.Fprintf(e.p.Stdout, "password changed for user %q\n", u.Username)
		return nil
	}
}

// userJSON is one user in `user list --json`.
type userJSON struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Staff    bool   `json:"staff"`
	Active   bool   `json:"active"`
	Enabled  bool   `json:"enabled"`
}

// setupUserList: twofactor user list [--json].
func setupUserList(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print a JSON array")
	return func(ctx context.Context, e *env) error {
		b, err := e.builtin()
		if err != nil {
			return err
		}
		users, _, err := b.List(ctx, twofactor.UserQuery{})
		if err != nil {
			return err
		}
		out := make([]userJSON, 0, len(users))
		for _, u := range users {
			on, err := e.app.Service.Enabled(ctx, u.ID)
			if err != nil {
				return forUser(u.Username, err)
			}
			out = append(out, userJSON{Username: u.Username, Email: u.Email, Staff: u.Staff, Active: u.Active, Enabled: on})
		}
		if *asJSON {
			return writeJSON(e.p.Stdout, out)
		}
		tw := tabwriter.NewWriter(e.p.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tEMAIL\tSTAFF\tTWO-FACTOR")
		for _, u := range out {
			email := u.Email
			if email == "" {
				email = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Username, email, yesNo(u.Staff), enabledText(u.Enabled))
		}
		return tw.Flush()
	}
}

// maxPasswordInput bounds what is read from standard input for a password;
// the core refuses passwords longer than 1024 bytes anyway.
const maxPasswordInput = 64 << 10

// readPassword reads a new password: the first line of standard input with
// fromStdin, else twice from the terminal without echo.
func (p *Program) readPassword(ctx context.Context, fromStdin bool) (string, error) {
	if fromStdin {
		return readFirstLine(p.Stdin)
	}
	f, ok := p.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("standard input is not a terminal: use --password-stdin to read the password from it")
	}
	pw, err := p.prompt(ctx, f, "Password: ")
	if err != nil {
		return "", err
	}
	again, err := p.prompt(ctx, f, "Password (again): ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the passwords do not match")
	}
	return pw, nil
}

// readFirstLine returns the first line of r without its line ending.
func readFirstLine(r io.Reader) (string, error) {
	if r == nil {
		return "", errors.New("no password on standard input")
	}
	line, err := bufio.NewReader(io.LimitReader(r, maxPasswordInput)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

// prompt asks for a password on the terminal f without echo. An interrupt
// (ctx cancelled) restores the terminal and gives up.
func (p *Program) prompt(ctx context.Context, f *os.File, label string) (string, error) {
	fd := int(f.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("terminal: %w", err)
	}
	fmt.Fprint(p.Stderr, label)
	type result struct {
		pw  []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		pw, err := term.ReadPassword(fd)
		done <- result{pw, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(p.Stderr)
		if r.err != nil {
			return "", fmt.Errorf("read the password: %w", r.err)
		}
		return string(r.pw), nil
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(p.Stderr)
		return "", errors.New("interrupted")
	}
}

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func enabledText(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}
