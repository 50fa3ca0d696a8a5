package web

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/i18n"
	"golang.org/x/text/language"
)

// Config configures a [Handler]. Only Service is required; every other
// field has the default its comment gives.
type Config struct {
	// Service is the core service every page calls (required).
	Service *twofactor.Service

	// Templates overrides pages: a file in it with the name of an embedded
	// template (login.html, base.html, …; see the templates directory)
	// replaces that template. Nil keeps every embedded one.
	Templates fs.FS

	// BasePath is the prefix the pages are mounted under ("" or "/auth",
	// without a trailing slash). Every URL the pages generate starts with
	// it, and so do the default LoginURL, LoginRedirectURL and
	// LogoutRedirectURL.
	BasePath string

	// LoginURL is where users sign in (default BasePath+"/account/login/").
	LoginURL string
	// LoginRedirectURL is where users go after signing in when no safe
	// "next" was given (default BasePath+"/account/two_factor/").
	LoginRedirectURL string
	// LogoutRedirectURL is where users go after signing out (default
	// BasePath+"/account/login/").
	LogoutRedirectURL string

	// Issuer names the site in authenticator apps. Empty means the core's
	// Options.Issuer, and when that is empty too, the request's host name
	// without the port.
	Issuer string

	// SessionCookie is the name of the session cookie (default
	// "twofactor_session"). The cookie is HttpOnly, SameSite=Lax, Path=/,
	// and Secure under TLS or when Secure is set.
	SessionCookie string
	// Secure marks every cookie Secure even when the request did not come
	// over TLS (set it behind a TLS-terminating proxy). It also says that
	// the pages are on https for the origin of security-key ceremonies
	// begun when a page is shown.
	Secure bool

	// Remember configures the remember-this-browser cookies; the feature
	// itself is on when the core's Options.RememberAge is not zero.
	Remember CookieConfig

	// Catalog holds the translations (default: i18n.Embedded()).
	Catalog *i18n.Catalog
	// Languages lists the languages offered, as BCP 47 tags (default:
	// every language of Catalog, English first). The first is the default
	// when neither the switcher nor Accept-Language names an offered one.
	// A language switcher is shown when there is more than one.
	Languages []string
	// Language, when set, is the only language of the pages: no
	// negotiation, no switcher (config key language).
	Language string

	// Methods are the setup methods offered by the setup wizard, in order
	// (default: [StandardMethods]: TOTP, and text message, phone call,
	// email, YubiKey and security key whenever the Service is configured
	// for them). Each method registers its own setup step; more slot in
	// here.
	Methods []Method

	// Logger receives failures the user only sees as an error page
	// (default slog.Default()).
	Logger *slog.Logger

	// AdminRequireVerified opens the staff console (/admin/) only to
	// sessions verified by a second factor (config key
	// admin.require_verified); nil means true. With it false a staff
	// session signed in with the password alone may view the console, but
	// disabling a user's two-factor still needs the staff member's own
	// fresh verification.
	AdminRequireVerified *bool
}

// CookieConfig sets the attributes of the remember-this-browser cookies.
type CookieConfig struct {
	// Prefix starts every cookie name; the rest is the remembered
	// browser's id (default "remember-cookie_").
	Prefix string
	// Domain is the Domain attribute (default none: this host only).
	Domain string
	// Path is the Path attribute (default "/").
	Path string
	// Secure sets the Secure attribute even on plain HTTP; it is set
	// anyway under TLS.
	Secure bool
	// HTTPOnly sets the HttpOnly attribute; nil means true.
	HTTPOnly *bool
	// SameSite is the SameSite attribute (default Lax).
	SameSite http.SameSite
}

// Method is one way to set up a second factor in the setup wizard (the
// seed's method registry). Methods are data: the wizard lists the available
// ones, and the sign-in page takes its texts for a device from the method
// whose Kinds include the device's kind.
type Method struct {
	// Code is the value of the wizard's method field ("totp").
	Code string
	// Label names the method in the wizard (an English message id,
	// "Token generator").
	Label string
	// Kinds are the device kinds the method sets up.
	Kinds []twofactor.Kind
	// Action is the text of the button that picks a device of this kind
	// at sign-in (an English message id). It may hold one %s, which is the
	// device's masked destination ("Send text message to %s").
	Action string
	// Instruction tells the user what to do at the code step (an English
	// message id).
	Instruction string
	// Phone marks a method that sends codes to a phone (the setup complete
	// page then offers to add a phone number).
	Phone bool
	// Available reports whether the method can be offered for a request;
	// nil means always.
	Available func(r *http.Request) bool
	// Setup serves the method's step of the wizard (required).
	Setup SetupHandler

	// requires is the device kind the Service must offer (Service.Methods)
	// for the method to be shown; "" = none. The built-in methods set it.
	requires twofactor.Kind
}

// DefaultMethods returns the setup methods that need no configuration:
// TOTP (an authenticator app).
func DefaultMethods() []Method { return []Method{TOTPMethod()} }

// StandardMethods returns every built-in setup method, in the seed's
// order: TOTP, text message, phone call, email, YubiKey and security key
// (WebAuthn). Each of the others is offered only when the Service lists
// its kind in Service.Methods (its gateway, validation service or WebAuthn
// relying party is configured), so this is the right list whatever the
// configuration.
func StandardMethods() []Method {
	return []Method{TOTPMethod(), SMSMethod(), CallMethod(), EmailMethod(), YubiKeyMethod(), WebAuthnMethod()}
}

// defaults fills in the zero fields of a copy of cfg and checks it.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Service == nil {
		return cfg, errors.New("web: Config.Service is required")
	}
	cfg.BasePath = strings.TrimRight(cfg.BasePath, "/")
	if cfg.BasePath != "" && (!strings.HasPrefix(cfg.BasePath, "/") || !isLocalPath(cfg.BasePath+"/")) {
		return cfg, fmt.Errorf("web: BasePath %q must be a local path starting with /", cfg.BasePath)
	}
	for _, u := range []struct {
		field *string
		def   string
		name  string
	}{
		{&cfg.LoginURL, "/account/login/", "LoginURL"},
		{&cfg.LoginRedirectURL, "/account/two_factor/", "LoginRedirectURL"},
		{&cfg.LogoutRedirectURL, "/account/login/", "LogoutRedirectURL"},
	} {
		if *u.field == "" {
			*u.field = cfg.BasePath + u.def
		}
		if !isLocalPath(*u.field) {
			return cfg, fmt.Errorf("web: %s %q must be a local path", u.name, *u.field)
		}
	}
	if cfg.SessionCookie == "" {
		cfg.SessionCookie = "twofactor_session"
	}
	if !validCookieName(cfg.SessionCookie) {
		return cfg, fmt.Errorf("web: SessionCookie %q is not a valid cookie name", cfg.SessionCookie)
	}
	if cfg.Remember.Prefix == "" {
		cfg.Remember.Prefix = "remember-cookie_"
	}
	if !validCookieName(cfg.Remember.Prefix) {
		return cfg, fmt.Errorf("web: Remember.Prefix %q is not valid in a cookie name", cfg.Remember.Prefix)
	}
	if cfg.Remember.Path == "" {
		cfg.Remember.Path = "/"
	}
	if cfg.Remember.HTTPOnly == nil {
		t := true
		cfg.Remember.HTTPOnly = &t
	}
	if cfg.Remember.SameSite == 0 || cfg.Remember.SameSite == http.SameSiteDefaultMode {
		cfg.Remember.SameSite = http.SameSiteLaxMode
	}
	if cfg.Catalog == nil {
		c, err := i18n.Embedded()
		if err != nil {
			return cfg, fmt.Errorf("web: %w", err)
		}
		cfg.Catalog = c
	}
	if cfg.Language != "" {
		if _, err := language.Parse(cfg.Language); err != nil {
			return cfg, fmt.Errorf("web: Language %q: %w", cfg.Language, err)
		}
	}
	for _, l := range cfg.Languages {
		if _, err := language.Parse(l); err != nil {
			return cfg, fmt.Errorf("web: Languages: %q: %w", l, err)
		}
	}
	if cfg.Methods == nil {
		cfg.Methods = StandardMethods()
	}
	seen := map[string]bool{}
	for _, m := range cfg.Methods {
		switch {
		case m.Code == "" || m.Label == "" || m.Setup == nil:
			return cfg, fmt.Errorf("web: method %q needs a Code, a Label and a Setup", m.Code)
		case seen[m.Code]:
			return cfg, fmt.Errorf("web: method %q is registered twice", m.Code)
		}
		seen[m.Code] = true
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.AdminRequireVerified == nil {
		t := true
		cfg.AdminRequireVerified = &t
	}
	return cfg, nil
}

// validCookieName reports whether s is a cookie name token (RFC 6265).
func validCookieName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}
