package deux

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/api/oauth2"
)

// DefaultMaxBodyBytes is the default limit of a request body.
const DefaultMaxBodyBytes = 64 << 10

// Prefix is the path the API is served under, as deux's example project
// mounted it.
const Prefix = "/mfa"

// Config configures the API.
type Config struct {
	// Service is the core service; required.
	Service *twofactor.Service
	// OAuth2 serves POST /mfa/oauth2/token/ in deux's dialect; nil leaves
	// that endpoint out (404).
	OAuth2 *oauth2.Server
	// Logger receives failures of the service and bugs (never a secret).
	// Nil means slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies; larger ones are refused with 413.
	// Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// API is the deux-compatible API. It is safe for concurrent use.
type API struct {
	svc     *twofactor.Service
	oauth   *oauth2.Server
	log     *slog.Logger
	maxBody int64
}

// New returns the API for cfg.
func New(cfg Config) (*API, error) {
	if cfg.Service == nil {
		return nil, errors.New("deux: Config.Service is required")
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("deux: Config.MaxBodyBytes must not be negative, not %d", cfg.MaxBodyBytes)
	}
	a := &API{svc: cfg.Service, oauth: cfg.OAuth2, log: cfg.Logger, maxBody: cfg.MaxBodyBytes}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.maxBody == 0 {
		a.maxBody = DefaultMaxBodyBytes
	}
	return a, nil
}

// Handler returns the handler of every path under /mfa (see Register).
func (a *API) Handler() http.Handler { return http.HandlerFunc(a.serveHTTP) }

// Register registers the API on mux: /mfa, /mfa.json and everything under
// /mfa/.
func (a *API) Register(mux *http.ServeMux) {
	h := a.Handler()
	for _, p := range []string{Prefix, Prefix + ".json", Prefix + "/"} {
		mux.Handle(p, h)
	}
}

// endpoint is one view of deux.
type endpoint struct {
	// path is the path below /mfa/ without its trailing slash ("" for
	// /mfa/ itself).
	path string
	// name is the view's name, as Django REST framework shows it.
	name string
	// methods are the methods the view takes, in Django REST framework's
	// order (HEAD follows GET; OPTIONS is always taken).
	methods []string
	// token says whether the view needs a token.
	token bool
	// fields are the request fields of a view that reads a body (nil for
	// none); the OAuth2 endpoint reads its own.
	fields []field
	serve  func(a *API, c *call) error
}

// endpoints lists every view of deux (SPEC §7.2).
var endpoints = []endpoint{
	{"", "Multi Factor Auth Detail", []string{"GET", "DELETE"}, true, nil, (*API).root},
	{"sms/request", "SMS Challenge Request Detail", []string{"PUT", "PATCH"}, true, smsRequestFields, (*API).smsRequest},
	{"sms/verify", "SMS Challenge Verify Detail", []string{"PUT", "PATCH"}, true, smsVerifyFields, (*API).smsVerify},
	{"recovery", "Backup Code Detail", []string{"GET"}, true, nil, (*API).recovery},
	{"authtoken/login", "Obtain MFA Auth Token", []string{"POST"}, false, loginFields, (*API).login},
	{"oauth2/token", "MFA Token View", []string{"POST"}, false, nil, (*API).oauthToken},
}

// route returns the endpoint of a request path: /mfa/<path>/, with or
// without the trailing slash, or with a .json suffix (before an optional
// slash).
func (a *API) route(p string) *endpoint {
	rest, ok := strings.CutPrefix(p, Prefix)
	if !ok {
		return nil
	}
	rest = strings.TrimSuffix(rest, "/")
	rest = strings.TrimSuffix(rest, ".json")
	rest = strings.TrimPrefix(rest, "/")
	for i := range endpoints {
		e := &endpoints[i]
		if e.path != rest {
			continue
		}
		if e.path == "oauth2/token" && a.oauth == nil {
			return nil
		}
		return e
	}
	return nil
}

// call is one request.
type call struct {
	w    http.ResponseWriter
	r    *http.Request
	ctx  context.Context
	e    *endpoint
	sess *twofactor.Session // for token endpoints
	data values             // the parsed body, for views that read one
}

// actor is the caller acting on their own account.
func (c *call) actor() twofactor.Actor { return c.sess.Actor() }

// serveHTTP dispatches as Django REST framework does: authentication and
// permission first, then the method, then the body.
func (a *API) serveHTTP(w http.ResponseWriter, r *http.Request) {
	defer a.recover(w, r)
	e := a.route(r.URL.Path)
	if e == nil {
		writeJSON(w, http.StatusNotFound, detail{"Not found."})
		return
	}
	c := &call{w: w, r: r, ctx: twofactor.WithClient(r.Context(), clientOf(r)), e: e}
	w.Header().Set("Allow", allow(e))
	if err := a.run(c); err != nil {
		a.fail(c, err)
	}
}

// allow is the Allow header of an endpoint.
func allow(e *endpoint) string {
	ms := append([]string(nil), e.methods...)
	for _, m := range e.methods {
		if m == http.MethodGet {
			ms = append(ms, http.MethodHead)
		}
	}
	return strings.Join(append(ms, http.MethodOptions), ", ")
}

func (a *API) run(c *call) error {
	if c.e.token {
		sess, err := a.authenticate(c.ctx, c.r)
		if err != nil {
			return err
		}
		c.sess = sess
		if err := a.permitted(c.ctx, sess); err != nil {
			return err
		}
	}
	m := c.r.Method
	if m == http.MethodOptions {
		return c.reply(http.StatusOK, metadata{Name: c.e.name, Description: "", Renders: []string{"application/json"},
			Parses: []string{"application/json", "application/x-www-form-urlencoded", "multipart/form-data"}})
	}
	if m == http.MethodHead && contains(c.e.methods, http.MethodGet) {
		m = http.MethodGet
	}
	if !contains(c.e.methods, m) {
		return &failure{status: http.StatusMethodNotAllowed, body: detail{fmt.Sprintf("Method %q not allowed.", c.r.Method)}}
	}
	if c.e.fields != nil {
		data, err := parseBody(c.r, a.maxBody)
		if err != nil {
			return err
		}
		c.data = data
	}
	return c.e.serve(a, c)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// metadata is the answer to OPTIONS.
type metadata struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Renders     []string `json:"renders"`
	Parses      []string `json:"parses"`
}

// ---- answers --------------------------------------------------------------

// detail is {"detail": "…"}: Django REST framework's shape of an error
// raised outside a serializer's validation.
type detail struct {
	Detail string `json:"detail"`
}

// detailList is {"detail": ["…"]}: the same raised inside validation.
type detailList struct {
	Detail []string `json:"detail"`
}

// failure is an answer other than success, as an error.
type failure struct {
	status int
	body   any
	// retryAfter is the Retry-After header (seconds) of a 429.
	retryAfter int64
	// challenge is the WWW-Authenticate header of a 401.
	challenge string
}

func (f *failure) Error() string { return fmt.Sprintf("deux: %d %v", f.status, f.body) }

// fieldErrors is Django REST framework's {"field": ["message", …], …},
// in the serializer's field order.
type fieldErrors []fieldError

type fieldError struct {
	field    string
	messages []string
}

// MarshalJSON writes the fields in order.
func (fe fieldErrors) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fe {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(f.field)
		if err != nil {
			return nil, err
		}
		v, err := marshal(f.messages)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// add appends messages for a field, merging with the field's earlier ones.
func (fe fieldErrors) add(field string, messages ...string) fieldErrors {
	for i := range fe {
		if fe[i].field == field {
			fe[i].messages = append(fe[i].messages, messages...)
			return fe
		}
	}
	return append(fe, fieldError{field, messages})
}

// invalid is a 400 with field errors.
func invalid(fe fieldErrors) *failure { return &failure{status: http.StatusBadRequest, body: fe} }

// badRequest is a 400 {"detail": msg}.
func badRequest(msg string) *failure {
	return &failure{status: http.StatusBadRequest, body: detail{msg}}
}

// nonField is a 400 {"non_field_errors": [msg]}.
func nonField(msg string) *failure {
	return invalid(fieldErrors{{"non_field_errors", []string{msg}}})
}

// throttled is Django REST framework's 429.
func throttled(wait time.Duration) *failure {
	secs := int64((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	unit := "seconds"
	if secs == 1 {
		unit = "second"
	}
	return &failure{status: http.StatusTooManyRequests, retryAfter: secs,
		body: detail{fmt.Sprintf("%s Expected available in %d %s.", msgThrottled, secs, unit)}}
}

// reply writes a JSON answer.
func (c *call) reply(status int, v any) error {
	writeJSON(c.w, status, v)
	return nil
}

// noContent writes a 204.
func (c *call) noContent() error {
	setHeaders(c.w.Header())
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// fail writes err: a failure as it is; a core error mapped by coreFailure.
func (a *API) fail(c *call, err error) {
	var f *failure
	if !errors.As(err, &f) {
		f = a.coreFailure(c, err)
	}
	h := c.w.Header()
	if f.challenge != "" {
		h.Set("WWW-Authenticate", f.challenge)
	}
	if f.retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(f.retryAfter, 10))
	}
	writeJSON(c.w, f.status, f.body)
}

// coreFailure maps a core error that no view mapped itself: a throttle is
// 429, a failure of the service (logged) 503, anything else a 400 with the
// core's message.
func (a *API) coreFailure(c *call, err error) *failure {
	e := twofactor.AsError(err)
	switch e.Code {
	case twofactor.CodeThrottled:
		return throttled(e.RetryAfter(a.svc.Now()))
	case twofactor.CodeUnavailable:
		a.log.ErrorContext(c.ctx, "deux: service unavailable", "method", c.r.Method, "path", c.r.URL.Path, "err", err)
		return &failure{status: http.StatusServiceUnavailable, body: detail{e.Message}}
	case twofactor.CodeGatewayFailed:
		a.log.WarnContext(c.ctx, "deux: message gateway failed", "method", c.r.Method, "path", c.r.URL.Path, "err", err)
		return badRequest(msgSMSFailed)
	case twofactor.CodeNotFound:
		return &failure{status: http.StatusNotFound, body: detail{"Not found."}}
	}
	return badRequest(e.Message)
}

func setHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept, Authorization")
}

// marshal encodes v as JSON without HTML escaping, as Django REST
// framework's renderer writes it.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// writeJSON writes v compactly, as Django REST framework's JSONRenderer
// does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		b, status = []byte(`{"detail":"A server error occurred."}`), http.StatusInternalServerError
	}
	h := w.Header()
	setHeaders(h)
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// recover answers a panic — a bug, never an input — with a 500 and logs it.
func (a *API) recover(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	a.log.ErrorContext(r.Context(), "deux: panic", "method", r.Method, "path", r.URL.Path,
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	writeJSON(w, http.StatusInternalServerError, detail{"A server error occurred."})
}

// clientOf describes the request's client for the core: the connection's
// address (forwarding headers are not trusted) and user agent.
func clientOf(r *http.Request) twofactor.Client {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ua := r.UserAgent()
	if len(ua) > 512 {
		ua = ua[:512]
	}
	return twofactor.Client{Address: addr, UserAgent: ua}
}
