package api

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

// TestFlowWithoutTwoFactor: sign in, look, sign out; the token dies.
func TestFlowWithoutTwoFactor(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		r := h.post("/api/v1/login", "", map[string]any{"username": "alice", "password": pw})
		want(t, r, 200, "")
		if r.str("token_type") != "Bearer" || r.json["mfa"] != false || r.str("token") == "" {
			t.Fatalf("login: %s", r)
		}
		if got, wantExp := r.str("expires_at"), start.Add(14*24*time.Hour).Format(time.RFC3339); got != wantExp {
			t.Errorf("expires_at %q, want %q", got, wantExp)
		}
		tok := r.str("token")

		r = h.get("/api/v1/mfa", tok)
		want(t, r, 200, "")
		if r.json["enabled"] != false || r.json["primary"] != nil || len(r.json["devices"].([]any)) != 0 || r.json["backup_codes_remaining"] != 0.0 {
			t.Fatalf("status: %s", r)
		}
		// DRF clients send "Token"; the scheme is case-insensitive.
		for _, auth := range []string{"Token " + tok, "bearer " + tok, "TOKEN  " + tok} {
			want(t, h.do(req{method: "GET", path: "/api/v1/mfa", auth: auth}), 200, "")
		}

		want(t, h.post("/api/v1/logout", tok, nil), 204, "")
		r = h.get("/api/v1/mfa", tok)
		want(t, r, 401, CodeInvalidToken)
		if r.header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		want(t, h.post("/api/v1/logout", tok, nil), 401, CodeInvalidToken)

		// Wrong password, unknown user: the same answer.
		for _, body := range []map[string]any{
			{"username": "alice", "password": "wrong password"},
			{"username": "nobody", "password": pw},
		} {
			r := h.post("/api/v1/login", "", body)
			want(t, r, 401, "invalid_credentials")
			if r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		}
	})
}

// TestFlowWithTwoFactor: enrol through the API, then sign in with a code
// and with a backup code.
func TestFlowWithTwoFactor(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")

		// Create: the key is shown, once, three ways.
		r := h.post("/api/v1/mfa/devices", tok, map[string]any{"kind": "totp", "name": "Phone"})
		want(t, r, 201, "")
		dev := r.json["device"].(map[string]any)
		id := dev["id"].(string)
		if dev["confirmed"] != false || dev["primary"] != false || dev["name"] != "Phone" || dev["kind"] != "totp" || dev["last_used_at"] != nil || dev["destination"] != "" {
			t.Fatalf("new device: %v", dev)
		}
		uri := r.str("otpauth_uri")
		if !strings.HasPrefix(uri, "otpauth://totp/127.0.0.1%3Aalice?") || !strings.Contains(uri, "secret="+r.str("secret")) || !strings.Contains(uri, "issuer=127.0.0.1") {
			t.Errorf("otpauth_uri %q (issuer: the request host)", uri)
		}
		if !strings.HasPrefix(r.str("qr_svg"), "data:image/svg+xml;base64,") {
			t.Errorf("qr_svg %.40q", r.str("qr_svg"))
		}
		key := decodeSecret(t, r.str("secret"))

		st := h.get("/api/v1/mfa", tok)
		want(t, st, 200, "")
		if st.json["enabled"] != false || len(st.json["devices"].([]any)) != 1 {
			t.Fatalf("status during setup: %s", st)
		}

		// A wrong code is refused; the right one confirms, turns
		// two-factor on and brings the backup codes, once.
		want(t, h.post("/api/v1/mfa/devices/"+id+"/confirm", tok, map[string]any{"code": "000000"}), 400, "invalid_code")
		h.clock.Add(time.Second) // the failure's backoff
		c := h.post("/api/v1/mfa/devices/"+id+"/confirm", tok, map[string]any{"code": h.code(key)})
		want(t, c, 200, "")
		backups := c.json["backup_codes"].([]any)
		cd := c.json["device"].(map[string]any)
		if len(backups) != 10 || cd["confirmed"] != true || cd["primary"] != true {
			t.Fatalf("confirm: %s", c)
		}
		want(t, h.post("/api/v1/mfa/devices/"+id+"/confirm", tok, map[string]any{"code": h.code(key)}), 409, "conflict")

		// The confirming token is verified by the device: management works.
		st = h.get("/api/v1/mfa", tok)
		want(t, st, 200, "")
		if st.json["enabled"] != true || st.json["primary"] != id || st.json["backup_codes_remaining"] != 10.0 {
			t.Fatalf("status: %s", st)
		}

		// A second device: no new backup codes.
		h.nextStep()
		second := h.enroll(tok, "Tablet")
		if second.backups != nil {
			t.Fatal("a second device brought backup codes")
		}

		// Sign in again: the password step asks for the second factor.
		want(t, h.post("/api/v1/logout", tok, nil), 204, "")
		mt, lr := h.mfaToken("alice")
		methods := lr.json["methods"].([]any)
		if len(methods) != 2 || methods[0].(map[string]any)["id"] != id || methods[1].(map[string]any)["id"] != second.id {
			t.Fatalf("methods %v", methods)
		}
		if lr.str("expires_at") != h.clock.Now().Add(10*time.Minute).Format(time.RFC3339) || mt == "" {
			t.Fatalf("mfa_required: %s", lr)
		}
		if m := methods[0].(map[string]any); m["kind"] != "totp" || m["name"] != "Phone" || m["destination"] != "" {
			t.Fatalf("method %v", m)
		}
		// The mfa_token is not an API token.
		want(t, h.get("/api/v1/mfa", mt), 401, CodeInvalidToken)

		h.nextStep()
		v := h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": h.code(key)})
		want(t, v, 200, "")
		if v.json["mfa"] != true || v.str("token_type") != "Bearer" {
			t.Fatalf("verify: %s", v)
		}
		tok = v.str("token")
		want(t, h.get("/api/v1/mfa", tok), 200, "")
		// The challenge completes once.
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": h.code(key)}), 410, "expired")

		// Sign in with a backup code, typed in upper case without the dash.
		mt, _ = h.mfaToken("alice")
		code := backups[0].(string)
		typed := strings.ToUpper(strings.ReplaceAll(code, "-", ""))
		v = h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "backup_code": typed})
		want(t, v, 200, "")
		st = h.get("/api/v1/mfa", v.str("token"))
		if st.json["backup_codes_remaining"] != 9.0 {
			t.Fatalf("after a backup code: %s", st)
		}
		// A backup code is single use.
		mt, _ = h.mfaToken("alice")
		r = h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "backup_code": code})
		want(t, r, 400, "invalid_code")
		if r.str("field") != "" && r.str("field") != "backup_code" {
			t.Errorf("field %q", r.str("field"))
		}
	})
}

// TestLoginChooseDevice: login/challenge selects the device verify checks;
// device_id in verify does the same.
func TestLoginChooseDevice(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		first := h.enroll(tok, "Phone")
		h.nextStep()
		second := h.enroll(tok, "Tablet")

		mt, _ := h.mfaToken("alice")
		r := h.post("/api/v1/login/challenge", "", map[string]any{"mfa_token": mt, "device_id": second.id})
		want(t, r, 202, "")
		if m := r.json["method"].(map[string]any); m["id"] != second.id || r.json["sent"] != false {
			t.Fatalf("challenge: %s", r)
		}
		h.nextStep()
		// The primary's code is now checked against the chosen device.
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": h.code(first.key)}), 400, "invalid_code")
		h.clock.Add(time.Second)
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": h.code(second.key)}), 200, "")

		// device_id in verify.
		mt, _ = h.mfaToken("alice")
		h.nextStep()
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": h.code(second.key), "device_id": second.id}), 200, "")

		// Unknown devices, and the backup codes, are not choices.
		mt, _ = h.mfaToken("alice")
		want(t, h.post("/api/v1/login/challenge", "", map[string]any{"mfa_token": mt, "device_id": "nope"}), 404, "not_found")
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": "123456", "device_id": "nope"}), 404, "not_found")
		want(t, h.post("/api/v1/login/challenge", "", map[string]any{"mfa_token": "garbage", "device_id": first.id}), 410, "expired")
	})
}

// TestReplay: a code verifies once.
func TestReplay(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		d := h.enroll(h.login("alice"), "Phone")
		h.nextStep()
		code := h.code(d.key)
		mt, _ := h.mfaToken("alice")
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": code}), 200, "")
		mt, _ = h.mfaToken("alice")
		r := h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": code})
		want(t, r, 400, "invalid_code")
		// The same code in step-up, after the backoff: still refused.
		h.clock.Add(2 * time.Second)
		tok := h.verifiedToken("alice", d)
		old := h.code(d.key)
		h.clock.Add(time.Second)
		want(t, h.post("/api/v1/step-up", tok, map[string]any{"code": old}), 400, "invalid_code")
	})
}

// TestThrottle: failures back off; the refusal says how long; the right
// code works after the wait.
func TestThrottle(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		d := h.enroll(h.login("alice"), "Phone")
		h.nextStep()
		mt, _ := h.mfaToken("alice")
		wrong := map[string]any{"mfa_token": mt, "code": "000000"}
		if h.code(d.key) == "000000" {
			wrong["code"] = "111111"
		}
		want(t, h.post("/api/v1/login/verify", "", wrong), 400, "invalid_code")
		h.clock.Add(time.Second)
		want(t, h.post("/api/v1/login/verify", "", wrong), 400, "invalid_code")
		// Two failures: 2 s to wait, refused without being checked.
		r := h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": h.code(d.key)})
		want(t, r, 429, "throttled")
		if r.header.Get("Retry-After") != "2" || r.json["retry_after"] != 2.0 {
			t.Fatalf("throttled: Retry-After %q, %s", r.header.Get("Retry-After"), r)
		}
		h.clock.Add(time.Second)
		r = h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": h.code(d.key)})
		want(t, r, 429, "throttled")
		if r.header.Get("Retry-After") != "1" {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
		h.clock.Add(time.Second)
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": h.code(d.key)}), 200, "")
	})
}

// TestSignInRateLimit: the core's per-address limit reaches API clients as
// 429 with Retry-After.
func TestSignInRateLimit(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		body := map[string]any{"username": "alice", "password": "wrong password"}
		want(t, h.post("/api/v1/login", "", body), 401, "invalid_credentials")
		want(t, h.post("/api/v1/login", "", body), 401, "invalid_credentials")
		r := h.post("/api/v1/login", "", map[string]any{"username": "alice", "password": pw})
		want(t, r, 429, "throttled")
		if r.header.Get("Retry-After") != "30" {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
		h.clock.Add(30 * time.Second)
		want(t, h.post("/api/v1/login", "", map[string]any{"username": "alice", "password": pw}), 200, "")
	}, func(o *twofactor.Options) { o.SignIn = twofactor.SignInLimit{Count: 2, Per: time.Minute, Burst: 2} })
}

// TestExpiredChallenge: a login challenge older than login_timeout is gone.
func TestExpiredChallenge(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		d := h.enroll(h.login("alice"), "Phone")
		mt, _ := h.mfaToken("alice")
		h.clock.Add(10*time.Minute + time.Second)
		r := h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": h.code(d.key)})
		want(t, r, 410, "expired")
		want(t, h.post("/api/v1/login/challenge", "", map[string]any{"mfa_token": mt, "device_id": d.id}), 410, "expired")
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": "never-issued", "code": "123456"}), 410, "expired")
	})
}

// TestStepUp: sensitive actions need a recent second factor on the token.
func TestStepUp(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		first := h.enroll(tok, "Phone")
		h.nextStep()
		second := h.enroll(tok, "Tablet")
		h.clock.Add(11 * time.Minute) // older than step_up_age

		actions := []struct {
			method, path string
			status       int
		}{
			{"POST", "/api/v1/mfa/devices/" + second.id + "/primary", 200},
			{"POST", "/api/v1/mfa/backup-codes", 201},
			{"DELETE", "/api/v1/mfa/devices/" + first.id, 204},
			{"DELETE", "/api/v1/mfa", 204},
		}
		backups := first.backups
		for i, a := range actions {
			r := h.do(req{method: a.method, path: a.path, token: tok})
			want(t, r, 403, "step_up_required")
			var body map[string]any
			if i%2 == 0 {
				h.nextStep()
				body = map[string]any{"code": h.code(currentPrimary(t, h, tok, first, second).key)}
			} else {
				body = map[string]any{"backup_code": backups[0]}
			}
			s := h.post("/api/v1/step-up", tok, body)
			if s.status != 200 {
				t.Fatalf("action %d: step-up with %v: %s", i, body, s)
			}
			if s.str("verified_at") != h.clock.Now().Format(time.RFC3339) {
				t.Fatalf("verified_at %s", s)
			}
			r = h.do(req{method: a.method, path: a.path, token: tok})
			want(t, r, a.status, "")
			if codes, ok := r.json["codes"].([]any); ok { // the old set is gone
				backups = nil
				for _, c := range codes {
					backups = append(backups, c.(string))
				}
			}
			h.clock.Add(11 * time.Minute)
		}
		st := h.get("/api/v1/mfa", tok)
		want(t, st, 200, "")
		if st.json["enabled"] != false || len(st.json["devices"].([]any)) != 0 {
			t.Fatalf("after disable: %s", st)
		}
		// Step-up without two-factor: nothing to verify with.
		want(t, h.post("/api/v1/step-up", tok, map[string]any{"code": "123456"}), 409, "no_device")
	})
}

// currentPrimary returns whichever of the devices is primary now.
func currentPrimary(t *testing.T, h *harness, tok string, ds ...enrolled) enrolled {
	t.Helper()
	st := h.get("/api/v1/mfa", tok)
	want(t, st, 200, "")
	for _, d := range ds {
		if st.json["primary"] == d.id {
			return d
		}
	}
	t.Fatalf("no primary among the devices: %s", st)
	return enrolled{}
}

// TestUnverifiedToken: a token issued before two-factor was turned on (by
// another token) cannot manage until a second factor verifies it.
func TestUnverifiedToken(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		old := h.login("alice")
		d := h.enroll(h.login("alice"), "Phone")
		r := h.get("/api/v1/mfa", old)
		want(t, r, 403, "mfa_required")
		want(t, h.post("/api/v1/mfa/devices", old, map[string]any{"kind": "totp"}), 403, "mfa_required")
		// Sign out and step up need no verified token.
		h.nextStep()
		want(t, h.post("/api/v1/step-up", old, map[string]any{"code": h.code(d.key)}), 200, "")
		want(t, h.get("/api/v1/mfa", old), 200, "")

		// Removing the device that verified a token un-verifies it; with
		// two-factor still on (another device) it needs a new step-up.
		h.nextStep()
		other := h.enroll(old, "Tablet")
		tok := h.verifiedToken("alice", d) // verified by d, the primary
		want(t, h.del("/api/v1/mfa/devices/"+d.id, old), 204, "")
		want(t, h.get("/api/v1/mfa", tok), 403, "mfa_required")
		h.nextStep()
		want(t, h.post("/api/v1/step-up", tok, map[string]any{"code": h.code(other.key)}), 200, "")
		want(t, h.get("/api/v1/mfa", tok), 200, "")
	})
}

// TestOwnership: another user's device ids are not found, whatever the
// action.
func TestOwnership(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		h.user("bob")
		alice := h.login("alice")
		h.enroll(alice, "Phone")
		bobTok := h.login("bob")
		bob := h.enroll(bobTok, "Bob's phone")
		// An unconfirmed device of bob too.
		r := h.post("/api/v1/mfa/devices", bobTok, map[string]any{"kind": "totp"})
		want(t, r, 201, "")
		pending := r.json["device"].(map[string]any)["id"].(string)

		for _, id := range []string{bob.id, pending} {
			for _, c := range []req{
				{method: "POST", path: "/api/v1/mfa/devices/" + id + "/confirm", body: map[string]any{"code": "123456"}},
				{method: "POST", path: "/api/v1/mfa/devices/" + id + "/challenge"},
				{method: "POST", path: "/api/v1/mfa/devices/" + id + "/primary"},
				{method: "PATCH", path: "/api/v1/mfa/devices/" + id, body: map[string]any{"name": "mine"}},
				{method: "DELETE", path: "/api/v1/mfa/devices/" + id},
				{method: "DELETE", path: "/api/v1/mfa/browsers/" + id},
			} {
				c.token = alice
				want(t, h.do(c), 404, "not_found")
			}
		}
		// Bob's device at alice's second step.
		mt, _ := h.mfaToken("alice")
		want(t, h.post("/api/v1/login/challenge", "", map[string]any{"mfa_token": mt, "device_id": bob.id}), 404, "not_found")
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": h.code(bob.key), "device_id": bob.id}), 404, "not_found")
		// Bob's devices are untouched.
		st := h.get("/api/v1/mfa", bobTok)
		if devs := st.json["devices"].([]any); len(devs) != 2 || devs[0].(map[string]any)["name"] != "Bob's phone" {
			t.Fatalf("bob's devices: %s", st)
		}
	})
}

// TestDeviceManagement: rename, make primary, challenge, abandon a setup.
func TestDeviceManagement(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		first := h.enroll(tok, "Phone")
		h.nextStep()
		second := h.enroll(tok, "Tablet")

		r := h.do(req{method: "PATCH", path: "/api/v1/mfa/devices/" + second.id, token: tok, body: map[string]any{"name": "Old tablet"}})
		want(t, r, 200, "")
		if d := r.json["device"].(map[string]any); d["name"] != "Old tablet" || d["primary"] != false {
			t.Fatalf("rename: %s", r)
		}
		r = h.do(req{method: "PATCH", path: "/api/v1/mfa/devices/" + second.id, token: tok, body: map[string]any{"name": strings.Repeat("x", 65)}, bad: true})
		want(t, r, 400, "validation_failed")
		if r.str("field") != "name" {
			t.Fatalf("field %q", r.str("field"))
		}
		r = h.do(req{method: "PATCH", path: "/api/v1/mfa/devices/" + second.id, token: tok, body: map[string]any{"name": "tab\x01"}})
		want(t, r, 400, "validation_failed")

		r = h.post("/api/v1/mfa/devices/"+second.id+"/primary", tok, nil)
		want(t, r, 200, "")
		if d := r.json["device"].(map[string]any); d["primary"] != true {
			t.Fatalf("primary: %s", r)
		}
		if st := h.get("/api/v1/mfa", tok); st.json["primary"] != second.id {
			t.Fatalf("status: %s", st)
		}
		// Already primary: nothing to do, still 200.
		want(t, h.post("/api/v1/mfa/devices/"+second.id+"/primary", tok, nil), 200, "")

		// A device that shows its own codes has nothing to send.
		r = h.post("/api/v1/mfa/devices/"+first.id+"/challenge", tok, nil)
		want(t, r, 409, "conflict")

		r = h.post("/api/v1/mfa/devices", tok, map[string]any{"kind": "totp", "digits": 8})
		want(t, r, 201, "")
		if !strings.Contains(r.str("otpauth_uri"), "digits=8") {
			t.Errorf("otpauth_uri %q", r.str("otpauth_uri"))
		}
		pending := r.json["device"].(map[string]any)["id"].(string)
		// Once the verification is old, adding a device needs step-up (a
		// stolen token must not add the attacker's device), but abandoning
		// an unconfirmed setup does not.
		h.clock.Add(11 * time.Minute)
		want(t, h.post("/api/v1/mfa/devices", tok, map[string]any{"kind": "totp"}), 403, "step_up_required")
		want(t, h.post("/api/v1/mfa/devices/"+pending+"/primary", tok, nil), 400, "validation_failed")
		want(t, h.del("/api/v1/mfa/devices/"+pending, tok), 204, "")
		want(t, h.del("/api/v1/mfa/devices/"+pending, tok), 404, "not_found")
	})
}

// TestAddDeviceKinds: kinds the server does not offer are refused by name,
// and each kind takes its own fields only.
func TestAddDeviceKinds(t *testing.T) {
	h := newHarnessWith(t, onSQLite, []harnessOption{withoutGateways})
	h.user("alice")
	tok := h.login("alice")
	withGateways := newHarness(t, onSQLite)
	withGateways.user("alice")
	tok2 := withGateways.login("alice")
	tests := []struct {
		h     *harness
		body  map[string]any
		field string
		msg   string
	}{
		{h, map[string]any{"kind": "sms", "phone_number": "+31612345678"}, "kind", "not available"},
		{h, map[string]any{"kind": "call", "phone_number": "+31612345678"}, "kind", "not available"},
		{h, map[string]any{"kind": "email", "email": "a@example.com"}, "kind", "not available"},
		{h, map[string]any{"kind": "yubikey", "otp": "ccccccbcgujhingjrdejhgfnuetrgigvejhhgbkugded"}, "kind", "not available"},
		{withGateways, map[string]any{"kind": "yubikey", "otp": "ccccccbcgujhingjrdejhgfnuetrgigvejhhgbkugded"}, "kind", "not available"},
		{h, map[string]any{"kind": "webauthn"}, "kind", "webauthn"},
		{h, map[string]any{"kind": "hotp"}, "kind", "one of"},
		{h, map[string]any{"kind": "static"}, "kind", "one of"},
		{h, map[string]any{"kind": ""}, "kind", "required"},
		{h, map[string]any{"name": "x"}, "kind", "required"},
		{h, map[string]any{"kind": "totp", "phone_number": "+31612345678"}, "phone_number", "apply"},
		{h, map[string]any{"kind": "totp", "email": "a@example.com"}, "email", "apply"},
		{h, map[string]any{"kind": "totp", "otp": "x"}, "otp", "apply"},
		{h, map[string]any{"kind": "totp", "digits": 7}, "digits", "6 or 8"},
		{h, map[string]any{"kind": "totp", "digits": 0}, "digits", "6 or 8"},
		{h, map[string]any{"kind": "totp", "name": strings.Repeat("é", 65)}, "name", "64"},
		{withGateways, map[string]any{"kind": "sms"}, "phone_number", "required"},
		{withGateways, map[string]any{"kind": "call", "phone_number": "  "}, "phone_number", "required"},
		{withGateways, map[string]any{"kind": "sms", "phone_number": "+31612345678", "digits": 6}, "digits", "apply"},
		{withGateways, map[string]any{"kind": "sms", "phone_number": "+31612345678", "email": "a@example.com"}, "email", "apply"},
		{withGateways, map[string]any{"kind": "email", "phone_number": "+31612345678"}, "phone_number", "apply"},
		{withGateways, map[string]any{"kind": "yubikey"}, "otp", "required"},
		{withGateways, map[string]any{"kind": "sms", "phone_number": "0612345678"}, "phone_number", "country code"},
		{withGateways, map[string]any{"kind": "call", "phone_number": "+31 6 1234"}, "phone_number", "valid phone number"},
		{withGateways, map[string]any{"kind": "email", "email": "not an address"}, "email", "valid email"},
		{withGateways, map[string]any{"kind": "sms", "phone_number": "+31612345678", "name": "\x01"}, "name", "control"},
	}
	for _, tt := range tests {
		tk := tok
		if tt.h == withGateways {
			tk = tok2
		}
		r := tt.h.do(req{method: "POST", path: "/api/v1/mfa/devices", token: tk, body: tt.body, bad: true})
		want(t, r, 400, "validation_failed")
		if r.str("field") != tt.field || !strings.Contains(r.str("detail"), tt.msg) {
			t.Errorf("%v: field %q detail %q, want %q and %q", tt.body, r.str("field"), r.str("detail"), tt.field, tt.msg)
		}
	}
	for _, hh := range []*harness{h, withGateways} {
		tk := tok
		if hh == withGateways {
			tk = tok2
			if n := len(hh.gw.Messages()); n != 0 {
				t.Fatalf("%d messages sent for refused requests", n)
			}
		}
		if st := hh.get("/api/v1/mfa", tk); len(st.json["devices"].([]any)) != 0 {
			t.Fatalf("a refused request added a device: %s", st)
		}
	}
}

// TestBrowsers lists and revokes remembered browsers.
func TestBrowsers(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		u := h.user("alice")
		tok := h.login("alice")
		d := h.enroll(tok, "Phone")
		r := h.get("/api/v1/mfa/browsers", tok)
		want(t, r, 200, "")
		if len(r.json["browsers"].([]any)) != 0 {
			t.Fatalf("browsers: %s", r)
		}
		dev, err := h.svc.Device(bg, u.ID, d.id)
		if err != nil {
			t.Fatal(err)
		}
		ctx := twofactor.WithClient(bg, twofactor.Client{Address: "192.0.2.7", UserAgent: "Firefox"})
		cookie, err := h.svc.RememberBrowser(ctx, u.ID, dev)
		if err != nil {
			t.Fatal(err)
		}
		r = h.get("/api/v1/mfa/browsers", tok)
		want(t, r, 200, "")
		bs := r.json["browsers"].([]any)
		if len(bs) != 1 {
			t.Fatalf("browsers: %s", r)
		}
		b := bs[0].(map[string]any)
		if b["id"] != cookie.ID || b["device_id"] != d.id || b["user_agent"] != "Firefox" || b["address"] != "192.0.2.7" || b["last_used_at"] != nil {
			t.Fatalf("browser %v", b)
		}
		want(t, h.del("/api/v1/mfa/browsers/"+cookie.ID, tok), 204, "")
		want(t, h.del("/api/v1/mfa/browsers/"+cookie.ID, tok), 404, "not_found")
	}, func(o *twofactor.Options) { o.RememberAge = 24 * time.Hour })
}

// TestBackupCodes: new codes replace the old ones; without two-factor there
// is nothing to back up.
func TestBackupCodes(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		want(t, h.post("/api/v1/mfa/backup-codes", tok, nil), 409, "no_device")
		d := h.enroll(tok, "Phone")
		r := h.post("/api/v1/mfa/backup-codes", tok, map[string]any{})
		want(t, r, 201, "")
		codes := r.json["codes"].([]any)
		if len(codes) != 10 || codes[0] == d.backups[0] {
			t.Fatalf("codes: %s", r)
		}
		// The old set is gone.
		mt, _ := h.mfaToken("alice")
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "backup_code": d.backups[0]}), 400, "invalid_code")
		h.clock.Add(2 * time.Second)
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "backup_code": codes[0]}), 200, "")
	})
}

// TestUnavailable: a failing database is a 503 problem, logged, never a
// 500.
func TestUnavailable(t *testing.T) {
	h := newHarness(t, onSQLite)
	h.user("alice")
	tok := h.login("alice")
	h.store.Close()
	h.allow5xx = true
	r := h.get("/api/v1/mfa", tok)
	want(t, r, 503, "unavailable")
	r = h.post("/api/v1/login", "", map[string]any{"username": "alice", "password": pw})
	want(t, r, 503, "unavailable")
	if !strings.Contains(h.logs.String(), "service unavailable") {
		t.Errorf("not logged: %s", h.logs)
	}
	if strings.Contains(h.logs.String(), tok) || strings.Contains(h.logs.String(), pw) {
		t.Error("a token or password reached the log")
	}
}

// TestCodeFields: the request says what a code is; the core checks it
// against that only.
func TestCodeFields(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		d := h.enroll(h.login("alice"), "Phone")
		h.nextStep()
		mt, _ := h.mfaToken("alice")
		// A backup code given as code is checked against the device.
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": d.backups[0]}), 400, "invalid_code")
		h.clock.Add(2 * time.Second)
		// A device code given as backup_code is checked against the backup codes.
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "backup_code": h.code(d.key)}), 400, "invalid_code")
		h.clock.Add(4 * time.Second)
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "backup_code": d.backups[0]}), 200, "")

		// The same in step-up.
		tok := h.verifiedToken("alice", d)
		h.clock.Add(11 * time.Minute)
		want(t, h.post("/api/v1/step-up", tok, map[string]any{"backup_code": h.code(d.key)}), 400, "invalid_code")
		h.clock.Add(2 * time.Second)
		want(t, h.post("/api/v1/step-up", tok, map[string]any{"backup_code": strings.ToUpper(d.backups[1])}), 200, "")
		h.nextStep()
		want(t, h.post("/api/v1/step-up", tok, map[string]any{"code": h.code(d.key)}), 200, "")
	})
}

// TestConcurrentVerify: one code raced on many login challenges signs in
// exactly once.
func TestConcurrentVerify(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		d := h.enroll(h.login("alice"), "Phone")
		h.nextStep()
		const n = 20
		tokens := make([]string, n)
		for i := range tokens {
			tokens[i], _ = h.mfaToken("alice")
		}
		code := h.code(d.key)
		statuses := make(chan int, n)
		var wg sync.WaitGroup
		for _, mt := range tokens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses <- h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": code}).status
			}()
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[200] != 1 || count[200]+count[400]+count[429] != n {
			t.Fatalf("statuses %v, want exactly one 200 and the rest 400 or 429", count)
		}
	})
}
