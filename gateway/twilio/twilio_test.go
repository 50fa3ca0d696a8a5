package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/gateway/twilio"
	"github.com/twofactor/twofactor/internal/twiliotest"
)

const (
	site  = "example.com"
	alice = "+31101234567"
	bob   = "+41524204242"
)

// The seed's codes (test_gateways.py): six and eight digits, with and
// without a leading zero.
var seedCodes = []string{"654321", "054321", "87654321", "07654321"}

func TestSendSMS(t *testing.T) {
	g, tw, _ := setup(t, nil)
	for _, code := range seedCodes {
		t.Run(code, func(t *testing.T) {
			err := g.SendSMS(context.Background(), twofactor.Message{To: alice, Code: code, Site: site, Language: "en-US"})
			if err != nil {
				t.Fatalf("SendSMS: %v", err)
			}
			m, ok := tw.LastMessage(alice)
			if !ok {
				t.Fatal("no message received")
			}
			if m.From != twiliotest.CallerID || m.MessagingServiceSID != "" {
				t.Errorf("From %q, MessagingServiceSid %q; want the caller id only", m.From, m.MessagingServiceSID)
			}
			want := "Your example.com verification code is " + code
			if m.Body != want {
				t.Errorf("Body = %q, want %q", m.Body, want)
			}
			// Only To, From and Body are sent: no status callback, no
			// media, nothing that could carry more.
			for k := range m.Form {
				if k != "To" && k != "From" && k != "Body" {
					t.Errorf("unexpected field %s", k)
				}
			}
		})
	}
	if n := len(tw.Messages()); n != len(seedCodes) {
		t.Errorf("%d messages, want %d", n, len(seedCodes))
	}
	if len(tw.Calls()) != 0 {
		t.Error("a text message placed a call")
	}
}

// The body holds the code and the site name and nothing else of the
// message: not the language, not the call id, not the number.
func TestSMSBodyCarriesOnlyCodeAndSite(t *testing.T) {
	g, tw, _ := setup(t, nil)
	m := twofactor.Message{To: alice, Code: "012345", Site: "Bank\r\nof  Example\x00", Language: "en", CallID: "call-id-should-not-appear"}
	if err := g.SendSMS(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got, _ := tw.LastMessage(alice)
	if want := "Your Bank of Example verification code is 012345"; got.Body != want {
		t.Fatalf("Body = %q, want %q", got.Body, want)
	}
	for _, leak := range []string{"call-id", alice, "1101234567", "\r", "\n", "\x00"} {
		if strings.Contains(got.Body, leak) {
			t.Errorf("Body %q contains %q", got.Body, leak)
		}
	}
}

func TestMessagingServiceReplacesFromForSMSOnly(t *testing.T) {
	g, tw, _ := setup(t, func(c *twilio.Config) { c.MessagingServiceSID = twiliotest.MessagingServiceSID })
	ctx := context.Background()
	if err := g.SendSMS(ctx, twofactor.Message{To: alice, Code: "054321", Site: site}); err != nil {
		t.Fatal(err)
	}
	m, _ := tw.LastMessage(alice)
	if m.MessagingServiceSID != twiliotest.MessagingServiceSID || m.Form.Has("From") {
		t.Errorf("message: MessagingServiceSid %q, From sent %v; want the service and no From", m.MessagingServiceSID, m.Form.Has("From"))
	}
	if err := g.Call(ctx, twofactor.Message{To: alice, Code: "054321", Site: site, CallID: "c1"}); err != nil {
		t.Fatal(err)
	}
	calls := tw.Calls()
	if len(calls) != 1 || calls[0].From != twiliotest.CallerID {
		t.Fatalf("calls = %+v, want one from the caller id", calls)
	}
}

func TestMessagingServiceWithoutCallerID(t *testing.T) {
	g, tw, _ := setup(t, func(c *twilio.Config) {
		c.CallerID = ""
		c.MessagingServiceSID = twiliotest.MessagingServiceSID
	})
	if err := g.SendSMS(context.Background(), twofactor.Message{To: alice, Code: "1234", Site: site}); err != nil {
		t.Fatal(err)
	}
	if err := g.CallsReady(); err == nil || !strings.Contains(err.Error(), "twilio.caller_id") {
		t.Errorf("CallsReady = %v, want a caller_id error", err)
	}
	err := g.Call(context.Background(), twofactor.Message{To: alice, Code: "1234", CallID: "x"})
	if !errors.Is(err, twofactor.ErrGatewayUnavailable) {
		t.Errorf("Call without caller id = %v, want ErrGatewayUnavailable", err)
	}
	if len(tw.Calls()) != 0 {
		t.Error("a call was placed without a caller id")
	}
}

func TestCall(t *testing.T) {
	for i, code := range seedCodes {
		for _, lang := range []string{"en-us", "en-gb"} {
			t.Run(code+"/"+lang, func(t *testing.T) {
				g, tw, app := setup(t, nil)
				id := fmt.Sprintf("Zx9-call_%d", i)
				app.add(id, code, site, lang)
				err := g.Call(context.Background(), twofactor.Message{To: bob, Code: code, Site: site, Language: lang, CallID: id})
				if err != nil {
					t.Fatalf("Call: %v", err)
				}
				calls := tw.Calls()
				if len(calls) != 1 {
					t.Fatalf("%d calls", len(calls))
				}
				c := calls[0]
				wantURL := app.URL + "/twilio/inbound/two_factor/" + id + "/"
				if c.To != bob || c.From != twiliotest.CallerID || c.URL != wantURL || c.Method != "GET" || c.Timeout != "15" {
					t.Errorf("call = %+v, want To %s, From %s, Url %s, Method GET, Timeout 15", c, bob, twiliotest.CallerID, wantURL)
				}
				if strings.Contains(c.URL, code) {
					t.Errorf("the call URL %q contains the code", c.URL)
				}
				for k := range c.Form {
					switch k {
					case "To", "From", "Url", "Method", "Timeout":
					default:
						t.Errorf("unexpected call field %s", k)
					}
				}
				digits, err := tw.CallDigits(bob)
				if err != nil {
					t.Fatalf("CallDigits: %v", err)
				}
				if digits != code {
					t.Errorf("the call read %q, want %q (leading zeros included)", digits, code)
				}
				tr, _ := tw.Transcript(bob)
				wantLang := map[string]string{"en-us": "en-US", "en-gb": "en-GB"}[lang]
				for _, s := range tr.Said {
					if s.Language != wantLang {
						t.Errorf("said %q in %q, want %q", s.Text, s.Language, wantLang)
					}
				}
				if tr.Pressed != "1" || len(tr.Fetches) != 2 || tr.Fetches[0].Method != "GET" || tr.Fetches[1].Method != "POST" {
					t.Errorf("transcript %+v: want a GET, a key press and a POST", tr)
				}
				if app.refused != 0 {
					t.Errorf("the app refused %d of Twilio's signed requests", app.refused)
				}
			})
		}
	}
}

// Without a key press the callee hears the greeting and the good bye, and
// no code.
func TestCallWithoutKeyPress(t *testing.T) {
	g, tw, app := setup(t, nil, twiliotest.WithKey(""))
	app.add("k", "123456", site, "en")
	if err := g.Call(context.Background(), twofactor.Message{To: bob, Code: "123456", Site: site, CallID: "k"}); err != nil {
		t.Fatal(err)
	}
	tr, err := tw.Transcript(bob)
	if err != nil || tr.Err != nil {
		t.Fatalf("transcript: %v %v", err, tr.Err)
	}
	want := []twiliotest.Said{
		{Text: "Hi, this is example.com calling. Press any key to continue.", Language: "en"},
		{Text: "You didn’t press any keys. Good bye.", Language: "en"},
	}
	if fmt.Sprint(tr.Said) != fmt.Sprint(want) {
		t.Errorf("said %q, want %q", tr.Said, want)
	}
	if _, err := tw.CallDigits(bob); err == nil {
		t.Error("CallDigits found digits in a call without a key press")
	}
}

// finishOnKey="" makes # a key like any other: a callee pressing # still
// hears the code.
func TestCallHashKey(t *testing.T) {
	g, tw, app := setup(t, nil, twiliotest.WithKey("#"))
	app.add("h", "000001", site, "en")
	if err := g.Call(context.Background(), twofactor.Message{To: bob, Code: "000001", Site: site, CallID: "h"}); err != nil {
		t.Fatal(err)
	}
	if d, err := tw.CallDigits(bob); err != nil || d != "000001" {
		t.Fatalf("CallDigits = %q, %v", d, err)
	}
}

func TestCallIDChecks(t *testing.T) {
	g, tw, _ := setup(t, nil)
	for _, m := range []twofactor.Message{
		{To: bob, Code: "123456", CallID: ""},
		{To: bob, Code: "123456", CallID: "a/b"},
		{To: bob, Code: "123456", CallID: "a?b"},
		{To: bob, Code: "123456", CallID: "x123456y"},
		{To: bob, Code: "123456", CallID: strings.Repeat("a", 129)},
	} {
		if err := g.Call(context.Background(), m); err == nil {
			t.Errorf("Call with call id %q succeeded", m.CallID)
		}
	}
	if len(tw.Calls()) != 0 {
		t.Error("a call was placed")
	}
}

func TestInvalidDestination(t *testing.T) {
	g, tw, _ := setup(t, nil)
	codes := []int{21211, 21214, 21217, 21401, 21407, 21421, 21614}
	for i, code := range codes {
		tw.Reject(fmt.Sprintf("+4420794609%02d", i), code)
	}
	tests := []struct {
		name, to string
		code     int // the Twilio error code in the message, 0 when refused before sending
	}{
		{"21211 invalid To (peer's prefix)", "+15550001234", 21211},
		{"not E.164: national", "0101234567", 0},
		{"not E.164: spaces", "+31 10 123 4567", 0},
		{"not E.164: empty", "", 0},
	}
	for i, code := range codes {
		tests = append(tests, struct {
			name, to string
			code     int
		}{fmt.Sprint(code), fmt.Sprintf("+4420794609%02d", i), code})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tw.Messages()) + len(tw.Calls())
			for _, send := range []func() error{
				func() error {
					return g.SendSMS(context.Background(), twofactor.Message{To: tt.to, Code: "123456", Site: site})
				},
				func() error {
					return g.Call(context.Background(), twofactor.Message{To: tt.to, Code: "123456", Site: site, CallID: "cid"})
				},
			} {
				err := send()
				if !errors.Is(err, twofactor.ErrInvalidDestination) {
					t.Fatalf("err = %v, want ErrInvalidDestination", err)
				}
				if errors.Is(err, twofactor.ErrGatewayUnavailable) {
					t.Fatalf("err = %v is both", err)
				}
				if tt.code != 0 && !strings.Contains(err.Error(), fmt.Sprint(tt.code)) {
					t.Errorf("err = %v does not name Twilio's code %d", err, tt.code)
				}
			}
			if after := len(tw.Messages()) + len(tw.Calls()); after != before {
				t.Errorf("a refused destination was recorded as sent")
			}
		})
	}
}

func TestGatewayUnavailable(t *testing.T) {
	msg := twofactor.Message{To: alice, Code: "987654", Site: site, CallID: "cid"}
	check := func(t *testing.T, g *twilio.Gateway) {
		t.Helper()
		for what, err := range map[string]error{
			"sms":  g.SendSMS(context.Background(), msg),
			"call": g.Call(context.Background(), msg),
		} {
			if !errors.Is(err, twofactor.ErrGatewayUnavailable) || errors.Is(err, twofactor.ErrInvalidDestination) {
				t.Errorf("%s: err = %v, want ErrGatewayUnavailable only", what, err)
				continue
			}
			// Neither the code nor the auth token shows in the error.
			if strings.Contains(err.Error(), msg.Code) || strings.Contains(err.Error(), twiliotest.AuthToken) {
				t.Errorf("%s: error %q leaks the code or the token", what, err)
			}
		}
	}
	t.Run("500", func(t *testing.T) {
		g, tw, _ := setup(t, nil)
		tw.SetMode(twiliotest.Failing)
		check(t, g)
	})
	t.Run("dropped connections", func(t *testing.T) {
		g, tw, _ := setup(t, nil)
		tw.SetMode(twiliotest.Down)
		check(t, g)
	})
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		g, _, _ := setup(t, func(c *twilio.Config) { c.BaseURL = "http://" + addr })
		check(t, g)
	})
	t.Run("timeout", func(t *testing.T) {
		g, tw, _ := setup(t, func(c *twilio.Config) { c.Timeout = 100 * time.Millisecond })
		tw.SetDelay(5 * time.Second)
		start := time.Now()
		check(t, g)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v: the timeout did not apply", d)
		}
	})
	t.Run("wrong credentials", func(t *testing.T) {
		g, _, _ := setup(t, func(c *twilio.Config) { c.AuthToken = "0000000000000000000000000000000f" })
		check(t, g)
	})
	t.Run("another account", func(t *testing.T) {
		g, _, _ := setup(t, func(c *twilio.Config) { c.AccountSID = "AC" + strings.Repeat("f", 32) })
		check(t, g)
	})
	t.Run("caller id not on the account", func(t *testing.T) {
		g, _, _ := setup(t, nil, twiliotest.WithNumbers("+15005550001"))
		check(t, g)
	})
	t.Run("recovers", func(t *testing.T) {
		g, tw, _ := setup(t, nil)
		tw.SetMode(twiliotest.Down)
		check(t, g)
		tw.SetMode(twiliotest.Up)
		if err := g.SendSMS(context.Background(), msg); err != nil {
			t.Fatalf("after recovery: %v", err)
		}
	})
}

func TestContextCancelled(t *testing.T) {
	g, tw, _ := setup(t, nil)
	tw.SetDelay(5 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := g.SendSMS(ctx, twofactor.Message{To: alice, Code: "1", Site: site})
	if !errors.Is(err, twofactor.ErrGatewayUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrGatewayUnavailable and context.Canceled", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Error("the cancellation did not stop the request")
	}
}

// twilio.base_url may carry a path (a proxy in front of the API), and the
// TWILIO_EDGE/TWILIO_REGION variables of twilio-go do not move requests
// away from it.
func TestBaseURLWithPath(t *testing.T) {
	t.Setenv("TWILIO_EDGE", "sydney")
	t.Setenv("TWILIO_REGION", "au1")
	tw := twiliotest.New(t)
	target, _ := url.Parse(tw.URL)
	proxy := httptest.NewServer(http.StripPrefix("/edge", httputil.NewSingleHostReverseProxy(target)))
	defer proxy.Close()
	g, err := twilio.New(twilio.Config{
		AccountSID: tw.AccountSID, AuthToken: tw.AuthToken, CallerID: twiliotest.CallerID,
		BaseURL: proxy.URL + "/edge/",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.SendSMS(context.Background(), twofactor.Message{To: alice, Code: "42", Site: site}); err != nil {
		t.Fatal(err)
	}
	if len(tw.Messages()) != 1 {
		t.Fatal("the message did not arrive through the proxy")
	}
}

func TestCallNeedsPublicURL(t *testing.T) {
	tw := twiliotest.New(t)
	g, err := twilio.New(twilio.Config{AccountSID: tw.AccountSID, AuthToken: tw.AuthToken, CallerID: twiliotest.CallerID, BaseURL: tw.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.CallsReady(); err == nil || !strings.Contains(err.Error(), "public_url") {
		t.Errorf("CallsReady = %v", err)
	}
	err = g.Call(context.Background(), twofactor.Message{To: bob, Code: "1", CallID: "a"})
	if !errors.Is(err, twofactor.ErrGatewayUnavailable) {
		t.Errorf("Call = %v", err)
	}
	if err := g.SendSMS(context.Background(), twofactor.Message{To: bob, Code: "1", Site: site}); err != nil {
		t.Errorf("SMS needs no public URL: %v", err)
	}
}

func TestBadCode(t *testing.T) {
	g, tw, _ := setup(t, nil)
	for _, code := range []string{"", "12a456", "123 456", "+12345", strings.Repeat("1", 17)} {
		if err := g.SendSMS(context.Background(), twofactor.Message{To: alice, Code: code, Site: site}); err == nil {
			t.Errorf("SendSMS with code %q succeeded", code)
		}
	}
	if len(tw.Messages()) != 0 {
		t.Error("a message was sent")
	}
}

func TestNewChecksConfig(t *testing.T) {
	good := twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken, CallerID: twiliotest.CallerID}
	if _, err := twilio.New(good); err != nil {
		t.Fatalf("New(good): %v", err)
	}
	const secret = "s3cr3tT0kenValue"
	tests := []struct {
		name, key string
		edit      func(*twilio.Config)
	}{
		{"no sid", "twilio.account_sid", func(c *twilio.Config) { c.AccountSID = "" }},
		{"short sid", "twilio.account_sid", func(c *twilio.Config) { c.AccountSID = "AC123" }},
		{"not AC", "twilio.account_sid", func(c *twilio.Config) { c.AccountSID = "SK0123456789abcdef0123456789abcdef" }},
		{"no token", "twilio.auth_token", func(c *twilio.Config) { c.AuthToken = "" }},
		{"token with symbols", "twilio.auth_token", func(c *twilio.Config) { c.AuthToken = secret + "!" }},
		{"caller id not E.164", "twilio.caller_id", func(c *twilio.Config) { c.CallerID = "0101234567" }},
		{"neither caller id nor service", "twilio.caller_id", func(c *twilio.Config) { c.CallerID = "" }},
		{"bad service", "twilio.messaging_service_sid", func(c *twilio.Config) { c.MessagingServiceSID = "MG1" }},
		{"base url scheme", "twilio.base_url", func(c *twilio.Config) { c.BaseURL = "ftp://api.twilio.com" }},
		{"base url host", "twilio.base_url", func(c *twilio.Config) { c.BaseURL = "https://" }},
		{"base url query", "twilio.base_url", func(c *twilio.Config) { c.BaseURL = "https://x.example?a=1" }},
		{"base url user", "twilio.base_url", func(c *twilio.Config) { c.BaseURL = "https://u:" + secret + "@x.example" }},
		{"base url garbage", "twilio.base_url", func(c *twilio.Config) { c.BaseURL = "http://[::1" }},
		{"public url relative", "public_url", func(c *twilio.Config) { c.PublicURL = "/account" }},
		{"public url fragment", "public_url", func(c *twilio.Config) { c.PublicURL = "https://x.example/#a" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			_, err := twilio.New(c)
			if err == nil {
				t.Fatal("New accepted it")
			}
			if !strings.HasPrefix(err.Error(), tt.key+":") {
				t.Errorf("error %q does not start with %s:", err, tt.key)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
}

func TestConcurrentSends(t *testing.T) {
	g, tw, app := setup(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(2)
		to := fmt.Sprintf("+3110123%04d", i)
		id := fmt.Sprintf("c%d", i)
		code := fmt.Sprintf("%06d", i)
		app.add(id, code, site, "nl")
		go func() {
			defer wg.Done()
			errs <- g.SendSMS(context.Background(), twofactor.Message{To: to, Code: code, Site: site})
		}()
		go func() {
			defer wg.Done()
			errs <- g.Call(context.Background(), twofactor.Message{To: to, Code: code, Site: site, CallID: id})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i := range 20 {
		to := fmt.Sprintf("+3110123%04d", i)
		if d, err := tw.CallDigits(to); err != nil || d != fmt.Sprintf("%06d", i) {
			t.Errorf("call to %s read %q, %v", to, d, err)
		}
	}
}
