package secret

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
)

// failingReader returns err after n bytes.
type failingReader struct {
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, r.err
	}
	k := min(len(p), r.n)
	for i := range k {
		p[i] = byte(i)
	}
	r.n -= k
	return k, nil
}

var errBroken = errors.New("entropy source broken")

// constReader returns the same byte forever.
type constReader byte

func (c constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

func TestRandomBytes(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 16, 32, 1000} {
		b, err := RandomBytes(nil, n)
		if err != nil || len(b) != n {
			t.Errorf("RandomBytes(nil, %d) = %d bytes, %v", n, len(b), err)
		}
	}
	a, _ := RandomBytes(nil, 32)
	b, _ := RandomBytes(nil, 32)
	if bytes.Equal(a, b) {
		t.Errorf("two draws of 32 random bytes are equal")
	}
	if _, err := RandomBytes(nil, -1); err == nil {
		t.Errorf("negative length: no error")
	}
	if _, err := RandomBytes(&failingReader{err: errBroken}, 8); !errors.Is(err, errBroken) {
		t.Errorf("failing reader: err = %v", err)
	}
	// A reader that ends early yields an error, never a short secret.
	if b, err := RandomBytes(&failingReader{n: 5, err: io.EOF}, 8); err == nil {
		t.Errorf("short reader: %d bytes, no error", len(b))
	}
	b, err := RandomBytes(bytes.NewReader([]byte{1, 2, 3}), 3)
	if err != nil || !bytes.Equal(b, []byte{1, 2, 3}) {
		t.Errorf("injected reader: %v, %v", b, err)
	}
}

func TestRandomStringAlphabet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		alphabet string
		n        int
		wantErr  bool
	}{
		{"backup", BackupAlphabet, 10, false},
		{"digits", DigitAlphabet, 6, false},
		{"two symbols", "ab", 100, false},
		{"zero length", DigitAlphabet, 0, false},
		{"empty alphabet", "", 5, true},
		{"one symbol", "a", 5, true},
		{"repeated symbol", "abca", 5, true},
		{"non-ASCII", "abcé", 5, true},
		{"too long", strings.Repeat("a", 257), 5, true},
		{"negative length", DigitAlphabet, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := RandomString(nil, tt.alphabet, tt.n)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(s) != tt.n {
				t.Errorf("len = %d, want %d", len(s), tt.n)
			}
			for _, c := range s {
				if !strings.ContainsRune(tt.alphabet, c) {
					t.Errorf("symbol %q not in alphabet", c)
				}
			}
		})
	}
	for _, c := range "01ilo" {
		if strings.ContainsRune(BackupAlphabet, c) {
			t.Errorf("BackupAlphabet contains ambiguous %q", c)
		}
	}
}

// TestRandomStringRejection feeds known bytes: with 10 symbols, bytes 250 to
// 255 would favour 0–5 and must be skipped.
func TestRandomStringRejection(t *testing.T) {
	t.Parallel()
	src := bytes.NewReader([]byte{255, 250, 3, 249, 10, 252, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	s, err := RandomString(src, DigitAlphabet, 3)
	if err != nil {
		t.Fatal(err)
	}
	if s != "390" {
		t.Errorf("got %q, want %q", s, "390")
	}
}

func TestRandomStringBrokenReader(t *testing.T) {
	t.Parallel()
	if _, err := RandomString(&failingReader{err: errBroken}, BackupAlphabet, 10); !errors.Is(err, errBroken) {
		t.Errorf("failing reader: err = %v", err)
	}
	if s, err := RandomString(&failingReader{n: 3, err: io.EOF}, BackupAlphabet, 10); err == nil {
		t.Errorf("short reader: %q, no error", s)
	}
	// A reader whose every byte is rejected must not hang the caller.
	if _, err := RandomString(constReader(255), BackupAlphabet, 10); err == nil {
		t.Errorf("reader of rejected bytes: no error")
	}
}

// TestRandomStringDistribution is a sanity check that every symbol appears
// with about the same frequency. The chi-square bound is loose (the 1e-9
// tail for these degrees of freedom is far below it), so the test does not
// flake; a modulo bias or a lost symbol still fails it clearly.
func TestRandomStringDistribution(t *testing.T) {
	t.Parallel()
	for _, alphabet := range []string{BackupAlphabet, DigitAlphabet, "abc"} {
		const n = 200000
		s, err := RandomString(nil, alphabet, n)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[rune]int{}
		for _, c := range s {
			counts[c]++
		}
		if len(counts) != len(alphabet) {
			t.Errorf("%q: %d distinct symbols, want %d", alphabet, len(counts), len(alphabet))
		}
		expected := float64(n) / float64(len(alphabet))
		var chi2 float64
		for _, c := range alphabet {
			d := float64(counts[c]) - expected
			chi2 += d * d / expected
		}
		// Degrees of freedom k-1 ≤ 30: mean ≤ 30, and a P=1e-9 tail below 100.
		if chi2 > 100 {
			t.Errorf("%q: chi-square %.1f over %d symbols: not uniform", alphabet, chi2, len(alphabet))
		}
	}
}

// TestRandomStringModuloBias shows what rejection sampling is for: with a
// biased mapping the first symbols of a 31-symbol alphabet come up 9/8 as
// often; measure the first symbol against the last.
func TestRandomStringModuloBias(t *testing.T) {
	t.Parallel()
	const n = 310000
	s, err := RandomString(nil, BackupAlphabet, n)
	if err != nil {
		t.Fatal(err)
	}
	first := strings.Count(s, BackupAlphabet[:1])
	last := strings.Count(s, BackupAlphabet[len(BackupAlphabet)-1:])
	// Each is ~10000 ± 100; a 9/8 bias would make first ≈ 11250 vs 10000.
	if ratio := float64(first) / float64(last); ratio > 1.07 || ratio < 0.93 {
		t.Errorf("first/last symbol frequency ratio %.3f", ratio)
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	a, err := Token(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 43 {
		t.Errorf("len = %d, want 43", len(a))
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != TokenSize {
		t.Errorf("decode: %d bytes, %v", len(raw), err)
	}
	if b, _ := Token(nil); a == b {
		t.Errorf("two tokens are equal")
	}
	if _, err := Token(&failingReader{err: errBroken}); !errors.Is(err, errBroken) {
		t.Errorf("failing reader: err = %v", err)
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	s, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 64 || strings.ToLower(s) != s || !isHex(s) {
		t.Errorf("GenerateKey = %d chars, want 64 lower-case hex", len(s))
	}
	key, err := ParseKey(s + "\n")
	if err != nil || len(key) != KeySize {
		t.Errorf("ParseKey(GenerateKey()) = %d bytes, %v", len(key), err)
	}
	if _, err := GenerateKey(&failingReader{n: 10, err: io.EOF}); err == nil {
		t.Errorf("short reader: no error")
	}
	if _, err := GenerateKey(constReader(0)); err == nil {
		t.Errorf("all-zero reader: no error")
	}
}
