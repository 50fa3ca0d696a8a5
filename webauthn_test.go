package twofactor_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

var testRP = twofactor.WebAuthnConfig{RPName: "Example", RPID: "example.com", Origins: []string{testOrigin}}

// noThrottle turns the backoffs off, for tests that submit several
// responses in a row and are not about throttling.
func noThrottle(o *twofactor.Options) {
	o.UserThrottle = 0
	o.Throttle = map[twofactor.Kind]time.Duration{twofactor.KindWebAuthn: 0}
}

// TestWebAuthnRegistration: a registered key is a confirmed device whose
// destination is its credential id; the first one turns two-factor on
// with backup codes; the options are what the seed sends.
func TestWebAuthnRegistration(t *testing.T) {
	e := webauthnEnv(t, testRP)
	u := e.user(t, "alice")
	me := twofactor.UserActor(u.ID, e.clock.Now())
	if !slices.Contains(e.svc.Methods(), twofactor.KindWebAuthn) {
		t.Fatalf("methods %v lack webauthn", e.svc.Methods())
	}
	k := newSoftKey(t)
	options, cer, err := e.svc.BeginWebAuthnRegistration(ctx, me, testOrigin)
	ok(t, err)
	o := parseOptions(t, options)
	p := o.PublicKey
	if p.RP.ID != "example.com" || p.RP.Name != "Example" || p.User.Name != "alice" || p.User.ID == "" ||
		len(p.Challenge) < 22 || p.Attestation != "none" || len(p.ExcludeCredentials) != 0 ||
		p.Selection.UserVerification != "discouraged" || p.Selection.RequireResident == nil || *p.Selection.RequireResident {
		t.Fatalf("creation options %s", options)
	}
	if strings.Contains(string(options), u.ID) {
		t.Fatal("the user handle reveals the user id")
	}
	resp, err := k.create(t, options, ceremonyOpts{origin: testOrigin})
	ok(t, err)
	e.resetEvents()
	c, err := e.svc.FinishWebAuthnRegistration(ctx, me, cer, resp, "Blue key")
	ok(t, err)
	d := c.Device
	if d.Kind != twofactor.KindWebAuthn || !d.Confirmed || !d.Primary || d.Name != "Blue key" ||
		d.Destination != b64.EncodeToString(k.id) || d.Counter != 0 || len(c.BackupCodes) != 10 {
		t.Fatalf("registration %+v / %+v", c, d)
	}
	stored := e.device(t, d.ID)
	if stored.Secret != nil || !bytes.Contains(stored.Data, []byte(`"rp_id":"example.com"`)) {
		t.Fatalf("stored data %s", stored.Data)
	}
	if got := e.eventKinds(); !slices.Contains(got, twofactor.EventDeviceAdded) {
		t.Fatalf("events %v", got)
	}
	// The ceremony is used up.
	_, err = e.svc.FinishWebAuthnRegistration(ctx, me, cer, resp, "")
	wantCode(t, err, twofactor.CodeExpired, twofactor.ReasonCeremony)

	// A second key: no new backup codes; the first one is excluded.
	k2 := newSoftKey(t)
	k2.count = 7
	options, cer, err = e.svc.BeginWebAuthnRegistration(ctx, me, testOrigin)
	ok(t, err)
	ex := parseOptions(t, options).PublicKey.ExcludeCredentials
	if len(ex) != 1 || ex[0].ID != b64.EncodeToString(k.id) || ex[0].Type != "public-key" {
		t.Fatalf("excludeCredentials %+v", ex)
	}
	resp, err = k2.create(t, options, ceremonyOpts{origin: testOrigin})
	ok(t, err)
	c, err = e.svc.FinishWebAuthnRegistration(ctx, me, cer, resp, "")
	ok(t, err)
	if c.Device.Primary || c.BackupCodes != nil || c.Device.Name != "Security key" || c.Device.Counter != 7 {
		t.Fatalf("second key %+v", c)
	}
}

// TestWebAuthnSameKeyTwice: registering an authenticator again is refused
// by the browser (excludeCredentials) and, past it, by the server.
func TestWebAuthnSameKeyTwice(t *testing.T) {
	e := webauthnEnv(t, testRP)
	u := e.user(t, "alice")
	me := twofactor.UserActor(u.ID, e.clock.Now())
	k := newSoftKey(t)
	e.register(t, u, k, testOrigin)
	options, cer, err := e.svc.BeginWebAuthnRegistration(ctx, me, testOrigin)
	ok(t, err)
	if _, err := k.create(t, options, ceremonyOpts{origin: testOrigin}); !errors.Is(err, errExcluded) {
		t.Fatalf("the browser registered an excluded key: %v", err)
	}
	resp := k.createResponse(parseOptions(t, options), ceremonyOpts{origin: testOrigin})
	_, err = e.svc.FinishWebAuthnRegistration(ctx, me, cer, resp, "")
	wantCode(t, err, twofactor.CodeConflict, "")
	st, err := e.svc.Status(ctx, u.ID)
	ok(t, err)
	if len(st.Devices) != 1 {
		t.Fatalf("%d devices after registering one key twice", len(st.Devices))
	}
	// Another user may register the same authenticator (another account).
	bob := e.user(t, "bob")
	options, cer, err = e.svc.BeginWebAuthnRegistration(ctx, twofactor.UserActor(bob.ID, e.clock.Now()), testOrigin)
	ok(t, err)
	resp, err = k.create(t, options, ceremonyOpts{origin: testOrigin})
	ok(t, err)
	_, err = e.svc.FinishWebAuthnRegistration(ctx, twofactor.UserActor(bob.ID, e.clock.Now()), cer, resp, "")
	ok(t, err)
}

// TestWebAuthnRegistrationRefused: responses made for another challenge,
// origin, RP id or ceremony type, garbage, and ceremonies of another user
// or purpose are refused, and use the ceremony up.
func TestWebAuthnRegistrationRefused(t *testing.T) {
	e := webauthnEnv(t, testRP)
	u := e.user(t, "alice")
	bob := e.user(t, "bob")
	me := twofactor.UserActor(u.ID, e.clock.Now())
	k := newSoftKey(t)
	cases := []struct {
		name   string
		o      ceremonyOpts
		resp   []byte
		code   twofactor.Code
		reason string
	}{
		{"wrong origin", ceremonyOpts{origin: "https://evil.example"}, nil, twofactor.CodeInvalidCode, twofactor.ReasonWrong},
		{"wrong rp id", ceremonyOpts{origin: testOrigin, rpID: "evil.example"}, nil, twofactor.CodeInvalidCode, twofactor.ReasonWrong},
		{"wrong challenge", ceremonyOpts{origin: testOrigin, challenge: b64.EncodeToString(make([]byte, 32))}, nil, twofactor.CodeInvalidCode, twofactor.ReasonWrong},
		{"assertion type", ceremonyOpts{origin: testOrigin, typ: "webauthn.get"}, nil, twofactor.CodeInvalidCode, twofactor.ReasonWrong},
		{"user not present", ceremonyOpts{origin: testOrigin, flags: flagAT}, nil, twofactor.CodeInvalidCode, twofactor.ReasonWrong},
		{"garbage", ceremonyOpts{}, []byte("{not json"), twofactor.CodeInvalidCode, twofactor.ReasonMalformed},
		{"empty", ceremonyOpts{}, []byte{}, twofactor.CodeInvalidCode, twofactor.ReasonMalformed},
		{"json null", ceremonyOpts{}, []byte("null"), twofactor.CodeInvalidCode, twofactor.ReasonMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			options, cer, err := e.svc.BeginWebAuthnRegistration(ctx, me, testOrigin)
			ok(t, err)
			resp := c.resp
			if resp == nil {
				resp = k.createResponse(parseOptions(t, options), c.o)
			}
			_, err = e.svc.FinishWebAuthnRegistration(ctx, me, cer, resp, "")
			wantCode(t, err, c.code, c.reason)
			_, err = e.svc.FinishWebAuthnRegistration(ctx, me, cer, k.createResponse(parseOptions(t, options), ceremonyOpts{origin: testOrigin}), "")
			wantCode(t, err, twofactor.CodeExpired, twofactor.ReasonCeremony)
		})
	}
	// A ceremony begun for alice cannot register a key for bob.
	options, cer, err := e.svc.BeginWebAuthnRegistration(ctx, me, testOrigin)
	ok(t, err)
	resp := k.createResponse(parseOptions(t, options), ceremonyOpts{origin: testOrigin})
	_, err = e.svc.FinishWebAuthnRegistration(ctx, twofactor.UserActor(bob.ID, e.clock.Now()), cer, resp, "")
	wantCode(t, err, twofactor.CodeExpired, twofactor.ReasonCeremony)
	// Unknown, empty and huge ceremony tokens; a bad name keeps the ceremony.
	for _, tok := range []string{"", "nope", strings.Repeat("x", 1000)} {
		_, err = e.svc.FinishWebAuthnRegistration(ctx, me, tok, resp, "")
		wantCode(t, err, twofactor.CodeExpired, twofactor.ReasonCeremony)
	}
	options, cer, err = e.svc.BeginWebAuthnRegistration(ctx, me, testOrigin)
	ok(t, err)
	resp = k.createResponse(parseOptions(t, options), ceremonyOpts{origin: testOrigin})
	_, err = e.svc.FinishWebAuthnRegistration(ctx, me, cer, resp, "bad\x00name")
	wantCode(t, err, twofactor.CodeValidationFailed, "")
	_, err = e.svc.FinishWebAuthnRegistration(ctx, me, cer, resp, "")
	ok(t, err)
	// Expired after WebAuthnCeremonyTTL.
	options, cer, err = e.svc.BeginWebAuthnRegistration(ctx, me, testOrigin)
	ok(t, err)
	e.clock.Add(twofactor.WebAuthnCeremonyTTL)
	_, err = e.svc.FinishWebAuthnRegistration(ctx, me, cer, newSoftKey(t).createResponse(parseOptions(t, options), ceremonyOpts{origin: testOrigin}), "")
	wantCode(t, err, twofactor.CodeExpired, twofactor.ReasonCeremony)
	// With user verification required, a response without it is refused.
	strict := testRP
	strict.UserVerification = "required"
	es := webauthnEnv(t, strict)
	v := es.user(t, "carol")
	options, cer, err = es.svc.BeginWebAuthnRegistration(ctx, twofactor.UserActor(v.ID, es.clock.Now()), testOrigin)
	ok(t, err)
	_, err = es.svc.FinishWebAuthnRegistration(ctx, twofactor.UserActor(v.ID, es.clock.Now()), cer, k.createResponse(parseOptions(t, options), ceremonyOpts{origin: testOrigin}), "")
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonWrong)
	options, cer, err = es.svc.BeginWebAuthnRegistration(ctx, twofactor.UserActor(v.ID, es.clock.Now()), testOrigin)
	ok(t, err)
	_, err = es.svc.FinishWebAuthnRegistration(ctx, twofactor.UserActor(v.ID, es.clock.Now()), cer,
		k.createResponse(parseOptions(t, options), ceremonyOpts{origin: testOrigin, flags: flagUP | flagUV | flagAT}), "")
	ok(t, err)
}

// TestWebAuthnLogin: sign-in with a key through the login challenge; the
// challenge and the ceremony are used once; the signature count rises.
func TestWebAuthnLogin(t *testing.T) {
	e := webauthnEnv(t, testRP)
	u := e.user(t, "alice")
	k := newSoftKey(t)
	d := e.register(t, u, k, testOrigin).Device
	k.count = 1
	token := e.loginToken(t, u)

	options, cer, err := e.svc.BeginWebAuthnLogin(ctx, token, testOrigin)
	ok(t, err)
	p := parseOptions(t, options).PublicKey
	if p.RPID != "example.com" || len(p.AllowCredentials) != 1 || p.AllowCredentials[0].ID != d.Destination ||
		p.UserVerification != "discouraged" || len(p.Challenge) < 22 {
		t.Fatalf("request options %s", options)
	}
	resp := k.get(t, options, ceremonyOpts{origin: testOrigin, handle: nil})
	e.resetEvents()
	r, err := e.svc.CompleteLoginWebAuthn(ctx, token, cer, resp)
	ok(t, err)
	if r.User.ID != u.ID || r.Device == nil || r.Device.ID != d.ID || r.MFARequired {
		t.Fatalf("login result %+v", r)
	}
	if got := e.device(t, d.ID); got.Counter != 1 || got.LastUsedAt.IsZero() {
		t.Fatalf("after sign-in: counter %d, last used %v", got.Counter, got.LastUsedAt)
	}
	if got := e.eventKinds(); !slices.Equal(got, []twofactor.EventKind{twofactor.EventUserVerified}) {
		t.Fatalf("events %v", got)
	}
	// The login challenge is complete; the same assertion (same challenge)
	// again is refused, in this sign-in and in a new one.
	_, err = e.svc.CompleteLoginWebAuthn(ctx, token, cer, resp)
	wantCode(t, err, twofactor.CodeExpired, "")
	token = e.loginToken(t, u)
	_, err = e.svc.CompleteLoginWebAuthn(ctx, token, cer, resp)
	wantCode(t, err, twofactor.CodeExpired, twofactor.ReasonCeremony)
	_, cer2, err := e.svc.BeginWebAuthnLogin(ctx, token, testOrigin)
	ok(t, err)
	_, err = e.svc.CompleteLoginWebAuthn(ctx, token, cer2, resp) // replayed into a new ceremony: another challenge
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonWrong)
	e.clock.Add(time.Minute)
	// With a user handle (as passkeys send), it must be the user's.
	r, err = e.assertLogin(t, token, k, ceremonyOpts{handle: userHandle(t, e, u)})
	ok(t, err)
	if r.Device.ID != d.ID {
		t.Fatal("wrong device")
	}
	token = e.loginToken(t, u)
	_, err = e.assertLogin(t, token, k, ceremonyOpts{handle: []byte("someone else")})
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonWrong)
}

// userHandle returns the user handle the service gave u's authenticators.
func userHandle(t *testing.T, e *env, u *twofactor.User) []byte {
	t.Helper()
	options, _, err := e.svc.BeginWebAuthnRegistration(ctx, twofactor.UserActor(u.ID, e.clock.Now()), testOrigin)
	ok(t, err)
	h, err := b64.DecodeString(parseOptions(t, options).PublicKey.User.ID)
	ok(t, err)
	return h
}

// TestWebAuthnSignCount: when either count is non-zero the new one must
// be greater (a cloned key is refused as a replay, and counted); a key
// without a counter (both zero) verifies every time.
func TestWebAuthnSignCount(t *testing.T) {
	e := webauthnEnv(t, testRP, noThrottle)
	u := e.user(t, "alice")
	k := newSoftKey(t)
	k.count = 5
	d := e.register(t, u, k, testOrigin).Device
	token := e.loginToken(t, u)
	for _, n := range []uint32{5, 4, 0} { // equal, lower, zero after non-zero
		k.count, k.fixed = n, true
		_, err := e.assertLogin(t, token, k, ceremonyOpts{})
		wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonReplayed)
	}
	if got := e.device(t, d.ID); got.Counter != 5 || got.Failures != 3 {
		t.Fatalf("after refused counts: counter %d, failures %d", got.Counter, got.Failures)
	}
	k.count, k.fixed = 6, false
	_, err := e.assertLogin(t, token, k, ceremonyOpts{})
	ok(t, err)
	if got := e.device(t, d.ID); got.Counter != 6 || got.Failures != 0 {
		t.Fatalf("after a rising count: counter %d, failures %d", got.Counter, got.Failures)
	}

	// A key that keeps no counter: zero every time, accepted every time.
	z := newSoftKey(t)
	z.fixed = true
	bob := e.user(t, "bob")
	zd := e.register(t, bob, z, testOrigin).Device
	for i := 0; i < 3; i++ {
		_, err := e.assertLogin(t, e.loginToken(t, bob), z, ceremonyOpts{})
		ok(t, err)
	}
	if got := e.device(t, zd.ID); got.Counter != 0 || got.Failures != 0 {
		t.Fatalf("counterless key: counter %d, failures %d", got.Counter, got.Failures)
	}
	// Once it reports a count, the rule applies.
	z.count = 3
	_, err = e.assertLogin(t, e.loginToken(t, bob), z, ceremonyOpts{})
	ok(t, err)
	z.count = 0
	_, err = e.assertLogin(t, e.loginToken(t, bob), z, ceremonyOpts{})
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonReplayed)
}

// TestWebAuthnLoginRefused: assertions made for another origin, RP id or
// challenge, by another user's key, or garbage, are refused as failures of
// the user's key (counted, audited); ceremonies of another purpose,
// challenge or user are not accepted.
func TestWebAuthnLoginRefused(t *testing.T) {
	e := webauthnEnv(t, testRP, noThrottle)
	u := e.user(t, "alice")
	k := newSoftKey(t)
	d := e.register(t, u, k, testOrigin).Device
	bob := e.user(t, "bob")
	bk := newSoftKey(t)
	e.register(t, bob, bk, testOrigin)
	token := e.loginToken(t, u)
	cases := []struct {
		name   string
		key    *softKey
		o      ceremonyOpts
		garble []byte
		reason string
	}{
		{"wrong origin", k, ceremonyOpts{origin: "https://evil.example"}, nil, twofactor.ReasonWrong},
		{"other port", k, ceremonyOpts{origin: "https://example.com:8443"}, nil, twofactor.ReasonWrong},
		{"wrong rp id", k, ceremonyOpts{rpID: "evil.example"}, nil, twofactor.ReasonWrong},
		{"wrong challenge", k, ceremonyOpts{challenge: b64.EncodeToString(make([]byte, 32))}, nil, twofactor.ReasonWrong},
		{"creation type", k, ceremonyOpts{typ: "webauthn.create"}, nil, twofactor.ReasonWrong},
		{"user not present", k, ceremonyOpts{flags: flagUV}, nil, twofactor.ReasonWrong},
		{"another user's key", bk, ceremonyOpts{}, nil, twofactor.ReasonWrong},
		{"an unknown key", newSoftKey(t), ceremonyOpts{}, nil, twofactor.ReasonWrong},
		{"garbage", k, ceremonyOpts{}, []byte("\x00\xff garbage"), twofactor.ReasonMalformed},
		{"empty object", k, ceremonyOpts{}, []byte("{}"), twofactor.ReasonMalformed},
		{"base64 not base64url", k, ceremonyOpts{}, []byte(`{"id":"a+/=","rawId":"a+/=","type":"public-key","response":{}}`), twofactor.ReasonMalformed},
	}
	failures := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			options, cer, err := e.svc.BeginWebAuthnLogin(ctx, token, testOrigin)
			ok(t, err)
			resp := c.garble
			if resp == nil {
				if c.o.origin == "" {
					c.o.origin = testOrigin
				}
				resp = c.key.get(t, options, c.o)
			}
			e.resetEvents()
			_, err = e.svc.CompleteLoginWebAuthn(ctx, token, cer, resp)
			wantCode(t, err, twofactor.CodeInvalidCode, c.reason)
			failures++
			if got := e.device(t, d.ID).Failures; got != failures {
				t.Fatalf("failures of alice's key %d, want %d", got, failures)
			}
			evs := e.events
			if len(evs) != 1 || evs[0].Kind != twofactor.EventVerificationFailed || evs[0].DeviceID != d.ID || evs[0].Reason != c.reason {
				t.Fatalf("events %+v", evs)
			}
		})
	}
	// Another user's sign-in cannot use alice's ceremony, nor a step-up
	// ceremony a sign-in.
	options, cer, err := e.svc.BeginWebAuthnLogin(ctx, token, testOrigin)
	ok(t, err)
	_, err = e.svc.CompleteLoginWebAuthn(ctx, e.loginToken(t, bob), cer, bk.get(t, options, ceremonyOpts{origin: testOrigin}))
	wantCode(t, err, twofactor.CodeExpired, twofactor.ReasonCeremony)
	other := e.loginToken(t, u) // another sign-in of the same user
	options, cer, err = e.svc.BeginWebAuthnLogin(ctx, token, testOrigin)
	ok(t, err)
	_, err = e.svc.CompleteLoginWebAuthn(ctx, other, cer, k.get(t, options, ceremonyOpts{origin: testOrigin}))
	wantCode(t, err, twofactor.CodeExpired, twofactor.ReasonCeremony)
	_, sess, err := e.svc.SignIn(ctx, twofactor.SessionWeb, nil, u, nil)
	ok(t, err)
	options, cer, err = e.svc.BeginWebAuthnStepUp(ctx, sess, testOrigin)
	ok(t, err)
	_, err = e.svc.CompleteLoginWebAuthn(ctx, token, cer, k.get(t, options, ceremonyOpts{origin: testOrigin}))
	wantCode(t, err, twofactor.CodeExpired, twofactor.ReasonCeremony)
	// Expired login challenge, expired ceremony.
	_, _, err = e.svc.BeginWebAuthnLogin(ctx, "no such login", testOrigin)
	wantCode(t, err, twofactor.CodeExpired, "")
	options, cer, err = e.svc.BeginWebAuthnLogin(ctx, token, testOrigin)
	ok(t, err)
	e.clock.Add(twofactor.WebAuthnCeremonyTTL + time.Second)
	_, err = e.svc.CompleteLoginWebAuthn(ctx, token, cer, k.get(t, options, ceremonyOpts{origin: testOrigin}))
	wantCode(t, err, twofactor.CodeExpired, twofactor.ReasonCeremony)
	// After all that, the key still signs in.
	_, err = e.assertLogin(t, token, k, ceremonyOpts{})
	ok(t, err)
	// A user without a key gets no ceremony.
	carol := e.user(t, "carol")
	e.totp(t, carol, mustHex("3132333435363738393031323334353637383930"))
	_, _, err = e.svc.BeginWebAuthnLogin(ctx, e.loginToken(t, carol), testOrigin)
	wantCode(t, err, twofactor.CodeNoDevice, "")
	// A typed code cannot go to a key.
	_, err = e.svc.VerifyDevice(ctx, u.ID, d.ID, "123456")
	wantCode(t, err, twofactor.CodeNoDevice, "")
}

// TestWebAuthnThrottle: a failed assertion makes the key (and the user)
// wait like any device; the refused attempt is not evaluated; a success
// afterwards resets.
func TestWebAuthnThrottle(t *testing.T) {
	e := webauthnEnv(t, testRP)
	u := e.user(t, "alice")
	k := newSoftKey(t)
	d := e.register(t, u, k, testOrigin).Device
	token := e.loginToken(t, u)
	_, err := e.assertLogin(t, token, k, ceremonyOpts{origin: "https://evil.example"})
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonWrong)
	e.resetEvents()
	_, err = e.assertLogin(t, token, k, ceremonyOpts{})
	te := wantCode(t, err, twofactor.CodeThrottled, "")
	if te.Failures != 1 || te.RetryAfter(e.clock.Now()) != time.Second {
		t.Fatalf("throttle %+v", te)
	}
	if got := e.eventKinds(); !slices.Equal(got, []twofactor.EventKind{twofactor.EventThrottled}) {
		t.Fatalf("events %v", got)
	}
	if got := e.device(t, d.ID); got.Failures != 1 || got.Counter != 0 {
		t.Fatalf("the throttled attempt was evaluated: %+v", got)
	}
	// Garbage is counted too.
	e.clock.Add(time.Second)
	_, cer, err := e.svc.BeginWebAuthnLogin(ctx, token, testOrigin)
	ok(t, err)
	_, err = e.svc.CompleteLoginWebAuthn(ctx, token, cer, []byte("garbage"))
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonMalformed)
	_, err = e.assertLogin(t, token, k, ceremonyOpts{})
	wantCode(t, err, twofactor.CodeThrottled, "")
	e.clock.Add(2 * time.Second)
	_, err = e.assertLogin(t, token, k, ceremonyOpts{})
	ok(t, err)
	if got := e.device(t, d.ID); got.Failures != 0 {
		t.Fatalf("a success did not reset: %+v", got)
	}
	// The user's throttle spans devices: failures with the key make a TOTP
	// code wait too.
	key := mustHex("3132333435363738393031323334353637383930")
	td := e.totp(t, u, key)
	token = e.loginToken(t, u)
	e.clock.Add(time.Minute)
	_, err = e.assertLogin(t, token, k, ceremonyOpts{challenge: b64.EncodeToString(make([]byte, 32))})
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonWrong)
	_, err = e.svc.ChooseDevice(ctx, token, td.ID)
	ok(t, err)
	_, err = e.svc.CompleteLogin(ctx, token, e.now(key))
	wantCode(t, err, twofactor.CodeThrottled, "")
	e.clock.Add(time.Second)
	_, err = e.svc.CompleteLogin(ctx, token, e.now(key))
	ok(t, err)
}

// TestWebAuthnStepUp: a key re-verifies a session; the ceremony belongs
// to the session that began it.
func TestWebAuthnStepUp(t *testing.T) {
	e := webauthnEnv(t, testRP, noThrottle)
	u := e.user(t, "alice")
	k := newSoftKey(t)
	d := e.register(t, u, k, testOrigin).Device
	_, sess, err := e.svc.SignIn(ctx, twofactor.SessionWeb, nil, u, nil)
	ok(t, err)
	_, other, err := e.svc.SignIn(ctx, twofactor.SessionWeb, nil, u, nil)
	ok(t, err)
	e.clock.Add(time.Hour)
	need, err := e.svc.NeedsStepUp(ctx, sess)
	ok(t, err)
	if !need {
		t.Fatal("a session never verified needs no step-up")
	}
	options, cer, err := e.svc.BeginWebAuthnStepUp(ctx, sess, testOrigin)
	ok(t, err)
	resp := k.get(t, options, ceremonyOpts{origin: testOrigin})
	_, err = e.svc.StepUpWebAuthn(ctx, other, cer, resp)
	wantCode(t, err, twofactor.CodeExpired, twofactor.ReasonCeremony)
	options, cer, err = e.svc.BeginWebAuthnStepUp(ctx, sess, testOrigin)
	ok(t, err)
	got, err := e.svc.StepUpWebAuthn(ctx, sess, cer, k.get(t, options, ceremonyOpts{origin: testOrigin}))
	ok(t, err)
	if got.ID != d.ID || sess.DeviceID != d.ID || !sess.VerifiedAt.Equal(e.clock.Now()) {
		t.Fatalf("step-up: device %s, session %+v", got.ID, sess)
	}
	if need, _ := e.svc.NeedsStepUp(ctx, sess); need {
		t.Fatal("still needs step-up")
	}
	// Refusals, and no session.
	options, cer, err = e.svc.BeginWebAuthnStepUp(ctx, sess, testOrigin)
	ok(t, err)
	_, err = e.svc.StepUpWebAuthn(ctx, sess, cer, k.get(t, options, ceremonyOpts{origin: "https://evil.example"}))
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonWrong)
	_, _, err = e.svc.BeginWebAuthnStepUp(ctx, nil, testOrigin)
	wantCode(t, err, twofactor.CodeNotFound, "")
	_, err = e.svc.StepUpWebAuthn(ctx, &twofactor.Session{}, cer, resp)
	wantCode(t, err, twofactor.CodeNotFound, "")
}

// TestWebAuthnOrigins: where ceremonies may come from (see the package
// documentation): the request origin when none is configured, only the
// configured ones otherwise; keys stay with their RP id.
func TestWebAuthnOrigins(t *testing.T) {
	// Nothing configured: the request's origin, and its host as RP id.
	e := webauthnEnv(t, twofactor.WebAuthnConfig{RPName: "Example"}, noThrottle)
	u := e.user(t, "alice")
	me := twofactor.UserActor(u.ID, e.clock.Now())
	for _, o := range []string{"", "null", "example.com", "ftp://example.com", "https://example.com/path", "https://1.2.3.4"} {
		_, _, err := e.svc.BeginWebAuthnRegistration(ctx, me, o)
		wantCode(t, err, twofactor.CodeValidationFailed, "")
	}
	// Development on localhost works without configuration.
	options, _, err := e.svc.BeginWebAuthnRegistration(ctx, me, "http://localhost:8000")
	ok(t, err)
	if rp := parseOptions(t, options).PublicKey.RP.ID; rp != "localhost" {
		t.Fatalf("RP id %q on localhost", rp)
	}
	k := newSoftKey(t)
	const a = "https://a.example.com:8443"
	options, cer, err := e.svc.BeginWebAuthnRegistration(ctx, me, a)
	ok(t, err)
	if rp := parseOptions(t, options).PublicKey.RP.ID; rp != "a.example.com" {
		t.Fatalf("RP id %q", rp)
	}
	// Bound to the origin it began at.
	resp := k.createResponse(parseOptions(t, options), ceremonyOpts{origin: "https://a.example.com"})
	_, err = e.svc.FinishWebAuthnRegistration(ctx, me, cer, resp, "")
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonWrong)
	options, cer, err = e.svc.BeginWebAuthnRegistration(ctx, me, a)
	ok(t, err)
	resp, err = k.create(t, options, ceremonyOpts{origin: a})
	ok(t, err)
	_, err = e.svc.FinishWebAuthnRegistration(ctx, me, cer, resp, "")
	ok(t, err)
	token := e.loginToken(t, u)
	// The key belongs to a.example.com: not offered on b.example.com.
	_, _, err = e.svc.BeginWebAuthnLogin(ctx, token, "https://b.example.com")
	wantCode(t, err, twofactor.CodeNoDevice, "")
	options, cer, err = e.svc.BeginWebAuthnLogin(ctx, token, a)
	ok(t, err)
	_, err = e.svc.CompleteLoginWebAuthn(ctx, token, cer, k.get(t, options, ceremonyOpts{origin: a}))
	ok(t, err)

	// Configured origins under an RP id: the request origin must be one of
	// them and binds the ceremony; no origin leaves them all open.
	cfg := twofactor.WebAuthnConfig{RPName: "Example", RPID: "example.com",
		Origins: []string{"https://www.example.com", "https://m.example.com"}, PreferredTransports: []string{"usb", "internal"}}
	e = webauthnEnv(t, cfg, noThrottle)
	u = e.user(t, "alice")
	me = twofactor.UserActor(u.ID, e.clock.Now())
	_, _, err = e.svc.BeginWebAuthnRegistration(ctx, me, "https://evil.example")
	wantCode(t, err, twofactor.CodeValidationFailed, "")
	options, cer, err = e.svc.BeginWebAuthnRegistration(ctx, me, "")
	ok(t, err)
	resp, err = k.create(t, options, ceremonyOpts{origin: "https://m.example.com"})
	ok(t, err)
	_, err = e.svc.FinishWebAuthnRegistration(ctx, me, cer, resp, "")
	ok(t, err)
	token = e.loginToken(t, u)
	options, cer, err = e.svc.BeginWebAuthnLogin(ctx, token, "HTTPS://WWW.EXAMPLE.COM")
	ok(t, err)
	allow := parseOptions(t, options).PublicKey.AllowCredentials
	if len(allow) != 1 || !slices.Equal(allow[0].Transports, []string{"usb", "internal"}) {
		t.Fatalf("allowCredentials %+v", allow)
	}
	_, err = e.svc.CompleteLoginWebAuthn(ctx, token, cer, k.get(t, options, ceremonyOpts{origin: "https://m.example.com"}))
	wantCode(t, err, twofactor.CodeInvalidCode, twofactor.ReasonWrong) // bound to www
	options, cer, err = e.svc.BeginWebAuthnLogin(ctx, token, "")
	ok(t, err)
	_, err = e.svc.CompleteLoginWebAuthn(ctx, token, cer, k.get(t, options, ceremonyOpts{origin: "https://m.example.com"}))
	ok(t, err)
}

// TestWebAuthnConfig: invalid configurations are refused when the service
// is built; without one the method is hidden and refused.
func TestWebAuthnConfig(t *testing.T) {
	base := newEnv(t)
	for _, c := range []twofactor.WebAuthnConfig{
		{},
		{RPName: "  "},
		{RPName: "X", Attestation: "enterprise"},
		{RPName: "X", Attestation: "sometimes"},
		{RPName: "X", UserVerification: "always"},
		{RPName: "X", AuthenticatorAttachment: "usb"},
		{RPName: "X", PreferredTransports: []string{"carrier-pigeon"}},
		{RPName: "X", RPID: "https://example.com"},
		{RPName: "X", RPID: "1.2.3.4"},
		{RPName: "X", RPID: "example.com", Origins: []string{"https://example.org"}},
		{RPName: "X", Origins: []string{"example.com"}},
		{RPName: "X", Origins: []string{"https://example.com/login"}},
		{RPName: "X", RootCerts: []*x509.Certificate{nil}},
	} {
		_, err := twofactor.New(twofactor.Config{Store: base.store, Keys: base.keys, Options: opts(), WebAuthn: &c})
		if err == nil {
			t.Errorf("config %+v accepted", c)
		}
		if c.Attestation == "enterprise" && (err == nil || !strings.Contains(err.Error(), "enterprise")) {
			t.Errorf("enterprise attestation: %v", err)
		}
	}
	if slices.Contains(base.svc.Methods(), twofactor.KindWebAuthn) {
		t.Fatal("webauthn offered without configuration")
	}
	u := base.user(t, "alice")
	_, _, err := base.svc.BeginWebAuthnRegistration(ctx, twofactor.UserActor(u.ID, base.clock.Now()), testOrigin)
	wantCode(t, err, twofactor.CodeValidationFailed, "")
	_, err = base.svc.CompleteLoginWebAuthn(ctx, "x", "y", []byte("{}"))
	wantCode(t, err, twofactor.CodeValidationFailed, "")
	// Options as configured.
	e := webauthnEnv(t, twofactor.WebAuthnConfig{RPName: "Example", RPID: "example.com", Origins: []string{testOrigin},
		AuthenticatorAttachment: "cross-platform", UserVerification: "preferred", Attestation: "direct"})
	u = e.user(t, "alice")
	options, _, err := e.svc.BeginWebAuthnRegistration(ctx, twofactor.UserActor(u.ID, e.clock.Now()), testOrigin)
	ok(t, err)
	p := parseOptions(t, options).PublicKey
	if p.Attestation != "direct" || p.Selection.Attachment != "cross-platform" || p.Selection.UserVerification != "preferred" {
		t.Fatalf("options %s", options)
	}
}

// testCA is a certificate authority for attestation certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ok(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Unix(0, 0), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ok(t, err)
	return &testCA{cert: certFor(t, der), key: key}
}

// packed returns a packed attestation by a batch key certified by ca.
func (ca *testCA) packed(t *testing.T) func(authData, clientDataHash []byte) (string, cborMap) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ok(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: time.Unix(0, 0), NotAfter: time.Now().Add(24 * time.Hour),
		Subject: pkix.Name{Country: []string{"SE"}, Organization: []string{"Test Vendor"},
			OrganizationalUnit: []string{"Authenticator Attestation"}, CommonName: "Test Batch"},
		BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	ok(t, err)
	return func(authData, clientDataHash []byte) (string, cborMap) {
		digest := sha256.Sum256(append(append([]byte(nil), authData...), clientDataHash...))
		sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		ok(t, err)
		return "packed", cborMap{"alg": -7, "sig": sig, "x5c": []any{der}}
	}
}

// TestWebAuthnRootCerts: with extra roots configured, a packed attestation
// must chain to one of them; attestations without a chain are unaffected.
func TestWebAuthnRootCerts(t *testing.T) {
	trusted, other := newTestCA(t, "Trusted Root"), newTestCA(t, "Other Root")
	cfg := testRP
	cfg.Attestation = "direct"
	cfg.RootCerts = []*x509.Certificate{trusted.cert}
	e := webauthnEnv(t, cfg)
	u := e.user(t, "alice")
	me := twofactor.UserActor(u.ID, e.clock.Now())
	finish := func(k *softKey, att func([]byte, []byte) (string, cborMap)) error {
		options, cer, err := e.svc.BeginWebAuthnRegistration(ctx, me, testOrigin)
		ok(t, err)
		resp := k.createResponse(parseOptions(t, options), ceremonyOpts{origin: testOrigin, attestation: att})
		_, err = e.svc.FinishWebAuthnRegistration(ctx, me, cer, resp, "")
		return err
	}
	wantCode(t, finish(newSoftKey(t), other.packed(t)), twofactor.CodeValidationFailed, "")
	ok(t, finish(newSoftKey(t), trusted.packed(t)))
	ok(t, finish(newSoftKey(t), nil)) // fmt none
	// A forged attestation signature is refused whatever the roots.
	forged := func(ad, h []byte) (string, cborMap) {
		f, stmt := trusted.packed(t)(ad, h)
		stmt["sig"] = append([]byte(nil), stmt["sig"].([]byte)...)
		stmt["sig"].([]byte)[10] ^= 1
		return f, stmt
	}
	wantCode(t, finish(newSoftKey(t), forged), twofactor.CodeInvalidCode, twofactor.ReasonWrong)
}

// TestWebAuthnRaceLogin: of concurrent completions of one ceremony with
// the same assertion, exactly one signs in.
func TestWebAuthnRaceLogin(t *testing.T) {
	e := webauthnEnv(t, testRP, noThrottle)
	u := e.user(t, "alice")
	k := newSoftKey(t)
	e.register(t, u, k, testOrigin)
	const racers = 20
	token := e.loginToken(t, u)
	options, cer, err := e.svc.BeginWebAuthnLogin(ctx, token, testOrigin)
	ok(t, err)
	resp := k.get(t, options, ceremonyOpts{origin: testOrigin})
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.CompleteLoginWebAuthn(ctx, token, cer, resp)
			if err == nil {
				wins.Add(1)
			} else if c := twofactor.CodeOf(err); c != twofactor.CodeExpired {
				t.Errorf("racer: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent completions with one assertion succeeded, want 1", wins.Load())
	}
}

// fuzzEnv is a service with a user who has a key and a sign-in in
// progress, for the fuzz targets.
func fuzzEnv(f *testing.F) (*env, *twofactor.User, string, *softKey) {
	e := webauthnEnv(f, testRP, noThrottle)
	u := e.user(f, "alice")
	k := newSoftKey(f)
	e.register(f, u, k, testOrigin)
	return e, u, e.loginToken(f, u), k
}

// FuzzCompleteLoginWebAuthn: no assertion response crashes the service or
// signs in without the key.
func FuzzCompleteLoginWebAuthn(f *testing.F) {
	e, _, token, k := fuzzEnv(f)
	options, _, err := e.svc.BeginWebAuthnLogin(ctx, token, testOrigin)
	ok(f, err)
	valid := k.get(f, options, ceremonyOpts{origin: testOrigin})
	for _, s := range [][]byte{valid, []byte("{}"), []byte(`{"id":"","rawId":"","type":"public-key","response":{"clientDataJSON":"","authenticatorData":"AAAA","signature":""}}`),
		bytes.ReplaceAll(valid, []byte(`"type":"public-key"`), []byte(`"type":1`)), nil} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, resp []byte) {
		_, cer, err := e.svc.BeginWebAuthnLogin(ctx, token, testOrigin)
		ok(t, err)
		_, err = e.svc.CompleteLoginWebAuthn(ctx, token, cer, resp)
		if err == nil {
			t.Fatalf("signed in with %q (a response to another challenge)", resp)
		}
		if c := twofactor.CodeOf(err); c != twofactor.CodeInvalidCode {
			t.Fatalf("response %q: %v", resp, err)
		}
	})
}

// FuzzFinishWebAuthnRegistration: no registration response crashes the
// service or registers a key for another challenge.
func FuzzFinishWebAuthnRegistration(f *testing.F) {
	e, u, _, k := fuzzEnv(f)
	me := twofactor.UserActor(u.ID, e.clock.Now())
	options, _, err := e.svc.BeginWebAuthnRegistration(ctx, me, testOrigin)
	ok(f, err)
	valid := k.createResponse(parseOptions(f, options), ceremonyOpts{origin: testOrigin})
	for _, s := range [][]byte{valid, []byte("{}"), []byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"","attestationObject":"oA"}}`), nil} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, resp []byte) {
		_, cer, err := e.svc.BeginWebAuthnRegistration(ctx, me, testOrigin)
		ok(t, err)
		_, err = e.svc.FinishWebAuthnRegistration(ctx, me, cer, resp, "")
		if err == nil {
			t.Fatalf("registered a key with %q (a response to another challenge)", resp)
		}
		switch twofactor.CodeOf(err) {
		case twofactor.CodeInvalidCode, twofactor.CodeValidationFailed, twofactor.CodeConflict:
		default:
			t.Fatalf("response %q: %v", resp, err)
		}
	})
}

// TestWebAuthnCleanup: expired ceremonies are removed by Cleanup.
func TestWebAuthnCleanup(t *testing.T) {
	e := webauthnEnv(t, testRP)
	u := e.user(t, "alice")
	_, _, err := e.svc.BeginWebAuthnRegistration(ctx, twofactor.UserActor(u.ID, e.clock.Now()), testOrigin)
	ok(t, err)
	r, err := e.svc.Cleanup(ctx)
	ok(t, err)
	if r.Ceremonies != 0 {
		t.Fatalf("removed %d live ceremonies", r.Ceremonies)
	}
	e.clock.Add(twofactor.WebAuthnCeremonyTTL)
	r, err = e.svc.Cleanup(ctx)
	ok(t, err)
	if r.Ceremonies != 1 {
		t.Fatalf("removed %d expired ceremonies, want 1", r.Ceremonies)
	}
}
