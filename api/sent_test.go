package api

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/gateway/fake"
)

// addSent adds an sms, call or email device and returns its id.
func (h *harness) addSent(token string, body map[string]any) (string, *resp) {
	h.t.Helper()
	r := h.post("/api/v1/mfa/devices", token, body)
	want(h.t, r, 201, "")
	d := r.json["device"].(map[string]any)
	if d["confirmed"] != false || d["primary"] != false || d["kind"] != body["kind"] {
		h.t.Fatalf("new device: %s", r)
	}
	return d["id"].(string), r
}

// TestPhoneDevice: an sms device from enrolment to sign-in — the code sent
// at once, the destination masked everywhere, login/challenge sending a
// code once per cooldown, devices/{id}/challenge resending, single use.
func TestPhoneDevice(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		const number = "+31612345678"
		id, r := h.addSent(tok, map[string]any{"kind": "sms", "phone_number": "+31 6 1234 5678", "name": "Work phone"})
		dev := r.json["device"].(map[string]any)
		if dst := dev["destination"].(string); dst != "+31 * ******78" || strings.Contains(r.String(), "12345678") {
			t.Fatalf("destination not masked: %s", r)
		}
		if dev["name"] != "Work phone" {
			t.Fatalf("name: %s", r)
		}
		first := h.sentCode(number)
		if len(first) != 6 {
			t.Fatalf("code %q", first)
		}
		sent := func() int { return len(h.gw.Messages()) }

		// Resending inside the cooldown is refused; after it a new code
		// replaces the first.
		r = h.post("/api/v1/mfa/devices/"+id+"/challenge", tok, nil)
		want(t, r, 429, "throttled")
		if r.header.Get("Retry-After") != "60" {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
		h.clock.Add(61 * time.Second)
		r = h.post("/api/v1/mfa/devices/"+id+"/challenge", tok, nil)
		want(t, r, 202, "")
		if r.json["sent"] != true || r.json["method"].(map[string]any)["destination"] != "+31 * ******78" {
			t.Fatalf("challenge: %s", r)
		}
		second := h.sentCode(number)
		if second != first {
			want(t, h.post("/api/v1/mfa/devices/"+id+"/confirm", tok, map[string]any{"code": first}), 400, "invalid_code")
			h.clock.Add(2 * time.Second) // past the device's backoff
		}
		c := h.post("/api/v1/mfa/devices/"+id+"/confirm", tok, map[string]any{"code": second})
		want(t, c, 200, "")
		if d := c.json["device"].(map[string]any); d["confirmed"] != true || d["primary"] != true || len(c.json["backup_codes"].([]any)) != 10 {
			t.Fatalf("confirm: %s", c)
		}
		st := h.get("/api/v1/mfa", tok)
		want(t, st, 200, "")
		if strings.Contains(st.String(), "12345678") || !strings.Contains(st.String(), `"destination":"+31 * ******78"`) {
			t.Fatalf("status shows the number: %s", st)
		}

		// Sign-in: nothing is sent until the device is chosen.
		h.clock.Add(61 * time.Second)
		before := sent()
		mt, lr := h.mfaToken("alice")
		m := lr.json["methods"].([]any)[0].(map[string]any)
		if m["kind"] != "sms" || m["id"] != id || m["destination"] != "+31 * ******78" || strings.Contains(lr.String(), "12345678") {
			t.Fatalf("methods: %s", lr)
		}
		if sent() != before {
			t.Fatal("the password step sent a code")
		}
		r = h.post("/api/v1/login/challenge", "", map[string]any{"mfa_token": mt, "device_id": id})
		want(t, r, 202, "")
		if r.json["sent"] != true || sent() != before+1 {
			t.Fatalf("login/challenge: %s (%d sent)", r, sent()-before)
		}
		code := h.sentCode(number)
		// Choosing it again inside the cooldown sends nothing; the code
		// sent stays valid, and verify naming the device keeps it.
		r = h.post("/api/v1/login/challenge", "", map[string]any{"mfa_token": mt, "device_id": id})
		want(t, r, 429, "throttled")
		if sent() != before+1 {
			t.Fatal("a second code was sent inside the cooldown")
		}
		v := h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": code, "device_id": id})
		want(t, v, 200, "")
		if v.json["mfa"] != true {
			t.Fatalf("verify: %s", v)
		}
		// Single use: the same code does not sign in again.
		mt2, _ := h.mfaToken("alice")
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt2, "code": code}), 400, "invalid_code")
		// Another device's challenge (a totp device) sends nothing.
		h.nextStep()
		vt := v.str("token")
		totp := h.enroll(vt, "App")
		mt3, _ := h.mfaToken("alice")
		before = sent()
		r = h.post("/api/v1/login/challenge", "", map[string]any{"mfa_token": mt3, "device_id": totp.id})
		want(t, r, 202, "")
		if r.json["sent"] != false || sent() != before {
			t.Fatalf("totp challenge: %s", r)
		}
		// A device that shows its own codes has nothing to resend.
		want(t, h.post("/api/v1/mfa/devices/"+totp.id+"/challenge", vt, nil), 409, "conflict")
	})
}

// TestCallAndEmailDevices: a call reads the code, an email device takes the
// account's address by default; both are masked.
func TestCallAndEmailDevices(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		id, r := h.addSent(tok, map[string]any{"kind": "call", "phone_number": "+31 20 123 4567"})
		if r.json["device"].(map[string]any)["name"] != "Phone call" {
			t.Fatalf("call device: %s", r)
		}
		s, ok := h.gw.LastSent("+31201234567")
		if !ok || s.Via != fake.Call || s.CallID == "" {
			t.Fatalf("call: %+v", s)
		}
		want(t, h.post("/api/v1/mfa/devices/"+id+"/confirm", tok, map[string]any{"code": s.Code}), 200, "")

		eid, r := h.addSent(tok, map[string]any{"kind": "email"})
		dst := r.json["device"].(map[string]any)["destination"].(string)
		if strings.Contains(dst, "alice@") || !strings.HasSuffix(dst, "@example.com") {
			t.Fatalf("email destination %q", dst)
		}
		es, ok := h.gw.LastSent("alice@example.com")
		if !ok || es.Via != fake.Email {
			t.Fatalf("email: %+v", es)
		}
		// A bad code counts; the right one confirms.
		want(t, h.post("/api/v1/mfa/devices/"+eid+"/confirm", tok, map[string]any{"code": "abc"}), 400, "invalid_code")
		h.clock.Add(2 * time.Second)
		c := h.post("/api/v1/mfa/devices/"+eid+"/confirm", tok, map[string]any{"code": es.Code})
		want(t, c, 200, "")
		if c.json["backup_codes"] != nil {
			t.Fatalf("a second device brought backup codes: %s", c)
		}
		// Another address.
		_, r = h.addSent(tok, map[string]any{"kind": "email", "email": "work@example.org", "name": "Work mail"})
		if _, ok := h.gw.Last("work@example.org"); !ok {
			t.Fatal("nothing sent to the given address")
		}
		st := h.get("/api/v1/mfa", tok)
		if strings.Contains(st.String(), "work@example.org") || strings.Contains(st.String(), "1234567") {
			t.Fatalf("status shows a destination: %s", st)
		}
	})
}

// TestSendFailures: a number the provider refuses is a field error, a
// failing provider is 502 gateway_failed, and the daily limit is 429 —
// and none of them leaves a device behind.
func TestSendFailures(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.allow5xx = true
		h.user("alice")
		tok := h.login("alice")
		h.gw.SetError(fmt.Errorf("refused: %w", twofactor.ErrInvalidDestination))
		r := h.post("/api/v1/mfa/devices", tok, map[string]any{"kind": "sms", "phone_number": "+31612345678"})
		want(t, r, 400, "validation_failed")
		if r.str("field") != "phone_number" {
			t.Fatalf("refused number: %s", r)
		}
		r = h.post("/api/v1/mfa/devices", tok, map[string]any{"kind": "email", "email": "x@example.com"})
		want(t, r, 400, "validation_failed")
		if r.str("field") != "email" {
			t.Fatalf("refused address: %s", r)
		}
		h.gw.SetError(fmt.Errorf("down: %w", twofactor.ErrGatewayUnavailable))
		for _, body := range []map[string]any{
			{"kind": "sms", "phone_number": "+31612345678"},
			{"kind": "call", "phone_number": "+31612345678"},
			{"kind": "email"},
		} {
			r = h.post("/api/v1/mfa/devices", tok, body)
			want(t, r, 502, "gateway_failed")
			if r.str("title") != "Message not sent" || r.str("detail") == "" {
				t.Fatalf("problem: %s", r)
			}
		}
		if !strings.Contains(h.logs.String(), "message gateway failed") {
			t.Fatal("the gateway failure was not logged")
		}
		st := h.get("/api/v1/mfa", tok)
		if n := len(st.json["devices"].([]any)); n != 0 {
			t.Fatalf("%d half-made devices", n)
		}
		// It recovers without a restart.
		h.gw.SetError(nil)
		id, _ := h.addSent(tok, map[string]any{"kind": "sms", "phone_number": "+31612345678"})
		// A resend that fails keeps the device and says so.
		h.clock.Add(61 * time.Second)
		h.gw.SetError(fmt.Errorf("down: %w", twofactor.ErrGatewayUnavailable))
		want(t, h.post("/api/v1/mfa/devices/"+id+"/challenge", tok, nil), 502, "gateway_failed")
		h.gw.SetError(nil)
		want(t, h.post("/api/v1/mfa/devices/"+id+"/challenge", tok, nil), 202, "")
	}, func(o *twofactor.Options) { o.UserThrottle = 0 })
}

// TestDailySendLimit: past the user's daily limit nothing is sent and no
// device is added; the answer says when to come back.
func TestDailySendLimit(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		for i := range 2 {
			h.addSent(tok, map[string]any{"kind": "sms", "phone_number": "+3161234567" + strconv.Itoa(i)})
		}
		r := h.post("/api/v1/mfa/devices", tok, map[string]any{"kind": "sms", "phone_number": "+31612345679"})
		want(t, r, 429, "throttled")
		if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 86400 {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
		if n := len(h.get("/api/v1/mfa", tok).json["devices"].([]any)); n != 2 {
			t.Fatalf("%d devices, want 2", n)
		}
		if _, ok := h.gw.Last("+31612345679"); ok {
			t.Fatal("a code was sent past the daily limit")
		}
	}, func(o *twofactor.Options) { o.DailySendLimit = 2 })
}

// TestYubiKeyDevice: a YubiKey is added with one OTP, checked by the
// validation service, and confirmed at once; its OTPs work once.
func TestYubiKeyDevice(t *testing.T) {
	bothStoresWith(t, []harnessOption{withYubiCloud}, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		want(t, h.post("/api/v1/mfa/devices", tok, map[string]any{"kind": "yubikey", "otp": "not an otp"}), 400, "validation_failed")
		r := h.post("/api/v1/mfa/devices", tok, map[string]any{"kind": "yubikey", "otp": yubiOTP(1, 0), "name": "Blue key"})
		want(t, r, 201, "")
		d := r.json["device"].(map[string]any)
		if d["kind"] != "yubikey" || d["confirmed"] != true || d["primary"] != true || d["name"] != "Blue key" ||
			len(r.json["backup_codes"].([]any)) != 10 || d["destination"] != "" {
			t.Fatalf("yubikey: %s", r)
		}
		// The key verified the token: no second sign-in.
		want(t, h.get("/api/v1/mfa", tok), 200, "")
		want(t, h.post("/api/v1/step-up", tok, map[string]any{"code": yubiOTP(1, 1)}), 200, "")
		// The same key again is a conflict; a replayed OTP is refused.
		want(t, h.post("/api/v1/mfa/devices", tok, map[string]any{"kind": "yubikey", "otp": yubiOTP(1, 2)}), 409, "conflict")
		want(t, h.post("/api/v1/mfa/devices", tok, map[string]any{"kind": "yubikey", "otp": yubiOTP(1, 2)}), 400, "invalid_code")
		// Sign-in with the key.
		mt, _ := h.mfaToken("alice")
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": yubiOTP(2, 0)}), 200, "")
		mt, _ = h.mfaToken("alice")
		want(t, h.post("/api/v1/login/verify", "", map[string]any{"mfa_token": mt, "code": yubiOTP(2, 0)}), 400, "invalid_code")
	}, func(o *twofactor.Options) {
		o.UserThrottle = 0
		o.Throttle = map[twofactor.Kind]time.Duration{twofactor.KindYubiKey: 0}
	})
}
