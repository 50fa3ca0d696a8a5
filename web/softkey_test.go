package web

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"sort"
	"testing"
)

// A software authenticator for the page tests: an ECDSA P-256 key that
// answers the options a page embeds the way a browser would hand the
// credential to the page's script (JSON, binary members in base64url).
// Its CBOR and COSE encodings are written here, independently of the
// WebAuthn library the service uses.

var b64url = base64.RawURLEncoding

// cbor encodes the CBOR items WebAuthn needs: integers, byte and text
// strings, and maps in canonical key order.
func cbor(v any) []byte {
	var b bytes.Buffer
	cborTo(&b, v)
	return b.Bytes()
}

func cborHead(b *bytes.Buffer, major byte, n uint64) {
	switch {
	case n < 24:
		b.WriteByte(major<<5 | byte(n))
	case n < 1<<8:
		b.WriteByte(major<<5 | 24)
		b.WriteByte(byte(n))
	case n < 1<<16:
		b.WriteByte(major<<5 | 25)
		b.Write(binary.BigEndian.AppendUint16(nil, uint16(n)))
	default:
		b.WriteByte(major<<5 | 26)
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(n)))
	}
}

// cborMap is a map with int or string keys.
type cborMap map[any]any

func cborTo(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case int:
		if x >= 0 {
			cborHead(b, 0, uint64(x))
		} else {
			cborHead(b, 1, uint64(-1-x))
		}
	case []byte:
		cborHead(b, 2, uint64(len(x)))
		b.Write(x)
	case string:
		cborHead(b, 3, uint64(len(x)))
		b.WriteString(x)
	case cborMap:
		type kv struct{ k, v []byte }
		var kvs []kv
		for k, val := range x {
			kvs = append(kvs, kv{cbor(k), cbor(val)})
		}
		sort.Slice(kvs, func(i, j int) bool {
			if len(kvs[i].k) != len(kvs[j].k) {
				return len(kvs[i].k) < len(kvs[j].k)
			}
			return bytes.Compare(kvs[i].k, kvs[j].k) < 0
		})
		cborHead(b, 5, uint64(len(kvs)))
		for _, e := range kvs {
			b.Write(e.k)
			b.Write(e.v)
		}
	default:
		panic(fmt.Sprintf("cbor: unsupported %T", v))
	}
}

// softKey is one credential of a software authenticator.
type softKey struct {
	id    []byte
	priv  *ecdsa.PrivateKey
	count uint32 // the signature count of the next assertion
}

func newSoftKey(t testing.TB) *softKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		t.Fatal(err)
	}
	return &softKey{id: id, priv: priv, count: 1}
}

// credID is the key's credential id as the pages and devices show it.
func (k *softKey) credID() string { return b64url.EncodeToString(k.id) }

func (k *softKey) cose() []byte {
	pub, err := k.priv.PublicKey.ECDH()
	if err != nil {
		panic(err)
	}
	raw := pub.Bytes()
	return cbor(cborMap{1: 2, 3: -7, -1: 1, -2: raw[1:33], -3: raw[33:65]})
}

func authData(rpID string, flags byte, count uint32, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, count)
	return append(out, attested...)
}

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
	attested := append(make([]byte, 16), binary.BigEndian.AppendUint16(nil, uint16(len(k.id)))...)
	attested = append(append(attested, k.id...), k.cose()...)
	ad := authData(o.PublicKey.RP.ID, 0x41, 0, attested)
	att := cbor(cborMap{"fmt": "none", "attStmt": cborMap{}, "authData": ad})
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
	ad := authData(o.PublicKey.RPID, 0x01, k.count, nil)
	k.count++
	h := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte(nil), ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
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
