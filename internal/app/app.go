// Package app assembles a running twofactor from its configuration: it opens
// the database named by database_url, resolves the secret key, applies
// migrations and builds the core Service. Every command — serve and the
// management commands alike — goes through Open, so they all resolve the key
// and the schema the same way.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/config"
	"github.com/twofactor/twofactor/gateway/fake"
	"github.com/twofactor/twofactor/gateway/smtp"
	"github.com/twofactor/twofactor/gateway/twilio"
	"github.com/twofactor/twofactor/i18n"
	"github.com/twofactor/twofactor/internal/metrics"
	"github.com/twofactor/twofactor/password"
	"github.com/twofactor/twofactor/secret"
	"github.com/twofactor/twofactor/store"
	"github.com/twofactor/twofactor/yubikey"
)

// KeyFileName is the name of the generated key file kept next to an SQLite
// database when no secret_key is configured.
const KeyFileName = "twofactor.key"

// App is an opened twofactor: configuration, store and service.
type App struct {
	Config  config.Config
	Target  store.Target
	Store   twofactor.Store
	Keys    *secret.Keyring
	Service *twofactor.Service
	// Gateways deliver codes; Twilio is set when a twilio gateway is
	// configured (its webhook needs it).
	Gateways Gateways
	Metrics  *metrics.Metrics // counts the service's events
	Log      *slog.Logger
}

// Open opens the database, resolves the key, migrates and builds the
// service. Errors are one line naming what is wrong.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	if log == nil {
		log = slog.Default()
	}
	target, err := store.Parse(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("config: database_url: %w", err)
	}
	keys, err := ResolveKeys(cfg, target, log)
	if err != nil {
		return nil, err
	}
	opts, err := Options(cfg)
	if err != nil {
		return nil, err
	}
	wa, err := WebAuthn(cfg)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, target)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		if errors.Is(err, twofactor.ErrSchemaTooNew) {
			return nil, err
		}
		return nil, fmt.Errorf("migrate: %w", err)
	}
	gw, err := BuildGateways(cfg, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	m := metrics.New()
	svc, err := twofactor.New(twofactor.Config{Store: st, Keys: keys, Options: opts, Logger: log, Hooks: []twofactor.Hook{m.Hook()},
		SMS: gw.SMS, Caller: gw.Caller, Mailer: gw.Mailer, YubiCloud: gw.YubiCloud, WebAuthn: wa})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &App{Config: cfg, Target: target, Store: st, Keys: keys, Service: svc, Gateways: gw, Metrics: m, Log: log}, nil
}

// Close closes the store.
func (a *App) Close() error { return a.Store.Close() }

// ResolveKeys finds the secret key: secret_key (with secret_keys_old for
// rotation) when configured; else, for SQLite only, the key file next to the
// database, generated once with mode 0600. PostgreSQL without a configured
// key is refused: instances sharing a database must share a key, and a key
// generated on one machine would silently differ from another's.
func ResolveKeys(cfg config.Config, target store.Target, log *slog.Logger) (*secret.Keyring, error) {
	var current []byte
	switch {
	case cfg.SecretKey != "":
		k, err := secret.ParseKey(cfg.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("config: secret_key: %w", err)
		}
		current = k
	case target.Kind == store.SQLite:
		path := filepath.Join(target.Dir(), KeyFileName)
		k, created, err := secret.LoadOrCreateKeyFile(path, nil)
		if err != nil {
			return nil, fmt.Errorf("secret key file: %w", err)
		}
		if created {
			log.Warn("generated a new secret key; keep it safe and separate from database backups: without it the stored device keys cannot be decrypted",
				"file", path)
		}
		current = k
	default:
		return nil, errors.New("config: secret_key is required with PostgreSQL (all instances must share it; generate one with `twofactor key generate`)")
	}
	var old [][]byte
	for i, s := range cfg.SecretKeysOld {
		k, err := secret.ParseKey(s)
		if err != nil {
			return nil, fmt.Errorf("config: secret_keys_old[%d]: %w", i, err)
		}
		old = append(old, k)
	}
	keys, err := secret.NewKeyring(current, old...)
	if err != nil {
		return nil, fmt.Errorf("config: secret_key: %w", err)
	}
	return keys, nil
}

// Options maps the configuration onto the core service's options.
func Options(cfg config.Config) (twofactor.Options, error) {
	o := twofactor.DefaultOptions()
	o.Issuer = cfg.Issuer
	o.TOTPDigits = cfg.TOTP.Digits
	o.TOTPStep = int64(cfg.TOTP.Step / time.Second)
	o.TOTPTolerance = cfg.TOTP.Tolerance
	o.TOTPSyncDrift = cfg.TOTP.SyncDrift
	t := cfg.Throttle
	o.Throttle = map[twofactor.Kind]time.Duration{
		twofactor.KindTOTP: t.TOTP, twofactor.KindHOTP: t.HOTP, twofactor.KindStatic: t.Static,
		twofactor.KindSMS: t.Phone, twofactor.KindCall: t.Phone, twofactor.KindEmail: t.Email,
		twofactor.KindWebAuthn: t.WebAuthn, twofactor.KindYubiKey: t.YubiKey,
	}
	o.UserThrottle = t.User
	o.LoginTimeout = cfg.LoginTimeout
	o.BackupCodeCount = cfg.BackupCodes.Count
	o.BackupCodeLength = cfg.BackupCodes.Length
	o.StepUpAge = cfg.StepUpAge
	o.RememberAge = cfg.Remember.Age
	o.Policy = twofactor.Policy(cfg.Policy)
	o.PolicyGrace = cfg.PolicyGrace
	o.SignIn = twofactor.SignInLimit{Count: cfg.RateLimit.SignIn.Count, Per: cfg.RateLimit.SignIn.Per, Burst: cfg.RateLimit.SignInBurst}
	o.Site = SiteName(cfg)
	o.PhoneRegion = cfg.Phone.DefaultRegion
	o.PhoneCooldown = cfg.Phone.Cooldown
	o.DailySendLimit = cfg.Phone.DailyLimit
	o.EmailCooldown = cfg.Email.Cooldown
	o.EmailValidity = cfg.Email.TokenValidity
	o.Password = password.Params{Time: cfg.Password.Argon2Time, MemoryKiB: cfg.Password.Argon2MemoryKiB, Threads: cfg.Password.Argon2Threads}
	if err := o.Validate(); err != nil {
		return o, fmt.Errorf("config: %w", err)
	}
	return o, nil
}

// SiteName is the site's name in messages and authenticator apps outside a
// request: issuer, else the host of public_url, else "twofactor".
func SiteName(cfg config.Config) string {
	if cfg.Issuer != "" {
		return cfg.Issuer
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "twofactor"
}

// Gateways are the configured message gateways and YubiKey validation.
type Gateways struct {
	SMS       twofactor.SMSSender
	Caller    twofactor.Caller
	Mailer    twofactor.Mailer
	YubiCloud *yubikey.Client
	// Twilio is the Twilio gateway when sms.gateway or call.gateway is
	// twilio (its voice webhook is served by the server); Fake the fake one.
	Twilio *twilio.Gateway
	Fake   *fake.Gateway
}

// Translator words the messages sent to users (text messages, voice
// calls, emails) in their language, from the embedded catalog (package
// i18n), English when the catalog lacks a translation.
func Translator() (func(lang, id string, args ...any) string, error) {
	cat, err := i18n.Embedded()
	if err != nil {
		return nil, err
	}
	return func(lang, id string, args ...any) string {
		return cat.Localizer(cat.Match(lang)).T(id, args...)
	}, nil
}

// BuildGateways builds the gateways the configuration names. The fake
// gateway, which logs codes, says so loudly.
func BuildGateways(cfg config.Config, log *slog.Logger) (Gateways, error) {
	var g Gateways
	tr, err := Translator()
	if err != nil {
		return g, err
	}
	needs := func(name string) bool { return cfg.SMS.Gateway == name || cfg.Call.Gateway == name }
	if needs("twilio") {
		tw, err := twilio.New(twilio.Config{AccountSID: cfg.Twilio.AccountSID, AuthToken: cfg.Twilio.AuthToken,
			CallerID: cfg.Twilio.CallerID, MessagingServiceSID: cfg.Twilio.MessagingServiceSID,
			BaseURL: cfg.Twilio.BaseURL, PublicURL: cfg.PublicURL, Translate: twilio.Translator(tr)})
		if err != nil {
			return g, fmt.Errorf("config: twilio: %w", err)
		}
		if cfg.Call.Gateway == "twilio" {
			if err := tw.CallsReady(); err != nil {
				return g, fmt.Errorf("config: call.gateway: %w", err)
			}
		}
		g.Twilio = tw
	}
	if needs("fake") {
		g.Fake = fake.New(log)
		log.Warn(fake.Warning())
	}
	pick := func(name string) (twofactor.SMSSender, twofactor.Caller) {
		switch name {
		case "twilio":
			return g.Twilio, g.Twilio
		case "fake":
			return g.Fake, g.Fake
		}
		return nil, nil
	}
	g.SMS, _ = pick(cfg.SMS.Gateway)
	_, g.Caller = pick(cfg.Call.Gateway)
	if cfg.Email.SMTPURL != "" {
		m, err := smtp.New(smtp.Config{URL: cfg.Email.SMTPURL, From: cfg.Email.From, Translate: smtp.Translator(tr)})
		if err != nil {
			return g, fmt.Errorf("config: email.smtp_url: %w", err)
		}
		g.Mailer = m
	}
	if cfg.YubiKey.APIKey != "" {
		c, err := yubikey.NewClient(cfg.YubiKey.ValidationURL, cfg.YubiKey.APIID, cfg.YubiKey.APIKey)
		if err != nil {
			return g, fmt.Errorf("config: yubikey: %w", err)
		}
		g.YubiCloud = c
	}
	return g, nil
}
