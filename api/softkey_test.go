package api

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/internal/softkey"
)

// A software authenticator for the API tests, as the core's tests build
// one (webauthn_helpers_test.go there): an ECDSA P-256 key (from
// internal/softkey, written independently of the WebAuthn library the core
// uses) that answers the options the API returns with the credential JSON
// a browser's PublicKeyCredential.toJSON() gives.

var b64 = base64.RawURLEncoding

// softKey is one credential of a software authenticator. Its signature
// count is reported, then goes up by one, at every registration and
// assertion; a copy of a softKey is a cloned authenticator.
type softKey struct {
	id    []byte
	priv  *ecdsa.PrivateKey
	count uint32
}

func newSoftKey(t testing.TB) *softKey {
	t.Helper()
	k, err := softkey.New()
	if err != nil {
		t.Fatal(err)
	}
	return &softKey{id: k.ID, priv: k.Priv}
}

// key is the credential as internal/softkey has it.
func (k *softKey) key() *softkey.Key { return &softkey.Key{ID: k.id, Priv: k.priv} }

// keyOptions is what the tests read from the public_key of an options
// answer.
type keyOptions struct {
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
	ExcludeCredentials []keyDescriptor `json:"excludeCredentials"`
	AllowCredentials   []keyDescriptor `json:"allowCredentials"`
}

type keyDescriptor struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ids lists the credential ids of descriptors.
func ids(ds []keyDescriptor) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// clientData is the client data JSON a browser at origin makes.
func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// create answers creation options as navigator.credentials.create at
// origin would (excluded credentials are not refused here: a test may need
// the response a browser would not make).
func (k *softKey) create(o keyOptions, origin string) json.RawMessage {
	cd := clientData("webauthn.create", o.Challenge, origin)
	ad := softkey.AuthData(o.RP.ID, softkey.FlagUP|softkey.FlagAT, k.count, k.key().Attested([16]byte{}))
	att := softkey.CBOR(softkey.Map{"fmt": "none", "attStmt": softkey.Map{}, "authData": ad})
	k.count++
	resp, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"usb"},
		},
		"authenticatorAttachment": "cross-platform",
		"clientExtensionResults":  map[string]any{},
	})
	return resp
}

// get answers request options as navigator.credentials.get at origin
// would with this key, whether or not the options allow it.
func (k *softKey) get(t testing.TB, o keyOptions, origin string) json.RawMessage {
	t.Helper()
	cd := clientData("webauthn.get", o.Challenge, origin)
	ad := softkey.AuthData(o.RPID, softkey.FlagUP, k.count, nil)
	k.count++
	sig, err := k.key().Sign(ad, cd)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
		},
		"authenticatorAttachment": "cross-platform",
		"clientExtensionResults":  map[string]any{},
	})
	return resp
}

// ---- the harness with WebAuthn --------------------------------------------

// withWebAuthn configures a relying party for the test server: RP id
// localhost, the server's origin the one accepted.
func withWebAuthn(c *twofactor.Config, h *harness) {
	c.WebAuthn = &twofactor.WebAuthnConfig{RPName: "Example", RPID: "localhost", Origins: []string{h.origin}}
}

// withWebAuthnFromRequest configures a relying party without origins: a
// ceremony is for the origin of its request.
func withWebAuthnFromRequest(c *twofactor.Config, _ *harness) {
	c.WebAuthn = &twofactor.WebAuthnConfig{RPName: "Example", RPID: "localhost"}
}

// noKeyThrottle turns the backoffs off, for tests that send several
// refused responses in a row and are not about throttling.
func noKeyThrottle(o *twofactor.Options) {
	o.UserThrottle = 0
	o.Throttle = map[twofactor.Kind]time.Duration{twofactor.KindWebAuthn: 0}
}

// fromOrigin is the header of a request a page at origin makes.
func fromOrigin(origin string) http.Header { return http.Header{"Origin": {origin}} }

// begin asks path (an options endpoint) for a ceremony from the test
// server's origin and returns its token and options.
func (h *harness) begin(path, token string, body any) (string, keyOptions) {
	h.t.Helper()
	r := h.do(req{method: "POST", path: path, token: token, body: body, header: fromOrigin(h.origin)})
	want(h.t, r, 200, "")
	return h.ceremonyOf(r)
}

// ceremonyOf reads an options answer.
func (h *harness) ceremonyOf(r *resp) (string, keyOptions) {
	h.t.Helper()
	var v struct {
		Ceremony  string     `json:"ceremony"`
		PublicKey keyOptions `json:"public_key"`
	}
	if err := json.Unmarshal(r.raw, &v); err != nil || v.Ceremony == "" || v.PublicKey.Challenge == "" {
		h.t.Fatalf("options answer %s: %v", r, err)
	}
	return v.Ceremony, v.PublicKey
}

// addKey registers k for the token's user through the API and returns the
// answer.
func (h *harness) addKey(token string, k *softKey, name string) *resp {
	h.t.Helper()
	cer, o := h.begin("/api/v1/mfa/webauthn/options", token, nil)
	body := map[string]any{"ceremony": cer, "credential": k.create(o, h.origin)}
	if name != "" {
		body["name"] = name
	}
	r := h.post("/api/v1/mfa/webauthn/register", token, body)
	want(h.t, r, 201, "")
	return r
}

// keyLogin signs the user in with the key and returns the answer of
// login/webauthn/verify.
func (h *harness) keyLogin(name string, k *softKey) *resp {
	h.t.Helper()
	mt, _ := h.mfaToken(name)
	cer, o := h.begin("/api/v1/login/webauthn/options", "", map[string]any{"mfa_token": mt})
	return h.post("/api/v1/login/webauthn/verify", "", map[string]any{"mfa_token": mt, "ceremony": cer, "credential": k.get(h.t, o, h.origin)})
}

// wantCeremonyExpired fails unless r says that the ceremony is gone (410
// expired, reason and field ceremony).
func wantCeremonyExpired(t testing.TB, r *resp) {
	t.Helper()
	want(t, r, 410, "expired")
	if r.str("reason") != twofactor.ReasonCeremony || r.str("field") != "ceremony" {
		t.Fatalf("an expired ceremony without its reason: %s", r)
	}
}

// wantField fails unless r is the problem with the code naming field.
func wantField(t testing.TB, r *resp, status int, code, field string) {
	t.Helper()
	want(t, r, status, code)
	if r.str("field") != field {
		t.Fatalf("field %q, want %q: %s", r.str("field"), field, r)
	}
}
