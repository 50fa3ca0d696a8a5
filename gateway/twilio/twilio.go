package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/phone"
)

// DefaultBaseURL is Twilio's REST API host, used when Config.BaseURL is
// empty.
const DefaultBaseURL = "https://api.twilio.com"

// CallbackPath is the path, under Config.PublicURL, of the URL Twilio
// fetches when a call is answered; the call id and a slash follow it.
const CallbackPath = "/twilio/inbound/two_factor/"

// DefaultTimeout bounds one request to Twilio when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// CallTimeout is how many seconds Twilio lets the phone ring before giving
// up (the Call resource's Timeout).
const CallTimeout = 15

// InvalidDestinationCodes are the Twilio error codes that mean the number
// itself was refused; they become twofactor.ErrInvalidDestination:
//
//	21211 invalid 'To' phone number        21214 'To' number cannot be reached
//	21217 number does not appear valid     21401 invalid phone number
//	21407 number type does not support SMS 21421 phone number is invalid
//	21614 'To' is not a mobile number      21612 'To' number is unroutable
//	21635 'To' number is a landline        21610 recipient unsubscribed (STOP)
//	21408 SMS to that region not enabled   21215 calls to that region not enabled
//
// Every other error code means the gateway is unavailable.
var InvalidDestinationCodes = []int{21211, 21214, 21215, 21217, 21401, 21407, 21408, 21421, 21610, 21612, 21614, 21635}

// Config is the twilio.* configuration.
type Config struct {
	// AccountSID and AuthToken authenticate to Twilio (twilio.account_sid,
	// twilio.auth_token). The token also signs Twilio's webhook requests.
	AccountSID string
	AuthToken  string
	// CallerID is the E.164 number calls (and, without a messaging
	// service, text messages) come from (twilio.caller_id).
	CallerID string
	// MessagingServiceSID, when set, sends text messages through that
	// messaging service instead of from CallerID
	// (twilio.messaging_service_sid). Calls always use CallerID.
	MessagingServiceSID string
	// BaseURL replaces DefaultBaseURL (twilio.base_url): a regional edge,
	// or a test server.
	BaseURL string
	// PublicURL is this server's address as Twilio reaches it
	// (public_url); calls need it for their callback URL.
	PublicURL string
	// HTTPClient sends the requests; nil means a client that does not
	// follow redirects.
	HTTPClient *http.Client
	// Timeout bounds each request (DefaultTimeout when zero, or the
	// HTTPClient's Timeout when that is set).
	Timeout time.Duration
	// Translate words the text messages and the voice scripts in the
	// user's language; nil means English.
	Translate Translator
}

// Gateway sends codes through Twilio. It implements twofactor.SMSSender
// and twofactor.Caller and is safe for concurrent use.
type Gateway struct {
	sid, token          string
	callerID, msgSvcSID string
	base                *url.URL
	public              string
	hc                  *http.Client
	timeout             time.Duration
	script              Script
}

var (
	_ twofactor.SMSSender = (*Gateway)(nil)
	_ twofactor.Caller    = (*Gateway)(nil)
)

var (
	accountSIDRE = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	serviceSIDRE = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	tokenRE      = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	callIDRE     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
)

// New checks the configuration and returns a gateway. Each error names the
// setting at fault and never repeats the auth token.
func New(cfg Config) (*Gateway, error) {
	if !accountSIDRE.MatchString(cfg.AccountSID) {
		return nil, errors.New("twilio.account_sid: want AC followed by 32 hexadecimal digits")
	}
	if !tokenRE.MatchString(cfg.AuthToken) {
		return nil, errors.New("twilio.auth_token: required, letters and digits only")
	}
	if cfg.CallerID != "" && !phone.IsE164(cfg.CallerID) {
		return nil, errors.New("twilio.caller_id: want an E.164 number such as +15005550006")
	}
	if cfg.MessagingServiceSID != "" && !serviceSIDRE.MatchString(cfg.MessagingServiceSID) {
		return nil, errors.New("twilio.messaging_service_sid: want MG followed by 32 hexadecimal digits")
	}
	if cfg.CallerID == "" && cfg.MessagingServiceSID == "" {
		return nil, errors.New("twilio.caller_id: required (or twilio.messaging_service_sid for text messages only)")
	}
	baseURL := cfg.BaseURL
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	base, err := parseHTTPURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("twilio.base_url: %w", err)
	}
	public := ""
	if cfg.PublicURL != "" {
		if _, err := parseHTTPURL(cfg.PublicURL); err != nil {
			return nil, fmt.Errorf("public_url: %w", err)
		}
		public = strings.TrimRight(cfg.PublicURL, "/")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = hc.Timeout
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Gateway{
		sid: cfg.AccountSID, token: cfg.AuthToken,
		callerID: cfg.CallerID, msgSvcSID: cfg.MessagingServiceSID,
		base: base, public: public, hc: hc, timeout: timeout,
		script: Script{Translate: cfg.Translate},
	}, nil
}

// parseHTTPURL accepts an absolute http or https URL without user
// information, query or fragment.
func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("not a URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("want an http:// or https:// URL")
	case u.Host == "":
		return nil, errors.New("the host is missing")
	case u.User != nil:
		return nil, errors.New("user information is not allowed in the URL")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, errors.New("a query or fragment is not allowed in the URL")
	}
	return u, nil
}

// CallsReady reports why the gateway cannot place calls (no caller id, no
// public URL), or nil. The server checks it at start-up when
// call.gateway is twilio.
func (g *Gateway) CallsReady() error {
	switch {
	case g.callerID == "":
		return errors.New("twilio.caller_id: required for voice calls")
	case g.public == "":
		return errors.New("public_url: required for voice calls (Twilio fetches the call's script from it)")
	}
	return nil
}

// Script returns the TwiML builder in the gateway's wording, for the web
// layer that answers Twilio's callbacks.
func (g *Gateway) Script() Script { return g.script }

// CallbackURL returns the URL Twilio fetches when the call with that id is
// answered: publicURL + CallbackPath + id + "/".
func CallbackURL(publicURL, callID string) string {
	return strings.TrimRight(publicURL, "/") + CallbackPath + url.PathEscape(callID) + "/"
}

// SendSMS sends the code and the site name by text message to m.To.
func (g *Gateway) SendSMS(ctx context.Context, m twofactor.Message) error {
	if !phone.IsE164(m.To) {
		return fmt.Errorf("twilio: sms: the number is not in E.164 form: %w", twofactor.ErrInvalidDestination)
	}
	if !isCode(m.Code) {
		return errors.New("twilio: sms: the code must be 1 to 16 ASCII digits")
	}
	params := &openapi.CreateMessageParams{}
	params.SetTo(m.To)
	params.SetBody(g.script.SMS(m.Site, m.Code, m.Language))
	if g.msgSvcSID != "" {
		params.SetMessagingServiceSid(g.msgSvcSID)
	} else {
		params.SetFrom(g.callerID)
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	if _, err := g.api(ctx).CreateMessage(params); err != nil {
		return classify("sms", err)
	}
	return nil
}

// Call asks Twilio to call m.To. The call's Url carries m.CallID, never the
// code: when the call is answered Twilio fetches CallbackURL(PublicURL,
// m.CallID), where the web layer serves Greeting and then Digits.
func (g *Gateway) Call(ctx context.Context, m twofactor.Message) error {
	if err := g.CallsReady(); err != nil {
		return fmt.Errorf("twilio: call: %w: %w", err, twofactor.ErrGatewayUnavailable)
	}
	if !phone.IsE164(m.To) {
		return fmt.Errorf("twilio: call: the number is not in E.164 form: %w", twofactor.ErrInvalidDestination)
	}
	if !callIDRE.MatchString(m.CallID) {
		return errors.New("twilio: call: the call id must be 1 to 128 letters, digits, - or _")
	}
	if m.Code != "" && strings.Contains(m.CallID, m.Code) {
		return errors.New("twilio: call: the call id must not contain the code")
	}
	params := &openapi.CreateCallParams{}
	params.SetTo(m.To)
	params.SetFrom(g.callerID)
	params.SetUrl(CallbackURL(g.public, m.CallID))
	params.SetMethod(http.MethodGet)
	params.SetTimeout(CallTimeout)
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	if _, err := g.api(ctx).CreateCall(params); err != nil {
		return classify("call", err)
	}
	return nil
}

func isCode(s string) bool {
	if len(s) == 0 || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// api returns a twilio-go API client whose requests go to the configured
// base URL and are bound to ctx (twilio-go itself takes no context).
func (g *Gateway) api(ctx context.Context) *openapi.ApiService {
	hc := *g.hc
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = ctxTransport{ctx: ctx, next: next}
	hc.Timeout = 0 // the context carries the deadline
	c := &client.Client{Credentials: client.NewCredentials(g.sid, g.token), HTTPClient: &hc}
	c.SetAccountSid(g.sid)
	// A RequestHandler made by hand, not NewRequestHandler: the
	// TWILIO_EDGE and TWILIO_REGION environment variables must not move
	// the requests away from the configured base URL.
	return openapi.NewApiService(&client.RequestHandler{Client: rebased{Client: c, base: g.base}})
}

// rebased sends twilio-go's requests to another scheme, host and path
// prefix.
type rebased struct {
	*client.Client
	base *url.URL
}

// SendRequest rewrites rawURL onto the base URL and sends it.
func (r rebased) SendRequest(method, rawURL string, data url.Values, headers map[string]any, body ...byte) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Host = r.base.Scheme, r.base.Host
	u.Path = strings.TrimRight(r.base.Path, "/") + u.Path
	u.RawPath = ""
	return r.Client.SendRequest(method, u.String(), data, headers, body...)
}

// ctxTransport binds every request to a context.
type ctxTransport struct {
	ctx  context.Context
	next http.RoundTripper
}

// RoundTrip sends req under the transport's context.
func (t ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(req.WithContext(t.ctx))
}

// classify wraps a twilio-go error in one of the core's two gateway
// failures.
func classify(op string, err error) error {
	var rest *client.TwilioRestError
	var v1 *client.RestErrorV1
	code, status, msg := 0, 0, ""
	switch {
	case errors.As(err, &rest):
		code, status, msg = rest.Code, rest.Status, rest.Message
	case errors.As(err, &v1):
		code, status, msg = v1.Code, v1.HttpStatusCode, v1.Message
	default:
		return fmt.Errorf("twilio: %s: %w: %w", op, err, twofactor.ErrGatewayUnavailable)
	}
	for _, c := range InvalidDestinationCodes {
		if c == code {
			return fmt.Errorf("twilio: %s: Twilio error %d: %s: %w", op, code, msg, twofactor.ErrInvalidDestination)
		}
	}
	return fmt.Errorf("twilio: %s: Twilio error %d (HTTP %d): %s: %w", op, code, status, msg, twofactor.ErrGatewayUnavailable)
}
