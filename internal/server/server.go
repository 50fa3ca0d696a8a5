// Package server is what `twofactor serve` runs: the HTTP handler of the
// standalone site and the server around it (listening, start-up log,
// graceful shutdown).
//
// The handler serves the operational endpoints — GET /healthz (the process
// is alive), GET /readyz (the database answers), GET /metrics (Prometheus) —
// and the pages of
// package web (sign-in, the two-factor wizards, account security), with
// "/" sending to the account page or the sign-in page. [routes] is the one
// place that registers routes; [webConfig] the one place that maps the
// configuration onto the pages.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/internal/app"
	"github.com/twofactor/twofactor/store"
	"github.com/twofactor/twofactor/web"
)

// Timeouts of the server. ReadHeaderTimeout bounds slow-header clients
// (Slowloris); the others bound a whole request, a response and an idle
// keep-alive connection.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
	// ShutdownTimeout is how long in-flight requests may take to finish
	// once shutdown begins.
	ShutdownTimeout = 10 * time.Second
	// ReadyTimeout bounds the database check of /readyz.
	ReadyTimeout = 2 * time.Second
)

// New returns the handler of the standalone server. Every request's
// latency is observed by route (see internal/metrics).
func New(a *app.App) (http.Handler, error) {
	mux := http.NewServeMux()
	if err := routes(mux, a); err != nil {
		return nil, err
	}
	return a.Metrics.Middleware(mux), nil
}

// routes registers every route of the server on mux.
func routes(mux *http.ServeMux, a *app.App) error {
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyz(a.Store))
	mux.Handle("GET /metrics", a.Metrics.Handler())
	mountOAuth2(mux, a)
	mountAPI(mux, a)
	mountDeux(mux, a)
	mountTwilio(mux, a)

	pages, err := web.New(webConfig(a))
	if err != nil {
		return fmt.Errorf("pages: %w", err)
	}
	if err := pages.Register(mux); err != nil {
		return err
	}
	mux.Handle("GET /{$}", pages.Middleware(home(pages.Config())))
	return nil
}

// webConfig maps the server's configuration onto the pages.
func webConfig(a *app.App) web.Config {
	c := a.Config
	httpOnly := c.Remember.HTTPOnly
	adminVerified := c.Admin.RequireVerified
	return web.Config{
		Service:           a.Service,
		LoginURL:          c.LoginURL,
		LoginRedirectURL:  c.LoginRedirectURL,
		LogoutRedirectURL: c.LogoutRedirectURL,
		Issuer:            c.Issuer,
		// Behind a TLS-terminating proxy the request is plain HTTP: a
		// public URL on https says the cookies must be Secure anyway.
		Secure: strings.HasPrefix(strings.ToLower(c.PublicURL), "https://"),
		Remember: web.CookieConfig{
			Prefix:   c.Remember.CookiePrefix,
			Domain:   c.Remember.Domain,
			Path:     c.Remember.Path,
			Secure:   c.Remember.Secure,
			HTTPOnly: &httpOnly,
			SameSite: c.Remember.SameSiteMode(),
		},
		Language:             c.Language,
		Logger:               a.Log,
		AdminRequireVerified: &adminVerified,
	}
}

// home sends "/" to the account page when signed in, else to sign in.
func home(cfg web.Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := cfg.LoginURL
		if web.State(r).IsAuthenticated() {
			to = cfg.LoginRedirectURL
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, to, http.StatusFound)
	})
}

// healthz answers 200 while the process runs.
func healthz(w http.ResponseWriter, r *http.Request) {
	plain(w, http.StatusOK, "ok")
}

// readyz answers 200 when the store answers a ping within ReadyTimeout,
// else 503.
func readyz(st twofactor.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			plain(w, http.StatusServiceUnavailable, "database unavailable")
			return
		}
		plain(w, http.StatusOK, "ok")
	})
}

// plain writes a short text response that no cache keeps.
func plain(w http.ResponseWriter, status int, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, text)
}

// Run serves a on addr until ctx is cancelled, then shuts down gracefully:
// in-flight requests get ShutdownTimeout to finish. Once it listens it logs
// one line with the URL, the database and the enabled methods, tells how to
// create the first user when there is none, and calls ready (if not nil)
// with the URL. It returns nil after a graceful shutdown.
func Run(ctx context.Context, a *app.App, addr string, ready func(url string)) error {
	h, err := New(a)
	if err != nil {
		return err
	}
	return run(ctx, a, addr, h, ready)
}

// run is Run with the handler given, so tests can serve slow requests.
func run(ctx context.Context, a *app.App, addr string, h http.Handler, ready func(url string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	u := listenURL(ln.Addr())
	a.Log.Info("twofactor is serving", "url", u, "database", Database(a.Target), "methods", methods(a.Service))
	firstUserHint(ctx, a)
	if ready != nil {
		ready(u)
	}

	go cleanup(ctx, a)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Log.Info("shutting down", "timeout", ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	a.Log.Info("stopped")
	return nil
}

// methods lists the enabled methods for the start-up line: the device
// kinds users can set up, then backup codes ("totp, sms, backup codes").
func methods(svc *twofactor.Service) string {
	var b strings.Builder
	for _, k := range svc.Methods() {
		b.WriteString(string(k))
		b.WriteString(", ")
	}
	b.WriteString("backup codes")
	return b.String()
}

// CleanupInterval is how often the server removes expired sessions, login
// challenges, refresh tokens and abandoned setups.
const CleanupInterval = 10 * time.Minute

// cleanup runs Service.Cleanup now and every CleanupInterval until ctx ends.
func cleanup(ctx context.Context, a *app.App) {
	t := time.NewTicker(CleanupInterval)
	defer t.Stop()
	for {
		if r, err := a.Service.Cleanup(ctx); err != nil {
			if ctx.Err() == nil {
				a.Log.Warn("cleanup failed", "err", err)
			}
		} else if r != (twofactor.CleanupResult{}) {
			a.Log.Info("removed expired records", "sessions", r.Sessions, "challenges", r.Challenges,
				"refresh_tokens", r.RefreshTokens, "setups", r.Setups)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// firstUserHint logs how to create the first user when there is none.
func firstUserHint(ctx context.Context, a *app.App) {
	b := a.Service.Builtin()
	if b == nil {
		return
	}
	_, total, err := b.List(ctx, twofactor.UserQuery{Limit: 1})
	if err != nil {
		a.Log.Warn("cannot count the users", "err", err)
		return
	}
	if total == 0 {
		a.Log.Info("there are no users yet; create the first one with: twofactor user create NAME --staff")
	}
}

// listenURL is the URL to open for a listening address; an unspecified
// host (all interfaces) is shown as localhost.
func listenURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Database describes a database for logs: its kind and file, or for
// PostgreSQL its user, host and database name, never a password or the
// query parameters (which may hold one).
func Database(t store.Target) string {
	switch t.Kind {
	case store.SQLite:
		return "sqlite " + t.Path
	case store.Postgres:
		u, err := url.Parse(t.DSN)
		if err != nil {
			return "postgres"
		}
		where := u.Host + strings.TrimSuffix(u.Path, "/")
		if name := u.User.Username(); name != "" {
			where = name + "@" + where
		}
		return "postgres " + where
	}
	return string(t.Kind)
}
