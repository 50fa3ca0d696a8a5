package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/otp"
	"github.com/twofactor/twofactor/qr"
)

// statusJSON is one user in `status --json`.
type statusJSON struct {
	User    string `json:"user"`
	Enabled bool   `json:"enabled"`
}

// setupStatus: twofactor status NAME... [--json].
func setupStatus(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, `print [{"user":…,"enabled":…},…]`)
	return func(ctx context.Context, e *env) error {
		users, err := e.lookupUsers(ctx, e.args)
		if err != nil {
			return err
		}
		out := make([]statusJSON, 0, len(users))
		for _, u := range users {
			on, err := e.app.Service.Enabled(ctx, u.ID)
			if err != nil {
				return forUser(u.Username, err)
			}
			out = append(out, statusJSON{User: u.Username, Enabled: on})
		}
		if *asJSON {
			return writeJSON(e.p.Stdout, out)
		}
		for _, s := range out {
			fmt.Fprintf(e.p.Stdout, "%s: %s\n", s.User, enabledText(s.Enabled))
		}
		return nil
	}
}

// setupDisable: twofactor disable NAME...
func setupDisable(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env) error {
		users, err := e.lookupUsers(ctx, e.args)
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := e.app.Service.Disable(ctx, twofactor.OperatorActor(u.ID)); err != nil {
				return forUser(u.Username, fmt.Errorf("disable %q: %w", u.Username, err))
			}
		}
		return nil
	}
}

// enrollmentJSON is the output of `totp add --json`.
type enrollmentJSON struct {
	DeviceID string `json:"device_id"`
	URI      string `json:"uri"`
	Secret   string `json:"secret"`
}

// totpFlags are the flags of `totp add`.
type totpFlags struct {
	fs                   *flag.FlagSet
	key, name, algorithm *string
	digits               *int
	step                 *int64
	json                 *bool
}

// setupTOTPAdd: twofactor totp add NAME [--key HEX] [--digits 6|8] [--step 30] [--name LABEL] [--algorithm A] [--json].
func setupTOTPAdd(fs *flag.FlagSet) runFunc {
	f := &totpFlags{
		fs:        fs,
		key:       fs.String("key", "", "import this key, in `HEX` (10 to 64 bytes); default a new random 20-byte key"),
		digits:    fs.Int("digits", 0, "`N` digits per code, 6 or 8 (default totp.digits)"),
		step:      fs.Int64("step", 0, "time step in `SECONDS`, 1 to 3600 (default totp.step)"),
		name:      fs.String("name", "", "the device's `LABEL` (default \"Authenticator app\")"),
		algorithm: fs.String("algorithm", "SHA1", "HMAC `ALGORITHM` of an imported key: SHA1, SHA256 or SHA512"),
		json:      fs.Bool("json", false, `print {"device_id","uri","secret"} and no QR code`),
	}
	return func(ctx context.Context, e *env) error {
		spec, err := f.spec()
		if err != nil {
			return err
		}
		u, err := e.lookupUser(ctx, e.args[0])
		if err != nil {
			return err
		}
		enr, err := e.app.Service.ImportTOTP(ctx, twofactor.OperatorActor(u.ID), spec, u.Username)
		if err != nil {
			return forUser(u.Username, err)
		}
		if enr.URI.Issuer == "" {
			enr.URI.Issuer = issuer(e.cfg.Issuer, e.cfg.PublicURL)
		}
		return e.printEnrollment(enr, *f.json)
	}
}

// spec turns the flags into the device to add. Range checks are the
// core's; the key's encoding is checked here.
func (f *totpFlags) spec() (twofactor.TOTPSpec, error) {
	set := setFlags(f.fs)
	spec := twofactor.TOTPSpec{Name: *f.name, Digits: *f.digits, Step: *f.step}
	// The core reads 0 as "the default": an explicit 0 must be refused by
	// the core's own range check instead, so it is passed as -1.
	if set["digits"] && spec.Digits == 0 {
		spec.Digits = -1
	}
	if set["step"] && spec.Step == 0 {
		spec.Step = -1
	}
	if set["name"] && spec.Name == "" {
		return spec, errors.New("invalid --name: must not be empty")
	}
	if set["key"] {
		k, err := parseHexKey(*f.key)
		if err != nil {
			return spec, fmt.Errorf("invalid --key: %w", err)
		}
		spec.Key = k
	}
	a, err := otp.ParseAlgorithm(*f.algorithm)
	if err != nil {
		return spec, errors.New("invalid --algorithm: must be SHA1, SHA256 or SHA512")
	}
	spec.Algorithm = a
	return spec, nil
}

// printEnrollment prints the new device: the otpauth URI, its QR code and
// the device id, or with asJSON one JSON object.
func (e *env) printEnrollment(enr *twofactor.Enrollment, asJSON bool) error {
	uri := enr.URI.IssuerPrefixed()
	if asJSON {
		return writeJSON(e.p.Stdout, enrollmentJSON{DeviceID: enr.Device.ID, URI: uri, Secret: enr.Secret()})
	}
	fmt.Fprintln(e.p.Stdout, uri)
	if code, err := qr.Encode(uri); err != nil {
		// The device exists: say so rather than fail.
		fmt.Fprintf(e.p.Stderr, "twofactor: warning: cannot draw the QR code: %v\n", err)
	} else if err := code.Terminal(e.p.Stdout, false); err != nil {
		return err
	}
	fmt.Fprintf(e.p.Stdout, "device id: %s\n", enr.Device.ID)
	return nil
}

// setFlags returns the names of the flags set on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// parseHexKey decodes a key given in hexadecimal. The length rule (10 to 64
// bytes) is the core's; the reasons here never repeat the key.
func parseHexKey(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, errors.New("odd number of hexadecimal digits")
	}
	k, err := hex.DecodeString(s)
	if err != nil {
		return nil, errors.New("not hexadecimal (0-9, a-f)")
	}
	if k == nil {
		k = []byte{}
	}
	if len(k) < 10 || len(k) > 64 {
		return nil, fmt.Errorf("the key must be 10 to 64 bytes long, got %d", len(k))
	}
	return k, nil
}

// issuer is the otpauth issuer when the service has none: the configured
// issuer, else the host of public_url, else "twofactor".
func issuer(configured, publicURL string) string {
	if configured != "" {
		return configured
	}
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "twofactor"
}

// setupVerify: twofactor verify NAME CODE [--device ID].
func setupVerify(fs *flag.FlagSet) runFunc {
	device := fs.String("device", "", "check the code against this device `ID` only")
	return func(ctx context.Context, e *env) error {
		u, err := e.lookupUser(ctx, e.args[0])
		if err != nil {
			return err
		}
		code := e.args[1]
		var d *twofactor.Device
		if *device != "" {
			d, err = e.app.Service.VerifyDevice(ctx, u.ID, *device, code)
		} else {
			d, err = e.app.Service.Verify(ctx, u.ID, code, "")
		}
		if err != nil {
			return forDevice(u.Username, *device, err)
		}
		fmt.Fprintf(e.p.Stdout, "accepted (device %s, %s)\n", d.ID, d.Kind)
		return nil
	}
}

// setupBackupCodes: twofactor backup-codes NAME.
func setupBackupCodes(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env) error {
		u, err := e.lookupUser(ctx, e.args[0])
		if err != nil {
			return err
		}
		codes, err := e.app.Service.RegenerateBackupCodes(ctx, twofactor.OperatorActor(u.ID))
		if err != nil {
			return forUser(u.Username, err)
		}
		for _, c := range codes {
			fmt.Fprintln(e.p.Stdout, c)
		}
		return nil
	}
}

// deviceJSON is one device in `devices --json`.
type deviceJSON struct {
	ID         string  `json:"id"`
	Kind       string  `json:"kind"`
	Name       string  `json:"name"`
	Primary    bool    `json:"primary"`
	Confirmed  bool    `json:"confirmed"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"` // null: never
	// BackupCodes is the number of unused codes of the static device.
	BackupCodes *int `json:"backup_codes_remaining,omitempty"`
}

// setupDevices: twofactor devices NAME [--json].
func setupDevices(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print a JSON array of objects")
	return func(ctx context.Context, e *env) error {
		u, err := e.lookupUser(ctx, e.args[0])
		if err != nil {
			return err
		}
		list, err := e.devices(ctx, u)
		if err != nil {
			return forUser(u.Username, err)
		}
		if *asJSON {
			return writeJSON(e.p.Stdout, list)
		}
		tw := tabwriter.NewWriter(e.p.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tNAME\tPRIMARY\tCONFIRMED\tLAST USED")
		for _, d := range list {
			name := d.Name
			if d.BackupCodes != nil {
				name = fmt.Sprintf("%s (%d left)", d.Name, *d.BackupCodes)
			}
			last := "never"
			if d.LastUsedAt != nil {
				last = *d.LastUsedAt
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Kind, name, yesNo(d.Primary), yesNo(d.Confirmed), last)
		}
		return tw.Flush()
	}
}

// devices lists the user's devices, the backup-code device last with its
// count of unused codes.
func (e *env) devices(ctx context.Context, u *twofactor.User) ([]deviceJSON, error) {
	// The service's Status leaves the backup-code device out; its id is
	// needed for `verify --device`, so the store lists them all.
	all, err := e.app.Store.DevicesByUser(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	out := make([]deviceJSON, 0, len(all))
	var static []deviceJSON
	for _, d := range all {
		j := deviceJSON{ID: d.ID, Kind: string(d.Kind), Name: d.Name, Primary: d.Primary, Confirmed: d.Confirmed,
			CreatedAt: timeText(d.CreatedAt)}
		if !d.LastUsedAt.IsZero() {
			t := timeText(d.LastUsedAt)
			j.LastUsedAt = &t
		}
		if d.Kind == twofactor.KindStatic {
			n, err := e.app.Service.BackupCodesRemaining(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			j.BackupCodes = &n
			static = append(static, j)
			continue
		}
		out = append(out, j)
	}
	return append(out, static...), nil
}

// timeText formats a time as RFC 3339 in UTC, to the second.
func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339) }
