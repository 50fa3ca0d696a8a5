package main

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/api"
	"github.com/twofactor/twofactor/api/oauth2"
	"github.com/twofactor/twofactor/secret"
	"github.com/twofactor/twofactor/store/sqlite"
	"github.com/twofactor/twofactor/web"
)

// securityPrefix is where the two-factor pages are mounted in the
// application: /security/account/login/, /security/account/two_factor/, …
const securityPrefix = "/security"

// Environment variables of the example.
const (
	// keyVar holds the secret key (64 hex characters, as `twofactor key
	// generate` prints). Without it the key file next to the database is
	// used, and created on the first start.
	keyVar = "EMBED_SECRET_KEY"
	// oldKeysVar holds older keys, comma-separated, during a key rotation:
	// values sealed under them stay readable.
	oldKeysVar = "EMBED_SECRET_KEYS_OLD"
)

// keyFileName is the key file kept next to the database when keyVar is
// not set.
const keyFileName = "twofactor.key"

// demoUsers are the users of the example's user table, with their
// passwords (printed at start: this is a demonstration).
var demoUsers = []struct {
	id, login, email, password string
	admin                      bool
}{
	{"u-1001", "alice", "alice@example.com", "alice-password", true},
	{"u-1002", "bob", "bob@example.com", "bob-password", false},
}

// appConfig configures the example application.
type appConfig struct {
	DBPath string       // the SQLite file of twofactor's tables
	Log    *slog.Logger // nil: slog.Default()
}

// exampleApp is the existing application with twofactor added.
type exampleApp struct {
	users   *userTable
	store   *sqlite.Store
	svc     *twofactor.Service
	pages   *web.Handler
	page    *template.Template // the layout of the application's pages
	handler http.Handler
	log     *slog.Logger
}

// newApp builds the application: its user table, twofactor's store and
// service over it, the two-factor pages under securityPrefix, and the
// application's own pages, one of them protected by RequireVerified.
func newApp(ctx context.Context, cfg appConfig) (_ *exampleApp, err error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	users, err := newUserTable()
	if err != nil {
		return nil, err
	}
	for _, u := range demoUsers {
		if err := users.add(u.id, u.login, u.email, u.password, u.admin); err != nil {
			return nil, err
		}
	}

	// 1. A store for twofactor's own tables, migrated.
	st, err := sqlite.Open(ctx, cfg.DBPath)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	if err := st.Migrate(ctx); err != nil {
		return nil, err
	}

	// 2. The secret key that seals device keys and hashes codes.
	keys, err := loadKeys(filepath.Dir(cfg.DBPath), log)
	if err != nil {
		return nil, err
	}

	// 3. The service, over the application's users, with its rules and an
	// event hook.
	opts := twofactor.DefaultOptions()
	opts.Issuer = "Embed example"
	opts.RememberAge = 30 * 24 * time.Hour // offer "remember this browser"
	svc, err := twofactor.New(twofactor.Config{
		Store:   st,
		Keys:    keys,
		Users:   userSource{users},
		Options: opts,
		Logger:  log,
		Hooks:   []twofactor.Hook{auditHook(log)},
	})
	if err != nil {
		return nil, err
	}

	// 4. The pages, under the prefix, with one template of the
	// application's own.
	templates, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	pages, err := web.New(web.Config{
		Service:   svc,
		BasePath:  securityPrefix,
		Templates: templates,
		Logger:    log,
	})
	if err != nil {
		return nil, err
	}

	page, err := template.New("page").Parse(pageLayout)
	if err != nil {
		return nil, err
	}
	a := &exampleApp{users: users, store: st, svc: svc, pages: pages, page: page, log: log}
	mux := http.NewServeMux()
	if err := pages.Register(mux); err != nil {
		return nil, err
	}
	// The JSON API and the OAuth2 token endpoint, for clients that are not
	// browsers.
	jsonAPI, err := api.New(api.Config{Service: svc, Logger: log})
	if err != nil {
		return nil, err
	}
	mux.Handle("/api/v1/", jsonAPI.Handler())
	tokens, err := oauth2.New(oauth2.Config{Service: svc, Logger: log})
	if err != nil {
		return nil, err
	}
	mux.Handle("/oauth2/", tokens.Handler())

	mux.HandleFunc("GET /{$}", a.home)
	// 5. The application's protected page: only for sessions verified by
	// a second factor.
	mux.Handle("GET /reports/", web.RequireVerified(web.RequireOptions{})(http.HandlerFunc(a.reports)))
	// The middleware around everything tells every handler who is signed
	// in (web.State).
	a.handler = pages.Middleware(mux)
	return a, nil
}

// Close closes the store.
func (a *exampleApp) Close() error { return a.store.Close() }

// cleanupInterval is how often expired records are removed.
const cleanupInterval = 10 * time.Minute

// cleanup removes expired sessions, login challenges and abandoned setups
// now and every interval until ctx ends, as `twofactor serve` does.
// Expired records are refused anyway; this keeps the tables small.
func (a *exampleApp) cleanup(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := a.svc.Cleanup(ctx); err != nil && ctx.Err() == nil {
			a.log.WarnContext(ctx, "cleanup failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// loadKeys returns the keyring: the key of keyVar when set, else the key
// file in dir (created with mode 0600 on the first start), plus the older
// keys of oldKeysVar.
func loadKeys(dir string, log *slog.Logger) (*secret.Keyring, error) {
	var key []byte
	if s := os.Getenv(keyVar); s != "" {
		k, err := secret.ParseKey(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keyVar, err)
		}
		key = k
	} else {
		path := filepath.Join(dir, keyFileName)
		k, created, err := secret.LoadOrCreateKeyFile(path, nil)
		if err != nil {
			return nil, err
		}
		if created {
			log.Warn("generated a new secret key; keep it apart from database backups", "file", path)
		}
		key = k
	}
	var old [][]byte
	if s := os.Getenv(oldKeysVar); s != "" {
		for i, part := range strings.Split(s, ",") {
			k, err := secret.ParseKey(strings.TrimSpace(part))
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", oldKeysVar, i, err)
			}
			old = append(old, k)
		}
	}
	return secret.NewKeyring(key, old...)
}

// auditHook logs every security event; an application would also notify
// the user here (a new device, two-factor turned off).
func auditHook(log *slog.Logger) twofactor.Hook {
	return func(ctx context.Context, e twofactor.Event) {
		log.InfoContext(ctx, "security event", "kind", e.Kind, "user", e.UserID, "outcome", e.Outcome, "device", e.DeviceKind, "reason", e.Reason)
	}
}

// templateFiles replaces some of the pages' templates: here the page a
// signed-in user without two-factor gets from /reports/.
//
//go:embed templates/*.html
var templateFiles embed.FS

// pageLayout is the layout of the application's own pages.
const pageLayout = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
{{if .User}}<p>Signed in as <strong>{{.User}}</strong>{{if .Verified}}, verified by a second factor{{else}}, with the password alone{{end}}.</p>
<form method="post" action="{{.Prefix}}/account/logout/"><button type="submit">Sign out</button></form>
{{else}}<p><a href="{{.Prefix}}/account/login/">Sign in</a></p>{{end}}
<ul>
<li><a href="/reports/">Reports</a> (needs two-factor authentication)</li>
<li><a href="{{.Prefix}}/account/two_factor/">Account security</a></li>
</ul>
{{with .Body}}<p>{{.}}</p>{{end}}
</body></html>
`

// pageData is the data of pageLayout.
type pageData struct {
	Title, User, Body, Prefix string
	Verified                  bool
}

// render writes one of the application's pages for the request.
func (a *exampleApp) render(w http.ResponseWriter, r *http.Request, title, body string) {
	st := web.State(r)
	d := pageData{Title: title, Body: body, Prefix: securityPrefix, Verified: st.IsVerified()}
	if u, err := st.User(r.Context()); err == nil && u != nil {
		d.User = u.Username
	} else if err != nil {
		a.log.ErrorContext(r.Context(), "reading the signed-in user", "err", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := a.page.Execute(w, d); err != nil {
		a.log.ErrorContext(r.Context(), "rendering a page", "err", err)
	}
}

// home is the application's home page.
func (a *exampleApp) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, "Example application", "")
}

// reports is the page RequireVerified protects.
func (a *exampleApp) reports(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, "Reports", "Quarterly figures, for verified sessions only.")
}
