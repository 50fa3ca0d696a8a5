// Package yubicloudtest runs, inside a test, an HTTP server that speaks
// Yubico's validation protocol 2.0 the way YubiCloud does, so that the
// yubikey package's Client (and anything built on it) can be tested without
// the network.
//
// The server knows one client (an API id and, normally, an API key). It
// checks each request's parameters and signature, decrypts tokens with the
// device keys registered by the test (AddKey), keeps each device's counter,
// and answers OK, REPLAYED_OTP, BAD_OTP, REPLAYED_REQUEST, NO_SUCH_CLIENT,
// MISSING_PARAMETER or BAD_SIGNATURE, signed with the API key. Faults make it
// misbehave on purpose: forge the signature, echo a wrong nonce or another
// OTP, answer any status, fail with HTTP 500, or hang until the client gives
// up.
//
// It is stricter than YubiCloud in one way: with an API key, unsigned
// requests are refused with BAD_SIGNATURE, so tests prove that the client
// signs. Its signing code is written independently of the yubikey package's
// so each checks the other.
package yubicloudtest

import (
	"crypto/aes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Path is the path of the verify endpoint, as on YubiCloud.
const Path = "/wsapi/2.0/verify"

// Fault makes the server misbehave. The zero value, None, is correct
// behaviour.
type Fault int

// The faults.
const (
	// None answers per protocol.
	None Fault = iota
	// ForgedSignature answers with an h that is not the HMAC of the fields
	// (as an attacker without the key would).
	ForgedSignature
	// Unsigned answers without an h field.
	Unsigned
	// WrongNonce echoes a nonce other than the request's, correctly signed
	// (a replayed older response).
	WrongNonce
	// OtherOTP echoes an OTP other than the request's, correctly signed.
	OtherOTP
	// HTTPError answers HTTP 500 with no protocol body.
	HTTPError
	// Hang never answers: the handler waits until the client gives up or
	// the server is closed.
	Hang
)

// Request is a request the server received, for assertions.
type Request struct {
	// Params are the query parameters as received (h included).
	Params url.Values
	// SignatureOK reports whether h was present and valid.
	SignatureOK bool
}

type device struct {
	privateID [6]byte
	key       [16]byte
	counter   int64 // last accepted session<<8 | use; 0 initially
}

// Server is a running fake validation service. Its methods are safe for
// concurrent use.
type Server struct {
	srv    *httptest.Server
	apiID  string
	apiKey []byte
	done   chan struct{}
	once   sync.Once

	mu       sync.Mutex
	devices  map[string]*device
	seen     map[string]bool // otp+" "+nonce pairs already answered
	fault    Fault
	status   string
	requests []Request
}

// New starts a server for the client apiID with the (decoded) API key
// apiKey, and stops it when the test ends. With a nil or empty apiKey the
// server neither checks request signatures nor signs responses.
func New(t testing.TB, apiID string, apiKey []byte) *Server {
	t.Helper()
	s := &Server{
		apiID:   apiID,
		apiKey:  append([]byte(nil), apiKey...),
		done:    make(chan struct{}),
		devices: make(map[string]*device),
		seen:    make(map[string]bool),
	}
	mux := http.NewServeMux()
	mux.HandleFunc(Path, s.handle)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// URL returns the verify endpoint's URL.
func (s *Server) URL() string { return s.srv.URL + Path }

// Close stops the server, releasing handlers blocked by Hang. It is called
// automatically at the end of the test; calling it twice is harmless.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		s.srv.Close()
	})
}

// AddKey registers a device: tokens with this public id are decrypted with
// aesKey and must carry privateID. Its counter starts at 0, so the first
// OTP must have a counter above 0, as on a fresh device.
func (s *Server) AddKey(publicID string, privateID [6]byte, aesKey [16]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.devices[strings.ToLower(publicID)] = &device{privateID: privateID, key: aesKey}
}

// SetFault makes every following response misbehave as f (None restores
// correct behaviour).
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// SetStatus makes every following response carry status (signed, echoing
// the request) instead of the computed one, without touching device state.
// The empty string restores normal answers.
func (s *Server) SetStatus(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// Counter returns the last counter accepted for a device, or -1 when no
// device has that public id.
func (s *Server) Counter(publicID string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[strings.ToLower(publicID)]
	if !ok {
		return -1
	}
	return d.counter
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	sigOK := s.requestSignatureOK(q)

	s.mu.Lock()
	s.requests = append(s.requests, Request{Params: q, SignatureOK: sigOK})
	fault, forced := s.fault, s.status
	s.mu.Unlock()

	switch fault {
	case HTTPError:
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case Hang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}

	otp, nonce := q.Get("otp"), q.Get("nonce")
	var status decision
	if forced != "" {
		status = decision{status: forced, echo: true, signable: true}
	} else {
		status = s.decide(q, sigOK)
	}
	now := time.Now().UTC()
	fields := map[string]string{
		// YubiCloud's form: UTC time, "Z", then milliseconds in 4 digits.
		"t":      now.Format("2006-01-02T15:04:05") + fmt.Sprintf("Z%04d", now.Nanosecond()/1e6),
		"status": status.status,
	}
	if status.echo {
		fields["otp"], fields["nonce"], fields["sl"] = otp, nonce, "100"
	}
	if status.status == "OK" && q.Get("timestamp") == "1" {
		fields["timestamp"] = fmt.Sprint(status.timestamp)
		fields["sessioncounter"] = fmt.Sprint(status.session)
		fields["sessionuse"] = fmt.Sprint(status.use)
	}
	switch fault {
	case WrongNonce:
		fields["nonce"] = "ZZZZ" + nonce
	case OtherOTP:
		fields["otp"] = "cccccccccccb" + strings.Repeat("c", 32)
	}

	var h string
	if len(s.apiKey) > 0 && status.signable {
		h = sign(s.apiKey, fields)
	}
	switch fault {
	case ForgedSignature:
		h = sign([]byte("not the API key"), fields)
	case Unsigned:
		h = ""
	}

	var b strings.Builder
	if h != "" {
		b.WriteString("h=" + h + "\r\n")
	}
	for _, k := range []string{"t", "otp", "nonce", "sl", "timestamp", "sessioncounter", "sessionuse", "status"} {
		if v, ok := fields[k]; ok {
			b.WriteString(k + "=" + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

type decision struct {
	status    string
	echo      bool // echo otp and nonce
	signable  bool // the server knows the key to sign with
	timestamp uint32
	session   uint16
	use       uint8
}

// decide applies the protocol to a request and updates device state.
func (s *Server) decide(q url.Values, sigOK bool) decision {
	id, otp, nonce := q.Get("id"), q.Get("otp"), q.Get("nonce")
	if id == "" || otp == "" || nonce == "" {
		return decision{status: "MISSING_PARAMETER", signable: id == s.apiID}
	}
	if id != s.apiID {
		// The service cannot sign: it has no key for this id.
		return decision{status: "NO_SUCH_CLIENT"}
	}
	if len(s.apiKey) > 0 && !sigOK {
		return decision{status: "BAD_SIGNATURE", signable: true}
	}
	if len(nonce) < 16 || len(nonce) > 40 || !alnum(nonce) {
		return decision{status: "MISSING_PARAMETER", signable: true}
	}
	if sl := q.Get("sl"); sl != "" && sl != "fast" && sl != "secure" && !digits(sl) {
		return decision{status: "MISSING_PARAMETER", signable: true}
	}
	if to := q.Get("timeout"); to != "" && !digits(to) {
		return decision{status: "MISSING_PARAMETER", signable: true}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[otp+" "+nonce] {
		return decision{status: "REPLAYED_REQUEST", echo: true, signable: true}
	}
	s.seen[otp+" "+nonce] = true

	bad := decision{status: "BAD_OTP", echo: true, signable: true}
	if len(otp) < 32 || len(otp) > 64 || len(otp)%2 != 0 {
		return bad
	}
	pub, blockText := strings.ToLower(otp[:len(otp)-32]), strings.ToLower(otp[len(otp)-32:])
	d, ok := s.devices[pub]
	if !ok {
		return bad
	}
	block, ok := modhex(blockText)
	if !ok {
		return bad
	}
	c, err := aes.NewCipher(d.key[:])
	if err != nil {
		return bad
	}
	var p [16]byte
	c.Decrypt(p[:], block[:])
	if crc(p[:]) != 0xf0b8 || !hmac.Equal(p[:6], d.privateID[:]) {
		return bad
	}
	session := binary.LittleEndian.Uint16(p[6:8])
	use := p[11]
	counter := int64(session)<<8 | int64(use)
	if counter <= d.counter {
		return decision{status: "REPLAYED_OTP", echo: true, signable: true}
	}
	d.counter = counter
	return decision{
		status: "OK", echo: true, signable: true,
		timestamp: uint32(p[8]) | uint32(p[9])<<8 | uint32(p[10])<<16,
		session:   session, use: use,
	}
}

// requestSignatureOK checks h over the other parameters. It is true when
// the server has no key.
func (s *Server) requestSignatureOK(q url.Values) bool {
	if len(s.apiKey) == 0 {
		return true
	}
	h := q.Get("h")
	if h == "" || len(q["h"]) != 1 {
		return false
	}
	fields := make(map[string]string, len(q))
	for k, vs := range q {
		if len(vs) != 1 {
			return false
		}
		fields[k] = vs[0]
	}
	want := sign(s.apiKey, fields)
	return hmac.Equal([]byte(h), []byte(want))
}

// sign returns base64(HMAC-SHA1(key, sorted "k=v" pairs joined by "&")),
// the field h left out.
func sign(key []byte, fields map[string]string) string {
	pairs := make([]string, 0, len(fields))
	for k, v := range fields {
		if k != "h" {
			pairs = append(pairs, k+"="+v)
		}
	}
	sort.Strings(pairs)
	m := hmac.New(sha1.New, key)
	m.Write([]byte(strings.Join(pairs, "&")))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func crc(b []byte) uint16 {
	r := uint16(0xffff)
	for _, v := range b {
		r ^= uint16(v)
		for range 8 {
			lsb := r & 1
			r >>= 1
			if lsb == 1 {
				r ^= 0x8408
			}
		}
	}
	return r
}

func modhex(s string) ([16]byte, bool) {
	var out [16]byte
	const alphabet = "cbdefghijklnrtuv"
	for i := range 32 {
		n := strings.IndexByte(alphabet, s[i])
		if n < 0 {
			return out, false
		}
		out[i/2] = out[i/2]<<4 | byte(n)
	}
	return out, true
}

func alnum(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
