package deux

import (
	"net/url"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

// grant is the body of a password grant.
func grant(user string, kv ...string) url.Values {
	v := url.Values{"grant_type": {"password"}, "username": {user}, "password": {pw}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// oauthToken posts a password grant to deux's token endpoint.
func (h *harness) oauthToken(body url.Values) *resp {
	h.t.Helper()
	return h.do(req{method: "POST", path: "/mfa/oauth2/token/", basic: true, form: body})
}

// wantTokens checks a successful token answer.
func wantTokens(t *testing.T, r *resp) string {
	t.Helper()
	if r.status != 200 || r.str("access_token") == "" || r.str("refresh_token") == "" || r.str("token_type") != "Bearer" || r.json["expires_in"] == nil {
		t.Fatalf("tokens: %d %s", r.status, r)
	}
	return r.str("access_token")
}

// TestOAuth2 ports deux's oauth2 tests in deux's dialect: {"detail": …}
// errors, 200 mfa_required with the SMS sent, tokens for a valid code or
// backup code (which turns MFA off), multipart and urlencoded bodies.
func TestOAuth2(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("plain")
		alice, _ := h.mfaUser("alice", "15555550123")
		_, bobTok := h.mfaUser("bob", "15555550124")
		inactive := h.user("inactive")
		h.deactivate(inactive.ID)

		want(t, h.oauthToken(grant("plain", "password", "wrong")), 400, `{"detail":"Unable to log in with provided credentials."}`)
		want(t, h.oauthToken(grant("inactive")), 400, `{"detail":"Unable to log in with provided credentials."}`)
		wantTokens(t, h.oauthToken(grant("plain")))

		h.clock.Add(2 * time.Minute)
		n := h.sent("15555550123")
		want(t, h.oauthToken(grant("alice")), 200, bodyMFARequired)
		if h.sent("15555550123") != n+1 {
			t.Fatal("no SMS was sent")
		}
		// Inside the cooldown: the same answer, no new SMS.
		want(t, h.oauthToken(grant("alice")), 200, bodyMFARequired)
		if h.sent("15555550123") != n+1 {
			t.Fatal("an SMS was sent inside the cooldown")
		}
		code := h.sms("15555550123")
		want(t, h.oauthToken(grant("alice", "mfa_code", code, "backup_code", "ABCDEF012345")), 400, `{"detail":"Login does not take both a verification and backup code."}`)
		want(t, h.oauthToken(grant("alice", "mfa_code", wrongCode(code))), 400, `{"detail":"Please enter a valid code."}`)
		r := h.oauthToken(grant("alice", "mfa_code", code))
		if r.status != 429 || r.header.Get("Retry-After") == "" {
			t.Fatalf("not throttled: %d %s", r.status, r)
		}
		h.clock.Add(3 * time.Second)
		access := wantTokens(t, h.do(req{method: "POST", path: "/mfa/oauth2/token/", basic: true, multipart: grant("alice", "mfa_code", code)}))
		// The access token works on /mfa/ as a Bearer (or Token) token.
		want(t, h.do(req{method: "GET", path: "/mfa/", auth: "Bearer " + access}), 200, bodyOn("15555550123"))
		// Single use.
		want(t, h.oauthToken(grant("alice", "mfa_code", code)), 400, `{"detail":"Please enter a valid code."}`)
		h.clock.Add(3 * time.Second)

		// Backup codes: another user's and a wrong one refused (and
		// counted), the right one signs in and turns MFA off.
		aliceCode := h.recoveryCode(access)
		bobCode := h.recoveryCode(bobTok)
		want(t, h.oauthToken(grant("alice", "backup_code", bobCode)), 400, `{"detail":"Please enter a valid backup code."}`)
		h.clock.Add(3 * time.Second)
		want(t, h.oauthToken(grant("alice", "backup_code", "000000000000")), 400, `{"detail":"Please enter a valid backup code."}`)
		h.clock.Add(5 * time.Second)
		wantTokens(t, h.do(req{method: "POST", path: "/mfa/oauth2/token/", basic: true, json: map[string]any{
			"grant_type": "password", "username": "alice", "password": pw, "backup_code": aliceCode}}))
		if on, _ := h.svc.Enabled(bg, alice.ID); on {
			t.Fatal("the recovery code left two-factor on")
		}
		wantTokens(t, h.oauthToken(grant("alice")))

		// What is not the user's part keeps the RFC 6749 answers.
		r = h.do(req{method: "POST", path: "/mfa/oauth2/token/", form: grant("plain")})
		if r.status != 401 || r.str("error") != "invalid_client" {
			t.Fatalf("no client: %d %s", r.status, r)
		}
		r = h.oauthToken(url.Values{"grant_type": {"client_credentials"}})
		if r.status != 400 || r.str("error") != "unsupported_grant_type" {
			t.Fatalf("grant type: %d %s", r.status, r)
		}
		r = h.do(req{method: "POST", path: "/mfa/oauth2/token/", basic: true, json: "x", contentType: "text/plain"})
		if r.status != 415 || r.str("error") != "invalid_request" {
			t.Fatalf("media type: %d %s", r.status, r)
		}
	}, func(o *twofactor.Options) { o.UserThrottle = 0 })
}

// TestOAuth2WithoutServer: without an OAuth2 server the endpoint is not
// there.
func TestOAuth2WithoutServer(t *testing.T) {
	h := newHarness(t, onSQLite)
	a, err := New(Config{Service: h.svc})
	if err != nil {
		t.Fatal(err)
	}
	if e := a.route("/mfa/oauth2/token/"); e != nil {
		t.Fatal("the token endpoint is routed without a server")
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a service")
	}
	if _, err := New(Config{Service: h.svc, MaxBodyBytes: -1}); err == nil {
		t.Fatal("New with a negative limit")
	}
}
