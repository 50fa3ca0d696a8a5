package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/twofactor/twofactor/i18n"
)

// msg marks an English message id in Go code, so that the catalog test
// finds it; it returns id unchanged.
func msg(id string) string { return id }

// pageNames are the page templates; each is parsed with base.html, which
// holds the layout and the shared blocks.
var pageNames = []string{
	"login.html", "login_token.html", "logout.html", "profile.html",
	"setup_welcome.html", "setup_method.html", "setup_totp.html", "setup_sent.html", "setup_yubikey.html", "setup_webauthn.html",
	"setup_complete.html",
	"phone_register.html", "phone_unregister.html",
	"backup_tokens.html", "disable.html", "devices.html", "device.html",
	"otp_required.html", "error.html",
	"admin.html", "admin_user.html", "admin_setup.html",
}

// pageSet holds the parsed templates, one set per page.
type pageSet struct {
	sets map[string]*template.Template
}

// loadPages parses the embedded templates, each replaced by the file of
// the same name in overrides when it has one.
func loadPages(overrides fs.FS) (*pageSet, error) {
	read := func(name string) (string, error) {
		if overrides != nil {
			b, err := fs.ReadFile(overrides, name)
			if err == nil {
				return string(b), nil
			}
		}
		b, err := fs.ReadFile(assets, path.Join("templates", name))
		if err != nil {
			return "", fmt.Errorf("web: template %s: %w", name, err)
		}
		return string(b), nil
	}
	base, err := read("base.html")
	if err != nil {
		return nil, err
	}
	ps := &pageSet{sets: map[string]*template.Template{}}
	for _, name := range pageNames {
		text, err := read(name)
		if err != nil {
			return nil, err
		}
		t, err := template.New(name).Parse(base)
		if err == nil {
			_, err = t.Parse(text)
		}
		if err != nil {
			return nil, fmt.Errorf("web: parse template %s: %w", name, err)
		}
		if t.Lookup("content") == nil || t.Lookup("layout") == nil {
			return nil, fmt.Errorf("web: template %s must define \"content\" (and base.html \"layout\")", name)
		}
		ps.sets[name] = t
	}
	return ps, nil
}

// page is what every template gets: the translation function, URLs, the
// signed-in user, the form and the page's own data.
type page struct {
	h   *Handler
	r   *http.Request
	loc *i18n.Localizer

	// Title is the English id of the page title.
	Title string
	// User is the signed-in user's name ("" when anonymous or not loaded).
	User string
	// Banner is a notice shown above the content (the policy countdown).
	Banner *banner
	// Form holds the posted values and the errors of the page's form.
	Form *form
	// Data is the page's own data.
	Data any
	// Script loads the security-key script (static/webauthn.js): the
	// page runs a WebAuthn ceremony.
	Script bool
	// StepUp is how the page's sensitive forms confirm it is the user
	// (nil when they need not).
	StepUp *stepUpView
}

// banner is a notice above the page content.
type banner struct {
	Text string // translated
	Link string
	Go   string // translated link text
}

// newPage starts the data of a page.
func (h *Handler) newPage(r *http.Request, title string, data any) *page {
	st := State(r)
	p := &page{h: h, r: r, loc: h.localizer(r), Title: title, Form: newForm(), Data: data}
	if st.IsAuthenticated() {
		st.mu.Lock()
		if st.user != nil {
			p.User = st.user.Username
		}
		st.mu.Unlock()
	}
	return p
}

// localizer returns the request's localizer.
func (h *Handler) localizer(r *http.Request) *i18n.Localizer {
	if st := FromContext(r.Context()); st != nil && st.h != nil {
		return st.localizer()
	}
	return h.negotiate(r)
}

// T translates a message id (see package i18n).
func (p *page) T(id string, args ...any) string { return p.loc.T(id, args...) }

// Act translates a device's action text (Method.Action), naming the
// device's masked destination when the text has a place for it.
func (p *page) Act(action, destination string) string {
	if strings.Contains(action, "%s") {
		return p.loc.T(action, destination)
	}
	return p.loc.T(action)
}

// Lang is the page's language tag.
func (p *page) Lang() string { return p.loc.Lang() }

// Dir is the page's text direction.
func (p *page) Dir() string { return p.loc.Dir() }

// URL returns a URL of the pages (BasePath + rel).
func (p *page) URL(rel string) string { return p.h.path(rel) }

// LoginURL, ProfileURL and LogoutURL are the main links.
func (p *page) LoginURL() string   { return p.h.cfg.LoginURL }
func (p *page) ProfileURL() string { return p.h.path("/account/two_factor/") }
func (p *page) LogoutURL() string  { return p.h.path("/account/logout/") }

// StyleURL is the URL of the style sheet.
func (p *page) StyleURL() string { return p.h.path("/account/static/style.css") }

// ScriptURL is the URL of the security-key script.
func (p *page) ScriptURL() string { return p.h.path("/account/static/webauthn.js") }

// SignedIn reports whether a user is signed in.
func (p *page) SignedIn() bool { return State(p.r).IsAuthenticated() }

// langLink is one entry of the language switcher.
type langLink struct {
	Tag, Name, URL string
	Current        bool
}

// Languages returns the language switcher's links (none with one
// language).
func (p *page) Languages() []langLink {
	h := p.h
	if h.forced != nil || len(h.langs) < 2 {
		return nil
	}
	q := p.r.URL.Query() // keep the page's parameters (next, …)
	var out []langLink
	for _, t := range h.langs {
		q.Set("lang", t.String())
		out = append(out, langLink{Tag: t.String(), Name: i18n.Name(t), URL: p.r.URL.Path + "?" + q.Encode(),
			Current: t == p.loc.Tag()})
	}
	return out
}

// Time formats a time for the page, in UTC ("" for the zero time).
func (p *page) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// ISOTime formats a time for a datetime attribute.
func (p *page) ISOTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// form carries the values and the errors of a form.
type form struct {
	values   map[string]string
	errors   map[string][]string
	nonField []string
	notes    []string
	// Action names which of a page's forms the errors belong to.
	Action string
}

func newForm() *form { return &form{values: map[string]string{}, errors: map[string][]string{}} }

// Value returns the value to show again in a field.
func (f *form) Value(field string) string { return f.values[field] }

// Errors returns the errors of a field.
func (f *form) Errors(field string) []string { return f.errors[field] }

// NonField returns the errors of the whole form.
func (f *form) NonField() []string { return f.nonField }

// Notices returns the form's notices: what happened, not what went wrong
// ("We sent you a new code.").
func (f *form) Notices() []string { return f.notes }

// notice adds a translated notice.
func (f *form) notice(text string) { f.notes = append(f.notes, text) }

// flatten moves the errors of fields the page does not show to the whole
// form, so that none is lost.
func (f *form) flatten(shown ...string) {
	var moved []string
	for field := range f.errors {
		if !slices.Contains(shown, field) {
			moved = append(moved, field)
		}
	}
	slices.Sort(moved)
	for _, field := range moved {
		f.nonField = append(f.nonField, f.errors[field]...)
		delete(f.errors, field)
	}
}

// HasErrors reports whether the form has any error.
func (f *form) HasErrors() bool { return len(f.errors) > 0 || len(f.nonField) > 0 }

// Failed reports whether the errors belong to the form named action.
func (f *form) Failed(action string) bool { return f.HasErrors() && f.Action == action }

// set keeps a value to show again (never a password or a code).
func (f *form) set(field, value string) {
	f.values[field] = strings.ToValidUTF8(value, "\uFFFD")
}

// fieldError adds a translated error to a field ("" = the whole form).
func (f *form) fieldError(field, text string) {
	if field == "" {
		f.nonField = append(f.nonField, text)
		return
	}
	f.errors[field] = append(f.errors[field], text)
}

// render writes a page. The template runs into a buffer first, so a
// template failure is a clean 500 page rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t := h.pages.sets[name]
	var buf bytes.Buffer
	if t == nil {
		h.log.ErrorContext(r.Context(), "no such template", "template", name)
		h.plainError(w, http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.ErrorContext(r.Context(), "rendering a page failed", "template", name, "err", err)
		if name == "error.html" {
			h.plainError(w, http.StatusInternalServerError)
			return
		}
		h.errorPage(w, r, http.StatusInternalServerError, "")
		return
	}
	hd := w.Header()
	securityHeaders(hd)
	hd.Set("Content-Type", "text/html; charset=utf-8")
	if p.loc != nil {
		hd.Set("Content-Language", p.loc.Lang())
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// plainError is the last resort when even the error page cannot render.
func (h *Handler) plainError(w http.ResponseWriter, status int) {
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, http.StatusText(status))
}

// errorInfo is the data of the error page.
type errorInfo struct {
	Status  int
	Heading string // English id
	Text    string // English id
}

// errorPage renders the error page for a status, with text (an English
// id) or the status's standard text.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, text string) {
	info := errorInfo{Status: status}
	switch status {
	case http.StatusBadRequest:
		info.Heading, info.Text = msg("Bad request"), msg("The form was incomplete or malformed. Please go back and try again.")
	case http.StatusForbidden:
		info.Heading, info.Text = msg("Permission Denied"), msg("You do not have permission to access this page.")
	case http.StatusNotFound:
		info.Heading, info.Text = msg("Page not found"), msg("Not found.")
	case http.StatusRequestEntityTooLarge:
		info.Heading, info.Text = msg("Bad request"), msg("The form was too large.")
	case http.StatusServiceUnavailable:
		info.Heading, info.Text = msg("Service unavailable"), msg("The service is temporarily unavailable. Please try again.")
	default:
		info.Heading, info.Text = msg("Server error"), msg("Something went wrong on our side. Please try again later.")
	}
	if text != "" {
		info.Text = text
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	h.render(w, r, status, "error.html", h.newPage(r, info.Heading, info))
}
