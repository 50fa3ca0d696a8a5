package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

var webauthnOn = []harnessOption{withWebAuthn}

// TestWebAuthnRegistration: the first key turns two-factor on, with backup
// codes shown once, and verifies the token; a further key needs step-up
// (here with the first key) and does not verify the token again; a
// ceremony is good once and for its user only.
func TestWebAuthnRegistration(t *testing.T) {
	bothStoresWith(t, webauthnOn, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		k := newSoftKey(t)

		cer, o := h.begin("/api/v1/mfa/webauthn/options", tok, nil)
		if o.RP.ID != "localhost" || o.RP.Name != "Example" || o.User.Name != "alice" || o.User.ID == "" || len(o.ExcludeCredentials) != 0 {
			t.Fatalf("creation options %+v", o)
		}
		cred := k.create(o, h.origin)
		r := h.post("/api/v1/mfa/webauthn/register", tok, map[string]any{"ceremony": cer, "credential": cred, "name": "Blue key"})
		want(t, r, 201, "")
		dev := r.json["device"].(map[string]any)
		if dev["kind"] != "webauthn" || dev["confirmed"] != true || dev["primary"] != true || dev["name"] != "Blue key" || dev["destination"] != "" {
			t.Fatalf("registered %s", r)
		}
		if codes, _ := r.json["backup_codes"].([]any); len(codes) != 10 {
			t.Fatalf("the first key came without backup codes: %s", r)
		}
		first := dev["id"].(string)

		// The ceremony is good once: the same answer again is told to
		// begin a new ceremony.
		wantCeremonyExpired(t, h.post("/api/v1/mfa/webauthn/register", tok, map[string]any{"ceremony": cer, "credential": cred}))

		// The token was verified by the key: a step-up action works now.
		want(t, h.post("/api/v1/mfa/backup-codes", tok, nil), 201, "")
		st := h.get("/api/v1/mfa", tok)
		want(t, st, 200, "")
		if st.json["enabled"] != true || st.str("primary") != first || len(st.json["devices"].([]any)) != 1 {
			t.Fatalf("status %s", st)
		}

		// A second key needs step-up once the verification is old.
		h.clock.Add(11 * time.Minute)
		want(t, h.do(req{method: "POST", path: "/api/v1/mfa/webauthn/options", token: tok, header: fromOrigin(h.origin)}), 403, "step_up_required")
		cer, o = h.begin("/api/v1/step-up/webauthn/options", tok, nil)
		if got := ids(o.AllowCredentials); !slices.Equal(got, []string{b64.EncodeToString(k.id)}) {
			t.Fatalf("step-up allows %v", got)
		}
		r = h.post("/api/v1/step-up", tok, map[string]any{"ceremony": cer, "credential": k.get(t, o, h.origin)})
		want(t, r, 200, "")
		if r.str("verified_at") != h.clock.Now().Format(time.RFC3339) {
			t.Fatalf("step-up %s", r)
		}

		// The same key again: excluded in the options (a browser refuses),
		// refused by the server past that.
		cer, o = h.begin("/api/v1/mfa/webauthn/options", tok, nil)
		if got := ids(o.ExcludeCredentials); !slices.Equal(got, []string{b64.EncodeToString(k.id)}) {
			t.Fatalf("excludeCredentials %v", got)
		}
		wantField(t, h.post("/api/v1/mfa/webauthn/register", tok, map[string]any{"ceremony": cer, "credential": k.create(o, h.origin)}),
			409, "conflict", "credential")

		// A second key a few minutes after the step-up: added, no new
		// backup codes, and the token's verification stays the step-up's.
		h.clock.Add(4 * time.Minute)
		k2 := newSoftKey(t)
		r = h.addKey(tok, k2, "")
		dev = r.json["device"].(map[string]any)
		if dev["primary"] != false || dev["name"] != "Security key" || r.json["backup_codes"] != nil {
			t.Fatalf("second key %s", r)
		}
		h.clock.Add(7 * time.Minute) // 11 minutes after the step-up, 7 after the key
		want(t, h.post("/api/v1/mfa/backup-codes", tok, nil), 403, "step_up_required")

		// A ceremony is for its user only.
		h.user("bob")
		bob := h.login("bob")
		cer, o = h.begin("/api/v1/mfa/webauthn/options", bob, nil)
		wantCeremonyExpired(t, h.post("/api/v1/mfa/webauthn/register", tok, map[string]any{"ceremony": cer, "credential": newSoftKey(t).create(o, h.origin)}))
		st = h.get("/api/v1/mfa", tok)
		if len(st.json["devices"].([]any)) != 2 {
			t.Fatalf("devices after the refusals: %s", st)
		}
	})
}

// TestWebAuthnLogin: sign-in with a key and the mfa_token; an assertion
// answers one challenge once; a cloned key (a signature count not above the
// last one) and another user's key are refused; a ceremony is for its
// sign-in only; an expired ceremony is begun again within the same sign-in.
func TestWebAuthnLogin(t *testing.T) {
	bothStoresWith(t, webauthnOn, func(t *testing.T, h *harness) {
		h.user("alice")
		k := newSoftKey(t)
		k.count = 5
		id := h.addKey(h.login("alice"), k, "").json["device"].(map[string]any)["id"].(string)

		mt, r := h.mfaToken("alice")
		if ms := r.json["methods"].([]any); len(ms) != 1 || ms[0].(map[string]any)["kind"] != "webauthn" || ms[0].(map[string]any)["id"] != id {
			t.Fatalf("methods %s", r)
		}
		cer, o := h.begin("/api/v1/login/webauthn/options", "", map[string]any{"mfa_token": mt})
		if o.RPID != "localhost" || !slices.Equal(ids(o.AllowCredentials), []string{b64.EncodeToString(k.id)}) {
			t.Fatalf("request options %+v", o)
		}
		body := map[string]any{"mfa_token": mt, "ceremony": cer, "credential": k.get(t, o, h.origin)}
		r = h.post("/api/v1/login/webauthn/verify", "", body)
		want(t, r, 200, "")
		if r.str("token_type") != "Bearer" || r.json["mfa"] != true || r.str("token") == "" {
			t.Fatalf("verify %s", r)
		}
		tok := r.str("token")
		st := h.get("/api/v1/mfa", tok)
		want(t, st, 200, "")
		if d := st.json["devices"].([]any)[0].(map[string]any); d["last_used_at"] == nil {
			t.Fatalf("last use not recorded: %s", st)
		}
		// The token is verified by the key: a step-up action works.
		want(t, h.post("/api/v1/mfa/backup-codes", tok, nil), 201, "")

		// Replays: the same request again (the sign-in is done), and the
		// same assertion in a new sign-in (another challenge).
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": "123456"}), 410, "expired")
		r = h.post("/api/v1/login/webauthn/verify", "", body)
		want(t, r, 410, "expired")
		if r.str("reason") != "" {
			t.Fatalf("a finished sign-in reported as a ceremony to restart: %s", r)
		}
		mt2, _ := h.mfaToken("alice")
		cer2, _ := h.begin("/api/v1/login/webauthn/options", "", map[string]any{"mfa_token": mt2})
		h.clock.Add(2 * time.Second) // past the backoff of each refusal
		wantField(t, h.post("/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": mt2, "ceremony": cer2, "credential": body["credential"]}),
			400, "invalid_code", "credential")

		// A cloned key: its signature count is behind the original's.
		h.clock.Add(4 * time.Second)
		clone := *k
		clone.count = k.count - 2
		mt3, _ := h.mfaToken("alice")
		cer3, o3 := h.begin("/api/v1/login/webauthn/options", "", map[string]any{"mfa_token": mt3})
		wantField(t, h.post("/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": mt3, "ceremony": cer3, "credential": clone.get(t, o3, h.origin)}),
			400, "invalid_code", "credential")

		// Another user's key, even one bob really has.
		h.clock.Add(8 * time.Second)
		h.user("bob")
		kb := newSoftKey(t)
		h.addKey(h.login("bob"), kb, "")
		cer3, o3 = h.begin("/api/v1/login/webauthn/options", "", map[string]any{"mfa_token": mt3})
		wantField(t, h.post("/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": mt3, "ceremony": cer3, "credential": kb.get(t, o3, h.origin)}),
			400, "invalid_code", "credential")

		// A ceremony begun for another sign-in.
		h.clock.Add(16 * time.Second)
		cer4, o4 := h.begin("/api/v1/login/webauthn/options", "", map[string]any{"mfa_token": mt2})
		wantCeremonyExpired(t, h.post("/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": mt3, "ceremony": cer4, "credential": k.get(t, o4, h.origin)}))

		// An expired ceremony: begin a new one, the sign-in goes on.
		cer5, o5 := h.begin("/api/v1/login/webauthn/options", "", map[string]any{"mfa_token": mt3})
		h.clock.Add(twofactor.WebAuthnCeremonyTTL + time.Second)
		wantCeremonyExpired(t, h.post("/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": mt3, "ceremony": cer5, "credential": k.get(t, o5, h.origin)}))
		cer5, o5 = h.begin("/api/v1/login/webauthn/options", "", map[string]any{"mfa_token": mt3})
		want(t, h.post("/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": mt3, "ceremony": cer5, "credential": k.get(t, o5, h.origin)}), 200, "")

		// The original key still signs in.
		want(t, h.keyLogin("alice", k), 200, "")

		// An unknown sign-in, and a user without a key.
		want(t, h.do(req{method: "POST", path: "/api/v1/login/webauthn/options", body: map[string]any{"mfa_token": "dW5rbm93bg"}, header: fromOrigin(h.origin)}), 410, "expired")
		h.user("carol")
		h.enroll(h.login("carol"), "Phone")
		mtc, _ := h.mfaToken("carol")
		want(t, h.do(req{method: "POST", path: "/api/v1/login/webauthn/options", body: map[string]any{"mfa_token": mtc}, header: fromOrigin(h.origin)}), 409, "no_device")
	}, noKeyThrottle)
}

// TestWebAuthnThrottle: refused assertions are throttled like codes, with
// 429 and Retry-After; the wait ends and the key signs in.
func TestWebAuthnThrottle(t *testing.T) {
	bothStoresWith(t, webauthnOn, func(t *testing.T, h *harness) {
		h.user("alice")
		k := newSoftKey(t)
		h.addKey(h.login("alice"), k, "")
		mt, _ := h.mfaToken("alice")
		cer, o := h.begin("/api/v1/login/webauthn/options", "", map[string]any{"mfa_token": mt})
		// Made for another origin: refused, counted.
		want(t, h.post("/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": mt, "ceremony": cer, "credential": k.get(t, o, "https://evil.example")}),
			400, "invalid_code")
		cer, o = h.begin("/api/v1/login/webauthn/options", "", map[string]any{"mfa_token": mt})
		r := h.post("/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": mt, "ceremony": cer, "credential": k.get(t, o, h.origin)})
		want(t, r, 429, "throttled")
		if r.header.Get("Retry-After") == "" || r.json["retry_after"] == nil {
			t.Fatalf("429 without Retry-After: %s", r)
		}
		h.clock.Add(2 * time.Second)
		cer, o = h.begin("/api/v1/login/webauthn/options", "", map[string]any{"mfa_token": mt})
		want(t, h.post("/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": mt, "ceremony": cer, "credential": k.get(t, o, h.origin)}), 200, "")
	})
}

// TestWebAuthnStepUp: a step-up with a key is bound to its token, and
// refuses a response for another origin.
func TestWebAuthnStepUp(t *testing.T) {
	bothStoresWith(t, webauthnOn, func(t *testing.T, h *harness) {
		h.user("alice")
		k := newSoftKey(t)
		h.addKey(h.login("alice"), k, "")
		tok := h.keyLogin("alice", k).str("token")
		other := h.keyLogin("alice", k).str("token")
		h.clock.Add(11 * time.Minute)
		want(t, h.post("/api/v1/mfa/backup-codes", tok, nil), 403, "step_up_required")

		cer, o := h.begin("/api/v1/step-up/webauthn/options", tok, nil)
		wantCeremonyExpired(t, h.post("/api/v1/step-up", other, map[string]any{"ceremony": cer, "credential": k.get(t, o, h.origin)}))
		cer, o = h.begin("/api/v1/step-up/webauthn/options", tok, nil)
		wantField(t, h.post("/api/v1/step-up", tok, map[string]any{"ceremony": cer, "credential": k.get(t, o, "http://localhost:1")}),
			400, "invalid_code", "credential")
		h.clock.Add(2 * time.Second)
		cer, o = h.begin("/api/v1/step-up/webauthn/options", tok, nil)
		want(t, h.post("/api/v1/step-up", tok, map[string]any{"ceremony": cer, "credential": k.get(t, o, h.origin)}), 200, "")
		want(t, h.post("/api/v1/mfa/backup-codes", tok, nil), 201, "")

		// A user without a key has no key step-up.
		h.user("bob")
		bob := h.login("bob")
		want(t, h.do(req{method: "POST", path: "/api/v1/step-up/webauthn/options", token: bob, header: fromOrigin(h.origin)}), 409, "no_device")
	})
}

// TestWebAuthnOrigins: a ceremony is for the request's Origin; a client
// without one works when the server has origins configured, and is refused
// when it has not; an origin the server does not accept is refused; a
// response made at another origin is not accepted.
func TestWebAuthnOrigins(t *testing.T) {
	bothStoresWith(t, webauthnOn, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		options := func(header http.Header) *resp {
			return h.do(req{method: "POST", path: "/api/v1/mfa/webauthn/options", token: tok, header: header})
		}
		// No Origin: a client that is not a browser.
		r := options(nil)
		want(t, r, 200, "")
		cer, o := h.ceremonyOf(r)
		// Another origin in the client data.
		wantField(t, h.post("/api/v1/mfa/webauthn/register", tok, map[string]any{"ceremony": cer, "credential": newSoftKey(t).create(o, "http://localhost:1")}),
			400, "invalid_code", "credential")
		for _, origin := range []string{"https://evil.example", "http://localhost:1", "null", "not an origin", h.origin + "/path", strings.Repeat("o", 3000)} {
			wantField(t, options(fromOrigin(origin)), 400, "validation_failed", "Origin")
		}
		wantField(t, options(http.Header{"Origin": {h.origin, h.origin}}), 400, "validation_failed", "Origin")
		r = options(nil)
		cer, o = h.ceremonyOf(r)
		want(t, h.post("/api/v1/mfa/webauthn/register", tok, map[string]any{"ceremony": cer, "credential": newSoftKey(t).create(o, h.origin)}), 201, "")
	})
	bothStoresWith(t, []harnessOption{withWebAuthnFromRequest}, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		wantField(t, h.do(req{method: "POST", path: "/api/v1/mfa/webauthn/options", token: tok}), 400, "validation_failed", "Origin")
		k := newSoftKey(t)
		h.addKey(tok, k, "")
		want(t, h.keyLogin("alice", k), 200, "")
		// Bound to its origin: a response made at another (acceptable)
		// origin of the same RP id is refused.
		mt, _ := h.mfaToken("alice")
		cer, o := h.begin("/api/v1/login/webauthn/options", "", map[string]any{"mfa_token": mt})
		want(t, h.post("/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": mt, "ceremony": cer, "credential": k.get(t, o, "http://localhost:1")}),
			400, "invalid_code")
	})
}

// TestWebAuthnNotConfigured: without WebAuthn the ceremony endpoints are
// not found, and a step-up with a key is refused on its credential.
func TestWebAuthnNotConfigured(t *testing.T) {
	h := newHarness(t, onSQLite)
	h.user("alice")
	tok := h.login("alice")
	d := h.enroll(tok, "Phone")
	tok = h.verifiedToken("alice", d)
	mt, _ := h.mfaToken("alice")
	cred := newSoftKey(t).create(keyOptions{Challenge: "x"}, h.origin)
	for _, r := range []req{
		{method: "POST", path: "/api/v1/login/webauthn/options", body: map[string]any{"mfa_token": mt}},
		{method: "POST", path: "/api/v1/login/webauthn/verify", body: map[string]any{"mfa_token": mt, "ceremony": "c", "credential": cred}},
		{method: "POST", path: "/api/v1/step-up/webauthn/options", token: tok},
		{method: "POST", path: "/api/v1/mfa/webauthn/options", token: tok},
		{method: "POST", path: "/api/v1/mfa/webauthn/register", token: tok, body: map[string]any{"ceremony": "c", "credential": cred}},
	} {
		r.header = fromOrigin(h.origin)
		got := h.do(r)
		want(t, got, 404, "not_found")
		if !strings.Contains(got.str("detail"), "not enabled") {
			t.Errorf("%s: %s", r.path, got)
		}
	}
	wantField(t, h.post("/api/v1/step-up", tok, map[string]any{"ceremony": "c", "credential": cred}), 400, "validation_failed", "credential")
	wantField(t, h.do(req{method: "POST", path: "/api/v1/mfa/devices", token: tok, body: map[string]any{"kind": "webauthn"}, bad: true}),
		400, "validation_failed", "kind")
}

// TestWebAuthnBadInput: credentials that are not a credential's JSON, a
// missing ceremony, a bad name: 400 naming the field, and the ceremony
// still good; a credential of the right shape that does not parse is a
// refused (counted) attempt.
func TestWebAuthnBadInput(t *testing.T) {
	bothStoresWith(t, webauthnOn, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		k := newSoftKey(t)
		cer, o := h.begin("/api/v1/mfa/webauthn/options", tok, nil)
		badCredentials := []string{`"x"`, `1`, `true`, `[]`, `[{"id":"a"}]`, `{}`, `{"id":"","type":"public-key","response":{}}`,
			`{"id":"a","type":"public-key"}`, `{"id":"a","type":"public-key","response":"x"}`, `{"id":1,"type":"public-key","response":{}}`,
			`{"id":"a","type":null,"response":{}}`, `{"id":"a","type":"public-key","response":null}`}
		paths := []struct {
			path, token string
			body        map[string]any
		}{
			{"/api/v1/mfa/webauthn/register", tok, map[string]any{"ceremony": cer}},
			{"/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": "t", "ceremony": "c"}},
			{"/api/v1/step-up", tok, map[string]any{"ceremony": "c"}},
		}
		for _, p := range paths {
			for _, c := range badCredentials {
				body := map[string]any{"credential": json.RawMessage(c)}
				for k, v := range p.body {
					body[k] = v
				}
				wantField(t, h.do(req{method: "POST", path: p.path, token: p.token, body: body, bad: true}), 400, "validation_failed", "credential")
			}
			body := map[string]any{}
			for k, v := range p.body {
				body[k] = v
			}
			delete(body, "ceremony")
			body["credential"] = json.RawMessage(`{"id":"a","type":"public-key","response":{}}`)
			wantField(t, h.do(req{method: "POST", path: p.path, token: p.token, body: body, bad: true}), 400, "validation_failed", "ceremony")
		}
		wantField(t, h.do(req{method: "POST", path: "/api/v1/step-up", token: tok, bad: true,
			body: map[string]any{"code": "123456", "ceremony": "c", "credential": json.RawMessage(`{"id":"a","type":"public-key","response":{}}`)}}),
			400, "validation_failed", "credential")
		wantField(t, h.do(req{method: "POST", path: "/api/v1/mfa/webauthn/register", token: tok, bad: true,
			body: map[string]any{"ceremony": cer, "credential": k.create(o, h.origin), "name": strings.Repeat("é", 65)}}),
			400, "validation_failed", "name")
		wantField(t, h.post("/api/v1/mfa/webauthn/register", tok, map[string]any{"ceremony": cer, "credential": k.create(o, h.origin), "name": "\x01"}),
			400, "validation_failed", "name")
		// None of that used the ceremony up: the key registers with it.
		want(t, h.post("/api/v1/mfa/webauthn/register", tok, map[string]any{"ceremony": cer, "credential": k.create(o, h.origin)}), 201, "")

		// The right shape, but not a credential: refused, the ceremony
		// used up.
		tok = h.keyLogin("alice", k).str("token")
		mt, _ := h.mfaToken("alice")
		cer, _ = h.begin("/api/v1/login/webauthn/options", "", map[string]any{"mfa_token": mt})
		wantField(t, h.post("/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": mt, "ceremony": cer,
			"credential": json.RawMessage(`{"id":"%%%","rawId":"!!","type":"public-key","response":{"clientDataJSON":"~"}}`)}),
			400, "invalid_code", "credential")
		h.clock.Add(2 * time.Second)
		wantCeremonyExpired(t, h.post("/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": mt, "ceremony": cer,
			"credential": json.RawMessage(`{"id":"a","type":"public-key","response":{}}`)}))
		cer, _ = h.begin("/api/v1/mfa/webauthn/options", tok, nil)
		wantField(t, h.post("/api/v1/mfa/webauthn/register", tok, map[string]any{"ceremony": cer,
			"credential": json.RawMessage(`{"id":"a","type":"public-key","response":{"attestationObject":"////"}}`)}),
			400, "invalid_code", "credential")
		st := h.get("/api/v1/mfa", tok)
		if len(st.json["devices"].([]any)) != 1 {
			t.Fatalf("bad input changed something: %s", st)
		}
	})
}
