// Package softkey is a software WebAuthn authenticator for tests: an ECDSA
// P-256 credential with the CBOR, COSE_Key and authenticator-data encodings
// an authenticator produces. It is written independently of the WebAuthn
// library the service uses, so that each checks the other; the tests build
// the credential JSON a browser hands over (and any bad variants) on top of
// it.
package softkey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sort"
)

// Authenticator data flags (WebAuthn §6.1).
const (
	FlagUP = 0x01 // user present
	FlagUV = 0x04 // user verified
	FlagAT = 0x40 // attested credential data included
)

// Map is a CBOR map with keys of type int or string; CBOR writes it in
// canonical key order.
type Map map[any]any

// CBOR encodes the few CBOR items WebAuthn needs: unsigned and negative
// integers (int), byte strings ([]byte), text strings (string), arrays
// ([]any) and maps (Map). It panics on any other type.
func CBOR(v any) []byte {
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
	case []any:
		cborHead(b, 4, uint64(len(x)))
		for _, e := range x {
			cborTo(b, e)
		}
	case Map:
		type kv struct{ k, v []byte }
		var kvs []kv
		for k, val := range x {
			kvs = append(kvs, kv{CBOR(k), CBOR(val)})
		}
		// Canonical CBOR (RFC 7049 §3.9): shorter keys first, then bytewise.
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

// Key is one credential of a software authenticator. The signature count
// is left to the caller, which reports it in AuthData.
type Key struct {
	ID   []byte            // the credential id (32 random bytes from New)
	Priv *ecdsa.PrivateKey // the credential's P-256 private key
}

// New makes a credential with a fresh P-256 key and a random 32-byte id.
func New() (*Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	return &Key{ID: id, Priv: priv}, nil
}

// COSE is the credential public key as a COSE_Key (EC2, ES256, P-256).
func (k *Key) COSE() []byte {
	pub, err := k.Priv.PublicKey.ECDH()
	if err != nil {
		panic(err)
	}
	raw := pub.Bytes() // 0x04 | X | Y
	return CBOR(Map{1: 2, 3: -7, -1: 1, -2: raw[1:33], -3: raw[33:65]})
}

// Attested is the attested credential data of the key (WebAuthn §6.5.1):
// the authenticator's AAGUID, the length of the credential id, the id and
// the public key as a COSE_Key.
func (k *Key) Attested(aaguid [16]byte) []byte {
	out := append([]byte(nil), aaguid[:]...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(k.ID)))
	out = append(out, k.ID...)
	return append(out, k.COSE()...)
}

// Sign is the assertion signature (ES256, ASN.1 DER) over authData
// followed by the SHA-256 hash of clientData, as an authenticator makes it
// for navigator.credentials.get.
func (k *Key) Sign(authData, clientData []byte) ([]byte, error) {
	h := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte(nil), authData...), h[:]...))
	return ecdsa.SignASN1(rand.Reader, k.Priv, digest[:])
}

// AuthData is the authenticator data for rpID: the SHA-256 hash of rpID,
// flags, the signature count and then attested (the attested credential
// data, or nil for an assertion).
func AuthData(rpID string, flags byte, count uint32, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, count)
	return append(out, attested...)
}
