package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/gateway/twilio"
	"github.com/twofactor/twofactor/internal/twiliotest"
)

// scripts is a CallScripts of a few calls, counting its lookups.
type scripts struct {
	mu      sync.Mutex
	calls   map[string]*twofactor.Call
	fail    error
	lookups int
}

func (s *scripts) CallScript(ctx context.Context, id string) (*twofactor.Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookups++
	if s.fail != nil {
		return nil, s.fail
	}
	c, ok := s.calls[id]
	if !ok {
		return nil, &twofactor.Error{Code: twofactor.CodeNotFound, Message: "Not found."}
	}
	return c, nil
}

var _ twilio.CallScripts = (*twofactor.Service)(nil)

// webhookServer serves NewWebhook at CallbackPath on a local server whose
// URL is the public URL.
func webhookServer(t *testing.T, s *scripts) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	public := "http://" + srv.Listener.Addr().String()
	mux := http.NewServeMux()
	mux.Handle(twilio.CallbackPath+"{id}/{$}", twilio.NewWebhook(s, twiliotest.AuthToken, public, twilio.Script{}))
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

type hook struct {
	status int
	ctype  string
	body   string
}

// send makes a request to the webhook, signed with token when it is not
// empty (for rawURL and the POST form).
func send(t *testing.T, method, rawURL string, form url.Values, token string) hook {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set(twilio.SignatureHeader, twiliotest.Sign(token, rawURL, form))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return hook{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
}

// TestWebhook: signed requests get the greeting (GET, with a Gather back
// to the same URL) and the digits (POST) — every digit, leading zeros
// included; unsigned, forged or misdirected ones get 403 and never the
// script; an unknown call 404; a failing lookup 503.
func TestWebhook(t *testing.T) {
	s := &scripts{calls: map[string]*twofactor.Call{
		"call-1": {Code: "054321", Site: "example.com", Language: "en-GB"},
		"call-2": {Code: "00001234", Site: "example.com", Language: "ar"},
	}}
	srv := webhookServer(t, s)
	u := twilio.CallbackURL(srv.URL, "call-1")
	// As Twilio fetches it: the call's parameters in the query.
	get := u + "?" + url.Values{"CallSid": {"CA1"}, "AccountSid": {twiliotest.AccountSID}}.Encode()

	h := send(t, "GET", get, nil, twiliotest.AuthToken)
	if h.status != 200 || h.ctype != twilio.ContentType {
		t.Fatalf("GET = %d %s %s", h.status, h.ctype, h.body)
	}
	want, _ := twilio.Greeting("example.com", "en-GB", u)
	if h.body != string(want) {
		t.Fatalf("GET body\n got %s\nwant %s", h.body, want)
	}
	if !strings.Contains(h.body, `action="`+u+`"`) {
		t.Fatalf("the Gather does not post back to %s: %s", u, h.body)
	}
	if strings.Contains(h.body, "054321") {
		t.Fatal("the greeting gives the code away")
	}
	press := url.Values{"CallSid": {"CA1"}, "Digits": {"1"}}
	h = send(t, "POST", u, press, twiliotest.AuthToken)
	want, _ = twilio.Digits("054321", "en-GB")
	if h.status != 200 || h.body != string(want) {
		t.Fatalf("POST = %d %s", h.status, h.body)
	}
	for _, d := range "054321" {
		if !strings.Contains(h.body, fmt.Sprintf(`<Say language="en-GB">%c</Say>`, d)) {
			t.Fatalf("digit %c not read: %s", d, h.body)
		}
	}
	// A voice Twilio does not have falls back to English; leading zeros.
	h = send(t, "POST", twilio.CallbackURL(srv.URL, "call-2"), press, twiliotest.AuthToken)
	if h.status != 200 || strings.Count(h.body, `<Say language="en">0</Say>`) != 8 {
		t.Fatalf("POST call-2 = %d %s", h.status, h.body)
	}
	// HEAD: the headers only.
	if h := send(t, "HEAD", get, nil, twiliotest.AuthToken); h.status != 200 || h.body != "" {
		t.Fatalf("HEAD = %d %q", h.status, h.body)
	}

	before := s.lookups
	refused := []struct {
		name           string
		method, target string
		form           url.Values
		token          string
	}{
		{"unsigned GET", "GET", get, nil, ""},
		{"unsigned POST", "POST", u, press, ""},
		{"other token", "GET", get, nil, "0123456789abcdef0123456789abcdef"},
		{"other token POST", "POST", u, press, "0123456789abcdef0123456789abcdef"},
	}
	for _, tc := range refused {
		if h := send(t, tc.method, tc.target, tc.form, tc.token); h.status != 403 || strings.Contains(h.body, "Say") {
			t.Errorf("%s = %d %s", tc.name, h.status, h.body)
		}
	}
	// Signed for another URL, body or call: refused.
	forged := func(method, target, signedFor string, form, signedForm url.Values) int {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, target, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set(twilio.SignatureHeader, twiliotest.Sign(twiliotest.AuthToken, signedFor, signedForm))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := forged("GET", twilio.CallbackURL(srv.URL, "call-2"), u, nil, nil); st != 403 {
		t.Errorf("a signature of another call's URL = %d", st)
	}
	if st := forged("POST", u, u, url.Values{"Digits": {"2"}}, press); st != 403 {
		t.Errorf("a signature of another body = %d", st)
	}
	if st := forged("GET", get, "https://evil.example"+twilio.CallbackPath+"call-1/", nil, nil); st != 403 {
		t.Errorf("a signature for another host = %d", st)
	}
	if s.lookups != before {
		t.Fatal("refused requests looked the call up")
	}

	// Signed, but no such call: 404; a failing store: 503.
	if h := send(t, "GET", twilio.CallbackURL(srv.URL, "nope"), nil, twiliotest.AuthToken); h.status != 404 {
		t.Errorf("unknown call = %d", h.status)
	}
	if h := send(t, "GET", srv.URL+twilio.CallbackPath+"bad%20id/", nil, twiliotest.AuthToken); h.status != 404 {
		t.Errorf("malformed call id = %d", h.status)
	}
	s.fail = errors.New("database down")
	if h := send(t, "POST", u, press, twiliotest.AuthToken); h.status != 503 || strings.Contains(h.body, "database") {
		t.Errorf("failing lookup = %d %s", h.status, h.body)
	}
	s.fail = nil
	if h := send(t, "PUT", u, nil, twiliotest.AuthToken); h.status != 405 {
		t.Errorf("PUT = %d", h.status)
	}
}

// TestWebhookWithPeer: the Twilio peer calls, fetches the script from the
// webhook with its own signatures, presses a key and hears the code.
func TestWebhookWithPeer(t *testing.T) {
	s := &scripts{calls: map[string]*twofactor.Call{"Zx9-call": {Code: "012345", Site: "example.com", Language: "de"}}}
	srv := webhookServer(t, s)
	peer := twiliotest.New(t)
	g, err := twilio.New(twilio.Config{AccountSID: peer.AccountSID, AuthToken: peer.AuthToken, CallerID: twiliotest.CallerID,
		BaseURL: peer.URL, PublicURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Call(context.Background(), twofactor.Message{To: "+31101234567", Code: "012345", Site: "example.com", CallID: "Zx9-call"}); err != nil {
		t.Fatal(err)
	}
	digits, err := peer.CallDigits("+31101234567")
	if err != nil || digits != "012345" {
		t.Fatalf("the call read %q (%v), want 012345", digits, err)
	}
	// The gateway's own handler checks with the gateway's token: the same.
	mux := http.NewServeMux()
	mux.Handle(twilio.CallbackPath+"{id}/{$}", g.Webhook(s))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", twilio.CallbackPath+"Zx9-call/", nil))
	if rec.Code != 403 {
		t.Fatalf("unsigned request to Gateway.Webhook = %d", rec.Code)
	}
}
