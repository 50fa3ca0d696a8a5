package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/twofactor/twofactor"
)

// Config configures the API.
type Config struct {
	// Service is the core service; required.
	Service *twofactor.Service
	// Issuer names the site in authenticator apps. Empty means the
	// service's Options.Issuer, and when that is empty too the host name
	// of the request.
	Issuer string
	// Logger receives failures of the service and bugs (with their
	// internal cause, never a secret). Nil means slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies; larger ones are refused with 413.
	// Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// API is the /api/v1 handler. It is safe for concurrent use.
type API struct {
	svc     *twofactor.Service
	issuer  string
	log     *slog.Logger
	maxBody int64
	handler http.Handler
}

// New returns the API for cfg.
func New(cfg Config) (*API, error) {
	if cfg.Service == nil {
		return nil, errors.New("api: Config.Service is required")
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("api: Config.MaxBodyBytes must not be negative, not %d", cfg.MaxBodyBytes)
	}
	a := &API{svc: cfg.Service, issuer: cfg.Issuer, log: cfg.Logger, maxBody: cfg.MaxBodyBytes}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.maxBody == 0 {
		a.maxBody = DefaultMaxBodyBytes
	}
	if a.issuer == "" {
		a.issuer = a.svc.Options().Issuer
	}
	mux := http.NewServeMux()
	paths := http.NewServeMux() // the same paths for any method: tells 405 from 404
	allowed := map[string][]string{}
	for _, e := range endpoints {
		mux.Handle(e.method+" "+e.path, a.serve(e))
		if allowed[e.path] == nil {
			paths.Handle(e.path, http.NotFoundHandler())
		}
		allowed[e.path] = append(allowed[e.path], e.method)
		if e.method == http.MethodGet { // ServeMux answers HEAD with GET
			allowed[e.path] = append(allowed[e.path], http.MethodHead)
		}
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := paths.Handler(r); pattern != "" {
			methods := allowed[pattern]
			p := newProblem(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
				"This path accepts "+strings.Join(methods, ", ")+" only.")
			p.allow = strings.Join(methods, ", ")
			a.writeProblem(w, r, p)
			return
		}
		a.writeProblem(w, r, newProblem(http.StatusNotFound, string(twofactor.CodeNotFound), "There is no such endpoint."))
	}))
	a.handler = a.recover(mux)
	return a, nil
}

// Handler returns the handler of every /api/v1/ path.
func (a *API) Handler() http.Handler { return a.handler }

// OpenAPI returns the OpenAPI 3.1 document of the API, as served at
// GET /api/v1/openapi.json.
func OpenAPI() []byte { return append([]byte(nil), openapiJSON...) }

//go:embed openapi.json
var openapiJSON []byte

// access is what an endpoint needs from the caller.
type access int

const (
	// public endpoints need no token.
	public access = iota
	// signedIn endpoints need a valid token, whether or not a second factor
	// verified it (sign out, step up).
	signedIn
	// verified endpoints need a valid token that a second factor verified
	// when the user has two-factor on.
	verified
)

// call is one request to an endpoint, with the caller's session once
// authenticated.
type call struct {
	w    http.ResponseWriter
	r    *http.Request
	ctx  context.Context
	sess *twofactor.Session // nil for public endpoints
}

// actor is the caller acting on their own account.
func (c *call) actor() twofactor.Actor { return c.sess.Actor() }

// serve returns the http.Handler of one endpoint: client context, body,
// authentication, then the endpoint's own function.
func (a *API) serve(e endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r, ctx: twofactor.WithClient(r.Context(), clientOf(r))}
		err := a.run(c, e)
		if err != nil {
			a.fail(c, err)
		}
	})
}

// run checks the body before anything touches the store, so malformed
// requests cost nothing; then the token; then the endpoint runs.
func (a *API) run(c *call, e endpoint) error {
	var req request = &emptyRequest{}
	if e.action.input != nil {
		req = e.action.input()
	}
	if e.method != http.MethodGet {
		body, err := readBody(c.w, c.r, a.maxBody, e.action.input != nil)
		if err != nil {
			return err
		}
		if e.action.input != nil || len(body) > 0 {
			if err := decodeJSON(body, req); err != nil {
				return err
			}
		}
	}
	if e.access != public {
		sess, err := a.authenticate(c.ctx, c.r)
		if err != nil {
			return err
		}
		if e.access == verified {
			if err := a.requireVerified(c.ctx, sess); err != nil {
				return err
			}
		}
		c.sess = sess
	}
	return e.action.serve(a, c, req)
}

// fail writes err as a problem. Failures of the service are logged with
// their internal cause, which never reaches the client.
func (a *API) fail(c *call, err error) {
	var p *problem
	if !errors.As(err, &p) {
		switch {
		case isUnavailable(err):
			a.log.ErrorContext(c.ctx, "api: service unavailable", "method", c.r.Method, "path", c.r.URL.Path, "err", err)
		case twofactor.CodeOf(err) == twofactor.CodeGatewayFailed:
			// The provider's answer, for the operator; never a code.
			a.log.WarnContext(c.ctx, "api: message gateway failed", "method", c.r.Method, "path", c.r.URL.Path, "err", err)
		}
		p = coreProblem(err, a.svc.Now(), nil)
	}
	a.writeProblem(c.w, c.r, p)
}

// writeProblem writes p.
func (a *API) writeProblem(w http.ResponseWriter, _ *http.Request, p *problem) {
	h := w.Header()
	if p.allow != "" {
		h.Set("Allow", p.allow)
	}
	if p.wwwAuthenticate != "" {
		h.Set("WWW-Authenticate", p.wwwAuthenticate)
	}
	if p.RetryAfter > 0 {
		h.Set("Retry-After", fmt.Sprint(p.RetryAfter))
	}
	writeJSON(w, "application/problem+json", p.Status, p.body())
}

// reply writes a JSON response.
func (c *call) reply(status int, v any) error {
	writeJSON(c.w, "application/json", status, v)
	return nil
}

// noContent writes a 204.
func (c *call) noContent() error {
	setHeaders(c.w.Header())
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func setHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// writeJSON writes v as JSON. Every response value is a plain struct of
// strings, numbers and times, so encoding cannot fail.
func writeJSON(w http.ResponseWriter, contentType string, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, status, contentType = []byte(`{"type":"`+ProblemTypeBase+CodeInternal+`","title":"Internal error","status":500,"detail":"The response could not be encoded.","code":"`+CodeInternal+`"}`),
			http.StatusInternalServerError, "application/problem+json"
	}
	h := w.Header()
	setHeaders(h)
	h.Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// recover answers a panic — a bug, never an input — with a 500 problem and
// logs it with its stack.
func (a *API) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { // net/http's way to abort a response
				panic(v)
			}
			a.log.ErrorContext(r.Context(), "api: panic", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			a.writeProblem(w, r, newProblem(http.StatusInternalServerError, CodeInternal, "An internal error occurred; it has been logged."))
		}()
		next.ServeHTTP(w, r)
	})
}

// clientOf describes the request's client for the core: the connection's
// address (forwarding headers are not trusted, see the package doc) and
// user agent.
func clientOf(r *http.Request) twofactor.Client {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return twofactor.Client{Address: addr, UserAgent: truncate(r.UserAgent(), 512)}
}

// issuerFor returns the issuer for a new device: the configured one, else
// the request's host name.
func (a *API) issuerFor(r *http.Request) string {
	if a.issuer != "" {
		return a.issuer
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		return "twofactor"
	}
	return truncate(host, 253)
}
