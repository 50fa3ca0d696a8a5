package config

import (
	"strings"
	"testing"
)

// FuzzParseValue sets any key to any text. It must never panic, and a value
// that is accepted must read back, through Redacted, to the same value.
func FuzzParseValue(f *testing.F) {
	seeds := []string{"90s", "1h", "600", "-5", "abc", "", "off", "30/1m", "0/0", "1/-1s", "yes", "8",
		"https://example.com", "//evil", "/\\x", "smtp://u:p@h:1", "a,b,,c", "9223372036854775807",
		"-9223372036854775808", "1e9", "\x00", "é", "%zz", "enterprise", "sqlite:", "postgres://%"}
	for _, k := range keys {
		for _, s := range seeds {
			f.Add(k.Name, s)
		}
		f.Add(k.Name, k.Default)
	}
	f.Fuzz(func(t *testing.T, name, text string) {
		k, ok := lookup(name)
		if !ok {
			return
		}
		c := Default()
		err := apply(&c, k, input{text: text}, "fuzz")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error has several lines: %q", err)
			}
			return
		}
		got := k.codec.get(&c)
		c2 := Default()
		if err := apply(&c2, k, input{text: got}, "fuzz"); err != nil {
			t.Fatalf("%s: %q was accepted as %q, which is refused: %v", name, text, got, err)
		}
		if again := k.codec.get(&c2); again != got {
			t.Fatalf("%s: %q reads as %q, then as %q", name, text, got, again)
		}
	})
}

// FuzzParseDuration checks the duration parser alone.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90s", "1h", "600", "-5", "abc", "+0", "1.5h", "9223372037", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err == nil && d < 0 {
			t.Fatalf("%q gave the negative duration %v", s, d)
		}
	})
}

// FuzzParseRate checks the rate parser alone.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"30/1m", "off", "1/1", "0/1m", "1/0", "/", "1//1", "-1/1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRate(s)
		if err != nil {
			return
		}
		if !r.Off() && (r.Count < 1 || r.Per <= 0) {
			t.Fatalf("%q gave %+v", s, r)
		}
		back, err := parseRate(r.String())
		if err != nil || back != r {
			t.Fatalf("%q -> %q -> %+v, %v", s, r.String(), back, err)
		}
	})
}

// FuzzFile reads any TOML or YAML content. It must never panic.
func FuzzFile(f *testing.F) {
	for _, s := range []string{fullTOML, fullTOMLDotted, "[totp\n", "a = [[1]]", "x = 1979-05-27T07:32:00Z"} {
		f.Add(true, s)
	}
	for _, s := range []string{fullYAML, fullYAMLDotted, "- a", "a: &a\n  b: *a\n", "? [a]\n: 1", "a: !!binary aGk="} {
		f.Add(false, s)
	}
	f.Fuzz(func(t *testing.T, isTOML bool, content string) {
		name := "fuzz.yaml"
		if isTOML {
			name = "fuzz.toml"
		}
		entries, err := parseFile(name, []byte(content))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error has several lines: %q", err)
			}
			return
		}
		c := Default()
		for _, e := range entries {
			if k, ok := lookup(e.key); ok {
				_ = apply(&c, k, e.val, e.src)
			}
		}
	})
}
