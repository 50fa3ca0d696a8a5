package deux

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/otp"
)

// TestViewsMFADetail ports deux's test_views for GET and DELETE /mfa/:
// anonymous, disabled and enabled shapes; DELETE refused while off, 204
// and every field cleared while on.
func TestViewsMFADetail(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		for _, m := range []string{"GET", "DELETE"} {
			r := h.do(req{method: m, path: "/mfa/"})
			want(t, r, 401, bodyNotAuthenticated)
			if got := r.header.Get("WWW-Authenticate"); got != "Token" {
				t.Fatalf("WWW-Authenticate %q", got)
			}
		}
		h.user("alice")
		tok := h.token("alice")
		want(t, h.status(tok), 200, bodyOff)
		want(t, h.do(req{method: "DELETE", path: "/mfa/", token: tok}), 400, bodyDisabledDetail)

		h.enable(tok, "15555550123")
		want(t, h.status(tok), 200, bodyOn("15555550123"))
		r := h.do(req{method: "DELETE", path: "/mfa/", token: tok})
		want(t, r, 204, "")
		if r.raw != "" {
			t.Fatalf("204 with a body: %q", r.raw)
		}
		want(t, h.status(tok), 200, bodyOff)
		want(t, h.do(req{method: "DELETE", path: "/mfa/", token: tok}), 400, bodyDisabledDetail)
		// Password alone signs in again.
		h.token("alice")
	})
}

// TestViewsSMSRequest ports deux's test_views for PUT sms/request/.
func TestViewsSMSRequest(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		want(t, h.do(req{method: "PUT", path: "/mfa/sms/request/", json: map[string]any{"phone_number": "15555550123"}}), 401, bodyNotAuthenticated)
		h.user("alice")
		tok := h.token("alice")
		put := func(body any) *resp {
			return h.do(req{method: "PUT", path: "/mfa/sms/request/", token: tok, json: body})
		}
		want(t, put(map[string]any{}), 400, bodyPhoneRequired)
		for _, bad := range []any{"+1 555", "", "1", "123456", "555-555-0123", "123 456 7890", "1234567890x12", "abcdefghij", "+15555550123", "١٢٣٤٥٦٧٨"} {
			want(t, put(map[string]any{"phone_number": bad}), 400, bodyInvalidPhone)
		}
		want(t, put(map[string]any{"phone_number": "12345678901234567"}), 400,
			`{"phone_number":["Please enter a valid phone number.","Ensure this field has no more than 15 characters."]}`)
		want(t, put(map[string]any{"phone_number": nil}), 400, `{"phone_number":["This field may not be null."]}`)
		want(t, put(map[string]any{"phone_number": true}), 400, `{"phone_number":["Not a valid string."]}`)
		if n := len(h.gw.Messages()); n != 0 {
			t.Fatalf("%d SMS for refused numbers", n)
		}

		// A failed SMS: deux's message, and the number is not kept.
		h.gw.SetError(twofactor.ErrGatewayUnavailable)
		want(t, put(map[string]any{"phone_number": "15555550123"}), 400, bodySMSFailed)
		h.gw.SetError(nil)
		want(t, h.status(tok), 200, bodyOff)
		// A number the provider refuses (deux: Twilio error 21401).
		want(t, put(map[string]any{"phone_number": "0123456789"}), 400, `{"detail":"Please enter a valid phone number."}`)
		want(t, h.status(tok), 200, bodyOff)

		// Success: the number is kept, one SMS is sent, to its E.164 form.
		want(t, put(map[string]any{"phone_number": "15555550123"}), 200, bodyRequested("15555550123"))
		if h.sent("15555550123") != 1 {
			t.Fatalf("%d SMS", h.sent("15555550123"))
		}
		want(t, h.status(tok), 200, `{"enabled":false,"phone_number":"15555550123"}`)
		// A JSON number is taken as its digits, as deux's CharField does.
		want(t, put(map[string]any{"phone_number": 15555550124}), 200, bodyRequested("15555550124"))
		// Asking again for the same number inside the cooldown sends
		// nothing new; the code sent stays valid.
		want(t, put(map[string]any{"phone_number": " 15555550124 "}), 200, bodyRequested("15555550124"))
		if h.sent("15555550124") != 1 {
			t.Fatalf("%d SMS inside the cooldown", h.sent("15555550124"))
		}
		code := h.sms("15555550124")
		h.clock.Add(61 * time.Second)
		want(t, put(map[string]any{"phone_number": "15555550124"}), 200, bodyRequested("15555550124"))
		if h.sent("15555550124") != 2 {
			t.Fatalf("%d SMS after the cooldown", h.sent("15555550124"))
		}
		// The previous number's setup was abandoned: one pending phone.
		st, err := h.svc.Status(bg, h.userID("alice"))
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Devices) != 1 || st.Devices[0].Destination != "+15555550124" {
			t.Fatalf("devices %+v", st.Devices)
		}
		_ = code
		// PATCH is PUT; and once enabled, the request is refused (after
		// the field checks, as deux's serializer does).
		want(t, h.do(req{method: "PATCH", path: "/mfa/sms/verify/", token: tok, json: map[string]any{"mfa_code": h.sms("15555550124")}}), 200, bodyOn("15555550124"))
		want(t, put(map[string]any{"phone_number": "15555550123"}), 400, bodyEnabledList)
		want(t, put(map[string]any{}), 400, bodyPhoneRequired)
		want(t, h.do(req{method: "PATCH", path: "/mfa/sms/request/", token: tok, json: map[string]any{}}), 400, bodyPhoneRequired)
	})
}

// userID returns the id of a user by name.
func (h *harness) userID(name string) string {
	h.t.Helper()
	u, err := h.svc.Builtin().UserByName(bg, name)
	if err != nil {
		h.t.Fatal(err)
	}
	return u.ID
}

// TestViewsSMSVerify ports deux's test_views for PUT sms/verify/.
func TestViewsSMSVerify(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		want(t, h.do(req{method: "PUT", path: "/mfa/sms/verify/", json: map[string]any{"mfa_code": "123456"}}), 401, bodyNotAuthenticated)
		h.user("alice")
		tok := h.token("alice")
		put := func(body any) *resp {
			return h.do(req{method: "PUT", path: "/mfa/sms/verify/", token: tok, json: body})
		}
		want(t, put(map[string]any{}), 400, `{"mfa_code":["This field is required."]}`)
		want(t, put(map[string]any{"mfa_code": ""}), 400, `{"mfa_code":["This field may not be blank."]}`)
		// Nothing was requested: no code can be right.
		want(t, put(map[string]any{"mfa_code": "123456"}), 400, bodyInvalidCodeField)
		want(t, h.do(req{method: "PUT", path: "/mfa/sms/request/", token: tok, json: map[string]any{"phone_number": "15555550123"}}), 200, "")
		code := h.sms("15555550123")
		wrong := "000000"
		if code == wrong {
			wrong = "000001"
		}
		want(t, put(map[string]any{"mfa_code": wrong}), 400, bodyInvalidCodeField)
		// Unlike deux, a failure is throttled: the right code right after a
		// wrong one waits for the backoff.
		r := put(map[string]any{"mfa_code": code})
		want(t, r, 429, `{"detail":"Request was throttled. Expected available in 1 second."}`)
		if r.header.Get("Retry-After") != "1" {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
		h.clock.Add(2 * time.Second)
		want(t, put(map[string]any{"mfa_code": "abc"}), 400, bodyInvalidCodeField)
		h.clock.Add(5 * time.Second)
		want(t, put(map[string]any{"mfa_code": " " + code + " "}), 200, bodyOn("15555550123"))
		want(t, h.status(tok), 200, bodyOn("15555550123"))
		want(t, put(map[string]any{"mfa_code": code}), 400, bodyEnabledList)
	})
}

// TestViewsRecovery ports deux's test_views for GET recovery/ and
// test_models for the backup code: refused while off, 12 upper-case hex
// characters, a new one each time.
func TestViewsRecovery(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		want(t, h.do(req{method: "GET", path: "/mfa/recovery/"}), 401, bodyNotAuthenticated)
		h.user("alice")
		tok := h.token("alice")
		want(t, h.do(req{method: "GET", path: "/mfa/recovery/", token: tok}), 400, bodyDisabledBackup)
		h.enable(tok, "15555550123")
		seen := map[string]bool{}
		for range 3 {
			c := h.recoveryCode(tok)
			if len(c) != 12 || strings.Trim(c, "0123456789ABCDEF") != "" || seen[c] {
				t.Fatalf("recovery code %q", c)
			}
			seen[c] = true
		}
		// HEAD makes no code.
		before, _ := h.svc.BackupCodesRemaining(bg, h.userID("alice"))
		want(t, h.do(req{method: "HEAD", path: "/mfa/recovery/", token: tok}), 200, "")
		if after, _ := h.svc.BackupCodesRemaining(bg, h.userID("alice")); after != before {
			t.Fatal("HEAD changed the codes")
		}
		// Unlike deux, it takes a recent second factor.
		h.clock.Add(11 * time.Minute)
		r := h.do(req{method: "GET", path: "/mfa/recovery/", token: tok})
		want(t, r, 403, `{"detail":"`+msgStepUp+`"}`)
		fresh := h.loginWithCode("alice", "15555550123")
		h.recoveryCode(fresh)
	})
}

// TestTokenAuthentication: the messages of Django REST framework's
// TokenAuthentication, and the tokens accepted.
func TestTokenAuthentication(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		u := h.user("alice")
		tok := h.token("alice")
		web, _, err := h.svc.NewSession(bg, twofactor.SessionWeb, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ header, body string }{
			{"", bodyNotAuthenticated},
			{"Basic YWxpY2U6cGFzc3dvcmQ=", bodyNotAuthenticated},
			{tok, bodyNotAuthenticated},
			{"Token", `{"detail":"Invalid token header. No credentials provided."}`},
			{"Token  ", `{"detail":"Invalid token header. No credentials provided."}`},
			{"Token a b", `{"detail":"Invalid token header. Token string should not contain spaces."}`},
			{"Token \xff\xfe", `{"detail":"Invalid token header. Token string should not contain invalid characters."}`},
			{"Token unknown", `{"detail":"Invalid token."}`},
			{"Token " + strings.Repeat("a", 5000), `{"detail":"Invalid token."}`},
			{"Token " + web, `{"detail":"Invalid token."}`},
		} {
			r := h.do(req{method: "GET", path: "/mfa/", auth: tt.header})
			if tt.header == "" {
				r = h.do(req{method: "GET", path: "/mfa/"})
			}
			want(t, r, 401, tt.body)
			if r.header.Get("WWW-Authenticate") != "Token" {
				t.Fatalf("%q: WWW-Authenticate %q", tt.header, r.header.Get("WWW-Authenticate"))
			}
		}
		for _, a := range []string{"Token " + tok, "token " + tok, "Bearer " + tok, "  Token   " + tok + "  "} {
			want(t, h.do(req{method: "GET", path: "/mfa/", auth: a}), 200, bodyOff)
		}
		// The same token at /api/v1.
		r := h.do(req{method: "GET", path: "/api/v1/mfa", auth: "Token " + tok})
		if r.status != 200 || r.json["enabled"] != false {
			t.Fatalf("/api/v1 with the deux token: %s", r)
		}
		// An inactive user's token.
		h.deactivate(u.ID)
		want(t, h.do(req{method: "GET", path: "/mfa/", token: tok}), 401, `{"detail":"User inactive or deleted."}`)
	})
}

// TestUnverifiedToken: a token issued before two-factor was turned on (on
// another token) manages nothing until it signs in with a code; deux's
// one token per user had no such case.
func TestUnverifiedToken(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		old := h.token("alice")
		other := h.token("alice")
		h.enable(other, "15555550123")
		for _, r := range []req{
			{method: "GET", path: "/mfa/"},
			{method: "DELETE", path: "/mfa/"},
			{method: "GET", path: "/mfa/recovery/"},
			{method: "PUT", path: "/mfa/sms/request/", json: map[string]any{"phone_number": "15555550199"}},
		} {
			r.token = old
			want(t, h.do(r), 403, `{"detail":"You do not have permission to perform this action."}`)
		}
		want(t, h.status(other), 200, bodyOn("15555550123"))
		// DELETE takes a verified token of any age (deux's contract).
		h.clock.Add(24 * time.Hour)
		want(t, h.do(req{method: "DELETE", path: "/mfa/", token: other}), 204, "")
		// Two-factor off: the old token works again.
		want(t, h.status(old), 200, bodyOff)
	})
}

// TestMethods: 405 with deux's message and Allow, OPTIONS, HEAD.
func TestMethods(t *testing.T) {
	h := newHarness(t, onSQLite)
	h.user("alice")
	tok := h.token("alice")
	for _, tt := range []struct {
		method, path, allow string
		token               bool
	}{
		{"PUT", "/mfa/authtoken/login/", "POST, OPTIONS", false},
		{"GET", "/mfa/authtoken/login/", "POST, OPTIONS", false},
		{"GET", "/mfa/oauth2/token/", "POST, OPTIONS", false},
		{"POST", "/mfa/", "GET, DELETE, HEAD, OPTIONS", true},
		{"PUT", "/mfa/", "GET, DELETE, HEAD, OPTIONS", true},
		{"GET", "/mfa/sms/request/", "PUT, PATCH, OPTIONS", true},
		{"POST", "/mfa/sms/verify/", "PUT, PATCH, OPTIONS", true},
		{"DELETE", "/mfa/recovery/", "GET, HEAD, OPTIONS", true},
		{"TRACE", "/mfa/recovery/", "GET, HEAD, OPTIONS", true},
	} {
		r := req{method: tt.method, path: tt.path}
		if tt.token {
			// Authentication comes first, as in Django REST framework.
			want(t, h.do(r), 401, bodyNotAuthenticated)
			r.token = tok
		}
		got := h.do(r)
		want(t, got, http.StatusMethodNotAllowed, `{"detail":"Method \"`+tt.method+`\" not allowed."}`)
		if got.header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got.header.Get("Allow"), tt.allow)
		}
	}
	r := h.do(req{method: "OPTIONS", path: "/mfa/authtoken/login/"})
	want(t, r, 200, "")
	if r.str("name") != "Obtain MFA Auth Token" {
		t.Fatalf("OPTIONS: %s", r)
	}
	want(t, h.do(req{method: "OPTIONS", path: "/mfa/"}), 401, bodyNotAuthenticated)
	want(t, h.do(req{method: "OPTIONS", path: "/mfa/", token: tok}), 200, "")
	r = h.do(req{method: "HEAD", path: "/mfa/", token: tok})
	if r.status != 200 || r.raw != "" {
		t.Fatalf("HEAD: %d %q", r.status, r.raw)
	}
}

// TestPaths: every path with and without its trailing slash and with the
// .json suffix; anything else is 404 {"detail": "Not found."}.
func TestPaths(t *testing.T) {
	h := newHarness(t, onSQLite)
	h.user("alice")
	tok := h.token("alice")
	for _, p := range []string{"/mfa/", "/mfa", "/mfa.json", "/mfa/.json", "/mfa/.json/"} {
		want(t, h.do(req{method: "GET", path: p, token: tok}), 200, bodyOff)
	}
	for _, p := range []string{"/mfa/recovery/", "/mfa/recovery", "/mfa/recovery.json", "/mfa/recovery.json/"} {
		want(t, h.do(req{method: "GET", path: p, token: tok}), 400, bodyDisabledBackup)
	}
	for _, p := range []string{"/mfa/sms/request/", "/mfa/sms/request", "/mfa/sms/request.json", "/mfa/sms/request.json/"} {
		want(t, h.do(req{method: "PUT", path: p, token: tok, json: map[string]any{}}), 400, bodyPhoneRequired)
	}
	for _, p := range []string{"/mfa/sms/verify/", "/mfa/sms/verify", "/mfa/sms/verify.json"} {
		want(t, h.do(req{method: "PUT", path: p, token: tok, json: map[string]any{}}), 400, `{"mfa_code":["This field is required."]}`)
	}
	for _, p := range []string{"/mfa/authtoken/login/", "/mfa/authtoken/login", "/mfa/authtoken/login.json", "/mfa/authtoken/login.json/"} {
		r := h.do(req{method: "POST", path: p, json: map[string]any{"username": "alice", "password": pw}})
		if r.status != 200 || r.str("token") == "" {
			t.Fatalf("%s: %s", p, r)
		}
	}
	for _, p := range []string{"/mfa/oauth2/token/", "/mfa/oauth2/token", "/mfa/oauth2/token.json"} {
		r := h.do(req{method: "POST", path: p, basic: true, form: map[string][]string{"grant_type": {"password"}, "username": {"alice"}, "password": {pw}}})
		if r.status != 200 || r.str("access_token") == "" {
			t.Fatalf("%s: %s", p, r)
		}
	}
	for _, p := range []string{"/mfa/nope/", "/mfa/sms/", "/mfa/sms/request.xml", "/mfa/sms/request.json.json", "/mfa/sms/request/.json",
		"/mfa/recovery/x", "/mfa/authtoken/", "/mfa/oauth2/"} {
		want(t, h.do(req{method: "GET", path: p, token: tok}), 404, `{"detail":"Not found."}`)
	}
}

// TestMixedAccount: a user whose primary device is an authenticator app
// (set up elsewhere) is "enabled": false here, signs in with its code
// (mfa_type names the kind), and enabling SMS makes the phone the primary.
func TestMixedAccount(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		u := h.user("alice")
		key := []byte("12345678901234567890")
		if _, err := h.svc.ImportTOTP(bg, twofactor.OperatorActor(u.ID), twofactor.TOTPSpec{Key: key}, "alice"); err != nil {
			t.Fatal(err)
		}
		totp := func() string { return otp.Format(otp.HOTP(key, uint64(h.clock.Now().Unix()/30), 6, otp.SHA1), 6) }
		want(t, h.login("alice"), 200, `{"mfa_required":true,"mfa_type":"totp"}`)
		if n := len(h.gw.Messages()); n != 0 {
			t.Fatalf("%d messages for an app", n)
		}
		r := h.login("alice", "mfa_code", totp())
		want(t, r, 200, "")
		tok := r.str("token")
		want(t, h.status(tok), 200, bodyOff)
		want(t, h.do(req{method: "DELETE", path: "/mfa/", token: tok}), 400, bodyDisabledDetail)
		want(t, h.do(req{method: "GET", path: "/mfa/recovery/", token: tok}), 400, bodyDisabledBackup)
		want(t, h.do(req{method: "PUT", path: "/mfa/sms/request/", token: tok, json: map[string]any{"phone_number": "15555550123"}}), 200, bodyRequested("15555550123"))
		want(t, h.do(req{method: "PUT", path: "/mfa/sms/verify/", token: tok, json: map[string]any{"mfa_code": h.sms("15555550123")}}), 200, bodyOn("15555550123"))
		want(t, h.status(tok), 200, bodyOn("15555550123"))
		h.clock.Add(2 * time.Minute)
		want(t, h.login("alice"), 200, bodyMFARequired)
		st, err := h.svc.Status(bg, u.ID)
		if err != nil || len(st.Devices) != 2 || st.Primary.Kind != twofactor.KindSMS {
			t.Fatalf("devices: %+v (%v)", st, err)
		}
	})
}
