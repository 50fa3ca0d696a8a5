package yubikey_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofactor/twofactor/internal/yubicloudtest"
	"github.com/twofactor/twofactor/yubikey"
)

var testAPIKey = []byte("twenty bytes of key!")

// cloud starts a fake YubiCloud knowing alice and bob, and a client for it.
func cloud(t testing.TB) (*yubicloudtest.Server, *yubikey.Client, *testDevice, *testDevice) {
	t.Helper()
	srv := yubicloudtest.New(t, "4711", testAPIKey)
	alice, bob := aliceAndBob(t)
	srv.AddKey(alice.publicID, alice.privateID, alice.key)
	srv.AddKey(bob.publicID, bob.privateID, bob.key)
	c, err := yubikey.NewClient(srv.URL(), "4711", base64.StdEncoding.EncodeToString(testAPIKey))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, alice, bob
}

var nonceRE = regexp.MustCompile(`^[A-Za-z0-9]{16,40}$`)

func TestClientVerify(t *testing.T) {
	ctx := context.Background()
	srv, c, alice, _ := cloud(t)

	tok := alice.token(5, 1)
	res, err := c.Verify(ctx, tok)
	if err != nil {
		t.Fatalf("OK: %v", err)
	}
	if res.Status != "OK" || !res.Signed || res.SL != 100 || res.Time == "" || res.HasCounters {
		t.Errorf("result = %+v", res)
	}
	if srv.Counter(alice.publicID) != 5<<8|1 {
		t.Errorf("server counter = %d", srv.Counter(alice.publicID))
	}

	// The same token again: REPLAYED_OTP.
	res, err = c.Verify(ctx, tok)
	if !errors.Is(err, yubikey.ErrReplayed) || res.Status != "REPLAYED_OTP" {
		t.Errorf("replay: %+v, %v; want ErrReplayed", res, err)
	}

	// Upper case is sent in lower case and accepted.
	res, err = c.Verify(ctx, strings.ToUpper(alice.token(5, 2)))
	if err != nil {
		t.Errorf("upper case: %v", err)
	}

	// A well-formed token of an unknown device: BAD_OTP.
	unknown := newTestDevice(t, 99, "000000000001", "000102030405060708090a0b0c0d0e0f", 0, 0)
	res, err = c.Verify(ctx, unknown.token(1, 1))
	if !errors.Is(err, yubikey.ErrBadOTP) || res.Status != "BAD_OTP" {
		t.Errorf("unknown device: %+v, %v; want ErrBadOTP", res, err)
	}

	// Every request was signed, with a well-formed, distinct nonce.
	reqs := srv.Requests()
	if len(reqs) != 4 {
		t.Fatalf("server saw %d requests, want 4", len(reqs))
	}
	nonces := map[string]bool{}
	for i, r := range reqs {
		if !r.SignatureOK {
			t.Errorf("request %d: signature did not verify", i)
		}
		n := r.Params.Get("nonce")
		if !nonceRE.MatchString(n) {
			t.Errorf("request %d: nonce %q is not 16-40 of [A-Za-z0-9]", i, n)
		}
		if nonces[n] {
			t.Errorf("request %d: nonce repeated", i)
		}
		nonces[n] = true
		if r.Params.Get("id") != "4711" || r.Params.Get("otp") != strings.ToLower(r.Params.Get("otp")) {
			t.Errorf("request %d: params %v", i, r.Params)
		}
		for _, k := range []string{"timestamp", "sl", "timeout"} {
			if r.Params.Has(k) {
				t.Errorf("request %d: unexpected %s", i, k)
			}
		}
	}
}

func TestClientOptions(t *testing.T) {
	srv, c, alice, _ := cloud(t)
	c.Timestamp = true
	c.SyncLevel = "secure"
	c.SyncTimeout = 8 * time.Second
	res, err := c.Verify(context.Background(), alice.token(6, 3))
	if err != nil {
		t.Fatal(err)
	}
	if !res.HasCounters || res.SessionCounter != 6 || res.SessionUse != 3 || res.Timestamp != 0x01a2b3 || res.Counter() != 6<<8|3 {
		t.Errorf("result = %+v", res)
	}
	p := srv.Requests()[0].Params
	if p.Get("timestamp") != "1" || p.Get("sl") != "secure" || p.Get("timeout") != "8" || !srv.Requests()[0].SignatureOK {
		t.Errorf("params = %v", p)
	}
}

func TestClientFaults(t *testing.T) {
	tests := []struct {
		name   string
		fault  yubicloudtest.Fault
		status string
		want   error
	}{
		{"forged signature", yubicloudtest.ForgedSignature, "", yubikey.ErrBadSignature},
		{"unsigned response", yubicloudtest.Unsigned, "", yubikey.ErrBadSignature},
		{"wrong nonce", yubicloudtest.WrongNonce, "", yubikey.ErrBadSignature},
		{"other otp", yubicloudtest.OtherOTP, "", yubikey.ErrBadSignature},
		{"http 500", yubicloudtest.HTTPError, "", yubikey.ErrUnavailable},
		{"backend error", 0, "BACKEND_ERROR", yubikey.ErrStatus},
		{"not enough answers", 0, "NOT_ENOUGH_ANSWERS", yubikey.ErrStatus},
		{"operation not allowed", 0, "OPERATION_NOT_ALLOWED", yubikey.ErrStatus},
		{"unknown status", 0, "SHINY_NEW_STATUS", yubikey.ErrStatus},
		{"forced replayed", 0, "REPLAYED_OTP", yubikey.ErrReplayed},
		// The forged OK: signature wrong, status OK.
		{"forged ok", yubicloudtest.ForgedSignature, "OK", yubikey.ErrBadSignature},
		{"replayed ok response", yubicloudtest.WrongNonce, "OK", yubikey.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, alice, _ := cloud(t)
			srv.SetFault(tt.fault)
			srv.SetStatus(tt.status)
			tok := alice.token(5, 1)
			res, err := c.Verify(context.Background(), tok)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if errors.Is(tt.want, yubikey.ErrBadSignature) || errors.Is(tt.want, yubikey.ErrUnavailable) {
				if res != (yubikey.Result{}) {
					t.Errorf("untrusted response gave result %+v", res)
				}
			} else if res.Status != tt.status {
				t.Errorf("Status = %q, want %q", res.Status, tt.status)
			}
			if strings.Contains(err.Error(), tok) {
				t.Errorf("error %q quotes the token", err)
			}
			// Back to normal, the next token verifies.
			srv.SetFault(yubicloudtest.None)
			srv.SetStatus("")
			if _, err := c.Verify(context.Background(), alice.token(5, 2)); err != nil {
				t.Errorf("after the fault: %v", err)
			}
		})
	}
}

func TestClientServerStatuses(t *testing.T) {
	ctx := context.Background()
	srv, c, alice, _ := cloud(t)

	// The server cannot sign NO_SUCH_CLIENT: we report an unauthenticated
	// response, naming the status it claimed.
	wrongID := *c
	wrongID.APIID = "1"
	_, err := wrongID.Verify(ctx, alice.token(5, 1))
	if !errors.Is(err, yubikey.ErrBadSignature) || !strings.Contains(err.Error(), "NO_SUCH_CLIENT") {
		t.Errorf("wrong id: %v", err)
	}

	// A request signed with the wrong key: the server answers
	// BAD_SIGNATURE, signed with the right key, which we cannot verify.
	wrongKey := *c
	wrongKey.APIKey = []byte("another key")
	_, err = wrongKey.Verify(ctx, alice.token(5, 1))
	if !errors.Is(err, yubikey.ErrBadSignature) || !strings.Contains(err.Error(), "BAD_SIGNATURE") {
		t.Errorf("wrong key: %v", err)
	}
	if srv.Counter(alice.publicID) != 0 {
		t.Errorf("server counter moved to %d", srv.Counter(alice.publicID))
	}
}

func TestClientTimeout(t *testing.T) {
	srv, c, alice, _ := cloud(t)
	srv.SetFault(yubicloudtest.Hang)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Verify(ctx, alice.token(5, 1))
	if !errors.Is(err, yubikey.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if err != nil && strings.Contains(err.Error(), "otp=") {
		t.Errorf("error %q quotes the request URL", err)
	}

	// The HTTP client's own timeout works as well.
	c.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
	_, err = c.Verify(context.Background(), alice.token(5, 1))
	if !errors.Is(err, yubikey.ErrUnavailable) {
		t.Errorf("client timeout: err = %v, want ErrUnavailable", err)
	}
}

func TestClientUnreachable(t *testing.T) {
	srv, c, alice, _ := cloud(t)
	srv.Close()
	_, err := c.Verify(context.Background(), alice.token(5, 1))
	if !errors.Is(err, yubikey.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
}

func TestClientRejectsMalformedToken(t *testing.T) {
	srv, c, _, _ := cloud(t)
	for _, tok := range []string{"", "completelybogus", "cccccccb" + strings.Repeat("a", 32), strings.Repeat("c", 66)} {
		_, err := c.Verify(context.Background(), tok)
		if !errors.Is(err, yubikey.ErrBadOTP) || !errors.Is(err, yubikey.ErrMalformed) {
			t.Errorf("Verify(%q) err = %v, want ErrBadOTP and ErrMalformed", tok, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d malformed tokens were sent", n)
	}
}

func TestUnsignedClient(t *testing.T) {
	// Refused by default, whichever way the client is made.
	if _, err := yubikey.NewClient("", "1", ""); !errors.Is(err, yubikey.ErrConfig) {
		t.Errorf("NewClient without key: err = %v, want ErrConfig", err)
	}
	c := &yubikey.Client{APIID: "1"}
	if _, err := c.Verify(context.Background(), strings.Repeat("c", 44)); !errors.Is(err, yubikey.ErrConfig) {
		t.Errorf("Verify without key: err = %v, want ErrConfig", err)
	}

	// With AllowUnsigned, against a server without a key.
	srv := yubicloudtest.New(t, "1", nil)
	alice, _ := aliceAndBob(t)
	srv.AddKey(alice.publicID, alice.privateID, alice.key)
	c = &yubikey.Client{URL: srv.URL(), APIID: "1", AllowUnsigned: true}
	res, err := c.Verify(context.Background(), alice.token(5, 1))
	if err != nil || res.Signed || res.Status != "OK" {
		t.Fatalf("unsigned: %+v, %v", res, err)
	}
	if srv.Requests()[0].Params.Has("h") {
		t.Error("unsigned client sent h")
	}
	// Even unsigned, the echo is checked.
	srv.SetFault(yubicloudtest.WrongNonce)
	if _, err := c.Verify(context.Background(), alice.token(5, 2)); !errors.Is(err, yubikey.ErrBadSignature) {
		t.Errorf("unsigned, wrong nonce: err = %v, want ErrBadSignature", err)
	}
}

func TestClientConfig(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(testAPIKey)
	good, err := yubikey.NewClient("", "1", key)
	if err != nil || good.URL != "" || string(good.APIKey) != string(testAPIKey) {
		t.Fatalf("NewClient = %+v, %v", good, err)
	}
	if _, err := yubikey.NewClient("", "1", strings.TrimRight(key, "=")); err != nil {
		t.Errorf("unpadded key: %v", err)
	}
	bad := []struct {
		name string
		url  string
		id   string
		key  string
	}{
		{"key not base64", "", "1", "not base64!"},
		{"no id", "", "", key},
		{"id with space", "", "1 2", key},
		{"ftp url", "ftp://example.com/verify", "1", key},
		{"relative url", "/wsapi/2.0/verify", "1", key},
		{"url with query", "https://example.com/verify?id=1", "1", key},
		{"url with user", "https://u:p@example.com/verify", "1", key},
		{"url does not parse", "https://exa mple.com/%zz", "1", key},
	}
	for _, tt := range bad {
		_, err := yubikey.NewClient(tt.url, tt.id, tt.key)
		if !errors.Is(err, yubikey.ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", tt.name, err)
		}
		if err != nil && tt.key != key && strings.Contains(err.Error(), tt.key) {
			t.Errorf("%s: error quotes the key", tt.name)
		}
	}
	for _, sl := range []string{"fast", "secure", "0", "50", "100"} {
		c := *good
		c.SyncLevel = sl
		if err := c.Check(); err != nil {
			t.Errorf("sl %q: %v", sl, err)
		}
	}
	for _, sl := range []string{"101", "-1", "05", "slow", " 5"} {
		c := *good
		c.SyncLevel = sl
		if err := c.Check(); !errors.Is(err, yubikey.ErrConfig) {
			t.Errorf("sl %q: err = %v, want ErrConfig", sl, err)
		}
	}
	c := *good
	c.SyncTimeout = 500 * time.Millisecond
	if err := c.Check(); !errors.Is(err, yubikey.ErrConfig) {
		t.Errorf("sub-second sync timeout: err = %v", err)
	}
}

func TestClientOversizedResponse(t *testing.T) {
	// A server answering a huge body (a captive portal, say).
	_, c, alice, _ := cloud(t)
	c.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		body := strings.Repeat("x=y\r\n", yubikey.MaxResponseSize)
		return &http.Response{StatusCode: 200, Body: nopCloser{strings.NewReader(body)}, Header: http.Header{}, Request: r}, nil
	})}
	if _, err := c.Verify(context.Background(), alice.token(5, 1)); !errors.Is(err, yubikey.ErrBadResponse) {
		t.Errorf("err = %v, want ErrBadResponse", err)
	}
}

func TestClientNil(t *testing.T) {
	var c *yubikey.Client
	if _, err := c.Verify(context.Background(), strings.Repeat("c", 44)); !errors.Is(err, yubikey.ErrConfig) {
		t.Errorf("nil client: err = %v, want ErrConfig", err)
	}
}

// One Client used from many goroutines: distinct tokens give no error but
// REPLAYED_OTP (one device, so a token overtaken by a newer one is stale), and
// one token sent 20 times at once is accepted exactly once.
func TestClientConcurrent(t *testing.T) {
	_, c, alice, _ := cloud(t)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Go(func() {
			_, err := c.Verify(context.Background(), alice.token(uint16(100+i), 1))
			errs <- err
		})
	}
	wg.Wait()
	for range 20 {
		if err := <-errs; err != nil && !errors.Is(err, yubikey.ErrReplayed) {
			t.Errorf("distinct tokens: %v", err)
		}
	}

	tok := alice.token(1000, 1)
	var ok atomic.Int32
	for range 20 {
		wg.Go(func() {
			_, err := c.Verify(context.Background(), tok)
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, yubikey.ErrReplayed):
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("same token: %v", err)
	}
	if ok.Load() != 1 {
		t.Errorf("same token accepted %d times, want 1", ok.Load())
	}
}
