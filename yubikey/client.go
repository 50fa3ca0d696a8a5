package yubikey

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultURL is the verify endpoint of YubiCloud, protocol version 2.0.
const DefaultURL = "https://api.yubico.com/wsapi/2.0/verify"

// DefaultTimeout bounds a whole validation request (connect, send, read) when
// Client.HTTPClient is nil. A context deadline, if shorter, applies first.
const DefaultTimeout = 10 * time.Second

// MaxResponseSize is the largest validation response body accepted, in
// bytes. Real responses are about 300 bytes.
const MaxResponseSize = 4096

// Limits of the response format.
const (
	maxResponseFields = 32
	maxFieldKeyLen    = 32
	maxStatusLen      = 32
	nonceLen          = 32 // the protocol allows 16 to 40
)

// Validation statuses of protocol 2.0.
const (
	StatusOK                  = "OK"
	StatusBadOTP              = "BAD_OTP"
	StatusReplayedOTP         = "REPLAYED_OTP"
	StatusBadSignature        = "BAD_SIGNATURE"
	StatusMissingParameter    = "MISSING_PARAMETER"
	StatusNoSuchClient        = "NO_SUCH_CLIENT"
	StatusOperationNotAllowed = "OPERATION_NOT_ALLOWED"
	StatusBackendError        = "BACKEND_ERROR"
	StatusNotEnoughAnswers    = "NOT_ENOUGH_ANSWERS"
	StatusReplayedRequest     = "REPLAYED_REQUEST"
)

// defaultHTTPClient is used when Client.HTTPClient is nil. It does not follow
// redirects: the request carries the token, and a validation service that
// moved must be reconfigured, not followed.
var defaultHTTPClient = &http.Client{
	Timeout: DefaultTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// Client verifies tokens with a validation service speaking Yubico's
// validation protocol 2.0, such as YubiCloud. The zero value is not usable:
// set at least APIID and APIKey, or build one with NewClient. A Client is
// safe for concurrent use once its fields are set; do not change them while
// Verify may run.
//
// With an API key (the normal case) every request is signed and every
// response must carry a valid signature. Without one, Verify refuses to run
// unless AllowUnsigned is set: django-otp-yubikey made the key optional and
// then accepted any response, so whoever could answer in place of the service
// (a proxy, a spoofed DNS answer, a mis-issued certificate) could say
// "status=OK" for any token. Use AllowUnsigned only with a service reached
// over a path you trust.
type Client struct {
	// URL is the verify endpoint; empty means DefaultURL. It must be http
	// or https, without query, fragment or user info. Use https.
	URL string
	// APIID is the client id issued by the service.
	APIID string
	// APIKey is the shared secret, already base64-decoded (see ParseAPIKey).
	// It signs requests and authenticates responses.
	APIKey []byte
	// AllowUnsigned lets Verify run without an APIKey, trusting unsigned
	// responses. Off by default; see the type's documentation.
	AllowUnsigned bool
	// Timestamp asks the service for the device's timestamp and counters
	// (timestamp=1); they are returned in Result.
	Timestamp bool
	// SyncLevel is sent as sl when not empty: "fast", "secure" or an
	// integer percentage 0–100 of validation servers that must agree.
	SyncLevel string
	// SyncTimeout is sent as timeout, in whole seconds, when not zero: how
	// long the service may wait for its peers to agree. It does not bound
	// the HTTP request; the context and HTTPClient do.
	SyncTimeout time.Duration
	// HTTPClient sends the requests; nil means a client with
	// DefaultTimeout that does not follow redirects.
	HTTPClient *http.Client
	// Random is the source of nonces; nil means crypto/rand. Tests may set
	// a deterministic reader; production code must not.
	Random io.Reader
}

// Result is what an authenticated validation response said. Fields the
// service did not send are zero.
type Result struct {
	// Status is the response's status, such as "OK" or "REPLAYED_OTP".
	Status string
	// Time is the service's timestamp, field t, as sent.
	Time string
	// SL is the percentage of validation servers that answered, or -1
	// when the response has no sl field.
	SL int
	// Signed reports whether the response signature was verified (false
	// only for a Client with AllowUnsigned and no APIKey).
	Signed bool
	// HasCounters reports whether the response carried the device's
	// timestamp and counters (requested with Client.Timestamp).
	HasCounters bool
	// Timestamp, SessionCounter and SessionUse are the device's values for
	// the OTP, as decrypted by the service.
	Timestamp      uint32
	SessionCounter uint16
	SessionUse     uint8
}

// Counter returns SessionCounter<<8 | SessionUse, comparable with
// OTP.Counter, when HasCounters is set, and -1 otherwise. A caller may keep
// it as defense in depth; the service enforces replay itself.
func (r Result) Counter() int64 {
	if !r.HasCounters {
		return -1
	}
	return int64(r.SessionCounter)<<8 | int64(r.SessionUse)
}

// ParseAPIKey decodes an API key as the service issues it: standard base64
// (padding optional). The empty string is an error. Errors wrap ErrConfig and
// do not quote the key.
func ParseAPIKey(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: API key is empty", ErrConfig)
	}
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	key, err := enc.Strict().DecodeString(s)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("%w: API key is not base64", ErrConfig)
	}
	return key, nil
}

// NewClient returns a Client for the verify endpoint rawURL (empty means
// DefaultURL), the client id apiID and the base64 API key apiKey, after
// checking them (see Client.Check). An empty apiKey is refused; to run
// without one, build the Client directly with AllowUnsigned set.
func NewClient(rawURL, apiID, apiKey string) (*Client, error) {
	if apiKey == "" {
		return nil, fmt.Errorf("%w: an API key is required to authenticate validation responses", ErrConfig)
	}
	key, err := ParseAPIKey(apiKey)
	if err != nil {
		return nil, err
	}
	c := &Client{URL: rawURL, APIID: apiID, APIKey: key}
	if err := c.Check(); err != nil {
		return nil, err
	}
	return c, nil
}

// Check reports whether the Client is usable, with an error wrapping
// ErrConfig that names the field at fault. Verify calls it first; callers
// may call it at start-up to fail early.
func (c *Client) Check() error {
	if c == nil {
		return fmt.Errorf("%w: nil Client", ErrConfig)
	}
	if _, err := c.endpoint(); err != nil {
		return err
	}
	if c.APIID == "" {
		return fmt.Errorf("%w: API id is empty", ErrConfig)
	}
	if len(c.APIID) > 64 || !printableNoSpace(c.APIID) {
		return fmt.Errorf("%w: API id must be at most 64 printable characters without spaces", ErrConfig)
	}
	if len(c.APIKey) == 0 && !c.AllowUnsigned {
		return fmt.Errorf("%w: no API key: responses could not be authenticated (set AllowUnsigned to accept that)", ErrConfig)
	}
	switch sl := c.SyncLevel; sl {
	case "", "fast", "secure":
	default:
		n, err := strconv.Atoi(sl)
		if err != nil || n < 0 || n > 100 || strconv.Itoa(n) != sl {
			return fmt.Errorf("%w: sync level must be fast, secure or 0 to 100", ErrConfig)
		}
	}
	if c.SyncTimeout < 0 || (c.SyncTimeout > 0 && c.SyncTimeout < time.Second) {
		return fmt.Errorf("%w: sync timeout must be zero or at least one second", ErrConfig)
	}
	return nil
}

func (c *Client) endpoint() (*url.URL, error) {
	raw := c.URL
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: validation URL does not parse", ErrConfig)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: validation URL must be an absolute http or https URL", ErrConfig)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("%w: validation URL must have no user info, query or fragment", ErrConfig)
	}
	return u, nil
}

// Verify asks the validation service whether otp is a valid, unused token.
// It returns a nil error only when the service answered status OK in a
// response that echoes this request's token and nonce and, with an API key,
// carries a valid signature.
//
// Errors: ErrBadOTP (with ErrMalformed) for a token that is not well formed,
// which is not sent; ErrReplayed for REPLAYED_OTP; ErrBadOTP for BAD_OTP;
// ErrBadSignature when the response cannot be authenticated or does not
// echo the request; a *StatusError wrapping ErrStatus for every other
// status; ErrBadResponse for a body that is not a protocol response;
// ErrUnavailable (wrapping the cause) for transport failures, timeouts and
// HTTP errors; ErrConfig for an unusable Client. The Result is filled in for
// authenticated responses, OK or not, and is zero otherwise.
//
// With an API key, an unsigned response is never believed, whatever its
// status: the service cannot sign NO_SUCH_CLIENT (it has no key for an
// unknown id), so a wrong API id shows up as ErrBadSignature whose message
// names the status the response claimed.
func (c *Client) Verify(ctx context.Context, otp string) (Result, error) {
	if err := c.Check(); err != nil {
		return Result{}, err
	}
	if _, _, err := ParseToken(otp); err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrBadOTP, err)
	}
	otp = lowerASCII(otp)
	nonce, err := newNonce(c.Random)
	if err != nil {
		return Result{}, err
	}
	u, _ := c.endpoint() // checked above
	u.RawQuery = c.query(otp, nonce).Encode()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	req.Header.Set("Accept", "text/plain")
	hc := c.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		// A *url.Error quotes the request URL, which holds the token:
		// keep only its cause.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return Result{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponseSize))
		return Result{}, fmt.Errorf("%w: HTTP status %d", ErrUnavailable, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	if err != nil {
		return Result{}, fmt.Errorf("%w: reading response: %w", ErrUnavailable, err)
	}
	if len(body) > MaxResponseSize {
		return Result{}, fmt.Errorf("%w: more than %d bytes", ErrBadResponse, MaxResponseSize)
	}
	return checkResponse(body, c.APIKey, otp, nonce)
}

// query returns the request parameters, signed when there is an API key.
func (c *Client) query(otp, nonce string) url.Values {
	params := map[string]string{"id": c.APIID, "otp": otp, "nonce": nonce}
	if c.Timestamp {
		params["timestamp"] = "1"
	}
	if c.SyncLevel != "" {
		params["sl"] = c.SyncLevel
	}
	if c.SyncTimeout > 0 {
		params["timeout"] = strconv.FormatInt(int64(c.SyncTimeout/time.Second), 10)
	}
	q := make(url.Values, len(params)+1)
	for k, v := range params {
		q.Set(k, v)
	}
	if len(c.APIKey) > 0 {
		q.Set("h", base64.StdEncoding.EncodeToString(signature(c.APIKey, params)))
	}
	return q
}

// signature computes the protocol 2.0 signature of a message: HMAC-SHA1 with
// the API key over "k1=v1&k2=v2…", the fields sorted by key, values as they
// are (not URL-escaped), the field h excluded.
func signature(key []byte, fields map[string]string) []byte {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != "h" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	mac := hmac.New(sha1.New, key)
	for i, k := range keys {
		if i > 0 {
			mac.Write([]byte{'&'})
		}
		mac.Write([]byte(k))
		mac.Write([]byte{'='})
		mac.Write([]byte(fields[k]))
	}
	return mac.Sum(nil)
}

const nonceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newNonce returns nonceLen characters drawn uniformly from [A-Za-z0-9]
// using r, or crypto/rand when r is nil.
func newNonce(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	out := make([]byte, 0, nonceLen)
	var buf [nonceLen * 3 / 2]byte
	// Rejection sampling: bytes 248–255 would bias the draw. Each round
	// keeps about 97% of its bytes, so two rounds almost always suffice;
	// the bound guards against a broken reader.
	for range 16 {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", fmt.Errorf("yubikey: generating nonce: %w", err)
		}
		for _, b := range buf {
			if b < 248 {
				out = append(out, nonceAlphabet[b%62])
				if len(out) == nonceLen {
					return string(out), nil
				}
			}
		}
	}
	return "", errors.New("yubikey: generating nonce: random source returned too many rejected bytes")
}

// checkResponse authenticates and interprets a response body for a request
// that carried otp and nonce. key nil means the response is not
// authenticated (AllowUnsigned).
func checkResponse(body []byte, key []byte, otp, nonce string) (Result, error) {
	fields, err := parseResponse(body)
	if err != nil {
		return Result{}, err
	}
	status, ok := fields["status"]
	if !ok {
		return Result{}, fmt.Errorf("%w: no status", ErrBadResponse)
	}
	if !validStatus(status) {
		return Result{}, fmt.Errorf("%w: status is not an upper-case word", ErrBadResponse)
	}
	signed := len(key) > 0
	if signed {
		h, ok := fields["h"]
		if !ok {
			return Result{}, fmt.Errorf("%w: response is not signed (status %s)", ErrBadSignature, status)
		}
		got, err := base64.StdEncoding.DecodeString(h)
		if err != nil || !hmac.Equal(got, signature(key, fields)) {
			return Result{}, fmt.Errorf("%w: response signature does not verify (status %s)", ErrBadSignature, status)
		}
	}
	// The echo proves the response answers this request and not an older
	// one replayed by an attacker. A status about the token must carry it;
	// other statuses may lack it but must not carry a wrong one.
	mustEcho := status == StatusOK
	if v, ok := fields["otp"]; ok || mustEcho {
		if !ok || subtle.ConstantTimeCompare([]byte(v), []byte(otp)) != 1 {
			return Result{}, fmt.Errorf("%w: response does not echo the request's OTP", ErrBadSignature)
		}
	}
	if v, ok := fields["nonce"]; ok || mustEcho {
		if !ok || subtle.ConstantTimeCompare([]byte(v), []byte(nonce)) != 1 {
			return Result{}, fmt.Errorf("%w: response does not echo the request's nonce", ErrBadSignature)
		}
	}

	res := Result{Status: status, Time: fields["t"], SL: -1, Signed: signed}
	if v, ok := fields["sl"]; ok {
		n, err := parseUint(v, 100)
		if err != nil {
			return Result{}, fmt.Errorf("%w: sl: %w", ErrBadResponse, err)
		}
		res.SL = int(n)
	}
	ts, hasTS := fields["timestamp"]
	sc, hasSC := fields["sessioncounter"]
	su, hasSU := fields["sessionuse"]
	if hasTS || hasSC || hasSU {
		if !hasTS || !hasSC || !hasSU {
			return Result{}, fmt.Errorf("%w: timestamp, sessioncounter and sessionuse must come together", ErrBadResponse)
		}
		t, err1 := parseUint(ts, 1<<24-1)
		s, err2 := parseUint(sc, 1<<16-1)
		u, err3 := parseUint(su, 1<<8-1)
		if err := errors.Join(err1, err2, err3); err != nil {
			return Result{}, fmt.Errorf("%w: device counters: %w", ErrBadResponse, err)
		}
		res.HasCounters = true
		res.Timestamp, res.SessionCounter, res.SessionUse = uint32(t), uint16(s), uint8(u)
	}

	switch status {
	case StatusOK:
		return res, nil
	case StatusReplayedOTP:
		return res, ErrReplayed
	case StatusBadOTP:
		return res, ErrBadOTP
	default:
		return res, &StatusError{Status: status}
	}
}

// parseResponse splits a response body into its fields. The format is one
// "key=value" per line, lines ending in CRLF or LF, blank lines ignored. It
// is strict: every other line must have a key of letters, digits or
// underscores before its first "=", keys must not repeat, and the body must
// be printable ASCII.
func parseResponse(body []byte) (map[string]string, error) {
	fields := make(map[string]string, 8)
	for line := range bytes.Lines(body) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		for _, c := range line {
			if c < 0x20 || c > 0x7e {
				return nil, fmt.Errorf("%w: control or non-ASCII byte", ErrBadResponse)
			}
		}
		k, v, ok := strings.Cut(string(line), "=")
		if !ok {
			return nil, fmt.Errorf("%w: line without '='", ErrBadResponse)
		}
		if k == "" || len(k) > maxFieldKeyLen || !validKey(k) {
			return nil, fmt.Errorf("%w: bad field name", ErrBadResponse)
		}
		if _, dup := fields[k]; dup {
			return nil, fmt.Errorf("%w: field %s repeated", ErrBadResponse, k)
		}
		if len(fields) == maxResponseFields {
			return nil, fmt.Errorf("%w: more than %d fields", ErrBadResponse, maxResponseFields)
		}
		fields[k] = v
	}
	return fields, nil
}

func validKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func validStatus(s string) bool {
	if s == "" || len(s) > maxStatusLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

func printableNoSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// parseUint parses a decimal integer in [0, max], digits only.
func parseUint(s string, max uint64) (uint64, error) {
	if s == "" || len(s) > 20 {
		return 0, errors.New("not a decimal number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a decimal number")
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > max {
		return 0, errors.New("number out of range")
	}
	return n, nil
}
