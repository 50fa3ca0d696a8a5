package deux

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

// wrongCode returns a 6-digit code that is not code.
func wrongCode(code string) string {
	n, _ := strconv.Atoi(code)
	return strconv.Itoa(1000000 + (n+1)%1000000)[1:]
}

// TestAuthtokenViews ports deux's authtoken test_views: a user with MFA and
// no code gets mfa_required and no token, a bad password the serializer's
// message, a user without MFA a token.
func TestAuthtokenViews(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.mfaUser("mfa", "15555550123")
		h.user("plain")
		before := h.sent("15555550123")
		h.clock.Add(2 * time.Minute)
		r := h.login("mfa")
		want(t, r, 200, bodyMFARequired)
		if _, ok := r.json["token"]; ok {
			t.Fatal("a token without the second factor")
		}
		if h.sent("15555550123") != before+1 {
			t.Fatal("no SMS was sent")
		}
		want(t, h.login("mfa", "password", "wrong"), 400, bodyBadLogin)
		want(t, h.do(req{method: "POST", path: "/mfa/authtoken/login/", json: map[string]any{"username": "mfa", "password": "wrong", "mfa_code": "123456"}}), 400, bodyBadLogin)
		want(t, h.login("nobody"), 400, bodyBadLogin)
		h.token("plain")
	})
}

// TestAuthtokenSerializer ports deux's authtoken test_serializers: no MFA,
// disabled MFA, both codes, valid and invalid codes, valid and invalid
// backup codes (the valid one turns MFA off), the challenge sent once,
// another user's codes — with our differences asserted: codes are
// throttled and single use, the SMS is not re-sent inside its cooldown,
// and a wrong backup code counts.
func TestAuthtokenSerializer(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		alice, _ := h.mfaUser("alice", "15555550123")
		_, bobTok := h.mfaUser("bob", "15555550124")
		h.user("nomfa")
		h.token("nomfa")
		// Disabled MFA: a token, codes ignored as deux did.
		carol, carolTok := h.mfaUser("carol", "15555550125")
		want(t, h.do(req{method: "DELETE", path: "/mfa/", token: carolTok}), 204, "")
		if r := h.login("carol", "mfa_code", "123456"); r.status != 200 || r.str("token") == "" {
			t.Fatalf("disabled: %s", r)
		}
		_ = carol

		// The challenge: one SMS, and none more inside the cooldown.
		h.clock.Add(2 * time.Minute)
		want(t, h.login("bob"), 200, bodyMFARequired)
		bobCode := h.sms("15555550124")
		n := h.sent("15555550123")
		want(t, h.login("alice"), 200, bodyMFARequired)
		want(t, h.login("alice"), 200, bodyMFARequired)
		if h.sent("15555550123") != n+1 {
			t.Fatalf("%d SMS for two sign-ins inside the cooldown", h.sent("15555550123")-n)
		}
		code := h.sms("15555550123")

		want(t, h.login("alice", "mfa_code", code, "backup_code", "ABCDEF012345"), 400, bodyBothCodes)
		// Bob's code never works for alice.
		if bobCode != code {
			want(t, h.login("alice", "mfa_code", bobCode), 400, bodyBadCode)
			h.clock.Add(2 * time.Second)
		}
		want(t, h.login("alice", "mfa_code", wrongCode(code)), 400, bodyBadCode)
		// Throttled: the right code right after a wrong one waits.
		r := h.login("alice", "mfa_code", code)
		if r.status != 429 || !strings.HasPrefix(r.str("detail"), "Request was throttled. Expected available in ") || r.header.Get("Retry-After") == "" {
			t.Fatalf("not throttled: %d %s", r.status, r)
		}
		h.clock.Add(5 * time.Second)
		// The code is still valid (3 steps): it signs in, once.
		r = h.login("alice", "mfa_code", code)
		want(t, r, 200, "")
		tok := r.str("token")
		if tok == "" || len(r.json) != 1 {
			t.Fatalf("token: %s", r)
		}
		want(t, h.status(tok), 200, bodyOn("15555550123"))
		want(t, h.login("alice", "mfa_code", code), 400, bodyBadCode)
		h.clock.Add(5 * time.Second)

		// Recovery codes.
		aliceRecovery := h.recoveryCode(tok)
		bobRecovery := h.recoveryCode(bobTok)
		static := func() *twofactor.Device {
			st, err := h.svc.Status(bg, alice.ID)
			if err != nil || st.BackupDevice == nil {
				t.Fatalf("status: %v", err)
			}
			d, err := h.store.DeviceByID(bg, st.BackupDevice.ID)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		for i, bad := range []string{bobRecovery, strings.ToLower(aliceRecovery), "ABCDEF012345", aliceRecovery[:11], "not a code"} {
			want(t, h.login("alice", "backup_code", bad), 400, bodyBadBackup)
			if f := static().Failures; f != i+1 {
				t.Fatalf("%q: %d failures recorded, want %d (a wrong backup code counts)", bad, f, i+1)
			}
			h.clock.Add(time.Hour)
		}
		h.clock.Add(time.Hour)
		r = h.login("alice", "backup_code", " "+aliceRecovery+" ")
		want(t, r, 200, "")
		signedIn := r.str("token")
		// MFA is off, as in deux, and the event is audited and notified.
		want(t, h.status(signedIn), 200, bodyOff)
		h.token("alice")
		evs, err := h.store.EventsByUser(bg, alice.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range evs {
			if e.Kind == twofactor.EventTwoFactorDisabled && e.Reason == twofactor.ReasonDeuxRecovery {
				found = true
			}
		}
		if !found {
			t.Fatalf("no two_factor_disabled event: %+v", evs)
		}
		if n, ok := h.gw.LastNotice("alice@example.com"); !ok || n.Event != twofactor.EventTwoFactorDisabled {
			t.Fatalf("notice %+v", n)
		}
		// Bob is untouched.
		h.clock.Add(2 * time.Minute)
		want(t, h.login("bob"), 200, bodyMFARequired)
		want(t, h.status(bobTok), 200, bodyOn("15555550124"))
	}, func(o *twofactor.Options) { o.UserThrottle = 0 })
}

// TestAuthtokenBodies: JSON, form-urlencoded and multipart bodies, and the
// serializer's field messages.
func TestAuthtokenBodies(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.mfaUser("alice", "15555550123")
		h.user("plain")
		form := url.Values{"username": {"plain"}, "password": {pw}}
		for _, r := range []req{
			{json: map[string]any{"username": "plain", "password": pw}},
			{form: form},
			{multipart: form},
			{form: url.Values{"username": {"x", "plain"}, "password": {pw}}}, // the last value counts
			{json: `{"username": "x", "username": "plain", "password": "` + pw + `"}`},
		} {
			r.method, r.path = "POST", "/mfa/authtoken/login/"
			got := h.do(r)
			if got.status != 200 || got.str("token") == "" {
				t.Fatalf("%+v: %s", r, got)
			}
		}
		h.clock.Add(2 * time.Minute)
		want(t, h.do(req{method: "POST", path: "/mfa/authtoken/login/", form: url.Values{"username": {"alice"}, "password": {pw}}}), 200, bodyMFARequired)
		code := h.sms("15555550123")
		r := h.do(req{method: "POST", path: "/mfa/authtoken/login/", multipart: url.Values{"username": {"alice"}, "password": {pw}, "mfa_code": {code}}})
		if r.status != 200 || r.str("token") == "" {
			t.Fatalf("multipart with a code: %s", r)
		}
		for _, tt := range []struct {
			body any
			want string
		}{
			{map[string]any{}, `{"username":["This field is required."],"password":["This field is required."]}`},
			{map[string]any{"password": pw}, `{"username":["This field is required."]}`},
			{map[string]any{"username": "plain"}, `{"password":["This field is required."]}`},
			{map[string]any{"username": "  ", "password": ""}, `{"username":["This field may not be blank."],"password":["This field may not be blank."]}`},
			{map[string]any{"username": nil, "password": pw}, `{"username":["This field may not be null."]}`},
			{map[string]any{"username": []any{"plain"}, "password": map[string]any{}}, `{"username":["Not a valid string."],"password":["Not a valid string."]}`},
			{map[string]any{"username": "plain", "password": pw, "mfa_code": ""}, `{"mfa_code":["This field may not be blank."]}`},
			{map[string]any{"username": "plain", "password": pw, "backup_code": true}, `{"backup_code":["Not a valid string."]}`},
			{map[string]any{"username": "pl\x00ain", "password": pw}, `{"username":["Null characters are not allowed."]}`},
			{map[string]any{"username": 5, "password": pw}, bodyBadLogin},
			{map[string]any{"username": "plain", "password": " " + pw}, bodyBadLogin},
			{[]any{"plain"}, `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
			{`"plain"`, `{"non_field_errors":["Invalid data. Expected a dictionary, but got str."]}`},
			{`null`, `{"non_field_errors":["No data provided"]}`},
			{`12`, `{"non_field_errors":["Invalid data. Expected a dictionary, but got int."]}`},
		} {
			want(t, h.do(req{method: "POST", path: "/mfa/authtoken/login/", json: tt.body}), 400, tt.want)
		}
		// Other media types and malformed bodies.
		r = h.do(req{method: "POST", path: "/mfa/authtoken/login/", json: `{"username":`})
		if r.status != 400 || !strings.HasPrefix(r.str("detail"), "JSON parse error - ") {
			t.Fatalf("truncated JSON: %s", r)
		}
		want(t, h.do(req{method: "POST", path: "/mfa/authtoken/login/", json: "username=plain", contentType: "text/plain"}), 415,
			`{"detail":"Unsupported media type \"text/plain\" in request."}`)
		want(t, h.do(req{method: "POST", path: "/mfa/authtoken/login/", json: "x", contentType: "-"}), 415,
			`{"detail":"Unsupported media type \"\" in request."}`)
		want(t, h.do(req{method: "POST", path: "/mfa/authtoken/login/", json: "", contentType: "text/plain"}), 400,
			`{"username":["This field is required."],"password":["This field is required."]}`)
		want(t, h.do(req{method: "POST", path: "/mfa/authtoken/login/", json: "--x--", contentType: "multipart/form-data"}), 400,
			`{"detail":"Multipart form parse error - Invalid boundary in multipart: None"}`)
		r = h.do(req{method: "POST", path: "/mfa/authtoken/login/", json: `{"username":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}`})
		if r.status != 413 || r.str("detail") == "" {
			t.Fatalf("huge body: %s", r)
		}
	})
}

// TestAuthtokenTokens: the token works on /mfa/ and /api/v1, and says
// whether a second factor verified it.
func TestAuthtokenTokens(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.mfaUser("alice", "15555550123")
		tok := h.loginWithCode("alice", "15555550123")
		want(t, h.status(tok), 200, bodyOn("15555550123"))
		for _, a := range []string{"Bearer " + tok, "Token " + tok} {
			r := h.do(req{method: "GET", path: "/api/v1/mfa", auth: a})
			if r.status != 200 || r.json["enabled"] != true {
				t.Fatalf("/api/v1 with %q: %s", a[:6], r)
			}
			devs := r.json["devices"].([]any)
			if d := devs[0].(map[string]any); d["kind"] != "sms" || d["destination"] != "+1 ***-***-**23" {
				t.Fatalf("device: %v", d)
			}
		}
		// Signing out at /api/v1 revokes it here too.
		r := h.do(req{method: "POST", path: "/api/v1/logout", auth: "Token " + tok})
		if r.status != 204 {
			t.Fatalf("logout: %s", r)
		}
		want(t, h.status(tok), 401, `{"detail":"Invalid token."}`)
	})
}

// TestSignInRateLimit: the per-address limit answers as Django REST
// framework's throttles do.
func TestSignInRateLimit(t *testing.T) {
	h := newHarness(t, onSQLite, func(o *twofactor.Options) {
		o.SignIn = twofactor.SignInLimit{Count: 2, Per: time.Minute, Burst: 2}
	})
	h.user("plain")
	h.token("plain")
	h.token("plain")
	r := h.login("plain")
	if r.status != 429 || !strings.HasPrefix(r.str("detail"), "Request was throttled. Expected available in ") || r.header.Get("Retry-After") == "" {
		t.Fatalf("rate limit: %d %s", r.status, r)
	}
}
