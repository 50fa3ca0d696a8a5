package password

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fastParams keep tests quick; DefaultParams are exercised where it matters.
var fastParams = Params{Time: 1, MemoryKiB: 64, Threads: 1}

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		params   Params
	}{
		{"default params", "correct horse battery staple", DefaultParams},
		{"empty", "", fastParams},
		{"unicode", "lètmein ✓ 密码", fastParams},
		{"long", strings.Repeat("a", 10000), fastParams},
		{"nul byte", "a\x00b", fastParams},
		{"four threads", "hunter2", Params{Time: 2, MemoryKiB: 256, Threads: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := Hash(tt.password, tt.params, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !phcPattern.MatchString(h) {
				t.Fatalf("Hash = %q, not a PHC argon2id string", h)
			}
			if ok, err := Verify(tt.password, h); !ok || err != nil {
				t.Errorf("Verify(right password) = %v, %v", ok, err)
			}
			for _, wrong := range []string{tt.password + "x", strings.ToUpper(tt.password) + "!", ""} {
				if wrong == tt.password {
					continue
				}
				if ok, err := Verify(wrong, h); ok || err != nil {
					t.Errorf("Verify(wrong password) = %v, %v", ok, err)
				}
			}
			if NeedsRehash(h, tt.params) {
				t.Errorf("NeedsRehash with the same params = true")
			}
		})
	}
}

func TestHashSalted(t *testing.T) {
	t.Parallel()
	a, _ := Hash("same", fastParams, nil)
	b, _ := Hash("same", fastParams, nil)
	if a == b {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
	// An injected reader makes Hash deterministic.
	seed := bytes.Repeat([]byte{7}, SaltSize)
	c, err := Hash("same", fastParams, bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := Hash("same", fastParams, bytes.NewReader(seed))
	if c != d || !strings.Contains(c, "$"+base64.RawStdEncoding.EncodeToString(seed)+"$") {
		t.Errorf("injected salt not used: %q, %q", c, d)
	}
	if _, err := Hash("x", fastParams, bytes.NewReader([]byte{1, 2, 3})); err == nil {
		t.Errorf("short random source: no error")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    Params
		ok   bool
	}{
		{"default", DefaultParams, true},
		{"minimum", Params{Time: 1, MemoryKiB: 8, Threads: 1}, true},
		{"maximum", Params{Time: 100, MemoryKiB: 4 << 20, Threads: 255}, true},
		{"zero", Params{}, false},
		{"time 0", Params{Time: 0, MemoryKiB: 19456, Threads: 1}, false},
		{"time 101", Params{Time: 101, MemoryKiB: 19456, Threads: 1}, false},
		{"threads 0", Params{Time: 2, MemoryKiB: 19456, Threads: 0}, false},
		{"memory below 8 per thread", Params{Time: 2, MemoryKiB: 31, Threads: 4}, false},
		{"memory 8 per thread", Params{Time: 2, MemoryKiB: 32, Threads: 4}, true},
		{"memory over 4 GiB", Params{Time: 2, MemoryKiB: 4<<20 + 1, Threads: 1}, false},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: Validate(%+v) = %v", tt.name, tt.p, err)
		}
		if !tt.ok {
			if _, err := Hash("x", tt.p, nil); err == nil {
				t.Errorf("%s: Hash accepted invalid params", tt.name)
			}
		}
	}
}

// Vectors from independent implementations:
//   - argon2: the reference implementation's command-line tool (Debian
//     package argon2), e.g. echo -n password | argon2 somesalt -id -t 2 -k 19456 -p 1 -l 32 -e
//   - pbkdf2: Python's hashlib.pbkdf2_hmac, in Django's format
//     (base64 of the derived key), and RFC 6070's PBKDF2-HMAC-SHA1 vectors.
var vectors = []struct {
	name, password, encoded string
}{
	{"argon2id reference default params", "password", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E"},
	{"argon2id reference m=1024", "correct horse", "$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0MTIzNA$+lmmYt2z4ZMrLKIaiYmx1n/yv76miDs89Dh8Mz4LByQ"},
	{"argon2id reference p=4", "hunter2", "$argon2id$v=19$m=4096,t=3,p=4$TmFDbE5hQ2xOYUNs$hsGT3Ynu6d3mrcHf/qEAXXdKGCNund/hRuY1KVQ+Dr0"},
	{"django argon2id", "password", "argon2$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E"},
	{"django argon2i", "lètmein", "argon2$argon2i$v=19$m=512,t=2,p=2$c2Vhc2FsdHNlYXNhbHQ$v6OL4NNQ/b9RkJHKzWMPMHdyjaBSkHQEtbC9wvQRaPg"},
	{"argon2i PHC", "lètmein", "$argon2i$v=19$m=512,t=2,p=2$c2Vhc2FsdHNlYXNhbHQ$v6OL4NNQ/b9RkJHKzWMPMHdyjaBSkHQEtbC9wvQRaPg"},
	{"django pbkdf2_sha256", "lètmein", "pbkdf2_sha256$1000$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A="},
	{"django pbkdf2_sha256 870000", "correct horse battery staple", "pbkdf2_sha256$870000$Zx8Yq2mN4pL0$cf6urUhLzyqbLh+ffB7yvg3WkWq3l2DRdZizRPjirLo="},
	{"django pbkdf2_sha256 empty password", "", "pbkdf2_sha256$2$emptysalt1$AuvJ+G8yVONwBWkA7PBlnaIIpQsyqCcIgnciKYjG2cA="},
	{"django pbkdf2_sha1", "lètmein", "pbkdf2_sha1$1000$seasalt$ljleU4wBmTtz/MoG5YTwxpM0d7I="},
	{"rfc 6070 c=1", "password", django1("1", "0c60c80f961f0e71f3a9b524af6012062fe037a6")},
	{"rfc 6070 c=2", "password", django1("2", "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957")},
	{"rfc 6070 c=4096", "password", django1("4096", "4b007901b765489abead49d926f721d065a429c1")},
}

// django1 writes an RFC 6070 vector (password "password", salt "salt") in
// Django's pbkdf2_sha1 format.
func django1(iterations, hexKey string) string {
	key, err := hex.DecodeString(hexKey)
	if err != nil {
		panic(err)
	}
	return "pbkdf2_sha1$" + iterations + "$salt$" + base64.StdEncoding.EncodeToString(key)
}

func TestVerifyVectors(t *testing.T) {
	t.Parallel()
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			if ok, err := Verify(v.password, v.encoded); !ok || err != nil {
				t.Errorf("Verify(right password) = %v, %v", ok, err)
			}
			if ok, err := Verify(v.password+"1", v.encoded); ok || err != nil {
				t.Errorf("Verify(wrong password) = %v, %v", ok, err)
			}
			// Imported hashes are replaced after the next sign-in: even the
			// one with the default parameters has an 8-byte salt.
			if !NeedsRehash(v.encoded, DefaultParams) {
				t.Errorf("NeedsRehash = false")
			}
		})
	}
}

// TestPBKDF2RFC6070 checks the PBKDF2 used for Django hashes against all of
// RFC 6070's vectors, including those Django's format cannot express
// (lengths other than the digest size, NUL bytes).
func TestPBKDF2RFC6070(t *testing.T) {
	t.Parallel()
	tests := []struct {
		password, salt string
		c, dkLen       int
		want           string
	}{
		{"password", "salt", 1, 20, "0c60c80f961f0e71f3a9b524af6012062fe037a6"},
		{"password", "salt", 2, 20, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"},
		{"password", "salt", 4096, 20, "4b007901b765489abead49d926f721d065a429c1"},
		{"passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 25, "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"},
		{"pass\x00word", "sa\x00lt", 4096, 16, "56fa6aa75548099dcc37d7f03425e0c3"},
	}
	for _, tt := range tests {
		got, err := pbkdf2Key(sha1.New, tt.password, []byte(tt.salt), tt.c, tt.dkLen)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != tt.want {
			t.Errorf("PBKDF2-HMAC-SHA1(%q, %q, %d) = %x, want %s", tt.password, tt.salt, tt.c, got, tt.want)
		}
	}
}

func TestVerifyDjangoUnusable(t *testing.T) {
	t.Parallel()
	for _, enc := range []string{"!", "!6vQy8sX3wKzJr0lNqT2pB5mC7dF9gH1jA4eU8iO0"} {
		if ok, err := Verify("anything", enc); ok || err != nil {
			t.Errorf("Verify(unusable %q) = %v, %v; want false, nil", enc, ok, err)
		}
		if !NeedsRehash(enc, DefaultParams) {
			t.Errorf("NeedsRehash(unusable) = false")
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	const (
		salt = "c29tZXNhbHQ"                                 // 8 bytes
		key  = "PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E" // 32 bytes
	)
	tests := []struct {
		name    string
		encoded string
		want    error
	}{
		{"empty", "", ErrMalformed},
		{"plaintext password", "hunter2", ErrMalformed},
		{"only prefix", "$argon2id$", ErrMalformed},
		{"dollar", "$", ErrMalformed},
		{"missing hash", "$argon2id$v=19$m=19456,t=2,p=1$" + salt, ErrMalformed},
		{"extra field", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$x", ErrMalformed},
		{"no version", "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key, ErrUnsupported},
		{"version 16", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key, ErrUnsupported},
		{"version garbage", "$argon2id$v=x$m=19456,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"version field name", "$argon2id$w=19$m=19456,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"argon2d", "$argon2d$v=19$m=19456,t=2,p=1$" + salt + "$" + key, ErrUnsupported},
		{"unknown variant", "$argon3$v=19$m=19456,t=2,p=1$" + salt + "$" + key, ErrUnsupported},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", ErrUnsupported},
		{"memory over 4 GiB", "$argon2id$v=19$m=4194305,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"memory max uint32", "$argon2id$v=19$m=4294967295,t=4294967295,p=255$" + salt + "$" + key, ErrMalformed},
		{"memory over uint32", "$argon2id$v=19$m=4294967296,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"memory below 8p", "$argon2id$v=19$m=31,t=2,p=4$" + salt + "$" + key, ErrMalformed},
		{"time 0", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key, ErrMalformed},
		{"time 101", "$argon2id$v=19$m=19456,t=101,p=1$" + salt + "$" + key, ErrMalformed},
		{"threads 0", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key, ErrMalformed},
		{"threads 256", "$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key, ErrMalformed},
		{"leading zero", "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"plus sign", "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"negative", "$argon2id$v=19$m=19456,t=-2,p=1$" + salt + "$" + key, ErrMalformed},
		{"params order", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key, ErrMalformed},
		{"params missing", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key, ErrMalformed},
		{"params extra", "$argon2id$v=19$m=19456,t=2,p=1,keyid=x$" + salt + "$" + key, ErrMalformed},
		{"empty param", "$argon2id$v=19$m=,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"salt not base64", "$argon2id$v=19$m=19456,t=2,p=1$!!!!!!!!!!!$" + key, ErrMalformed},
		{"salt padded", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "=$" + key, ErrMalformed},
		{"salt too short", "$argon2id$v=19$m=19456,t=2,p=1$c29tZQ$" + key, ErrMalformed},
		{"salt empty", "$argon2id$v=19$m=19456,t=2,p=1$$" + key, ErrMalformed},
		{"hash too short", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$PL01amPyeUs", ErrMalformed},
		{"hash too long", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.Repeat("A", 200), ErrMalformed},
		{"hash non-canonical", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2F", ErrMalformed},
		{"newline inside", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$PL01amPyeUuxG7H0\nvIr5X+qHkZvWnHmGBGXFYvh8z2E", ErrMalformed},
		{"trailing newline", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "\n", ErrMalformed},
		{"too long", "$argon2id$" + strings.Repeat("x", 600), ErrMalformed},
		{"django no argon2 after prefix", "argon2$v=19$m=19456,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"pbkdf2 missing field", "pbkdf2_sha256$1000$seasalt", ErrMalformed},
		{"pbkdf2 extra field", "pbkdf2_sha256$1000$sea$salt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=", ErrMalformed},
		{"pbkdf2 iterations 0", "pbkdf2_sha256$0$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=", ErrMalformed},
		{"pbkdf2 iterations over limit", "pbkdf2_sha256$10000001$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=", ErrMalformed},
		{"pbkdf2 iterations huge", "pbkdf2_sha256$99999999999999999999999$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=", ErrMalformed},
		{"pbkdf2 iterations text", "pbkdf2_sha256$many$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=", ErrMalformed},
		{"pbkdf2 empty salt", "pbkdf2_sha256$1000$$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=", ErrMalformed},
		{"pbkdf2 hash unpadded", "pbkdf2_sha256$1000$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A", ErrMalformed},
		{"pbkdf2 hash not base64", "pbkdf2_sha256$1000$seasalt$????", ErrMalformed},
		{"pbkdf2 sha256 with sha1 length", "pbkdf2_sha256$1000$seasalt$ljleU4wBmTtz/MoG5YTwxpM0d7I=", ErrMalformed},
		{"pbkdf2 sha1 with sha256 length", "pbkdf2_sha1$1000$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=", ErrMalformed},
		{"django bcrypt_sha256", "bcrypt_sha256$$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", ErrUnsupported},
		{"django md5", "md5$seasalt$f5531bef9f3687d0ccf0f617f0e25573", ErrUnsupported},
		{"django scrypt", "scrypt$16384$seasalt$8$1$Qj3+9PPyRjSJIebHnG81TMjsqtaIGxNQG/aEB/NYafTJ7tibgfYz71m0ldQESkXFRkdVCBhhY8mx7rQwite/Pw==", ErrUnsupported},
		{"space inside", "pbkdf2_sha256$1000$sea salt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			ok, err := Verify("hunter2", tt.encoded)
			if ok {
				t.Fatalf("Verify = true")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			// Refused before any work (a 4 GiB or 10-million-iteration
			// hash would take seconds).
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v: parameters were not refused up front", d)
			}
			// The error never carries the password or the hash material.
			msg := err.Error()
			if strings.Contains(msg, "hunter2") || strings.Contains(msg, key) || strings.Contains(msg, "JgZryXe2") {
				t.Errorf("error %q contains secret material", msg)
			}
			if !NeedsRehash(tt.encoded, DefaultParams) {
				t.Errorf("NeedsRehash = false for a malformed hash")
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	t.Parallel()
	current, err := Hash("pw", fastParams, nil)
	if err != nil {
		t.Fatal(err)
	}
	shortSalt := "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E"
	tests := []struct {
		name    string
		encoded string
		params  Params
		want    bool
	}{
		{"same params", current, fastParams, false},
		{"more time", current, Params{Time: 2, MemoryKiB: 64, Threads: 1}, true},
		{"more memory", current, Params{Time: 1, MemoryKiB: 128, Threads: 1}, true},
		{"more threads", current, Params{Time: 1, MemoryKiB: 64, Threads: 2}, true},
		{"defaults vs fast", current, DefaultParams, true},
		{"short salt", shortSalt, fastParams, true},
		{"django argon2id", "argon2" + current, fastParams, true},
		{"argon2i", strings.Replace(current, "argon2id", "argon2i", 1), fastParams, true},
		{"pbkdf2", "pbkdf2_sha256$1000$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=", fastParams, true},
		{"malformed", "garbage", fastParams, true},
		{"empty", "", fastParams, true},
	}
	for _, tt := range tests {
		if got := NeedsRehash(tt.encoded, tt.params); got != tt.want {
			t.Errorf("%s: NeedsRehash = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestDummyTiming: Dummy costs about what verifying a DefaultParams hash
// costs, so an unknown user cannot be told from a wrong password by timing.
// The bound is loose (the fastest of several runs must be within a factor
// of three) to stay stable on a loaded machine.
func TestDummyTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	h, err := Hash("right", DefaultParams, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Alternate the two so that both see the same load; keep the fastest.
	verify, dummy := time.Duration(1<<62), time.Duration(1<<62)
	for range 7 {
		start := time.Now()
		Verify("wrong", h)
		verify = min(verify, time.Since(start))
		start = time.Now()
		Dummy("wrong")
		dummy = min(dummy, time.Since(start))
	}
	if ratio := float64(dummy) / float64(verify); ratio < 1.0/3 || ratio > 3 {
		t.Errorf("Dummy %v vs Verify %v: ratio %.2f", dummy, verify, ratio)
	}
	// DummyParams follows configured parameters and survives invalid ones.
	DummyParams("x", fastParams)
	DummyParams("x", Params{})
}
