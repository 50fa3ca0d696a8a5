// Package twiliotest runs, inside a test, a local HTTP server that speaks
// the part of Twilio's REST API twofactor uses, checks every request as
// Twilio would, and plays the callee of every call.
//
// # What it checks
//
// POST /2010-04-01/Accounts/{AccountSid}/Messages.json and …/Calls.json
// need HTTP Basic authentication with the account SID and auth token
// (else 401, error 20003), the same SID in the path (else 404, 20404), and
// the form fields Twilio requires: for a message To (E.164), Body, and
// From (one of the server's numbers) or MessagingServiceSid (one of its
// services); for a call To, From, an absolute Url and Method GET or POST.
// A refused request gets Twilio's JSON error body ({"code", "message",
// "more_info", "status"}) with Twilio's error code. Numbers starting with
// InvalidPrefix are refused with 21211 ("invalid 'To' phone number"), as
// are numbers given to Reject with the code chosen. Accepted requests get
// 201 and Twilio's JSON resource (sid, status "queued", …) and are
// recorded: Messages, Calls.
//
// # Calls
//
// After answering a call request the server, like Twilio, fetches the
// call's Url (with Method; for GET the call's parameters go in the query)
// with an X-Twilio-Signature computed here from the auth token, checks that
// the answer is TwiML (200, text/xml or application/xml, a <Response> of
// known verbs, <Say> languages Twilio's voices speak), follows a <Gather>
// by pressing a key (Digits=1, signed, POST unless the Gather says GET) at
// its action URL, and runs the TwiML it gets back. Everything said is kept
// in the call's Transcript; CallDigits returns the digits read out.
//
// # Faults
//
// SetMode(Failing) answers every API request with 500 and Twilio's error
// body; SetMode(Down) drops every connection without an answer; SetDelay
// holds answers back (for timeouts).
//
// The server logs nothing; message bodies (codes) stay in memory.
package twiliotest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The server's account unless WithAccount says otherwise.
const (
	AccountSID          = "AC0123456789abcdef0123456789abcdef"
	AuthToken           = "f00dfacef00dfacef00dfacef00dface"
	CallerID            = "+15005550006"
	MessagingServiceSID = "MG0123456789abcdef0123456789abcdef"
)

// InvalidPrefix starts the numbers the server refuses with error 21211.
const InvalidPrefix = "+1555000"

// Mode is how the REST API answers.
type Mode int

const (
	// Up answers normally.
	Up Mode = iota
	// Failing answers every API request with HTTP 500 and error 20500.
	Failing
	// Down closes every connection without answering.
	Down
)

// Message is a text message the server accepted.
type Message struct {
	SID                 string
	To                  string
	From                string // empty when sent through a messaging service
	MessagingServiceSID string
	Body                string
	Form                url.Values // every field received
}

// Call is a call the server accepted.
type Call struct {
	SID     string
	To      string
	From    string
	URL     string // the Url field
	Method  string // the Method field ("" means POST)
	Timeout string // the Timeout field as sent
	Form    url.Values
}

// Option configures a Server.
type Option func(*Server)

// WithAccount sets the account SID and auth token the server expects.
func WithAccount(sid, token string) Option {
	return func(s *Server) { s.AccountSID, s.AuthToken = sid, token }
}

// WithNumbers sets the numbers messages and calls may come from (default
// CallerID).
func WithNumbers(numbers ...string) Option {
	return func(s *Server) { s.numbers = numbers }
}

// WithMessagingServices sets the messaging service SIDs the account has
// (default MessagingServiceSID).
func WithMessagingServices(sids ...string) Option {
	return func(s *Server) { s.services = sids }
}

// WithWebhookClient sets the client that fetches the calls' TwiML (for an
// https test server, pass its Client()).
func WithWebhookClient(c *http.Client) Option {
	return func(s *Server) { s.webhook = c }
}

// WithKey sets the key the callee presses at a <Gather> (default "1"); ""
// presses nothing, so the TwiML after the Gather runs.
func WithKey(key string) Option {
	return func(s *Server) { s.key = key }
}

// Server is a running fake Twilio.
type Server struct {
	// URL is the server's base URL (for twilio.base_url).
	URL string
	// AccountSID and AuthToken are the credentials it accepts.
	AccountSID, AuthToken string

	ts       *httptest.Server
	numbers  []string
	services []string
	webhook  *http.Client
	key      string
	wg       sync.WaitGroup

	mu       sync.Mutex
	mode     Mode
	delay    time.Duration
	rejects  []reject
	messages []Message
	calls    []*callRun
}

type reject struct {
	prefix string
	code   int
}

type callRun struct {
	call Call
	done chan struct{}
	tr   Transcript
}

// New starts a server and stops it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		AccountSID: AccountSID, AuthToken: AuthToken,
		numbers: []string{CallerID}, services: []string{MessagingServiceSID},
		webhook: &http.Client{Timeout: 10 * time.Second}, key: "1",
	}
	for _, o := range opts {
		o(s)
	}
	s.rejects = []reject{{InvalidPrefix, 21211}}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.ts.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server after the calls in progress have ended.
func (s *Server) Close() {
	s.wg.Wait()
	s.ts.Close()
}

// SetMode switches how the API answers.
func (s *Server) SetMode(m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

// SetDelay holds every API answer back for d (0: none), or until the
// client gives up.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Reject makes the server refuse messages and calls to numbers starting
// with prefix, with the Twilio error code (21211, 21614, 21401, …).
func (s *Server) Reject(prefix string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects = append([]reject{{prefix, code}}, s.rejects...)
}

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// LastMessage returns the last message accepted for the number.
func (s *Server) LastMessage(to string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.messages) - 1; i >= 0; i-- {
		if s.messages[i].To == to {
			return s.messages[i], true
		}
	}
	return Message{}, false
}

// Calls returns the calls accepted so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = c.call
	}
	return out
}

// Transcript waits (up to 10 seconds) for the last call to the number to
// end and returns what happened in it.
func (s *Server) Transcript(to string) (Transcript, error) {
	s.mu.Lock()
	var run *callRun
	for i := len(s.calls) - 1; i >= 0; i-- {
		if s.calls[i].call.To == to {
			run = s.calls[i]
			break
		}
	}
	s.mu.Unlock()
	if run == nil {
		return Transcript{}, fmt.Errorf("twiliotest: no call to %s", to)
	}
	select {
	case <-run.done:
	case <-time.After(10 * time.Second):
		return Transcript{}, fmt.Errorf("twiliotest: the call to %s did not end in 10s", to)
	}
	return run.tr, nil
}

// CallDigits waits for the last call to the number to end and returns the
// digits it read out (see Transcript.Digits).
func (s *Server) CallDigits(to string) (string, error) {
	tr, err := s.Transcript(to)
	if err != nil {
		return "", err
	}
	return tr.Digits()
}

// serve is the REST API.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	mode, delay := s.mode, s.delay
	s.mu.Unlock()
	if mode == Down {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		// Not reachable with httptest's HTTP/1.1 server; fail anyway.
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	// Read the body first: only then does the server notice a client
	// that hangs up during the delay.
	form := url.Values{}
	var formErr error
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		formErr = r.ParseForm()
		form = r.PostForm
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if mode == Failing {
		writeError(w, 500, 20500, "Internal Server Error")
		return
	}
	sid, resource, ok := parsePath(r.URL.Path)
	if !ok {
		writeError(w, 404, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	user, pass, hasAuth := r.BasicAuth()
	if !hasAuth || !equal(user, s.AccountSID) || !equal(pass, s.AuthToken) {
		writeError(w, 401, 20003, "Authenticate")
		return
	}
	if sid != s.AccountSID {
		writeError(w, 404, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, 405, 20004, "Method not allowed")
		return
	}
	if formErr != nil {
		writeError(w, 400, 20001, "Could not parse the request body")
		return
	}
	switch resource {
	case "Messages.json":
		s.createMessage(w, form)
	case "Calls.json":
		s.createCall(w, form)
	}
}

// parsePath splits /2010-04-01/Accounts/{sid}/{Messages,Calls}.json.
func parsePath(p string) (sid, resource string, ok bool) {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(parts) != 4 || parts[0] != "2010-04-01" || parts[1] != "Accounts" {
		return "", "", false
	}
	if parts[3] != "Messages.json" && parts[3] != "Calls.json" {
		return "", "", false
	}
	return parts[2], parts[3], true
}

// checkTo applies Twilio's checks of a To number; it returns the error
// code and message, or 0.
func (s *Server) checkTo(to string, missing int, missingMsg string) (int, string) {
	if to == "" {
		return missing, missingMsg
	}
	if !isE164(to) {
		return 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rj := range s.rejects {
		if strings.HasPrefix(to, rj.prefix) {
			return rj.code, fmt.Sprintf("The 'To' number %s was refused (error %d).", to, rj.code)
		}
	}
	return 0, ""
}

func (s *Server) createMessage(w http.ResponseWriter, f url.Values) {
	to, from, svc, body := f.Get("To"), f.Get("From"), f.Get("MessagingServiceSid"), f.Get("Body")
	if code, msg := s.checkTo(to, 21604, "A 'To' phone number is required."); code != 0 {
		writeError(w, 400, code, msg)
		return
	}
	switch {
	case svc != "":
		if !contains(s.services, svc) {
			writeError(w, 400, 21705, "The Messaging Service Sid "+svc+" is invalid.")
			return
		}
	case from == "":
		writeError(w, 400, 21603, "A 'From' phone number is required.")
		return
	case !contains(s.numbers, from):
		writeError(w, 400, 21606, "The From phone number "+from+" is not a valid, SMS-capable inbound phone number or short code for your account.")
		return
	}
	if body == "" {
		writeError(w, 400, 21602, "Message body is required.")
		return
	}
	if len([]rune(body)) > 1600 {
		writeError(w, 400, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}
	m := Message{SID: newSID("SM"), To: to, From: from, MessagingServiceSID: svc, Body: body, Form: f}
	if svc != "" {
		m.From = ""
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	now := time.Now().UTC().Format(time.RFC1123Z)
	status := "queued"
	if svc != "" {
		status = "accepted"
	}
	writeJSON(w, 201, map[string]any{
		"account_sid": s.AccountSID, "api_version": "2010-04-01", "body": body,
		"date_created": now, "date_updated": now, "date_sent": nil,
		"direction": "outbound-api", "error_code": nil, "error_message": nil,
		"from": nilIfEmpty(m.From), "messaging_service_sid": nilIfEmpty(svc),
		"num_media": "0", "num_segments": "1", "price": nil, "price_unit": "USD",
		"sid": m.SID, "status": status, "to": to,
		"uri": "/2010-04-01/Accounts/" + s.AccountSID + "/Messages/" + m.SID + ".json",
	})
}

func (s *Server) createCall(w http.ResponseWriter, f url.Values) {
	to, from, rawURL, method := f.Get("To"), f.Get("From"), f.Get("Url"), f.Get("Method")
	if code, msg := s.checkTo(to, 21201, "No 'To' number is specified"); code != 0 {
		writeError(w, 400, code, msg)
		return
	}
	if from == "" {
		writeError(w, 400, 21213, "No 'From' number is specified")
		return
	}
	if !contains(s.numbers, from) {
		writeError(w, 400, 21210, "The source phone number provided, "+from+", is not yet verified for your account.")
		return
	}
	u, err := url.Parse(rawURL)
	if rawURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		writeError(w, 400, 21205, "Url is not a valid URL: "+rawURL)
		return
	}
	if method != "" && method != http.MethodGet && method != http.MethodPost {
		writeError(w, 400, 21209, "Method is not valid: "+method)
		return
	}
	if t := f.Get("Timeout"); t != "" {
		if n, err := strconv.Atoi(t); err != nil || n < 1 || n > 600 {
			writeError(w, 400, 21207, "Timeout must be between 1 and 600: "+t)
			return
		}
	}
	c := Call{SID: newSID("CA"), To: to, From: from, URL: rawURL, Method: method, Timeout: f.Get("Timeout"), Form: f}
	run := &callRun{call: c, done: make(chan struct{})}
	s.mu.Lock()
	s.calls = append(s.calls, run)
	s.mu.Unlock()
	now := time.Now().UTC().Format(time.RFC1123Z)
	writeJSON(w, 201, map[string]any{
		"account_sid": s.AccountSID, "api_version": "2010-04-01", "annotation": nil,
		"answered_by": nil, "caller_name": nil, "date_created": now, "date_updated": now,
		"direction": "outbound-api", "duration": nil, "end_time": nil, "forwarded_from": nil,
		"from": from, "from_formatted": from, "group_sid": nil, "parent_call_sid": nil,
		"price": nil, "price_unit": "USD", "queue_time": "0", "sid": c.SID, "start_time": nil,
		"status": "queued", "to": to, "to_formatted": to, "trunk_sid": nil,
		"uri": "/2010-04-01/Accounts/" + s.AccountSID + "/Calls/" + c.SID + ".json",
	})
	// Like Twilio, place the call after answering the request.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(run.done)
		run.tr = s.play(c)
	}()
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{
		"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func newSID(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Sign returns the X-Twilio-Signature of a request to fullURL with the POST
// parameters params (nil for a GET, whose parameters are in the URL):
// base64(HMAC-SHA1(authToken, fullURL + name1 + value1 + name2 + …)), the
// names sorted. It is written here from Twilio's description, separately
// from the gateway's check, so that each tests the other.
func Sign(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// errorf makes an error as Twilio's debugger would name it.
func errorf(code int, format string, args ...any) error {
	return fmt.Errorf("twilio error %d: %s", code, fmt.Sprintf(format, args...))
}

var errNoDigits = errors.New("twiliotest: the call read out no digits")
