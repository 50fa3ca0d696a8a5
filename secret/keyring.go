package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
)

// Errors returned by [Keyring.Open] and [Keyring.Reseal]. They never carry
// the ciphertext or the plaintext.
var (
	// ErrMalformed means the value is not a ciphertext of a known format:
	// too short, truncated or of an unknown version.
	ErrMalformed = errors.New("secret: malformed ciphertext")

	// ErrUnknownKey means the value was sealed under a key that is neither
	// the current key nor one of the old keys of the keyring (a key was
	// dropped from secret_keys_old too early, or the database belongs to
	// another installation).
	ErrUnknownKey = errors.New("secret: ciphertext sealed under an unknown key")

	// ErrDecrypt means authentication failed: the value was modified, or it
	// belongs to another table, column or row than the one given.
	ErrDecrypt = errors.New("secret: ciphertext failed authentication")
)

// Ciphertext format, version 1:
//
//	version (1 byte, = 1) ‖ key id (4 bytes) ‖ nonce (12 bytes) ‖ AES-256-GCM ciphertext and 16-byte tag
//
// The first 5 bytes (the header) are authenticated along with the encoded
// [AAD], so changing the version or the key id fails authentication too.
const (
	formatV1    = 1
	idSize      = 4
	headerSize  = 1 + idSize
	nonceSize   = 12
	tagSize     = 16
	overheadV1  = headerSize + nonceSize + tagSize
	subkeySize  = 32
	keyIDLabel  = "twofactor key id v1"
	aeadInfo    = "twofactor/v1/aead/aes-256-gcm"
	hashInfoPfx = "twofactor/v1/hash/"
)

// HashSize is the length of a keyed hash returned by [Keyring.Hash]: a 4-byte
// key id followed by an HMAC-SHA256.
const HashSize = idSize + sha256.Size

// keyID is the first 4 bytes of HMAC-SHA256(key, "twofactor key id v1").
// The id is derived from the key, so it needs no configuration, reveals
// nothing about the key, and the same key always gets the same id.
type keyID [idSize]byte

// entry is one key of a keyring, kept only as derived material: the raw key
// is not retained.
type entry struct {
	id   keyID
	aead cipher.AEAD
	// prk is the HKDF pseudorandom key from which the hash subkeys are
	// expanded, one per purpose.
	prk []byte
	// hashKeys caches subkeys by purpose (string → []byte). Purposes are
	// constants of the calling code, so the cache stays small.
	hashKeys sync.Map
}

// Keyring holds the current secret key and any older keys still needed to
// read values sealed before a key rotation. It seals and hashes with the
// current key and opens with whichever key a value names.
//
// Independent subkeys are derived from each key with HKDF-SHA256: one for
// AES-256-GCM and one per hash purpose, so that no two uses share a key (a
// hash could otherwise be replayed as, or reveal something about, another
// kind of value).
//
// A Keyring is immutable after [NewKeyring] and safe for concurrent use.
type Keyring struct {
	current *entry
	// all holds the current key first, then the old keys in the order given.
	all []*entry
}

// NewKeyring returns a keyring that seals and hashes with current and can
// also open values sealed under any of old (the secret_keys_old of the
// configuration). Each key must be [KeySize] bytes. Old keys equal to current
// or to one another are dropped silently. The keys are not retained: the
// caller may clear them afterwards.
func NewKeyring(current []byte, old ...[]byte) (*Keyring, error) {
	cur, err := newEntry(current)
	if err != nil {
		return nil, fmt.Errorf("current secret key: %w", err)
	}
	k := &Keyring{current: cur, all: []*entry{cur}}
	for i, key := range old {
		e, err := newEntry(key)
		if err != nil {
			return nil, fmt.Errorf("old secret key %d: %w", i+1, err)
		}
		if other := k.find(e.id); other != nil {
			// Either the same key listed again (dropped silently), or two
			// different keys whose ids collide (probability 2^-32), which
			// would make Open ambiguous. Tell them apart by a value derived
			// from the key, since raw keys are not kept.
			if !Equal(other.prk, e.prk) {
				return nil, fmt.Errorf("old secret key %d has the same key id as another key; generate a new key", i+1)
			}
			continue
		}
		k.all = append(k.all, e)
	}
	return k, nil
}

// newEntry derives the material of one key.
func newEntry(key []byte) (*entry, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("must be %d bytes, got %d", KeySize, len(key))
	}
	if isZero(key) {
		return nil, errors.New("is all zeros, a placeholder")
	}
	e := &entry{}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(keyIDLabel))
	copy(e.id[:], mac.Sum(nil))

	prk, err := hkdf.Extract(sha256.New, key, nil)
	if err != nil {
		return nil, fmt.Errorf("derive keys: %w", err)
	}
	e.prk = prk
	aeadKey, err := hkdf.Expand(sha256.New, prk, aeadInfo, subkeySize)
	if err != nil {
		return nil, fmt.Errorf("derive encryption key: %w", err)
	}
	block, err := aes.NewCipher(aeadKey)
	clear(aeadKey)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	e.aead, err = cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return e, nil
}

// find returns the key with the given id, or nil.
func (k *Keyring) find(id keyID) *entry {
	for _, e := range k.all {
		if e.id == id {
			return e
		}
	}
	return nil
}

// ID returns the id of the current key as 8 hexadecimal characters. It is
// safe to log and show: it identifies the key without revealing it.
func (k *Keyring) ID() string {
	return hex.EncodeToString(k.current.id[:])
}

// IDs returns the ids of every key of the keyring, current first.
func (k *Keyring) IDs() []string {
	ids := make([]string, len(k.all))
	for i, e := range k.all {
		ids[i] = hex.EncodeToString(e.id[:])
	}
	return ids
}

// Seal encrypts plaintext with the current key for storage in the place aad
// names, and returns version ‖ key id ‖ nonce ‖ ciphertext and tag.
//
// The nonce is 12 bytes from crypto/rand; random nonces are safe for far more
// values (about 2^32 per key) than a two-factor database holds.
func (k *Keyring) Seal(plaintext []byte, aad AAD) ([]byte, error) {
	ad, err := aad.encode()
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return k.current.seal(plaintext, ad), nil
}

// seal encrypts under e with the encoded additional data ad.
func (e *entry) seal(plaintext, ad []byte) []byte {
	out := make([]byte, headerSize+nonceSize, overheadV1+len(plaintext))
	out[0] = formatV1
	copy(out[1:headerSize], e.id[:])
	// crypto/rand.Read never returns an error (it aborts the program
	// instead), so a nonce can never silently be zero and be reused.
	rand.Read(out[headerSize:])
	nonce := out[headerSize : headerSize+nonceSize]
	return e.aead.Seal(out, nonce, plaintext, additionalData(out[:headerSize], ad))
}

// additionalData is what GCM authenticates besides the ciphertext: the
// header (version and key id) followed by the encoded AAD.
func additionalData(header, ad []byte) []byte {
	b := make([]byte, 0, len(header)+len(ad))
	b = append(b, header...)
	return append(b, ad...)
}

// header validates the framing of a sealed value and returns the key id it
// names. It never panics, whatever the input.
func header(ciphertext []byte) (keyID, error) {
	var id keyID
	if len(ciphertext) < 1 {
		return id, fmt.Errorf("%w: empty", ErrMalformed)
	}
	if ciphertext[0] != formatV1 {
		return id, fmt.Errorf("%w: unknown format version %d", ErrMalformed, ciphertext[0])
	}
	if len(ciphertext) < overheadV1 {
		return id, fmt.Errorf("%w: %d bytes, at least %d expected", ErrMalformed, len(ciphertext), overheadV1)
	}
	copy(id[:], ciphertext[1:headerSize])
	return id, nil
}

// Open authenticates and decrypts a value made by [Keyring.Seal], with
// whichever key of the keyring sealed it, and returns the plaintext. aad must
// name the same table, column and row as when the value was sealed: a
// ciphertext copied to another row or column by someone with write access
// to the database (to give their account another user's TOTP key, say)
// fails with [ErrDecrypt].
//
// Errors: [ErrMalformed] for a value that is not a ciphertext,
// [ErrUnknownKey] for one sealed under a key the keyring does not have,
// [ErrDecrypt] for one that was modified or belongs elsewhere.
func (k *Keyring) Open(ciphertext []byte, aad AAD) ([]byte, error) {
	ad, err := aad.encode()
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	id, err := header(ciphertext)
	if err != nil {
		return nil, err
	}
	e := k.find(id)
	if e == nil {
		return nil, fmt.Errorf("%w (key id %s)", ErrUnknownKey, hex.EncodeToString(id[:]))
	}
	nonce := ciphertext[headerSize : headerSize+nonceSize]
	plaintext, err := e.aead.Open(nil, nonce, ciphertext[headerSize+nonceSize:], additionalData(ciphertext[:headerSize], ad))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plaintext, nil
}

// NeedsRotation reports whether ciphertext is a well-formed value sealed
// under a key other than the current one, so that a rotation job should pass
// it to [Keyring.Reseal]. It does not authenticate the value. It is false for
// values sealed under the current key and for malformed values (which no
// rotation can repair).
func (k *Keyring) NeedsRotation(ciphertext []byte) bool {
	id, err := header(ciphertext)
	return err == nil && id != k.current.id
}

// Reseal opens ciphertext (sealed under any key of the keyring) and seals its
// plaintext again under the current key for the same aad. Rotation: once
// every stored value has been resealed, the old key can be removed from
// secret_keys_old. The value is authenticated first, so a forged value is
// never blessed with a valid seal.
func (k *Keyring) Reseal(ciphertext []byte, aad AAD) ([]byte, error) {
	plaintext, err := k.Open(ciphertext, aad)
	if err != nil {
		return nil, fmt.Errorf("reseal: %w", err)
	}
	defer clear(plaintext)
	return k.Seal(plaintext, aad)
}

// hashKey returns the HMAC key of e for purpose.
func (e *entry) hashKey(purpose string) []byte {
	if v, ok := e.hashKeys.Load(purpose); ok {
		return v.([]byte)
	}
	// Expand cannot fail for a 32-byte output of SHA-256.
	sub, err := hkdf.Expand(sha256.New, e.prk, hashInfoPfx+purpose, subkeySize)
	if err != nil {
		panic("secret: hkdf expand: " + err.Error())
	}
	v, _ := e.hashKeys.LoadOrStore(purpose, sub)
	return v.([]byte)
}

// hash computes key id ‖ HMAC-SHA256(hash subkey for purpose, data).
func (e *entry) hash(purpose string, data []byte) []byte {
	mac := hmac.New(sha256.New, e.hashKey(purpose))
	mac.Write(data)
	out := make([]byte, idSize, HashSize)
	copy(out, e.id[:])
	return mac.Sum(out)
}

// checkPurpose panics on an empty purpose: purposes are constants of the
// calling code, so an empty one is a programming error, and two callers
// sharing it would lose the separation purposes exist for.
func checkPurpose(purpose string) {
	if purpose == "" {
		panic("secret: hash purpose must not be empty")
	}
}

// Hash returns a keyed hash of data for the given purpose under the current
// key: the 4-byte key id followed by HMAC-SHA256 with a subkey derived for
// purpose ([HashSize] bytes in all).
//
// Use it to store values that are only ever compared, never read back:
// backup codes, remember-browser secrets, API tokens, login challenge ids. A
// keyed hash, unlike a plain one, cannot be brute-forced from a copy of the
// database without the secret key, which matters for short values such as
// backup codes.
//
// purpose is a short constant chosen by the caller, such as "backup-code";
// the same data hashed for two purposes gives unrelated values, so a hash
// stored for one kind of secret can never be presented as another kind.
// Hash panics if purpose is empty.
//
// During a key rotation, look values up with [Keyring.Hashes].
func (k *Keyring) Hash(purpose string, data []byte) []byte {
	checkPurpose(purpose)
	return k.current.hash(purpose, data)
}

// Hashes returns the keyed hash of data for purpose under every key of the
// keyring, current key first. A store looks a value up with all of them
// (WHERE hash IN (…)) so that values hashed before a rotation are still
// found; it can then store the current hash ([Keyring.Hash]) in their place.
// Hashes panics if purpose is empty.
func (k *Keyring) Hashes(purpose string, data []byte) [][]byte {
	checkPurpose(purpose)
	out := make([][]byte, len(k.all))
	for i, e := range k.all {
		out[i] = e.hash(purpose, data)
	}
	return out
}

// HashKeyID returns the key id (8 hexadecimal characters) that a hash from
// [Keyring.Hash] was made with, and false if h is not such a hash. Stores use
// it to find hashes made under an old key.
func HashKeyID(h []byte) (string, bool) {
	if len(h) != HashSize {
		return "", false
	}
	return hex.EncodeToString(h[:idSize]), true
}

// AAD names where a sealed value is stored. It is authenticated (but not
// encrypted) with the value, binding a ciphertext to its table, column and
// row: a value copied to another row, column or table fails to open. All
// three fields must be non-empty; Row is the row's stable primary key.
//
// Encoding, version 1 (what GCM authenticates after the ciphertext header):
//
//	"twofactor-aad" ‖ 0x00 ‖ 0x01 (version)
//	‖ len(Table) (4 bytes, big endian) ‖ Table
//	‖ len(Column) (4 bytes, big endian) ‖ Column
//	‖ len(Row) (4 bytes, big endian) ‖ Row
//
// The length prefixes make the encoding unambiguous whatever the fields
// contain (with a plain separator, table "a:b" and column "c" would encode as
// table "a" and column "b:c"). A future encoding gets a new version byte, and
// values sealed under the old one stay readable.
type AAD struct {
	Table, Column, Row string
}

// aadTag starts every encoded AAD; the byte after it is the version.
const (
	aadTag = "twofactor-aad\x00"
	aadV1  = 1
)

// encode returns the version 1 encoding of a.
func (a AAD) encode() ([]byte, error) {
	if a.Table == "" || a.Column == "" || a.Row == "" {
		return nil, errors.New("additional data must name a table, a column and a row")
	}
	fields := [3]string{a.Table, a.Column, a.Row}
	n := len(aadTag) + 1
	for _, f := range fields {
		if uint64(len(f)) > 1<<32-1 {
			return nil, errors.New("additional data field too long")
		}
		n += 4 + len(f)
	}
	b := make([]byte, 0, n)
	b = append(b, aadTag...)
	b = append(b, aadV1)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b, nil
}
