package otp

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
)

// Defaults and bounds shared by HOTP, TOTP and key URIs.
const (
	// DefaultDigits is the code length used when a Digits field is 0.
	DefaultDigits = 6
	// DefaultStep is the TOTP time step in seconds used when Step is 0 or
	// negative.
	DefaultStep = 30
	// MinDigits is the shortest code HOTP computes and verification
	// accepts. Devices use 6 or 8 digits; RFC 4226 also allows 7.
	MinDigits = 6
	// MaxDigits is the longest code HOTP computes and verification accepts.
	MaxDigits = 8
	// MaxTolerance caps the verification window. A larger tolerance is
	// treated as MaxTolerance: a huge window would let an online guesser
	// cover a large share of the code space with every attempt, and let one
	// request cost thousands of HMAC computations (denial of service).
	MaxTolerance = 100
)

// Largest block and digest sizes of the supported hashes (SHA-512).
const (
	maxBlockSize  = sha512.BlockSize
	maxDigestSize = sha512.Size
)

// pow10 holds 10^d for the code lengths HOTP can produce.
var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// hmacKey is a key prepared for HMAC (RFC 2104): the key, hashed first when
// it is longer than the block size, XORed with the inner and outer pads and
// placed at the start of the inner and outer messages, so that each code
// only writes the counter and the inner digest after them. It lives on the
// caller's stack so that computing codes allocates nothing.
type hmacKey struct {
	alg       Algorithm
	blockSize int
	in        [maxBlockSize + 8]byte             // (K xor ipad) || counter
	out       [maxBlockSize + maxDigestSize]byte // (K xor opad) || inner digest
}

// init prepares key for alg. Undefined algorithms are treated as SHA1;
// callers that verify codes reject them before getting here.
func (h *hmacKey) init(key []byte, alg Algorithm) {
	if !alg.valid() {
		alg = SHA1
	}
	h.alg = alg
	h.blockSize = blockSize(alg)
	var k [maxBlockSize]byte
	if len(key) > h.blockSize {
		var d [maxDigestSize]byte
		n := digest(alg, key, &d)
		copy(k[:], d[:n])
	} else {
		copy(k[:], key)
	}
	for i := 0; i < h.blockSize; i++ {
		h.in[i] = k[i] ^ 0x36
		h.out[i] = k[i] ^ 0x5c
	}
}

// code returns the HOTP value for counter, reduced to digits decimal digits
// (digits must already be within MinDigits..MaxDigits):
// H((K xor opad) || H((K xor ipad) || counter)), truncated.
func (h *hmacKey) code(counter uint64, digits int) uint32 {
	bs := h.blockSize
	binary.BigEndian.PutUint64(h.in[bs:], counter)
	switch h.alg {
	case SHA256:
		inner := sha256.Sum256(h.in[:bs+8])
		copy(h.out[bs:], inner[:])
		mac := sha256.Sum256(h.out[:bs+sha256.Size])
		return truncate(mac[:], digits)
	case SHA512:
		inner := sha512.Sum512(h.in[:bs+8])
		copy(h.out[bs:], inner[:])
		mac := sha512.Sum512(h.out[:bs+sha512.Size])
		return truncate(mac[:], digits)
	}
	inner := sha1.Sum(h.in[:bs+8])
	copy(h.out[bs:], inner[:])
	mac := sha1.Sum(h.out[:bs+sha1.Size])
	return truncate(mac[:], digits)
}

// truncate is the dynamic truncation of RFC 4226 section 5.3: the low four
// bits of the last byte select four bytes, whose top bit is cleared.
func truncate(mac []byte, digits int) uint32 {
	off := int(mac[len(mac)-1] & 0x0f)
	bin := uint32(mac[off]&0x7f)<<24 | uint32(mac[off+1])<<16 | uint32(mac[off+2])<<8 | uint32(mac[off+3])
	return bin % pow10[digits]
}

func blockSize(alg Algorithm) int {
	switch alg {
	case SHA256:
		return sha256.BlockSize
	case SHA512:
		return sha512.BlockSize
	}
	return sha1.BlockSize
}

// digest hashes data with alg into out and returns the digest length.
func digest(alg Algorithm, data []byte, out *[maxDigestSize]byte) int {
	switch alg {
	case SHA256:
		s := sha256.Sum256(data)
		return copy(out[:], s[:])
	case SHA512:
		s := sha512.Sum512(data)
		return copy(out[:], s[:])
	}
	s := sha1.Sum(data)
	return copy(out[:], s[:])
}

// clampDigits maps 0 to DefaultDigits and any other value outside
// MinDigits..MaxDigits to the nearest bound.
func clampDigits(digits int) int {
	switch {
	case digits == 0:
		return DefaultDigits
	case digits < MinDigits:
		return MinDigits
	case digits > MaxDigits:
		return MaxDigits
	}
	return digits
}

// verifiable reports whether a code may be checked against this
// configuration at all. An empty key is refused because anyone can compute
// its codes (a device saved without a key must not become a free pass), and
// short codes because they are trivially guessed.
func verifiable(key []byte, alg Algorithm, digits int) bool {
	return len(key) > 0 && alg.valid() && digits >= MinDigits && digits <= MaxDigits
}

// clampTolerance treats a negative tolerance as 0 and caps it at
// MaxTolerance.
func clampTolerance(tolerance int) int {
	if tolerance < 0 {
		return 0
	}
	if tolerance > MaxTolerance {
		return MaxTolerance
	}
	return tolerance
}

// ctEq returns 1 when a == b and 0 otherwise, in constant time.
func ctEq(a, b uint32) int64 {
	return int64(subtle.ConstantTimeEq(int32(a), int32(b)))
}

// ctSelect returns x when bit is 1 and y when bit is 0, without branching.
func ctSelect(bit, x, y int64) int64 {
	mask := -bit
	return y ^ ((x ^ y) & mask)
}

// bit converts a condition on public values to 0 or 1.
func bit(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// HOTP returns the RFC 4226 one-time password for key and counter: the
// dynamic truncation of HMAC(key, counter as 8 big-endian bytes), modulo
// 10^digits. The result is an integer; use Format to render it with its
// leading zeros.
//
// digits 0 means DefaultDigits; other values outside MinDigits..MaxDigits
// are clamped to the nearest bound so the function never panics. alg values
// other than SHA1, SHA256 and SHA512 are computed as SHA1 (TOTP.Verify and
// VerifyHOTP refuse them). The key may have any length, including more than
// the hash block size. HOTP makes no heap allocations.
func HOTP(key []byte, counter uint64, digits int, alg Algorithm) uint32 {
	var h hmacKey
	h.init(key, alg)
	return h.code(counter, clampDigits(digits))
}

// VerifyHOTP checks code against the counters lastCounter+1 through
// lastCounter+1+tolerance, the look-ahead window of an event-based token
// whose button may have been pressed without the code being used (django-otp
// HOTPDevice semantics, where the device stores the next expected counter,
// lastCounter+1, and tolerance defaults to 5).
//
// It returns the counter that matched, which the caller must store as the
// new lastCounter with an atomic conditional write ("set last = counter
// where last < counter"). Only counters after lastCounter are tried, so a
// code that was already used never verifies again (replay). The lowest
// matching counter wins. Every counter in the window is computed and
// compared in constant time, so timing reveals neither which counter matched
// nor how close a wrong code came.
//
// A negative tolerance is treated as 0 and one above MaxTolerance as
// MaxTolerance. digits 0 means DefaultDigits. An empty key, an undefined
// algorithm or digits outside MinDigits..MaxDigits never verify; counters
// that would overflow int64 are skipped. On failure counter is 0. VerifyHOTP
// makes no heap allocations.
func VerifyHOTP(key []byte, alg Algorithm, digits int, code uint32, lastCounter int64, tolerance int) (counter int64, ok bool) {
	if digits == 0 {
		digits = DefaultDigits
	}
	if !verifiable(key, alg, digits) {
		return 0, false
	}
	tol := clampTolerance(tolerance)
	var h hmacKey
	h.init(key, alg)
	var found, matched int64
	for i := 0; i <= tol; i++ {
		c := lastCounter + 1 + int64(i)
		// A counter at or before lastCounter (only reachable through
		// overflow) or below zero is never eligible: replay protection.
		eligible := bit(c > lastCounter && c >= 0)
		eq := ctEq(h.code(uint64(c), digits), code) & eligible
		first := eq &^ found
		matched = ctSelect(first, c, matched)
		found |= eq
	}
	return matched, found == 1
}
