package password

import (
	"errors"
	"testing"
)

// fuzzLimits keep every fuzz input cheap: a hash string may ask for at most
// 256 KiB and 3 passes of argon2 or 2,000 PBKDF2 iterations, so the fuzzer
// explores the parser rather than waiting on the KDFs. The real limits are
// checked by the same code with other numbers.
var fuzzLimits = limits{maxTime: 3, maxMemoryKiB: 256, maxIterations: 2000}

// FuzzVerify: random stored strings never panic, are refused with a
// documented error or verified, and never match a wrong password.
func FuzzVerify(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.password, v.encoded)
	}
	for _, s := range []string{
		"", "!", "$", "$$$$$", "argon2$", "pbkdf2_sha256$", "pbkdf2_sha1$1$s$DGDID5YfDnHzqbUkr2ASBi/gN6Y=",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=255$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
		"$argon2i$m=64,t=1,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
		"bcrypt_sha256$$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
	} {
		f.Add("password", s)
	}
	f.Fuzz(func(t *testing.T, password, encoded string) {
		ok, err := verify(password, encoded, fuzzLimits)
		if err != nil {
			if ok {
				t.Fatalf("ok with an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if ok {
			// A match must not survive a change of password. (Not an added
			// NUL: HMAC pads its key with zeros, so PBKDF2 cannot tell
			// "pw" from "pw\x00" — in Django either.)
			if ok2, _ := verify(password+"x", encoded, fuzzLimits); ok2 {
				t.Fatalf("two passwords match %q", encoded)
			}
		}
		NeedsRehash(encoded, DefaultParams)
	})
}
