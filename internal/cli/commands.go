package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/twofactor/twofactor/config"
)

// command is one entry of the command table.
type command struct {
	name    string // "user create"
	args    string // positional arguments for the usage line: "NAME CODE", "NAME..."
	summary string // one line for the command list
	help    string // more detail for --help; may be empty
	// standalone commands need neither the configuration nor the database.
	standalone bool
	// setup registers the command's own flags and returns the function that
	// runs it with their values.
	setup func(fs *flag.FlagSet) runFunc
	// check, if set, checks the combination of flags once they are parsed,
	// before anything is opened; its error is a usage error (exit 2).
	check func(fs *flag.FlagSet) error
}

// runFunc runs a command.
type runFunc func(ctx context.Context, e *env) error

// commands is the command table: every command, in the order of the
// command list.
var commands = []*command{
	{name: "serve", summary: "run the site, API and metrics; applies migrations first", setup: setupServe,
		help: "Listens on --addr (key addr), logs one line with the URL, the database and the enabled\n" +
			"methods, and shuts down gracefully on SIGINT or SIGTERM. Every configuration key is listed below."},
	{name: "migrate", summary: "apply database migrations and exit", setup: setupMigrate},
	{name: "key generate", standalone: true, summary: "print a new secret_key (32 random bytes as 64 hex characters)",
		setup: setupKeyGenerate},
	{name: "user create", args: "NAME", summary: "create a user", setup: setupUserCreate,
		help: "Without --password-stdin the password is asked twice on the terminal, without echo.\n" +
			"With --password-stdin the first line of standard input is the password."},
	{name: "user passwd", args: "NAME", summary: "set a user's password (ends their remembered browsers)", setup: setupUserPasswd},
	{name: "user list", summary: "list the users: username, email, staff, two-factor", setup: setupUserList},
	{name: "status", args: "NAME...", summary: "print NAME: enabled or NAME: disabled for each user", setup: setupStatus,
		help: "All names are checked first: if one does not exist, nothing is printed."},
	{name: "disable", args: "NAME...", summary: "remove every device, backup code and remembered browser of each user",
		setup: setupDisable, help: "All names are checked first: if one does not exist, nothing is changed."},
	{name: "totp add", args: "NAME", summary: "add a confirmed TOTP device; prints its otpauth:// URI and a QR code",
		setup: setupTOTPAdd,
		help: "Prints the otpauth:// URI, the QR code of it drawn with Unicode half blocks, and the device id.\n" +
			"--key imports an existing key in hexadecimal (10 to 64 bytes). A flag value that is not a\n" +
			"number (--digits x) is a usage error (exit 2); a number out of range (--digits 7, --step 0)\n" +
			"is refused with exit 1 and the reason."},
	{name: "yubikey add", args: "NAME", summary: "add a confirmed YubiKey (Yubico OTP), verified locally or by the validation service",
		setup: setupYubiKeyAdd, check: checkYubiKeyAdd,
		help: "A local key: --public-id MODHEX --private-id HEX --aes-key HEX, the values programmed into the key\n" +
			"(the private id and AES key are stored encrypted). A remote key: --remote --public-id MODHEX, its\n" +
			"OTPs checked by the validation service (yubikey.validation_url, yubikey.api_id, yubikey.api_key,\n" +
			"which must be configured). Prints `added YubiKey (device ID)`. `twofactor verify NAME OTP` then\n" +
			"checks an OTP of the key."},
	{name: "verify", args: "NAME CODE", summary: "verify a code with the full rules (throttle, replay)", setup: setupVerify,
		help: "The code's form picks what it is checked against unless --device does: a YubiKey OTP its key\n" +
			"(by public id), a backup code (letters, or a dash) the backup codes, digits the primary device.\n" +
			"Spaces in CODE are ignored.\n" +
			"Exit 0 and `accepted (device ID, KIND)` when accepted; exit 1 with the reason when not."},
	{name: "backup-codes", args: "NAME", summary: "replace the user's backup codes and print the new ones", setup: setupBackupCodes},
	{name: "devices", args: "NAME", summary: "list the user's devices", setup: setupDevices,
		help: "Columns: id, kind, name, primary, confirmed, last used (RFC 3339 UTC or never), aligned\n" +
			"with spaces under a header line. The backup codes are the device of kind static, named with\n" +
			"the number of unused codes. --json prints an array of objects instead."},
	{name: "oauth2 client create", args: "NAME", summary: "register an OAuth2 client; prints its id and secret (shown once)",
		setup: setupOAuth2ClientCreate,
		help: "Prints `client_id: ID` and `client_secret: SECRET`, or with --json an object with both.\n" +
			"The secret is stored only as a keyed hash: it cannot be shown again."},
	{name: "oauth2 client list", summary: "list the OAuth2 clients: id, name, created", setup: setupOAuth2ClientList},
	{name: "oauth2 client delete", args: "ID", summary: "delete an OAuth2 client and revoke every token issued to it",
		setup: setupOAuth2ClientDelete},
	{name: "version", standalone: true, summary: "print the version", setup: setupVersion},
}

// findCommand finds the command named at the start of args (one word, or a
// group and a subcommand) and returns it with the remaining arguments.
func findCommand(args []string) (*command, []string, error) {
	if len(args) == 0 {
		return nil, nil, &usageError{usage: commandList()}
	}
	name, rest := args[0], args[1:]
	if name == "help" {
		return nil, nil, &helpRequest{text: commandList()}
	}
	// Groups nest ("oauth2 client create"): descend while the words name
	// a group.
	for sub := groupCommands(name); len(sub) > 0; sub = groupCommands(name) {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			groupUsage := groupList(name, sub)
			if len(rest) > 0 && (rest[0] == "-h" || rest[0] == "-help" || rest[0] == "--help") {
				return nil, nil, &helpRequest{text: groupUsage}
			}
			return nil, nil, &usageError{msg: fmt.Sprintf("%s: missing subcommand", name), usage: groupUsage}
		}
		full := name + " " + rest[0]
		for _, c := range sub {
			if c.name == full {
				return c, rest[1:], nil
			}
		}
		if len(groupCommands(full)) == 0 {
			return nil, nil, &usageError{msg: fmt.Sprintf("unknown command %q", full), usage: groupList(name, sub)}
		}
		name, rest = full, rest[1:]
	}
	for _, c := range commands {
		if c.name == name {
			return c, rest, nil
		}
	}
	return nil, nil, &usageError{msg: fmt.Sprintf("unknown command %q", name), usage: commandList()}
}

// groupCommands returns the commands of a group such as "user".
func groupCommands(group string) []*command {
	var out []*command
	for _, c := range commands {
		if strings.HasPrefix(c.name, group+" ") {
			out = append(out, c)
		}
	}
	return out
}

// commandList is the usage of twofactor itself: the commands.
func commandList() string {
	var b strings.Builder
	b.WriteString("usage: twofactor [--database URL] [--config FILE] COMMAND [ARGS] [FLAGS]\n\ncommands:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	tw.Flush()
	b.WriteString("\nRun `twofactor COMMAND --help` for the flags of a command.\n")
	return b.String()
}

// groupList is the usage of a group of commands.
func groupList(group string, cmds []*command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: twofactor %s SUBCOMMAND [ARGS] [FLAGS]\n\nsubcommands:\n", group)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range cmds {
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	tw.Flush()
	return b.String()
}

// usage returns the command's usage: the synopsis and its flags, and with
// full, the help text (and for serve every configuration key).
func (c *command) usage(fs *flag.FlagSet, full bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: twofactor %s [FLAGS]\n", strings.TrimSpace(c.name+" "+c.args))
	if full {
		fmt.Fprintf(&b, "\n%s.\n", upperFirst(c.summary))
		if c.help != "" {
			fmt.Fprintf(&b, "%s\n", c.help)
		}
	}
	b.WriteString("\nflags:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	sort.SliceStable(flags, func(i, j int) bool { return isGlobal(flags[j].Name) && !isGlobal(flags[i].Name) })
	for _, f := range flags {
		arg, text := flag.UnquoteUsage(f)
		spec := "--" + f.Name
		if arg != "" {
			spec += " " + arg
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			text += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", spec, text)
	}
	fmt.Fprintf(tw, "  %s\t%s\n", "-h, --help", "print this help")
	tw.Flush()
	if full && c.name == "serve" {
		b.WriteString("\nconfiguration keys (flags > environment > --config file > defaults):\n")
		_ = config.Usage(&b)
	}
	return b.String()
}

func isGlobal(name string) bool { return name == "database" || name == "config" }

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// checkArgs checks the number of positional arguments against c.args.
func (c *command) checkArgs(pos []string) error {
	want := strings.Fields(c.args)
	variadic := len(want) > 0 && strings.HasSuffix(want[len(want)-1], "...")
	if len(pos) < len(want) {
		return fmt.Errorf("missing argument %s", strings.TrimSuffix(want[len(pos)], "..."))
	}
	if !variadic && len(pos) > len(want) {
		return fmt.Errorf("unexpected argument %q", pos[len(want)])
	}
	return nil
}

// errNoBuiltinUsers is returned when the service does not keep its own users.
var errNoBuiltinUsers = errors.New("user management needs the built-in users")
