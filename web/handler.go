package web

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/i18n"
	"golang.org/x/text/language"
)

//go:embed templates/*.html static/*
var assets embed.FS

// maxFormBytes bounds the body of every form post: the largest legitimate
// form is a few hundred bytes.
const maxFormBytes = 64 << 10

// Handler serves the pages. Build it with [New]; it is safe for concurrent
// use.
type Handler struct {
	cfg         Config
	svc         *twofactor.Service
	log         *slog.Logger
	pages       *pageSet
	csrf        *http.CrossOriginProtection
	langs       []language.Tag
	langMatcher language.Matcher
	forced      *i18n.Localizer
	static      fs.FS
}

// New checks cfg, fills in its defaults, and parses the templates.
func New(cfg Config) (*Handler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, svc: cfg.Service, log: cfg.Logger}
	if h.pages, err = loadPages(cfg.Templates); err != nil {
		return nil, err
	}
	if h.static, err = fs.Sub(assets, "static"); err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	available := cfg.Catalog.Languages()
	if len(cfg.Languages) == 0 {
		h.langs = available
	} else {
		for _, l := range cfg.Languages {
			t := cfg.Catalog.Match(l)
			if t.String() != language.Make(l).String() && !strings.EqualFold(t.String(), l) {
				return nil, fmt.Errorf("web: Languages: there is no catalog for %q", l)
			}
			h.langs = append(h.langs, t)
		}
	}
	h.langMatcher = language.NewMatcher(h.langs)
	if cfg.Language != "" {
		h.forced = cfg.Catalog.Localizer(cfg.Catalog.Match(cfg.Language))
	}
	h.csrf = http.NewCrossOriginProtection()
	h.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, http.StatusForbidden, msg("This request came from another site and was refused."))
	}))
	return h, nil
}

// Config returns the effective configuration, defaults filled in.
func (h *Handler) Config() Config { return h.cfg }

// route is one page.
type route struct {
	method, path string
	handle       http.HandlerFunc
}

// pattern is the route's ServeMux pattern under base. A path ending in a
// slash matches exactly that path ({$}), not everything below it.
func (rt route) pattern(base string) string {
	p := rt.method + " " + base + rt.path
	if strings.HasSuffix(p, "/") {
		p += "{$}"
	}
	return p
}

// routes lists every page (SPEC §5), relative to BasePath. The staff
// console (SPEC §8.1) is among them when the service keeps its own users.
func (h *Handler) routes() []route {
	rs := []route{
		{"GET", "/account/login/", h.loginGet},
		{"POST", "/account/login/", h.loginPost},
		{"GET", "/account/logout/", h.logoutGet},
		{"POST", "/account/logout/", h.logoutPost},
		{"GET", "/account/two_factor/", h.profile},
		{"GET", "/account/two_factor/setup/", h.setupGet},
		{"POST", "/account/two_factor/setup/", h.setupPost},
		{"GET", "/account/two_factor/qrcode/", h.qrcode},
		{"GET", "/account/two_factor/setup/complete/", h.setupComplete},
		{"GET", "/account/two_factor/backup/tokens/", h.backupGet},
		{"POST", "/account/two_factor/backup/tokens/", h.backupPost},
		{"GET", "/account/two_factor/disable/", h.disableGet},
		{"POST", "/account/two_factor/disable/", h.disablePost},
		{"GET", "/account/two_factor/devices/", h.devicesGet},
		{"GET", "/account/two_factor/devices/add/", h.deviceAdd},
		{"GET", "/account/two_factor/devices/{id}/", h.deviceGet},
		{"POST", "/account/two_factor/devices/{id}/rename/", h.deviceRename},
		{"POST", "/account/two_factor/devices/{id}/primary/", h.devicePrimary},
		{"POST", "/account/two_factor/devices/{id}/remove/", h.deviceRemove},
		{"POST", "/account/two_factor/devices/browsers/revoke/", h.browsersRevoke},
		{"POST", "/account/two_factor/devices/browsers/revoke/{id}/", h.browserRevoke},
		{"GET", "/account/two_factor/phone/register/", h.phoneRegisterGet},
		{"POST", "/account/two_factor/phone/register/", h.phoneRegisterPost},
		{"POST", "/account/two_factor/phone/unregister/{id}/", h.phoneUnregister},
		{"GET", "/account/static/{file}", h.staticFile},
	}
	if h.svc.Builtin() != nil { // the console lists the built-in users
		rs = append(rs, h.adminRoutes()...)
	}
	return rs
}

// Routes returns a handler serving every page at its path (BasePath
// included), for mounting on any router: mux.Handle("/account/",
// h.Routes()), and mux.Handle("/admin/", h.Routes()) for the staff
// console. It applies [Handler.Middleware] itself when the request does
// not carry the state yet. Unknown paths under it get the 404 page.
func (h *Handler) Routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range h.routes() {
		mux.Handle(rt.pattern(h.cfg.BasePath), rt.handle)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, http.StatusNotFound, "")
	})
	return h.wrap(mux)
}

// Register registers every page on mux, each with its method and path
// (BasePath included). A pattern that conflicts with one already on mux is
// an error (ServeMux would panic).
func (h *Handler) Register(mux *http.ServeMux) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("web: register the pages: %v", r)
		}
	}()
	for _, rt := range h.routes() {
		mux.Handle(rt.pattern(h.cfg.BasePath), h.wrap(rt.handle))
	}
	return nil
}

// wrap applies what every page needs, outermost first: recovery from
// panics, security headers, the request state, cross-origin protection
// (SPEC §10.6) and a bound on the body.
func (h *Handler) wrap(next http.Handler) http.Handler {
	protected := h.csrf.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		next.ServeHTTP(w, r)
	}))
	return h.recoverer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		if FromContext(r.Context()) == nil {
			r = h.withState(r)
		}
		h.switchLanguage(w, r)
		protected.ServeHTTP(w, h.withLanguage(r))
	}))
}

// withLanguage records the page's language in the request's client
// (twofactor.Client.Language), so that the codes a page sends — text
// messages, calls, emails — speak the language the page does.
func (h *Handler) withLanguage(r *http.Request) *http.Request {
	c := twofactor.ClientFrom(r.Context())
	if c.Language != "" {
		return r
	}
	c.Language = h.localizer(r).Lang()
	return r.WithContext(twofactor.WithClient(r.Context(), c))
}

// contentSecurityPolicy allows the site's own styles, images and script
// (the security-key script, static/webauthn.js) only: no inline script or
// style, no framing, no foreign form targets.
const contentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// securityHeaders sets the headers of every page (SPEC §10.6).
func securityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
}

// recoverer turns a panic into a logged error and a 500 page. A panic is
// a bug; the user still gets a page, and the server goes on.
func (h *Handler) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.ErrorContext(r.Context(), "panic serving a page", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			h.errorPage(w, r, http.StatusInternalServerError, "")
		}()
		next.ServeHTTP(w, r)
	})
}

// switchLanguage remembers the language picked with ?lang= in a cookie.
func (h *Handler) switchLanguage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("lang")
	if q == "" || len(q) > 35 || h.forced != nil || len(h.langs) < 2 {
		return
	}
	if _, err := language.Parse(q); err != nil {
		return
	}
	tag := h.matchLanguage(q)
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: tag.String(), Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: h.secure(r), HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// staticFile serves the embedded style sheet and the security-key script.
func (h *Handler) staticFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	data, err := fs.ReadFile(h.static, name)
	if err != nil || strings.Contains(name, "/") {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	hd := w.Header()
	switch {
	case strings.HasSuffix(name, ".css"):
		hd.Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		hd.Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		hd.Set("Content-Type", "image/svg+xml")
	default:
		hd.Set("Content-Type", "application/octet-stream")
	}
	hd.Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(data)
}

// path returns a URL of the pages: BasePath + rel.
func (h *Handler) path(rel string) string { return h.cfg.BasePath + rel }

// redirect answers with a redirect to a local URL.
func redirect(w http.ResponseWriter, r *http.Request, to string, status int) {
	w.Header().Set("Location", to)
	w.WriteHeader(status)
}

// errMissingState is logged when RequireVerified runs without Middleware.
var errMissingState = errors.New("web: RequireVerified needs Handler.Middleware around it")
