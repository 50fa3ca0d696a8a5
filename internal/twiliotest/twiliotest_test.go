package twiliotest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/twofactor/twofactor/internal/twiliotest"
)

type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// post sends a form to the API as twilio-go would.
func post(t *testing.T, s *twiliotest.Server, path, user, pass string, form url.Values) (int, map[string]any, apiError) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	var ok map[string]any
	var bad apiError
	if resp.StatusCode < 300 {
		if err := json.Unmarshal(body, &ok); err != nil {
			t.Fatal(err)
		}
	} else if err := json.Unmarshal(body, &bad); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, ok, bad
}

var (
	messages = "/2010-04-01/Accounts/" + twiliotest.AccountSID + "/Messages.json"
	calls    = "/2010-04-01/Accounts/" + twiliotest.AccountSID + "/Calls.json"
)

func form(kv ...string) url.Values {
	f := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func TestAPIChecks(t *testing.T) {
	s := twiliotest.New(t)
	s.Reject("+4477009", 21614)
	sid, tok := twiliotest.AccountSID, twiliotest.AuthToken
	okMsg := []string{"To", "+31101234567", "From", twiliotest.CallerID, "Body", "hi"}
	okCall := []string{"To", "+31101234567", "From", twiliotest.CallerID, "Url", "https://x.example/t", "Method", "GET"}
	tests := []struct {
		name       string
		path       string
		user, pass string
		form       url.Values
		status     int
		code       int
	}{
		{"no auth", messages, "", "", form(okMsg...), 401, 20003},
		{"wrong token", messages, sid, "nope", form(okMsg...), 401, 20003},
		{"wrong user", messages, "AC" + strings.Repeat("0", 32), tok, form(okMsg...), 401, 20003},
		{"other account in path", "/2010-04-01/Accounts/AC" + strings.Repeat("1", 32) + "/Messages.json", sid, tok, form(okMsg...), 404, 20404},
		{"unknown resource", "/2010-04-01/Accounts/" + sid + "/Queues.json", sid, tok, form(), 404, 20404},
		{"message without To", messages, sid, tok, form("From", twiliotest.CallerID, "Body", "x"), 400, 21604},
		{"message to a national number", messages, sid, tok, form("To", "0101234567", "From", twiliotest.CallerID, "Body", "x"), 400, 21211},
		{"message to the invalid prefix", messages, sid, tok, form("To", twiliotest.InvalidPrefix+"1234", "From", twiliotest.CallerID, "Body", "x"), 400, 21211},
		{"message to a rejected number", messages, sid, tok, form("To", "+447700900123", "From", twiliotest.CallerID, "Body", "x"), 400, 21614},
		{"message without From", messages, sid, tok, form("To", "+31101234567", "Body", "x"), 400, 21603},
		{"message from a stranger", messages, sid, tok, form("To", "+31101234567", "From", "+15005550001", "Body", "x"), 400, 21606},
		{"message via an unknown service", messages, sid, tok, form("To", "+31101234567", "MessagingServiceSid", "MG"+strings.Repeat("9", 32), "Body", "x"), 400, 21705},
		{"message without Body", messages, sid, tok, form("To", "+31101234567", "From", twiliotest.CallerID), 400, 21602},
		{"message too long", messages, sid, tok, form("To", "+31101234567", "From", twiliotest.CallerID, "Body", strings.Repeat("x", 1601)), 400, 21617},
		{"call without To", calls, sid, tok, form("From", twiliotest.CallerID, "Url", "https://x.example/t"), 400, 21201},
		{"call without From", calls, sid, tok, form("To", "+31101234567", "Url", "https://x.example/t"), 400, 21213},
		{"call from a stranger", calls, sid, tok, form("To", "+31101234567", "From", "+15005550001", "Url", "https://x.example/t"), 400, 21210},
		{"call without Url", calls, sid, tok, form("To", "+31101234567", "From", twiliotest.CallerID), 400, 21205},
		{"call with a relative Url", calls, sid, tok, form("To", "+31101234567", "From", twiliotest.CallerID, "Url", "/t"), 400, 21205},
		{"call with method PUT", calls, sid, tok, form("To", "+31101234567", "From", twiliotest.CallerID, "Url", "https://x.example/t", "Method", "PUT"), 400, 21209},
		{"call with a bad timeout", calls, sid, tok, form("To", "+31101234567", "From", twiliotest.CallerID, "Url", "https://x.example/t", "Timeout", "0"), 400, 21207},
		{"call to a rejected number", calls, sid, tok, form("To", "+447700900123", "From", twiliotest.CallerID, "Url", "https://x.example/t"), 400, 21614},
		{"message", messages, sid, tok, form(okMsg...), 201, 0},
		{"message via the service", messages, sid, tok, form("To", "+31101234567", "MessagingServiceSid", twiliotest.MessagingServiceSID, "Body", "x"), 201, 0},
		{"call", calls, sid, tok, form(okCall...), 201, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ok, bad := post(t, s, tt.path, tt.user, tt.pass, tt.form)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%+v)", status, tt.status, bad)
			}
			if tt.code != 0 {
				if bad.Code != tt.code || bad.Status != tt.status || bad.Message == "" || !strings.HasSuffix(bad.MoreInfo, "/errors/"+itoa(tt.code)) {
					t.Fatalf("error %+v, want code %d", bad, tt.code)
				}
				return
			}
			prefix := map[string]string{messages: "SM", calls: "CA"}[tt.path]
			if s, _ := ok["sid"].(string); !strings.HasPrefix(s, prefix) || len(s) != 34 {
				t.Errorf("sid %v", ok["sid"])
			}
			if ok["account_sid"] != twiliotest.AccountSID || ok["to"] != "+31101234567" {
				t.Errorf("resource %v", ok)
			}
		})
	}
	if n := len(s.Messages()); n != 2 {
		t.Errorf("%d messages recorded, want 2", n)
	}
	if m, _ := s.LastMessage("+31101234567"); m.From != "" || m.MessagingServiceSID != twiliotest.MessagingServiceSID {
		t.Errorf("last message %+v", m)
	}
	if c := s.Calls(); len(c) != 1 || c[0].Method != "GET" || c[0].URL != "https://x.example/t" {
		t.Errorf("calls %+v", c)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestFaults(t *testing.T) {
	s := twiliotest.New(t)
	f := form("To", "+31101234567", "From", twiliotest.CallerID, "Body", "x")
	s.SetMode(twiliotest.Failing)
	if status, _, bad := post(t, s, messages, twiliotest.AccountSID, twiliotest.AuthToken, f); status != 500 || bad.Code != 20500 {
		t.Errorf("failing: %d %+v", status, bad)
	}
	s.SetMode(twiliotest.Down)
	req, _ := http.NewRequest(http.MethodPost, s.URL+messages, strings.NewReader(f.Encode()))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("down: got an answer %d", resp.StatusCode)
	}
	s.SetMode(twiliotest.Up)
	s.SetDelay(300 * time.Millisecond)
	start := time.Now()
	if status, _, _ := post(t, s, messages, twiliotest.AccountSID, twiliotest.AuthToken, f); status != 201 || time.Since(start) < 300*time.Millisecond {
		t.Errorf("delay: %d after %v", status, time.Since(start))
	}
	if len(s.Messages()) != 1 {
		t.Errorf("%d messages", len(s.Messages()))
	}
}

// twimlApp answers the callbacks with fixed documents and checks their
// signatures with twilio-go's own validator, independent of Sign.
type twimlApp struct {
	*httptest.Server
	mu       sync.Mutex
	docs     map[string]string // path → TwiML
	ctype    string
	badSigs  int
	requests []*http.Request
}

func newTwimlApp(t *testing.T, docs map[string]string, ctype string) *twimlApp {
	a := &twimlApp{docs: docs, ctype: ctype}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := client.NewRequestValidator(twiliotest.AuthToken)
		full := a.URL + r.URL.RequestURI()
		var ok bool
		if r.Method == http.MethodGet {
			ok = v.Validate(full, nil, r.Header.Get("X-Twilio-Signature"))
		} else {
			body, _ := io.ReadAll(r.Body)
			ok = v.ValidateBody(full, body, r.Header.Get("X-Twilio-Signature"))
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			_ = r.ParseForm()
		}
		a.mu.Lock()
		a.requests = append(a.requests, r)
		if !ok {
			a.badSigs++
		}
		doc, found := a.docs[r.URL.Path]
		a.mu.Unlock()
		if !found {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a.ctype)
		_, _ = io.WriteString(w, doc)
	}))
	t.Cleanup(a.Close)
	return a
}

func call(t *testing.T, s *twiliotest.Server, to, u, method string) {
	t.Helper()
	status, _, bad := post(t, s, calls, twiliotest.AccountSID, twiliotest.AuthToken,
		form("To", to, "From", twiliotest.CallerID, "Url", u, "Method", method, "Timeout", "15"))
	if status != 201 {
		t.Fatalf("call: %d %+v", status, bad)
	}
}

const (
	greeting = `<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/digits" method="POST" numDigits="1" timeout="15" finishOnKey=""><Say language="en">Press a key.</Say></Gather><Say language="en">No key. Bye.</Say></Response>`
	digits   = `<Response><Say language="en">Your token is:</Say><Pause/><Say language="en">0</Say><Pause/><Say language="en">4</Say><Say language="en">Repeat:</Say><Say language="en">0</Say><Say language="en">4</Say><Say language="en">Good bye.</Say></Response>`
)

func TestCallFlow(t *testing.T) {
	s := twiliotest.New(t)
	app := newTwimlApp(t, map[string]string{"/greet": greeting, "/digits": digits}, "text/xml; charset=utf-8")
	call(t, s, "+31101234567", app.URL+"/greet?lang=en", "GET")
	tr, err := s.Transcript("+31101234567")
	if err != nil || tr.Err != nil {
		t.Fatalf("%v %v", err, tr.Err)
	}
	if d, err := tr.Digits(); d != "04" || err != nil {
		t.Errorf("Digits = %q, %v", d, err)
	}
	app.mu.Lock()
	badSigs, requests := app.badSigs, append([]*http.Request(nil), app.requests...)
	app.mu.Unlock()
	if badSigs != 0 {
		t.Errorf("%d requests failed twilio-go's signature check", badSigs)
	}
	if len(requests) != 2 {
		t.Fatalf("%d requests", len(requests))
	}
	get, gather := requests[0], requests[1]
	if get.Method != "GET" || get.URL.Query().Get("lang") != "en" || get.URL.Query().Get("CallSid") != tr.CallSID || get.URL.Query().Get("To") != "+31101234567" {
		t.Errorf("GET %s", get.URL)
	}
	if gather.Method != "POST" || gather.URL.Path != "/digits" || gather.PostForm.Get("Digits") != "1" || gather.PostForm.Get("CallSid") != tr.CallSID {
		t.Errorf("gather %s %s %v", gather.Method, gather.URL, gather.PostForm)
	}
	if tr.Pressed != "1" || len(tr.Said) != 8 || tr.Said[0].Text != "Press a key." {
		t.Errorf("transcript %+v", tr)
	}
	// POST is the default method for the call's URL.
	call(t, s, "+31101234568", app.URL+"/greet", "")
	if d, err := s.CallDigits("+31101234568"); d != "04" || err != nil {
		t.Errorf("POST call: %q %v", d, err)
	}
	if _, err := s.CallDigits("+31000000000"); err == nil {
		t.Error("CallDigits for a number never called")
	}
}

func TestCallFailures(t *testing.T) {
	tests := []struct {
		name, doc, ctype, says string
	}{
		{"not found", "", "text/xml", "11200"},
		{"HTML", greeting, "text/html", "12300"},
		{"not XML", "<Response><Say>", "text/xml", "12100"},
		{"wrong root", "<Result/>", "text/xml", "12100"},
		{"unknown verb", "<Response><Shout>hi</Shout></Response>", "text/xml", "unknown verb"},
		{"unsupported language", `<Response><Say language="ar">مرحبا</Say></Response>`, "text/xml", "not a language"},
		{"empty say", "<Response><Say language=\"en\"> </Say></Response>", "text/xml", "says nothing"},
		{"bad attribute", `<Response><Gather numdigits="1"><Say>x</Say></Gather></Response>`, "text/xml", "no attribute"},
		{"bad method", `<Response><Gather method="PUT"><Say>x</Say></Gather></Response>`, "text/xml", "neither GET nor POST"},
		{"gather inside gather", `<Response><Gather><Gather/></Gather></Response>`, "text/xml", "may not contain"},
		{"redirect loop", `<Response><Redirect method="GET">/t</Redirect></Response>`, "text/xml", "more than 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := twiliotest.New(t)
			docs := map[string]string{}
			if tt.doc != "" {
				docs["/t"] = tt.doc
			}
			app := newTwimlApp(t, docs, tt.ctype)
			call(t, s, "+31101234567", app.URL+"/t", "GET")
			tr, err := s.Transcript("+31101234567")
			if err != nil {
				t.Fatal(err)
			}
			if tr.Err == nil || !strings.Contains(tr.Err.Error(), tt.says) {
				t.Fatalf("Err = %v, want it to say %q", tr.Err, tt.says)
			}
			if _, err := tr.Digits(); err == nil {
				t.Error("Digits without an error")
			}
		})
	}
}

func TestDigitsMustRepeat(t *testing.T) {
	tr := twiliotest.Transcript{Said: []twiliotest.Said{{Text: "1"}, {Text: "2"}, {Text: "Repeat:"}, {Text: "1"}, {Text: "3"}}}
	if _, err := tr.Digits(); err == nil {
		t.Error("two different codes read out")
	}
	tr = twiliotest.Transcript{Said: []twiliotest.Said{{Text: "Hello"}, {Text: "12"}}}
	if _, err := tr.Digits(); err == nil {
		t.Error("a two-digit Say counted as digits")
	}
}

// Sign agrees with twilio-go's validator, and with Twilio's published
// example.
func TestSign(t *testing.T) {
	params := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"}}
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	sig := twiliotest.Sign("12345", u, params)
	if sig != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Errorf("Sign = %q", sig)
	}
	v := client.NewRequestValidator("12345")
	flat := map[string]string{}
	for k := range params {
		flat[k] = params.Get(k)
	}
	if !v.Validate(u, flat, sig) {
		t.Error("twilio-go does not accept Sign's signature")
	}
	if !v.Validate(u, nil, twiliotest.Sign("12345", u, nil)) {
		t.Error("twilio-go does not accept a GET signature")
	}
}
