package twofactor_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/internal/softkey"
)

// A software authenticator for the tests: an ECDSA P-256 key (from
// internal/softkey, written independently of the WebAuthn library the
// service uses, so each checks the other) that makes registration and
// assertion responses the way a browser hands them to the server (the
// PublicKeyCredential JSON, binary members in base64url).

// cborMap is a CBOR map with int or string keys (see softkey.CBOR).
type cborMap = softkey.Map

var b64 = base64.RawURLEncoding

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUP = softkey.FlagUP // user present
	flagUV = softkey.FlagUV // user verified
	flagAT = softkey.FlagAT // attested credential data included
)

// softKey is one credential of a software authenticator.
type softKey struct {
	id    []byte
	priv  *ecdsa.PrivateKey
	count uint32 // the signature count of the next assertion (see next)
	// fixed keeps the count at its value (an authenticator without a
	// counter reports 0 every time); otherwise it goes up by one per
	// assertion.
	fixed  bool
	aaguid [16]byte
}

func newSoftKey(t testing.TB) *softKey {
	t.Helper()
	k, err := softkey.New()
	if err != nil {
		t.Fatal(err)
	}
	return &softKey{id: k.ID, priv: k.Priv, aaguid: [16]byte{0xaa, 1, 2, 3}}
}

// key is the credential as internal/softkey has it.
func (k *softKey) key() *softkey.Key { return &softkey.Key{ID: k.id, Priv: k.priv} }

// publicKeyOptions is what the tests read from the options the service
// returns for navigator.credentials.create and .get.
type publicKeyOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"rp"`
		RPID string `json:"rpId"`
		User struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"user"`
		ExcludeCredentials []credentialDescriptor `json:"excludeCredentials"`
		AllowCredentials   []credentialDescriptor `json:"allowCredentials"`
		UserVerification   string                 `json:"userVerification"`
		Attestation        string                 `json:"attestation"`
		Selection          struct {
			Attachment       string `json:"authenticatorAttachment"`
			RequireResident  *bool  `json:"requireResidentKey"`
			UserVerification string `json:"userVerification"`
		} `json:"authenticatorSelection"`
	} `json:"publicKey"`
}

type credentialDescriptor struct {
	Type       string   `json:"type"`
	ID         string   `json:"id"`
	Transports []string `json:"transports"`
}

func parseOptions(t testing.TB, options []byte) publicKeyOptions {
	t.Helper()
	var o publicKeyOptions
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatalf("options %s: %v", options, err)
	}
	return o
}

// ceremonyOpts alter what the authenticator (or the browser around it)
// reports, to make responses that must be refused.
type ceremonyOpts struct {
	origin    string // the origin in the client data (the browser's)
	rpID      string // the RP id hashed into the authenticator data ("" = the options')
	challenge string // "" = the options'
	typ       string // client data type ("" = the right one)
	flags     byte   // 0 = user present (+ attested data on create)
	handle    []byte // userHandle in an assertion
	// attestation, when set, replaces fmt "none": it returns fmt and
	// attStmt for the authenticator data and client data hash.
	attestation func(authData, clientDataHash []byte) (string, cborMap)
}

var errExcluded = errors.New("InvalidStateError: the authenticator is excluded")

// create answers creation options as navigator.credentials.create would,
// refusing (like a browser) when the key is in excludeCredentials.
func (k *softKey) create(t testing.TB, options []byte, o ceremonyOpts) ([]byte, error) {
	t.Helper()
	opts := parseOptions(t, options)
	for _, ex := range opts.PublicKey.ExcludeCredentials {
		if ex.ID == b64.EncodeToString(k.id) {
			return nil, errExcluded
		}
	}
	return k.createResponse(opts, o), nil
}

// createResponse makes a registration response whatever the exclusions.
func (k *softKey) createResponse(opts publicKeyOptions, o ceremonyOpts) []byte {
	challenge, rpID, typ, flags := opts.PublicKey.Challenge, opts.PublicKey.RP.ID, "webauthn.create", byte(flagUP|flagAT)
	if o.challenge != "" {
		challenge = o.challenge
	}
	if o.rpID != "" {
		rpID = o.rpID
	}
	if o.typ != "" {
		typ = o.typ
	}
	if o.flags != 0 {
		flags = o.flags
	}
	clientData, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": o.origin, "crossOrigin": false})
	ad := softkey.AuthData(rpID, flags, k.count, k.key().Attested(k.aaguid))
	format, stmt := "none", cborMap{}
	if o.attestation != nil {
		h := sha256.Sum256(clientData)
		format, stmt = o.attestation(ad, h[:])
	}
	att := softkey.CBOR(cborMap{"fmt": format, "attStmt": stmt, "authData": ad})
	resp, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"usb", "nfc"},
		},
		"clientExtensionResults": map[string]any{},
	})
	return resp
}

// get answers request options as navigator.credentials.get would with
// this key (whether or not the options allow it: a test may need a
// response the browser would not have made).
func (k *softKey) get(t testing.TB, options []byte, o ceremonyOpts) []byte {
	t.Helper()
	opts := parseOptions(t, options)
	challenge, rpID, typ, flags := opts.PublicKey.Challenge, opts.PublicKey.RPID, "webauthn.get", byte(flagUP)
	if o.challenge != "" {
		challenge = o.challenge
	}
	if o.rpID != "" {
		rpID = o.rpID
	}
	if o.typ != "" {
		typ = o.typ
	}
	if o.flags != 0 {
		flags = o.flags
	}
	clientData, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": o.origin, "crossOrigin": false})
	ad := softkey.AuthData(rpID, flags, k.count, nil)
	if !k.fixed {
		k.count++
	}
	sig, err := k.key().Sign(ad, clientData)
	if err != nil {
		t.Fatal(err)
	}
	response := map[string]any{
		"clientDataJSON":    b64.EncodeToString(clientData),
		"authenticatorData": b64.EncodeToString(ad),
		"signature":         b64.EncodeToString(sig),
	}
	if o.handle != nil {
		response["userHandle"] = b64.EncodeToString(o.handle)
	}
	resp, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": response, "clientExtensionResults": map[string]any{},
	})
	return resp
}

// webauthnEnv is env with WebAuthn configured.
func webauthnEnv(t testing.TB, cfg twofactor.WebAuthnConfig, tweak ...func(*twofactor.Options)) *env {
	t.Helper()
	e := newEnv(t, tweak...)
	opts := twofactor.DefaultOptions()
	opts.Issuer = "example.com"
	opts.Password = cheapPasswords
	for _, f := range tweak {
		f(&opts)
	}
	svc, err := twofactor.New(twofactor.Config{Store: e.store, Keys: e.keys, Options: opts, Clock: e.clock, WebAuthn: &cfg,
		Hooks: []twofactor.Hook{func(_ context.Context, ev twofactor.Event) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.events = append(e.events, ev)
		}}})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

const testOrigin = "https://example.com"

// register registers k for the user through the service, from origin.
func (e *env) register(t testing.TB, u *twofactor.User, k *softKey, origin string) *twofactor.Confirmation {
	t.Helper()
	options, cer, err := e.svc.BeginWebAuthnRegistration(ctx, twofactor.UserActor(u.ID, e.clock.Now()), origin)
	ok(t, err)
	resp, err := k.create(t, options, ceremonyOpts{origin: origin})
	ok(t, err)
	c, err := e.svc.FinishWebAuthnRegistration(ctx, twofactor.UserActor(u.ID, e.clock.Now()), cer, resp, "")
	ok(t, err)
	return c
}

// loginToken starts a sign-in for u (the password step done).
func (e *env) loginToken(t testing.TB, u *twofactor.User) string {
	t.Helper()
	r, err := e.svc.BeginLogin(ctx, u)
	ok(t, err)
	if !r.MFARequired {
		t.Fatal("two-factor is off")
	}
	return r.Token
}

// assertLogin runs one WebAuthn sign-in step for the login token with k
// and the options o (origin testOrigin unless set).
func (e *env) assertLogin(t testing.TB, token string, k *softKey, o ceremonyOpts) (*twofactor.LoginResult, error) {
	t.Helper()
	if o.origin == "" {
		o.origin = testOrigin
	}
	options, cer, err := e.svc.BeginWebAuthnLogin(ctx, token, testOrigin)
	ok(t, err)
	return e.svc.CompleteLoginWebAuthn(ctx, token, cer, k.get(t, options, o))
}

// certFor parses a DER certificate or fails the test.
func certFor(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
