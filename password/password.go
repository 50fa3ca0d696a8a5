// Package password hashes and verifies user passwords.
//
// New hashes are argon2id (RFC 9106) in the PHC string format that the
// reference implementation and most libraries use:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with unpadded standard base64 for the 16-byte salt and the 32-byte hash,
// and the parameters of [DefaultParams] (OWASP's recommendation) unless the
// configuration (password.argon2_*) says otherwise.
//
// [Verify] also accepts the hashes a Django site stores, so that users
// migrated from django-two-factor-auth keep their passwords:
// argon2$argon2id$…, argon2$argon2i$…, pbkdf2_sha256$… and pbkdf2_sha1$….
// [NeedsRehash] then tells the caller to store a new argon2id hash after the
// next successful sign-in.
//
// What this package must never do, and why:
//
//   - log a password or put it (or a hash) into an error message;
//   - compare hashes with == (timing attack: the comparison is constant-time);
//   - run whatever work a stored hash asks for: parameters beyond fixed
//     limits are refused before any computation, so a corrupted or hostile
//     hash string (an imported database, a fuzzer) cannot tie up the
//     machine's memory or CPU (denial of service);
//   - answer faster for an unknown user than for a wrong password: callers
//     run [Dummy] when there is no user, so timing does not reveal which
//     accounts exist (account enumeration).
package password

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/twofactor/twofactor/secret"
)

// Sizes of what [Hash] generates.
const (
	// SaltSize is the length in bytes of a new salt (RFC 9106 recommends 16).
	SaltSize = 16
	// KeySize is the length in bytes of a new hash (the tag).
	KeySize = 32
)

// Bounds on argon2 parameters, enforced by [Params.Validate] for new hashes
// and by [Verify] for stored ones.
const (
	// MinTime and MaxTime bound the number of passes. One pass is the
	// minimum of the algorithm; a hundred passes over even the default
	// memory takes seconds, more than any sign-in should.
	MinTime, MaxTime = 1, 100

	// MaxMemoryKiB is 4 GiB. The minimum, set by the algorithm, is 8 KiB per
	// thread. A stored hash asking for more is refused unread rather than
	// allowed to exhaust the server's memory.
	MaxMemoryKiB = 4 << 20

	// MinThreads is the least parallelism; the most is 255, the largest
	// value of a uint8 and far beyond any real machine.
	MinThreads = 1

	// MaxPBKDF2Iterations bounds the iteration count of imported Django
	// PBKDF2 hashes. Django's defaults are around one million; ten million
	// takes several seconds, and anything above is refused before
	// computing.
	MaxPBKDF2Iterations = 10_000_000
)

// Bounds on the encoded parts of stored hashes.
const (
	maxEncodedLen = 512
	minSaltLen    = 8 // argon2's minimum
	maxSaltLen    = 64
	// minKeyLen: a short tag would let random passwords match by chance
	// (a 4-byte tag, argon2's minimum, matches one guess in 2^32).
	minKeyLen = 16
	maxKeyLen = 128
)

// Errors of [Verify]. Every error it returns wraps one of them.
var (
	// ErrMalformed means the stored value is not a valid hash of a
	// supported format, or its parameters are out of bounds.
	ErrMalformed = errors.New("password: malformed hash")

	// ErrUnsupported means the stored value is a hash of a kind this
	// package does not implement (argon2d, bcrypt, unsalted digests, …).
	ErrUnsupported = errors.New("password: unsupported hash")
)

// Params are the argon2id cost parameters (password.argon2_time,
// password.argon2_memory_kib, password.argon2_threads).
type Params struct {
	// Time is the number of passes over the memory.
	Time uint32
	// MemoryKiB is the memory used, in KiB.
	MemoryKiB uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// DefaultParams are OWASP's recommended argon2id parameters: 19 MiB of
// memory, 2 passes, 1 thread.
var DefaultParams = Params{Time: 2, MemoryKiB: 19456, Threads: 1}

// limits are the bounds applied to stored hashes. Verify uses
// defaultLimits; tests (the fuzzer) use smaller ones to stay fast.
type limits struct {
	maxTime       uint32
	maxMemoryKiB  uint32
	maxIterations int
}

var defaultLimits = limits{maxTime: MaxTime, maxMemoryKiB: MaxMemoryKiB, maxIterations: MaxPBKDF2Iterations}

// Validate reports whether p is within bounds: Time from 1 to 100, Threads
// at least 1, MemoryKiB from 8 × Threads (argon2's minimum) to 4 GiB.
func (p Params) Validate() error {
	return p.check(defaultLimits)
}

func (p Params) check(lim limits) error {
	if p.Time < MinTime || p.Time > lim.maxTime {
		return fmt.Errorf("argon2 time %d is outside %d to %d", p.Time, MinTime, lim.maxTime)
	}
	if p.Threads < MinThreads {
		return fmt.Errorf("argon2 threads %d is below %d", p.Threads, MinThreads)
	}
	if minMem := 8 * uint32(p.Threads); p.MemoryKiB < minMem || p.MemoryKiB > lim.maxMemoryKiB {
		return fmt.Errorf("argon2 memory %d KiB is outside %d (8 × threads) to %d KiB", p.MemoryKiB, minMem, lim.maxMemoryKiB)
	}
	return nil
}

// Hash returns an argon2id PHC string for password with parameters p and a
// random 16-byte salt from r (crypto/rand when nil). The salt makes equal
// passwords hash differently, so precomputed tables and cross-account
// comparison are useless. Hash does not judge the password itself (length,
// strength): that is the caller's policy.
func Hash(password string, p Params, r io.Reader) (string, error) {
	if err := p.Validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	salt, err := secret.RandomBytes(r, SaltSize)
	if err != nil {
		return "", fmt.Errorf("hash password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, KeySize)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// b64 is the base64 of PHC strings: standard alphabet, no padding. Strict
// refuses non-canonical trailing bits, so one hash has one spelling.
var b64 = base64.RawStdEncoding.Strict()

// Verify reports whether password matches the stored hash encoded. It
// accepts
//
//   - argon2id PHC strings, as made by [Hash], with their own parameters
//     (so hashes made before a change of password.argon2_* still verify),
//     and argon2i ones;
//   - Django's argon2$argon2id$… and argon2$argon2i$…;
//   - Django's pbkdf2_sha256$<iterations>$<salt>$<base64 hash> and
//     pbkdf2_sha1$….
//
// A wrong password gives (false, nil). A stored value that cannot be used
// gives (false, err) with err wrapping [ErrMalformed] or [ErrUnsupported];
// the error never contains the password or the hash. Parameters beyond the
// documented bounds are refused before any work is done. Django's marker for
// an unusable password ("!…") gives (false, nil) after the work of [Dummy].
//
// The comparison is constant-time.
func Verify(password, encoded string) (ok bool, err error) {
	return verify(password, encoded, defaultLimits)
}

func verify(password, encoded string, lim limits) (bool, error) {
	if strings.HasPrefix(encoded, "!") {
		// Django's set_unusable_password: no password ever matches. Do the
		// work anyway so the answer takes as long as for a real account.
		Dummy(password)
		return false, nil
	}
	h, err := parse(encoded, lim)
	if err != nil {
		return false, err
	}
	got, err := h.derive(password)
	if err != nil {
		return false, err
	}
	return secret.Equal(got, h.key), nil
}

// NeedsRehash reports whether encoded should be replaced by a new [Hash]
// with p after the next successful [Verify]: true for anything that is not
// one of our argon2id strings with exactly the parameters p and our salt
// and hash sizes (Django formats, argon2i, PBKDF2, other parameters), and
// for values that do not parse.
func NeedsRehash(encoded string, p Params) bool {
	h, err := parse(encoded, defaultLimits)
	if err != nil {
		return true
	}
	return h.kind != kindArgon2id || h.django || h.params != p ||
		len(h.salt) != SaltSize || len(h.key) != KeySize
}

// dummySalt is fixed: Dummy's result is thrown away, only its cost matters.
var dummySalt = []byte("twofactor-dummy!")

// Dummy does the work of verifying password against a hash made with
// [DefaultParams], and throws the result away. Call it when no user matches
// the name given, so that "no such user" takes as long as "wrong password"
// and response times do not reveal which accounts exist (account
// enumeration by timing).
func Dummy(password string) {
	DummyParams(password, DefaultParams)
}

// DummyParams is [Dummy] for a server configured with other parameters than
// [DefaultParams]. Invalid parameters fall back to DefaultParams.
func DummyParams(password string, p Params) {
	if p.Validate() != nil {
		p = DefaultParams
	}
	argon2.IDKey([]byte(password), dummySalt, p.Time, p.MemoryKiB, p.Threads, KeySize)
}

// kind is a supported hash function.
type kind int

const (
	kindArgon2id kind = iota + 1
	kindArgon2i
	kindPBKDF2SHA256
	kindPBKDF2SHA1
)

// parsed is a stored hash, decoded and checked against the limits.
type parsed struct {
	kind       kind
	django     bool   // Django's argon2$ prefix
	params     Params // argon2
	iterations int    // PBKDF2
	salt, key  []byte
}

// derive computes the hash of password with h's function, salt and
// parameters, of the same length as h.key.
func (h *parsed) derive(password string) ([]byte, error) {
	switch h.kind {
	case kindArgon2id:
		return argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, uint32(len(h.key))), nil
	case kindArgon2i:
		return argon2.Key([]byte(password), h.salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, uint32(len(h.key))), nil
	case kindPBKDF2SHA256:
		return pbkdf2Key(sha256.New, password, h.salt, h.iterations, len(h.key))
	case kindPBKDF2SHA1:
		return pbkdf2Key(sha1.New, password, h.salt, h.iterations, len(h.key))
	}
	return nil, fmt.Errorf("%w: unknown kind", ErrMalformed)
}

// pbkdf2Key is PBKDF2 (RFC 8018) with HMAC over h.
func pbkdf2Key(h func() hash.Hash, password string, salt []byte, iterations, keyLen int) ([]byte, error) {
	key, err := pbkdf2.Key(h, password, salt, iterations, keyLen)
	if err != nil {
		return nil, fmt.Errorf("pbkdf2: %w", err)
	}
	return key, nil
}

// parse decodes a stored hash of any supported format.
func parse(encoded string, lim limits) (*parsed, error) {
	if encoded == "" {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	if len(encoded) > maxEncodedLen {
		return nil, fmt.Errorf("%w: %d characters, more than any supported format", ErrMalformed, len(encoded))
	}
	// Hash strings are printable ASCII without spaces. Refusing anything
	// else up front also stops the base64 decoder from skipping line
	// breaks, so a value has exactly one accepted spelling.
	for i := 0; i < len(encoded); i++ {
		if c := encoded[i]; c <= ' ' || c > '~' {
			return nil, fmt.Errorf("%w: contains a character that cannot appear in a hash", ErrMalformed)
		}
	}
	switch {
	case strings.HasPrefix(encoded, "$"):
		return parseArgon2(encoded, false, lim)
	case strings.HasPrefix(encoded, "argon2$"):
		return parseArgon2(encoded[len("argon2"):], true, lim)
	case strings.HasPrefix(encoded, "pbkdf2_sha256$"):
		return parsePBKDF2(encoded, kindPBKDF2SHA256, sha256.Size, lim)
	case strings.HasPrefix(encoded, "pbkdf2_sha1$"):
		return parsePBKDF2(encoded, kindPBKDF2SHA1, sha1.Size, lim)
	}
	// Name the algorithm when there is one (Django's "bcrypt_sha256$…",
	// "md5$…"), but never echo a value that might be a password stored in
	// clear by mistake.
	if alg, _, found := strings.Cut(encoded, "$"); found && isIdentifier(alg) {
		return nil, fmt.Errorf("%w: algorithm %q is not supported (argon2id, argon2i, pbkdf2_sha256 and pbkdf2_sha1 are)", ErrUnsupported, alg)
	}
	return nil, fmt.Errorf("%w: not a recognised hash format", ErrMalformed)
}

// isIdentifier reports whether s looks like an algorithm name.
func isIdentifier(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parseArgon2 decodes $argon2id$v=19$m=M,t=T,p=P$salt$hash (and argon2i).
func parseArgon2(s string, django bool, lim limits) (*parsed, error) {
	parts := strings.Split(s, "$")
	// "", variant, version, params, salt, hash
	if len(parts) < 2 || parts[0] != "" {
		return nil, fmt.Errorf("%w: not a PHC string", ErrMalformed)
	}
	h := &parsed{django: django}
	switch parts[1] {
	case "argon2id":
		h.kind = kindArgon2id
	case "argon2i":
		h.kind = kindArgon2i
	case "argon2d":
		return nil, fmt.Errorf("%w: argon2d is not supported (argon2id and argon2i are)", ErrUnsupported)
	default:
		if isIdentifier(parts[1]) {
			return nil, fmt.Errorf("%w: algorithm %q is not supported", ErrUnsupported, parts[1])
		}
		return nil, fmt.Errorf("%w: not a PHC string", ErrMalformed)
	}
	if len(parts) == 5 && strings.HasPrefix(parts[2], "m=") {
		// No version field: argon2 version 1.0 (0x10), as very old Django
		// and libargon2 wrote. golang.org/x/crypto implements only 1.3.
		return nil, fmt.Errorf("%w: argon2 version 16 (no v= field) is not supported, only 19", ErrUnsupported)
	}
	if len(parts) != 6 {
		return nil, fmt.Errorf("%w: argon2 hash has %d fields, want 5", ErrMalformed, len(parts)-1)
	}
	version, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return nil, fmt.Errorf("%w: argon2 version field missing", ErrMalformed)
	}
	v, err := parseUint(version, 1<<32-1)
	if err != nil {
		return nil, fmt.Errorf("%w: argon2 version: %v", ErrMalformed, err)
	}
	if v != argon2.Version {
		return nil, fmt.Errorf("%w: argon2 version %d is not supported, only %d", ErrUnsupported, v, argon2.Version)
	}
	if h.params, err = parseArgon2Params(parts[3]); err != nil {
		return nil, err
	}
	if err := h.params.check(lim); err != nil {
		// Checked before any work: a hostile hash asking for terabytes or
		// billions of passes is refused, not computed.
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if h.salt, err = decodeB64(b64, parts[4], "salt", minSaltLen, maxSaltLen); err != nil {
		return nil, err
	}
	if h.key, err = decodeB64(b64, parts[5], "hash", minKeyLen, maxKeyLen); err != nil {
		return nil, err
	}
	return h, nil
}

// parseArgon2Params decodes "m=M,t=T,p=P", in that order (as every
// implementation writes them), with no other parameters.
func parseArgon2Params(s string) (Params, error) {
	var p Params
	fields := strings.Split(s, ",")
	names := [3]string{"m", "t", "p"}
	if len(fields) != len(names) {
		return p, fmt.Errorf("%w: argon2 parameters must be m, t and p", ErrMalformed)
	}
	var vals [3]uint64
	for i, f := range fields {
		name, val, ok := strings.Cut(f, "=")
		if !ok || name != names[i] {
			return p, fmt.Errorf("%w: argon2 parameters must be m, t and p, in that order", ErrMalformed)
		}
		limit := uint64(1<<32 - 1)
		if name == "p" {
			limit = 255
		}
		n, err := parseUint(val, limit)
		if err != nil {
			return p, fmt.Errorf("%w: argon2 parameter %s: %v", ErrMalformed, name, err)
		}
		vals[i] = n
	}
	p.MemoryKiB, p.Time, p.Threads = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	return p, nil
}

// parseUint decodes a canonical decimal number (digits only, no sign, no
// leading zero) of at most limit.
func parseUint(s string, limit uint64) (uint64, error) {
	if s == "" {
		return 0, errors.New("empty number")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errors.New("leading zero")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a decimal number")
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > limit {
		return 0, fmt.Errorf("%.20s is larger than %d", s, limit)
	}
	return n, nil
}

// decodeB64 decodes one base64 field and checks its length.
func decodeB64(enc *base64.Encoding, s, what string, minLen, maxLen int) ([]byte, error) {
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not valid base64", ErrMalformed, what)
	}
	if len(b) < minLen || len(b) > maxLen {
		return nil, fmt.Errorf("%w: %s is %d bytes, want %d to %d", ErrMalformed, what, len(b), minLen, maxLen)
	}
	return b, nil
}

// parsePBKDF2 decodes Django's <algorithm>$<iterations>$<salt>$<base64 hash>.
// The salt is used as the bytes of its text, as Django does; the hash is
// padded standard base64 of one digest.
func parsePBKDF2(s string, k kind, digestSize int, lim limits) (*parsed, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 4 {
		return nil, fmt.Errorf("%w: %s hash has %d fields, want 4", ErrMalformed, parts[0], len(parts))
	}
	n, err := parseUint(parts[1], uint64(lim.maxIterations))
	if err != nil {
		// Refused before computing: a hostile iteration count would keep a
		// CPU busy for as long as it asks.
		return nil, fmt.Errorf("%w: %s iterations: %v", ErrMalformed, parts[0], err)
	}
	if n < 1 {
		return nil, fmt.Errorf("%w: %s iterations must be at least 1", ErrMalformed, parts[0])
	}
	if parts[2] == "" {
		// Django never writes an empty salt; an unsalted hash could be
		// looked up in precomputed tables.
		return nil, fmt.Errorf("%w: %s salt is empty", ErrMalformed, parts[0])
	}
	key, err := decodeB64(base64.StdEncoding.Strict(), parts[3], "hash", digestSize, digestSize)
	if err != nil {
		return nil, err
	}
	return &parsed{kind: k, iterations: int(n), salt: []byte(parts[2]), key: key}, nil
}
