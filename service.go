package twofactor

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/twofactor/twofactor/password"
	"github.com/twofactor/twofactor/secret"
	"github.com/twofactor/twofactor/yubikey"
)

// Options are the rules of the service (SPEC §3). Start from
// DefaultOptions and change what you need: the zero value is not valid.
type Options struct {
	// Issuer names the site in authenticator apps (the otpauth issuer).
	Issuer string

	TOTPDigits    int   // 6 or 8 digits for new TOTP devices
	TOTPStep      int64 // seconds per step for new TOTP devices
	TOTPTolerance int   // steps accepted before and after the current one
	TOTPSyncDrift bool  // remember the offset at which a device matched

	// Throttle is the backoff factor per device kind (§4.3); a kind not in
	// the map uses DefaultThrottle. UserThrottle is the per-user factor.
	// Zero disables a throttle.
	Throttle     map[Kind]time.Duration
	UserThrottle time.Duration

	// LoginTimeout bounds the time between the password step and the code
	// step; 0 = no limit.
	LoginTimeout time.Duration

	BackupCodeCount  int // codes per set
	BackupCodeLength int // characters per code

	// StepUpAge is how recent a second-factor verification must be for
	// sensitive actions (disable, remove a device, new backup codes, change
	// the primary device).
	StepUpAge time.Duration

	// SessionAge is how long a session lasts after it starts.
	SessionAge time.Duration
	// RememberAge is how long a remembered browser may skip the second
	// step; 0 turns the feature off.
	RememberAge time.Duration

	// Policy says who must use two-factor: PolicyOptional,
	// PolicyRequired or PolicyRequiredForStaff. PolicyGrace is how long a
	// user may go on without it after the policy first reaches them.
	Policy      Policy
	PolicyGrace time.Duration

	// SignIn limits sign-in steps (password and code) per client address.
	SignIn SignInLimit

	// Site names the site in the messages sent to users (SMS, calls,
	// emails); they carry nothing else but the code.
	Site string
	// PhoneRegion is the region of phone numbers typed without a country
	// code ("" = a country code is required).
	PhoneRegion string
	// PhoneCooldown and EmailCooldown are the least time between two codes
	// sent to one device; DailySendLimit the most codes sent per user and
	// day (0 = no limit). They stop SMS pumping and mail bombing.
	PhoneCooldown  time.Duration
	EmailCooldown  time.Duration
	DailySendLimit int
	// EmailValidity is how long an emailed code is valid (phone codes are
	// valid for three TOTP steps).
	EmailValidity time.Duration

	// Password holds the argon2id parameters for new password hashes of
	// the built-in users.
	Password password.Params
}

// DefaultThrottle is the throttle factor of a kind that Options.Throttle
// does not mention.
const DefaultThrottle = time.Second

// DefaultOptions returns the SPEC §3 defaults.
func DefaultOptions() Options {
	return Options{
		TOTPDigits:       6,
		TOTPStep:         30,
		TOTPTolerance:    1,
		TOTPSyncDrift:    true,
		Throttle:         map[Kind]time.Duration{},
		UserThrottle:     time.Second,
		LoginTimeout:     600 * time.Second,
		BackupCodeCount:  10,
		BackupCodeLength: 10,
		StepUpAge:        10 * time.Minute,
		SessionAge:       14 * 24 * time.Hour,
		Policy:           PolicyOptional,
		SignIn:           SignInLimit{Count: 30, Per: time.Minute, Burst: 10},
		Site:             "twofactor",
		PhoneCooldown:    time.Minute,
		EmailCooldown:    time.Minute,
		DailySendLimit:   10,
		EmailValidity:    5 * time.Minute,
		Password:         password.DefaultParams,
	}
}

// Validate checks the options.
func (o Options) Validate() error {
	switch {
	case o.TOTPDigits != 6 && o.TOTPDigits != 8:
		return fmt.Errorf("TOTPDigits must be 6 or 8, not %d", o.TOTPDigits)
	case o.TOTPStep < 1 || o.TOTPStep > 3600:
		return fmt.Errorf("TOTPStep must be 1–3600 seconds, not %d", o.TOTPStep)
	case o.TOTPTolerance < 0 || o.TOTPTolerance > 10:
		return fmt.Errorf("TOTPTolerance must be 0–10, not %d", o.TOTPTolerance)
	case o.UserThrottle < 0:
		return errors.New("UserThrottle must not be negative")
	case o.LoginTimeout < 0:
		return errors.New("LoginTimeout must not be negative")
	case o.BackupCodeCount < 1 || o.BackupCodeCount > 100:
		return fmt.Errorf("BackupCodeCount must be 1–100, not %d", o.BackupCodeCount)
	case o.BackupCodeLength < 8 || o.BackupCodeLength > 32:
		return fmt.Errorf("BackupCodeLength must be 8–32, not %d", o.BackupCodeLength)
	case o.StepUpAge <= 0:
		return errors.New("StepUpAge must be positive")
	case o.SessionAge <= 0:
		return errors.New("SessionAge must be positive")
	case o.PhoneCooldown < 0 || o.EmailCooldown < 0 || o.DailySendLimit < 0:
		return errors.New("cooldowns and the daily send limit must not be negative")
	case o.EmailValidity <= 0:
		return errors.New("EmailValidity must be positive")
	case o.RememberAge < 0 || o.PolicyGrace < 0:
		return errors.New("RememberAge and PolicyGrace must not be negative")
	case o.Policy != PolicyOptional && o.Policy != PolicyRequired && o.Policy != PolicyRequiredForStaff:
		return fmt.Errorf("Policy must be optional, required or required_for_staff, not %q", o.Policy)
	}
	for k, f := range o.Throttle {
		if f < 0 {
			return fmt.Errorf("throttle factor of %s must not be negative", k)
		}
	}
	return o.Password.Validate()
}

// throttle returns the backoff factor for a device kind.
func (o Options) throttle(k Kind) time.Duration {
	if f, ok := o.Throttle[k]; ok {
		return f
	}
	return DefaultThrottle
}

// Hook receives events (SPEC §8.3). Hooks run synchronously after the event
// is written to the audit table, so they should be quick; a panicking hook is
// logged and does not affect the request.
type Hook func(ctx context.Context, e Event)

// Config assembles a Service.
type Config struct {
	Store Store           // required
	Keys  *secret.Keyring // required: encrypts device keys, hashes codes
	// Users authenticates and finds users. Nil means the built-in users
	// kept in Store (see BuiltinUsers).
	Users   UserSource
	Options Options
	// Gateways that deliver codes; a nil gateway hides its method.
	SMS    SMSSender
	Caller Caller
	// Mailer sends emailed codes and, when set, the notices of SPEC §8.3
	// (backup code used, two-factor disabled, device added).
	Mailer Mailer
	// YubiCloud checks remote YubiKeys (Yubico's validation protocol 2.0);
	// nil hides the YubiKey method from users (operators can still import
	// local keys).
	YubiCloud *yubikey.Client
	// WebAuthn configures security keys (see WebAuthnConfig); nil hides the
	// method.
	WebAuthn *WebAuthnConfig

	Clock  Clock        // nil = SystemClock
	Rand   io.Reader    // nil = crypto/rand
	Logger *slog.Logger // nil = slog.Default()
	Hooks  []Hook
}

// Service owns every two-factor decision: enrolment, confirmation,
// verification, throttling, replay protection, backup codes, login
// challenges, step-up and disabling. Adapters (web pages, the JSON API, the
// CLI) translate requests into Service calls; none of them re-implements a
// rule. A Service is safe for concurrent use.
type Service struct {
	store Store
	keys  *secret.Keyring
	users UserSource
	opts  Options
	clock Clock
	rand  io.Reader
	log   *slog.Logger
	hooks []Hook

	signIn *addressLimiter // nil when off

	sms       SMSSender
	caller    Caller
	mailer    Mailer
	yubicloud *yubikey.Client
	webauthn  *webauthnRP // nil when WebAuthn is off
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("twofactor: Config.Store is required")
	}
	if cfg.Keys == nil {
		return nil, errors.New("twofactor: Config.Keys is required")
	}
	if err := cfg.Options.Validate(); err != nil {
		return nil, fmt.Errorf("twofactor: invalid options: %w", err)
	}
	s := &Service{
		store:     cfg.Store,
		keys:      cfg.Keys,
		opts:      cfg.Options,
		clock:     cfg.Clock,
		rand:      cfg.Rand,
		log:       cfg.Logger,
		hooks:     append([]Hook(nil), cfg.Hooks...),
		signIn:    newAddressLimiter(cfg.Options.SignIn),
		sms:       cfg.SMS,
		caller:    cfg.Caller,
		mailer:    cfg.Mailer,
		yubicloud: cfg.YubiCloud,
	}
	if cfg.WebAuthn != nil {
		w, err := newWebAuthnRP(cfg.WebAuthn)
		if err != nil {
			return nil, fmt.Errorf("twofactor: invalid WebAuthn configuration: %w", err)
		}
		s.webauthn = w
	}
	if s.clock == nil {
		s.clock = SystemClock
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.users = cfg.Users
	if s.users == nil {
		s.users = &BuiltinUsers{store: cfg.Store, params: cfg.Options.Password, clock: s.clock, rand: s.rand}
	}
	return s, nil
}

// Options returns the service's options.
func (s *Service) Options() Options { return s.opts }

// Users returns the user source.
func (s *Service) Users() UserSource { return s.users }

// Builtin returns the service's built-in users, or nil when the service uses
// an application's own UserSource.
func (s *Service) Builtin() *BuiltinUsers {
	b, _ := s.users.(*BuiltinUsers)
	return b
}

// SetPassword changes a built-in user's password. Changing a password ends
// every remembered browser of the user (they are bound to the password).
func (s *Service) SetPassword(ctx context.Context, userID, pw string) error {
	b := s.Builtin()
	if b == nil {
		return errors.New("twofactor: SetPassword needs the built-in users")
	}
	if err := b.setPassword(ctx, userID, pw); err != nil {
		return err
	}
	// A new password ends what the old one granted for long: remembered
	// browsers (bound to the password) and OAuth refresh tokens.
	if _, err := s.revokeBrowsers(ctx, userID, "password changed"); err != nil {
		return err
	}
	_, err := s.RevokeUserOAuthTokens(ctx, userID)
	return err
}

// Store returns the store.
func (s *Service) Store() Store { return s.store }

// Now returns the service clock's time.
func (s *Service) Now() time.Time { return s.clock.Now() }

// newID returns a new opaque record id.
func (s *Service) newID() (string, error) { return newRandomID(s.rand) }

type clientKey struct{}

// WithClient returns a context carrying where the request came from, which
// the service records with the events it raises.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFrom returns the Client attached to ctx by WithClient.
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}

// emit writes an event to the audit trail and hands it to the hooks. A
// failure to write the audit record is logged, not returned: the action it
// describes has already happened.
func (s *Service) emit(ctx context.Context, e Event) {
	e = s.stamp(ctx, e)
	if err := s.store.AppendEvent(ctx, &e); err != nil {
		s.log.ErrorContext(ctx, "audit event not recorded", "event", string(e.Kind), "user", e.UserID, "err", err)
	}
	s.notify(ctx, e)
}

// stamp fills an event's time and, from ctx, its client.
func (s *Service) stamp(ctx context.Context, e Event) Event {
	if e.Time.IsZero() {
		e.Time = s.clock.Now()
	}
	if e.Client == (Client{}) {
		e.Client = ClientFrom(ctx)
	}
	return e
}

// notify hands events that are already recorded to the hooks, and sends
// the security notices they call for.
func (s *Service) notify(ctx context.Context, events ...Event) {
	for _, e := range events {
		for _, h := range s.hooks {
			s.runHook(ctx, h, e)
		}
		s.sendNotice(ctx, e)
	}
}

func (s *Service) runHook(ctx context.Context, h Hook, e Event) {
	defer func() {
		if r := recover(); r != nil {
			s.log.ErrorContext(ctx, "event hook panicked", "event", string(e.Kind), "panic", fmt.Sprint(r))
		}
	}()
	h(ctx, e)
}

func deviceEvent(kind EventKind, d *Device, outcome Outcome, reason string) Event {
	return Event{Kind: kind, UserID: d.UserID, DeviceID: d.ID, DeviceKind: d.Kind, Outcome: outcome, Reason: reason}
}
