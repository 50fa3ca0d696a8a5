package oauth2_test

import (
	"database/sql"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

// TestPasswordGrantWithoutTwoFactor: a user without two-factor gets tokens
// from the password alone; the access token is a core token session that
// /api/v1 accepts.
func TestPasswordGrantWithoutTwoFactor(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		u := h.user("alice")
		r := h.wantTokens(h.password("alice", "scope", "read write"))
		if r.str("scope") != "read write" || len(r.body) != 5 {
			t.Fatalf("token answer %s, want exactly access_token, token_type, expires_in, refresh_token, scope", r.raw)
		}
		sess, err := h.svc.Session(ctx, r.str("access_token"))
		if err != nil || sess.Kind != twofactor.SessionToken || sess.UserID != u.ID || sess.Verified() {
			t.Fatalf("the access token is not an unverified core token session of alice: %+v, %v", sess, err)
		}
		if got := h.bearer("GET", "/api/v1/mfa", r.str("access_token")); got.status != http.StatusOK || got.body["enabled"] != false {
			t.Fatalf("/api/v1/mfa with the access token: %d %s", got.status, got.raw)
		}
		if got := h.bearer("GET", "/api/v1/mfa", r.str("refresh_token")); got.status != http.StatusUnauthorized {
			t.Fatalf("/api/v1/mfa accepted a refresh token: %d", got.status)
		}
		// Without a scope there is no scope member.
		if r := h.wantTokens(h.password("alice")); r.body["scope"] != nil {
			t.Fatalf("scope without one asked: %s", r.raw)
		}
	})
}

// TestPasswordGrantRefused: a wrong password, an unknown user and an
// inactive one are the same invalid_grant.
func TestPasswordGrantRefused(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		h.user("alice")
		u := h.user("inactive")
		deactivate(t, h, u.ID)
		for _, r := range []*response{
			h.token("grant_type", "password", "username", "alice", "password", "wrong password"),
			h.token("grant_type", "password", "username", "nobody", "password", "correct horse battery"),
			h.password("inactive"),
		} {
			e := h.wantError(r, http.StatusBadRequest, "invalid_grant")
			if e.str("error_description") == "" || e.body["mfa_token"] != nil {
				t.Fatalf("refusal %s", e.raw)
			}
		}
	})
}

// deactivate makes a built-in user inactive (the core has no operation
// for it yet).
func deactivate(t *testing.T, h *harness, id string) {
	t.Helper()
	db := h.store.(interface{ DB() *sql.DB }).DB()
	if _, err := db.ExecContext(ctx, "UPDATE twofactor_users SET active = FALSE WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
}

// TestMFARequired: the right password of a user with two-factor on and no
// code gives mfa_required with a login challenge that /api/v1 accepts.
func TestMFARequired(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		_, d, _ := h.mfaUser("bob")
		r := h.wantError(h.password("bob"), http.StatusBadRequest, "mfa_required")
		methods, _ := r.body["methods"].([]any)
		if r.str("mfa_token") == "" || len(methods) != 1 {
			t.Fatalf("mfa_required answer %s", r.raw)
		}
		m := methods[0].(map[string]any)
		if m["id"] != d.ID || m["kind"] != "totp" || m["name"] == "" {
			t.Fatalf("method %v", m)
		}
		// The mfa_token is the core's login challenge: /api/v1 chooses the
		// device and finishes it.
		ch := h.post("/api/v1/login/challenge", "application/json", jsonBody("mfa_token", r.str("mfa_token"), "device_id", d.ID), false)
		if ch.status != http.StatusAccepted {
			t.Fatalf("/api/v1/login/challenge with the mfa_token: %d %s", ch.status, ch.raw)
		}
		v := h.post("/api/v1/login/verify", "application/json", jsonBody("mfa_token", r.str("mfa_token"), "code", h.code(0)), false)
		if v.status != http.StatusOK || v.str("token") == "" {
			t.Fatalf("/api/v1/login/verify with the mfa_token: %d %s", v.status, v.raw)
		}
	})
}

// TestMFACode: the password grant with a valid mfa_code gives tokens
// verified by the device; code+1 is invalid_grant and issues nothing.
func TestMFACode(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		_, d, _ := h.mfaUser("bob")
		wrong := h.code(0)
		n, _ := strconv.Atoi(wrong)
		wrong = twofactorFormat((n + 1) % 1000000)
		e := h.wantError(h.password("bob", "mfa_code", wrong), http.StatusBadRequest, "invalid_grant")
		if !strings.Contains(e.str("error_description"), "mfa_code") {
			t.Fatalf("wrong code: %s", e.raw)
		}
		h.next()
		r := h.wantTokens(h.password("bob", "mfa_code", h.code(0)))
		sess, err := h.svc.Session(ctx, r.str("access_token"))
		if err != nil || !sess.Verified() || sess.DeviceID != d.ID {
			t.Fatalf("access token session %+v, %v: want verified by the TOTP device", sess, err)
		}
		if got := h.bearer("GET", "/api/v1/mfa", r.str("access_token")); got.status != http.StatusOK || got.body["enabled"] != true {
			t.Fatalf("/api/v1/mfa with a verified access token: %d %s", got.status, got.raw)
		}
		// The same code again is a replay.
		h.clock.Add(2 * time.Second)
		h.wantError(h.password("bob", "mfa_code", h.code(0)), http.StatusBadRequest, "invalid_grant")
	})
}

func twofactorFormat(n int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("0", 6-len(s)) + s
}

// TestBackupCode: a backup code gives tokens and is gone afterwards, and
// two-factor stays on (unlike deux); a wrong one is invalid_grant naming
// backup_code; both codes at once are invalid_request.
func TestBackupCode(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		u, _, codes := h.mfaUser("bob")
		r := h.wantTokens(h.password("bob", "backup_code", codes[0]))
		if in := h.introspect(r.str("access_token")); in.body["mfa"] != true {
			t.Fatalf("introspection of a backup-code grant: %s", in.raw)
		}
		if on, _ := h.svc.Enabled(ctx, u.ID); !on {
			t.Fatal("a backup code turned two-factor off")
		}
		h.next()
		e := h.wantError(h.password("bob", "backup_code", codes[0]), http.StatusBadRequest, "invalid_grant")
		if !strings.Contains(e.str("error_description"), "backup_code") {
			t.Fatalf("used backup code: %s", e.raw)
		}
		h.next()
		h.wantError(h.password("bob", "backup_code", "zzzzz-zzzzz"), http.StatusBadRequest, "invalid_grant")
		h.next()
		h.wantError(h.password("bob", "mfa_code", h.code(0), "backup_code", codes[1]), http.StatusBadRequest, "invalid_request")
		// Neither code was used by the refused request.
		h.next()
		h.wantTokens(h.password("bob", "backup_code", codes[1]))
		if n, _ := h.svc.BackupCodesRemaining(ctx, u.ID); n != len(codes)-2 {
			t.Fatalf("%d backup codes left, want %d", n, len(codes)-2)
		}
	})
}

// TestBodies: the token endpoint reads form-urlencoded, JSON and multipart
// bodies alike; the query string is not read.
func TestBodies(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		h.mfaUser("bob")
		h.wantTokens(h.post("/oauth2/token", "application/x-www-form-urlencoded; charset=utf-8",
			values("grant_type", "password", "username", "bob", "password", "correct horse battery", "mfa_code", h.code(0)).Encode(), true))
		h.next()
		for strings.HasPrefix(h.code(0), "0") { // a JSON number keeps no leading zero
			h.next()
		}
		code, _ := strconv.Atoi(h.code(0))
		h.wantTokens(h.post("/oauth2/token", "application/json",
			jsonBody("grant_type", "password", "username", "bob", "password", "correct horse battery", "mfa_code", code), true))
		h.next()
		h.wantTokens(h.post("/oauth2/token", "application/json",
			jsonBody("grant_type", "password", "username", "bob", "password", "correct horse battery", "mfa_code", h.code(0), "backup_code", nil), true))
		h.next()
		body, ct := multipartBody("grant_type", "password", "username", "bob", "password", "correct horse battery", "mfa_code", h.code(0))
		h.wantTokens(h.post("/oauth2/token", ct, body, true))
		h.next()
		h.wantError(h.post("/oauth2/token?grant_type=password&username=bob&password=correct+horse+battery", "", "", true),
			http.StatusBadRequest, "invalid_request")
	})
}

// TestRefreshRotation: a refresh token gives new tokens once; the old
// access token ends; presenting the old refresh token again is refused and
// revokes what it was exchanged for.
func TestRefreshRotation(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		h.mfaUser("bob")
		first := h.wantTokens(h.password("bob", "mfa_code", h.code(0), "scope", "read write"))
		h.clock.Add(10 * time.Minute)
		second := h.wantTokens(h.token("grant_type", "refresh_token", "refresh_token", first.str("refresh_token"), "scope", "read"))
		if second.str("refresh_token") == first.str("refresh_token") || second.str("access_token") == first.str("access_token") ||
			second.str("scope") != "read" {
			t.Fatalf("rotation gave %s after %s", second.raw, first.raw)
		}
		if r := h.bearer("GET", "/api/v1/mfa", first.str("access_token")); r.status != http.StatusUnauthorized {
			t.Fatalf("the replaced access token: %d, want 401", r.status)
		}
		if r := h.bearer("GET", "/api/v1/mfa", second.str("access_token")); r.status != http.StatusOK {
			t.Fatalf("the new access token (verified by the original code): %d %s", r.status, r.raw)
		}
		// A wider scope than granted is refused and uses nothing up.
		h.wantError(h.token("grant_type", "refresh_token", "refresh_token", second.str("refresh_token"), "scope", "read admin"),
			http.StatusBadRequest, "invalid_scope")
		// Reuse of the first refresh token: refused, and the family goes.
		h.wantError(h.token("grant_type", "refresh_token", "refresh_token", first.str("refresh_token")), http.StatusBadRequest, "invalid_grant")
		if r := h.bearer("GET", "/api/v1/mfa", second.str("access_token")); r.status != http.StatusUnauthorized {
			t.Fatalf("after reuse of its predecessor, the access token: %d, want 401", r.status)
		}
		h.wantError(h.token("grant_type", "refresh_token", "refresh_token", second.str("refresh_token")), http.StatusBadRequest, "invalid_grant")
		if !slices.Contains(h.eventKinds(), twofactor.EventRefreshTokenReused) {
			t.Fatalf("reuse not audited: %v", h.eventKinds())
		}
		// Unknown and expired refresh tokens.
		h.wantError(h.token("grant_type", "refresh_token", "refresh_token", "nope"), http.StatusBadRequest, "invalid_grant")
		h.next()
		third := h.wantTokens(h.password("bob", "mfa_code", h.code(0)))
		h.clock.Add(30*24*time.Hour + time.Minute)
		h.wantError(h.token("grant_type", "refresh_token", "refresh_token", third.str("refresh_token")), http.StatusBadRequest, "invalid_grant")
	})
}

// TestRefreshOtherClient: a refresh token works only for the client it was
// issued to, and another client's attempt does not use it up.
func TestRefreshOtherClient(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		h.user("alice")
		r := h.wantTokens(h.password("alice"))
		c, sec, err := h.svc.CreateOAuthClient(ctx, "other")
		if err != nil {
			t.Fatal(err)
		}
		other := h.post("/oauth2/token", "application/x-www-form-urlencoded",
			values("grant_type", "refresh_token", "refresh_token", r.str("refresh_token"), "client_id", c.ID, "client_secret", sec).Encode(), false)
		h.wantError(other, http.StatusBadRequest, "invalid_grant")
		h.wantTokens(h.token("grant_type", "refresh_token", "refresh_token", r.str("refresh_token")))
	})
}

// TestRevocation (RFC 7009): revoking an access token ends it for /api/v1;
// revoking a refresh token ends the grant; unknown tokens are 200.
func TestRevocation(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		h.mfaUser("bob")
		r := h.wantTokens(h.password("bob", "mfa_code", h.code(0)))
		rv := h.form("/oauth2/revoke", "token", r.str("access_token"), "token_type_hint", "access_token")
		if rv.status != http.StatusOK || rv.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("revoke: %d %v", rv.status, rv.header)
		}
		if got := h.bearer("GET", "/api/v1/mfa", r.str("access_token")); got.status != http.StatusUnauthorized {
			t.Fatalf("/api/v1/mfa with a revoked access token: %d, want 401", got.status)
		}
		if in := h.introspect(r.str("refresh_token")); in.body["active"] != true {
			t.Fatalf("revoking the access token revoked the refresh token: %s", in.raw)
		}
		// A wrong hint does not matter.
		if rv := h.form("/oauth2/revoke", "token", r.str("refresh_token"), "token_type_hint", "access_token"); rv.status != http.StatusOK {
			t.Fatalf("revoke refresh: %d", rv.status)
		}
		if in := h.introspect(r.str("refresh_token")); in.body["active"] != false {
			t.Fatalf("revoked refresh token: %s", in.raw)
		}
		h.wantError(h.token("grant_type", "refresh_token", "refresh_token", r.str("refresh_token")), http.StatusBadRequest, "invalid_grant")
		for _, tok := range []string{"unknown", r.str("refresh_token"), strings.Repeat("x", 3000)} {
			if rv := h.form("/oauth2/revoke", "token", tok, "token_type_hint", "whatever"); rv.status != http.StatusOK {
				t.Fatalf("revoking %q: %d, want 200", tok[:min(len(tok), 10)], rv.status)
			}
		}
		h.wantError(h.post("/oauth2/revoke", "application/x-www-form-urlencoded", "token=x", false), http.StatusUnauthorized, "invalid_client")
		h.wantError(h.form("/oauth2/revoke"), http.StatusBadRequest, "invalid_request")
		// Another client cannot revoke this client's tokens.
		h.next()
		r = h.wantTokens(h.password("bob", "mfa_code", h.code(0)))
		c, sec, _ := h.svc.CreateOAuthClient(ctx, "other")
		h.post("/oauth2/revoke", "application/x-www-form-urlencoded", values("token", r.str("access_token"), "client_id", c.ID,
			"client_secret", sec).Encode(), false)
		if got := h.bearer("GET", "/api/v1/mfa", r.str("access_token")); got.status != http.StatusOK {
			t.Fatalf("another client revoked the token: %d", got.status)
		}
	})
}

// TestIntrospection (RFC 7662).
func TestIntrospection(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		u, _, _ := h.mfaUser("bob")
		issued := h.clock.Now().Unix()
		r := h.wantTokens(h.password("bob", "mfa_code", h.code(0), "scope", "read"))
		in := h.introspect(r.str("access_token"))
		want := map[string]any{"active": true, "client_id": h.id, "username": "bob", "sub": u.ID, "scope": "read",
			"token_type": "Bearer", "iat": float64(issued), "exp": float64(issued + 3600), "mfa": true}
		for k, v := range want {
			if in.body[k] != v {
				t.Errorf("introspection %s = %v, want %v (%s)", k, in.body[k], v, in.raw)
			}
		}
		in = h.introspect(r.str("refresh_token"))
		if in.body["active"] != true || in.body["token_type"] != "refresh_token" || in.body["exp"] != float64(issued+30*24*3600) {
			t.Fatalf("refresh introspection %s", in.raw)
		}
		if in := h.introspect("unknown"); len(in.body) != 1 || in.body["active"] != false {
			t.Fatalf("unknown token: %s", in.raw)
		}
		h.clock.Add(time.Hour + time.Second)
		if in := h.introspect(r.str("access_token")); in.body["active"] != false {
			t.Fatalf("expired access token: %s", in.raw)
		}
		h.wantError(h.post("/oauth2/introspect", "application/x-www-form-urlencoded", "token=x", false), http.StatusUnauthorized, "invalid_client")
		h.wantError(h.form("/oauth2/introspect"), http.StatusBadRequest, "invalid_request")
	})
}

// TestThrottled: the per-address sign-in limit and the per-device backoff
// are 429 with Retry-After.
func TestThrottled(t *testing.T) {
	t.Run("address", func(t *testing.T) { each(t, throttledAddress) })
	t.Run("device", func(t *testing.T) { each(t, throttledDevice) })
}

// throttledAddress: the sign-in limit of one address.
func throttledAddress(t *testing.T, b backend) {
	h := newHarness(t, b, func(o *twofactor.Options) {
		o.SignIn = twofactor.SignInLimit{Count: 1, Per: time.Minute, Burst: 2}
	})
	h.user("alice")
	h.wantTokens(h.password("alice"))
	h.wantTokens(h.password("alice"))
	r := h.wantError(h.password("alice"), http.StatusTooManyRequests, "throttled")
	if s, _ := strconv.Atoi(r.header.Get("Retry-After")); s < 1 || s > 60 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
}

// throttledDevice: the backoff after a wrong code.
func throttledDevice(t *testing.T, b backend) {
	h := newHarness(t, b)
	h.mfaUser("bob")
	h.wantError(h.password("bob", "mfa_code", "000000"), http.StatusBadRequest, "invalid_grant")
	r := h.wantError(h.password("bob", "mfa_code", h.code(0)), http.StatusTooManyRequests, "throttled")
	if r.header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q, want 1", r.header.Get("Retry-After"))
	}
	h.clock.Add(time.Second)
	h.wantTokens(h.password("bob", "mfa_code", h.code(0)))
}

// TestClientAuthentication: HTTP Basic or the body; anything else is 401
// invalid_client with a Basic challenge, and nothing of the grant runs.
func TestClientAuthentication(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		u, _, codes := h.mfaUser("bob")
		grant := values("grant_type", "password", "username", "bob", "password", "correct horse battery", "backup_code", codes[0])
		with := func(extra ...string) string {
			v := values(extra...)
			for k, vs := range grant {
				v[k] = vs
			}
			return v.Encode()
		}
		basic := func(user, pass string) *response {
			req, _ := http.NewRequest("POST", h.srv.URL+"/oauth2/token", strings.NewReader(grant.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(user, pass)
			return h.request(req)
		}
		for name, r := range map[string]*response{
			"none":           h.post("/oauth2/token", "application/x-www-form-urlencoded", grant.Encode(), false),
			"wrong secret":   basic(h.id, h.secret+"x"),
			"unknown client": basic("nope", h.secret),
			"empty secret":   basic(h.id, ""),
			"form wrong":     h.post("/oauth2/token", "application/x-www-form-urlencoded", with("client_id", h.id, "client_secret", "x"), false),
			"form no secret": h.post("/oauth2/token", "application/x-www-form-urlencoded", with("client_id", h.id), false),
		} {
			e := h.wantError(r, http.StatusUnauthorized, "invalid_client")
			if !strings.HasPrefix(e.header.Get("WWW-Authenticate"), "Basic") {
				t.Fatalf("%s: WWW-Authenticate %q", name, e.header.Get("WWW-Authenticate"))
			}
		}
		req, _ := http.NewRequest("POST", h.srv.URL+"/oauth2/token", strings.NewReader(grant.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+h.secret)
		h.wantError(h.request(req), http.StatusUnauthorized, "invalid_client")
		// Two methods at once.
		h.wantError(h.post("/oauth2/token", "application/x-www-form-urlencoded", with("client_secret", h.secret), true),
			http.StatusBadRequest, "invalid_request")
		// None of that ran the grant: the backup code is unused.
		if n, _ := h.svc.BackupCodesRemaining(ctx, u.ID); n != len(codes) {
			t.Fatalf("a refused client used a backup code: %d left", n)
		}
		// The body works too.
		h.wantTokens(h.post("/oauth2/token", "application/x-www-form-urlencoded", with("client_id", h.id, "client_secret", h.secret), false))
		// A deleted client is gone with its tokens.
		h.next()
		r := h.wantTokens(h.password("bob", "mfa_code", h.code(0)))
		if err := h.svc.DeleteOAuthClient(ctx, h.id); err != nil {
			t.Fatal(err)
		}
		h.wantError(h.token("grant_type", "refresh_token", "refresh_token", r.str("refresh_token")), http.StatusUnauthorized, "invalid_client")
		if got := h.bearer("GET", "/api/v1/mfa", r.str("access_token")); got.status != http.StatusUnauthorized {
			t.Fatalf("an access token of a deleted client: %d", got.status)
		}
	})
}

// TestBadInput: every kind of bad request is a 4xx with an RFC 6749 error
// object, never a 5xx.
func TestBadInput(t *testing.T) {
	h := newHarness(t, onSQLite)
	h.user("alice")
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name        string
		contentType string
		body        string
		status      int
		code        string
	}{
		{"no body", "", "", 400, "invalid_request"},
		{"no grant_type", form, "username=alice&password=x", 400, "invalid_request"},
		{"empty grant_type", form, "grant_type=", 400, "invalid_request"},
		{"unknown grant", form, "grant_type=magic", 400, "unsupported_grant_type"},
		{"code grant", form, "grant_type=authorization_code&code=x&redirect_uri=http://x", 400, "unsupported_grant_type"},
		{"client credentials", form, "grant_type=client_credentials", 400, "unsupported_grant_type"},
		{"no username", form, "grant_type=password&password=x", 400, "invalid_request"},
		{"no password", form, "grant_type=password&username=alice", 400, "invalid_request"},
		{"no refresh_token", form, "grant_type=refresh_token", 400, "invalid_request"},
		{"twice", form, "grant_type=password&grant_type=password&username=alice&password=x", 400, "invalid_request"},
		{"bad escape", form, "grant_type=%zz", 400, "invalid_request"},
		{"semicolon", form, "grant_type=password;username=alice", 400, "invalid_request"},
		{"bad scope", form, "grant_type=password&username=alice&password=x&scope=a%20%20b", 400, "invalid_scope"},
		{"scope quote", form, "grant_type=password&username=alice&password=x&scope=%22", 400, "invalid_scope"},
		{"long value", form, "grant_type=password&username=alice&password=" + strings.Repeat("x", 5000), 400, "invalid_request"},
		{"huge body", form, "grant_type=password&username=alice&password=" + strings.Repeat("x", 70000), 413, "invalid_request"},
		{"text/plain", "text/plain", "grant_type=password", 415, "invalid_request"},
		{"xml", "application/xml", "<grant_type>password</grant_type>", 415, "invalid_request"},
		{"bad content type", "application/", "grant_type=password", 415, "invalid_request"},
		{"body without type", "", "grant_type=password", 415, "invalid_request"},
		{"json malformed", "application/json", `{"grant_type": "password"`, 400, "invalid_request"},
		{"json array", "application/json", `["grant_type"]`, 400, "invalid_request"},
		{"json nested", "application/json", `{"grant_type": {"a": 1}}`, 400, "invalid_request"},
		{"json bool", "application/json", `{"grant_type": true}`, 400, "invalid_request"},
		{"json two objects", "application/json", `{"grant_type": "password"}{}`, 400, "invalid_request"},
		{"json duplicate", "application/json", `{"grant_type": "password", "grant_type": "password", "username": "a", "password": "b"}`, 400, "invalid_request"},
		{"json empty", "application/json", ``, 400, "invalid_request"},
		{"json null", "application/json", `null`, 400, "invalid_request"},
		{"multipart no boundary", "multipart/form-data", "--x\r\n", 400, "invalid_request"},
		{"multipart broken", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\npassword", 400, "invalid_request"},
		{"wrong password", form, "grant_type=password&username=alice&password=x", 400, "invalid_grant"},
		{"invalid utf-8", form, "grant_type=password&username=%ff%fe&password=%00", 400, "invalid_grant"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			r := h.post("/oauth2/token", c.contentType, c.body, true)
			h.wantError(r, c.status, c.code)
			if r.str("error_description") == "" {
				t.Errorf("no error_description: %s", r.raw)
			}
		})
	}
	h.t = t
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		req, _ := http.NewRequest(m, h.srv.URL+"/oauth2/token", nil)
		if r := h.request(req); r.status != http.StatusMethodNotAllowed {
			t.Errorf("%s /oauth2/token: %d, want 405", m, r.status)
		}
	}
}
