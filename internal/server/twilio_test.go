package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/config"
	"github.com/twofactor/twofactor/gateway/twilio"
	"github.com/twofactor/twofactor/internal/app"
	"github.com/twofactor/twofactor/internal/twiliotest"
)

// twilioSite is the server configured with the Twilio gateway for calls
// and text messages, its API pointed at a local peer, served on a local
// port that is its public URL (where the peer fetches the calls' scripts).
func twilioSite(t *testing.T) (*app.App, *httptest.Server, *twiliotest.Server) {
	t.Helper()
	peer := twiliotest.New(t)
	srv := httptest.NewUnstartedServer(nil)
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "t.db")
	cfg.SMS.Gateway, cfg.Call.Gateway = "twilio", "twilio"
	cfg.Twilio = config.Twilio{AccountSID: peer.AccountSID, AuthToken: peer.AuthToken, CallerID: twiliotest.CallerID, BaseURL: peer.URL}
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	h, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return a, srv, peer
}

// TestTwilioWebhook: a verification call placed by the service is
// answered by the server's webhook — the peer fetches the greeting and
// the digits with Twilio's signatures, and the digits it hears confirm
// the device; unsigned requests are refused, unknown calls not found.
func TestTwilioWebhook(t *testing.T) {
	a, srv, peer := twilioSite(t)
	ctx := context.Background()
	if got := a.Service.Methods(); len(got) < 3 || got[1] != twofactor.KindSMS || got[2] != twofactor.KindCall {
		t.Fatalf("methods %v", got)
	}
	u, err := a.Service.Builtin().Create(ctx, twofactor.NewUser{Username: "alice", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	actor := twofactor.OperatorActor(u.ID)
	const number = "+31101234567"
	d, err := a.Service.AddPhone(ctx, actor, twofactor.KindCall, number, "")
	if err != nil {
		t.Fatal(err)
	}
	digits, err := peer.CallDigits(number)
	if err != nil {
		t.Fatalf("the call: %v", err)
	}
	tr, _ := peer.Transcript(number)
	if len(tr.Fetches) != 2 || tr.Fetches[0].Method != "GET" || tr.Fetches[1].Method != "POST" ||
		tr.Fetches[0].Status != 200 || tr.Fetches[1].Status != 200 {
		t.Fatalf("fetches %+v", tr.Fetches)
	}
	for _, f := range tr.Fetches {
		if !strings.HasPrefix(f.URL, srv.URL+twilio.CallbackPath) || strings.Contains(f.URL, digits) {
			t.Fatalf("fetched %s", f.URL)
		}
	}
	if _, err := a.Service.ConfirmDevice(ctx, actor, d.ID, digits); err != nil {
		t.Fatalf("the digits heard do not confirm the device: %v", err)
	}

	call := peer.Calls()[0].URL
	for _, tc := range []struct {
		name   string
		method string
		target string
		sig    string
		status int
	}{
		{"unsigned", "GET", call, "", 403},
		{"unsigned POST", "POST", call, "", 403},
		{"forged", "GET", call, "bm90IGEgc2lnbmF0dXJl", 403},
		{"signed for another call", "GET", twilio.CallbackURL(srv.URL, "other"), twiliotest.Sign(peer.AuthToken, call, nil), 403},
		{"unknown call", "GET", twilio.CallbackURL(srv.URL, "other"), twiliotest.Sign(peer.AuthToken, twilio.CallbackURL(srv.URL, "other"), nil), 404},
		{"signed", "GET", call, twiliotest.Sign(peer.AuthToken, call, nil), 200},
	} {
		req, _ := http.NewRequest(tc.method, tc.target, nil)
		if tc.sig != "" {
			req.Header.Set(twilio.SignatureHeader, tc.sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d: %s", tc.name, resp.StatusCode, tc.status, body)
		}
		if tc.status != 200 && strings.Contains(string(body), "<Say") {
			t.Errorf("%s: the script was given away", tc.name)
		}
		if tc.status == 200 && resp.Header.Get("Content-Type") != twilio.ContentType {
			t.Errorf("%s: content type %q", tc.name, resp.Header.Get("Content-Type"))
		}
	}
}

// TestTwilioWebhookOnlyWithTwilio: without the Twilio gateway there is no
// webhook.
func TestTwilioWebhookOnlyWithTwilio(t *testing.T) {
	a := openApp(t, io.Discard)
	h, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, h, "GET", twilio.CallbackPath+"abc/"); status != 404 {
		t.Fatalf("webhook without Twilio = %d", status)
	}
}
