package yubikey

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Token geometry.
const (
	// BlockLen is the number of modhex characters that carry the encrypted
	// block at the end of every token.
	BlockLen = 32
	// MaxPublicIDLen is the longest public id, in modhex characters.
	MaxPublicIDLen = 32
	// MinTokenLen and MaxTokenLen bound the length of a token.
	MinTokenLen = BlockLen
	// MaxTokenLen is the length of a token with the longest public id.
	MaxTokenLen = MaxPublicIDLen + BlockLen
)

// Preallocated so that a flood of bad tokens makes no garbage.
var (
	errCRC       = fmt.Errorf("%w: CRC check failed", ErrWrongKey)
	errPrivateID = fmt.Errorf("%w: private id does not match", ErrWrongKey)
)

// crcResidue is what the CRC-16 of a whole valid block (the 14 data bytes
// followed by the stored, complemented CRC) leaves in the register.
const crcResidue = 0xf0b8

// OTP is the plaintext of a Yubico OTP block.
//
// On the wire the 16 bytes are, little-endian: UID (6) | Session (2) |
// Timestamp (3) | SessionUse (1) | Random (2) | CRC-16 (2).
type OTP struct {
	// UID is the device's private id, a secret shared between the device and
	// the server that proves the block was made by this key.
	UID [6]byte
	// Session is the non-volatile usage counter: it grows each time the
	// device is plugged in (and when SessionUse wraps).
	Session uint16
	// Timestamp is the device's 8 Hz clock since power-up, 24 bits.
	Timestamp uint32
	// SessionUse counts OTPs made since the device was plugged in.
	SessionUse uint8
	// Random is filler from the device's generator.
	Random uint16
}

// Counter returns the OTP's monotonic counter, Session<<8 | SessionUse.
//
// Every OTP a device makes has a larger counter than the one before, so a
// server keeps one integer per device and accepts an OTP only when
// Counter() > stored, then stores Counter(). This is exactly
// django-otp-yubikey's rule "reject when session < stored session, or the
// sessions are equal and the use counter <= the stored one" with the pair
// (session, counter) stored as session<<8 | counter. A device that has never
// been used has stored counter 0, as in the seed.
func (o OTP) Counter() int64 { return int64(o.Session)<<8 | int64(o.SessionUse) }

// crc16 is the CRC used by YubiKeys: initial value 0xffff, reflected
// polynomial 0x8408 (CRC-16/ISO-HDLC without the final complement).
func crc16(b []byte) uint16 {
	crc := uint16(0xffff)
	for _, v := range b {
		crc ^= uint16(v)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x8408
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

// marshal lays the OTP out as 16 plaintext bytes with its CRC.
func (o OTP) marshal() [16]byte {
	var b [16]byte
	copy(b[0:6], o.UID[:])
	binary.LittleEndian.PutUint16(b[6:8], o.Session)
	b[8] = byte(o.Timestamp)
	binary.LittleEndian.PutUint16(b[9:11], uint16(o.Timestamp>>8))
	b[11] = o.SessionUse
	binary.LittleEndian.PutUint16(b[12:14], o.Random)
	binary.LittleEndian.PutUint16(b[14:16], ^crc16(b[:14]))
	return b
}

// unmarshal reads 16 plaintext bytes whose CRC has been checked.
func unmarshal(b *[16]byte) OTP {
	var o OTP
	copy(o.UID[:], b[0:6])
	o.Session = binary.LittleEndian.Uint16(b[6:8])
	o.Timestamp = uint32(b[8]) | uint32(binary.LittleEndian.Uint16(b[9:11]))<<8
	o.SessionUse = b[11]
	o.Random = binary.LittleEndian.Uint16(b[12:14])
	return o
}

// Encrypt returns the AES-128 encryption of the OTP's block, CRC included.
// The timestamp is truncated to 24 bits. It is what a YubiKey does; the
// server side needs it only for tests and device simulation.
func Encrypt(o OTP, key [16]byte) [16]byte {
	plain := o.marshal()
	var out [16]byte
	c, err := aes.NewCipher(key[:])
	if err != nil { // cannot happen: the key is 16 bytes
		return out
	}
	c.Encrypt(out[:], plain[:])
	return out
}

// Token returns the token a device with this public id and key would type
// for o: publicID followed by the modhex of Encrypt(o, key). publicID is used
// as given; it should be modhex of at most 32 characters.
func Token(publicID string, o OTP, key [16]byte) string {
	block := Encrypt(o, key)
	return publicID + EncodeModhex(block[:])
}

// Decrypt decrypts one block with the device's AES-128 key and checks its
// CRC. A block that was not made with this key (or was altered) fails the
// CRC check with ErrWrongKey, except with probability 2^-16; callers must
// also compare the private id, as Verify does.
func Decrypt(ciphertext [16]byte, key [16]byte) (OTP, error) {
	c, err := aes.NewCipher(key[:])
	if err != nil { // cannot happen: the key is 16 bytes
		return OTP{}, fmt.Errorf("yubikey: %w", err)
	}
	var plain [16]byte
	c.Decrypt(plain[:], ciphertext[:])
	if crc16(plain[:]) != crcResidue {
		return OTP{}, errCRC
	}
	return unmarshal(&plain), nil
}

// ParseToken splits a token into its public id and encrypted block. The
// token must be modhex (either case) of 32 to 64 characters and even length;
// the last 32 characters are the block and the rest, possibly empty, is the
// public id, returned in lower case. Surrounding spaces are not removed:
// trim input first. Errors wrap ErrMalformed and never quote the token.
func ParseToken(token string) (publicID string, ciphertext [16]byte, err error) {
	n := len(token)
	switch {
	case n < MinTokenLen:
		return "", ciphertext, fmt.Errorf("%w: %d characters, want at least %d", ErrMalformed, n, MinTokenLen)
	case n > MaxTokenLen:
		return "", ciphertext, fmt.Errorf("%w: %d characters, want at most %d", ErrMalformed, n, MaxTokenLen)
	case n%2 != 0:
		return "", ciphertext, fmt.Errorf("%w: %d characters, want an even number", ErrMalformed, n)
	}
	pub := token[:n-BlockLen]
	if i := firstNonModhex(pub); i >= 0 {
		return "", ciphertext, fmt.Errorf("%w: character %d is not modhex", ErrMalformed, i+1)
	}
	if i := decodeModhexInto(ciphertext[:], token[n-BlockLen:]); i >= 0 {
		return "", [16]byte{}, fmt.Errorf("%w: character %d is not modhex", ErrMalformed, n-BlockLen+i+1)
	}
	return lowerASCII(pub), ciphertext, nil
}

// PublicID returns the lower-case public id of a well-formed token, for
// finding the device a token belongs to before verifying it. ok is false
// when the token is malformed (see ParseToken). The id may be empty.
func PublicID(token string) (publicID string, ok bool) {
	pub, _, err := ParseToken(token)
	if err != nil {
		return "", false
	}
	return pub, true
}

// Verify performs the whole local check of a token against a device whose
// public id, private id, AES key and last accepted counter the caller holds:
//
//  1. the token is well formed (else ErrMalformed);
//  2. its public id equals publicID, compared in constant time and ignoring
//     case (else ErrPublicID);
//  3. the block decrypts with key and passes the CRC check, and the private
//     id inside equals privateID, compared in constant time (else
//     ErrWrongKey);
//  4. otp.Counter() > lastCounter (else ErrReplayed).
//
// On success it returns the OTP; the caller must then store otp.Counter()
// as the device's new last counter, atomically and only if the stored value
// is still below it (see the package documentation). Pass lastCounter 0 for
// a device never used (as the seed) or -1 to accept any counter.
func Verify(token string, publicID string, privateID [6]byte, key [16]byte, lastCounter int64) (OTP, error) {
	pub, block, err := ParseToken(token)
	if err != nil {
		return OTP{}, err
	}
	if !equalFoldASCII(pub, publicID) {
		return OTP{}, ErrPublicID
	}
	otp, err := Decrypt(block, key)
	if err != nil {
		return OTP{}, err
	}
	if subtle.ConstantTimeCompare(otp.UID[:], privateID[:]) != 1 {
		return OTP{}, errPrivateID
	}
	if otp.Counter() <= lastCounter {
		return OTP{}, ErrReplayed
	}
	return otp, nil
}

// equalFoldASCII compares two strings ignoring ASCII case, in time that
// depends only on their lengths. a must consist of lower-case letters (a
// parsed public id); b may be anything.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var diff byte
	for i := 0; i < len(a); i++ {
		diff |= (a[i] | 0x20) ^ (b[i] | 0x20)
	}
	return subtle.ConstantTimeByteEq(diff, 0) == 1
}

// ParsePrivateID parses a private id written as 12 hex digits (the form
// django-otp-yubikey stores and YubiKey personalization tools print).
// Errors wrap ErrMalformed and do not quote the input.
func ParsePrivateID(s string) ([6]byte, error) {
	var id [6]byte
	if err := parseHex(id[:], s, "private id"); err != nil {
		return id, err
	}
	return id, nil
}

// ParseAESKey parses an AES-128 key written as 32 hex digits.
// Errors wrap ErrMalformed and do not quote the input.
func ParseAESKey(s string) ([16]byte, error) {
	var key [16]byte
	if err := parseHex(key[:], s, "AES key"); err != nil {
		return key, err
	}
	return key, nil
}

func parseHex(dst []byte, s, what string) error {
	if len(s) != 2*len(dst) {
		return fmt.Errorf("%w: %s must be %d hex digits, got %d characters", ErrMalformed, what, 2*len(dst), len(s))
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		clear(dst)
		return fmt.Errorf("%w: %s is not hex", ErrMalformed, what)
	}
	return nil
}
