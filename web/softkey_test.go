package web

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"regexp"
	"testing"

	"github.com/twofactor/twofactor/internal/softkey"
)

// A software authenticator for the page tests: an ECDSA P-256 key (from
// internal/softkey, written independently of the WebAuthn library the
// service uses) that answers the options a page embeds the way a browser
// would hand the credential to the page's script (JSON, binary members in
// base64url).

var b64url = base64.RawURLEncoding

// softKey is one credential of a software authenticator.
type softKey struct {
	id    []byte
	priv  *ecdsa.PrivateKey
	count uint32 // the signature count of the next assertion
}

func newSoftKey(t testing.TB) *softKey {
	t.Helper()
	k, err := softkey.New()
	if err != nil {
		t.Fatal(err)
	}
	return &softKey{id: k.ID, priv: k.Priv, count: 1}
}

// key is the credential as internal/softkey has it.
func (k *softKey) key() *softkey.Key { return &softkey.Key{ID: k.id, Priv: k.priv} }

// credID is the key's credential id as the pages and devices show it.
func (k *softKey) credID() string { return b64url.EncodeToString(k.id) }

// pkOptions is what the tests read from a page's options.
type pkOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		RPID               string `json:"rpId"`
		ExcludeCredentials []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func parseOptions(t testing.TB, options string) pkOptions {
	t.Helper()
	var o pkOptions
	if err := json.Unmarshal([]byte(options), &o); err != nil {
		t.Fatalf("options %q: %v", options, err)
	}
	return o
}

var errExcluded = errors.New("InvalidStateError: the authenticator is excluded")

// testPageOrigin is the origin of the pages in the handler tests (the
// requests' Host is example.com, over plain HTTP).
const testPageOrigin = "http://example.com"

// create answers creation options as navigator.credentials.create would
// on the test pages, refusing a key the options exclude.
func (k *softKey) create(t testing.TB, options string) (string, error) {
	t.Helper()
	o := parseOptions(t, options)
	for _, ex := range o.PublicKey.ExcludeCredentials {
		if ex.ID == k.credID() {
			return "", errExcluded
		}
	}
	return k.createFor(o, testPageOrigin), nil
}

// createFor makes a registration response whatever the exclusions.
func (k *softKey) createFor(o pkOptions, origin string) string {
	clientData, _ := json.Marshal(map[string]any{"type": "webauthn.create", "challenge": o.PublicKey.Challenge, "origin": origin})
	ad := softkey.AuthData(o.PublicKey.RP.ID, softkey.FlagUP|softkey.FlagAT, 0, k.key().Attested([16]byte{}))
	att := softkey.CBOR(softkey.Map{"fmt": "none", "attStmt": softkey.Map{}, "authData": ad})
	resp, _ := json.Marshal(map[string]any{
		"id": k.credID(), "rawId": k.credID(), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64url.EncodeToString(clientData),
			"attestationObject": b64url.EncodeToString(att),
			"transports":        []string{"usb"},
		},
		"clientExtensionResults": map[string]any{},
	})
	return string(resp)
}

// get answers request options as navigator.credentials.get would with
// this key, from the test pages' origin.
func (k *softKey) get(t testing.TB, options string) string {
	t.Helper()
	o := parseOptions(t, options)
	clientData, _ := json.Marshal(map[string]any{"type": "webauthn.get", "challenge": o.PublicKey.Challenge, "origin": testPageOrigin})
	ad := softkey.AuthData(o.PublicKey.RPID, softkey.FlagUP, k.count, nil)
	k.count++
	sig, err := k.key().Sign(ad, clientData)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := json.Marshal(map[string]any{
		"id": k.credID(), "rawId": k.credID(), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64url.EncodeToString(clientData),
			"authenticatorData": b64url.EncodeToString(ad),
			"signature":         b64url.EncodeToString(sig),
		},
		"clientExtensionResults": map[string]any{},
	})
	return string(resp)
}

var optionsRE = regexp.MustCompile(`data-options="([^"]*)"`)

// optionsOf returns the ceremony options a page embeds ("" when none).
func optionsOf(r *resp) string {
	m := optionsRE.FindStringSubmatch(r.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}
