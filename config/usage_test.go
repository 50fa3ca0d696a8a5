package config

import (
	"bytes"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	var buf bytes.Buffer
	if err := Usage(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(keys)+1 {
		t.Fatalf("%d lines, want a header and %d keys", len(lines), len(keys))
	}
	// Columns are aligned: the environment column starts at the same place
	// on every line.
	col := strings.Index(lines[0], "ENVIRONMENT")
	for i, k := range keys {
		line := lines[i+1]
		if !strings.HasPrefix(line, k.Name+" ") {
			t.Errorf("line %d does not start with %s: %q", i+1, k.Name, line)
		}
		if strings.Index(line, k.Env()) != col {
			t.Errorf("%s: environment column at %d, header at %d", k.Name, strings.Index(line, k.Env()), col)
		}
		if !strings.HasSuffix(line, k.Description) {
			t.Errorf("%s: description missing: %q", k.Name, line)
		}
	}
}

func TestMarkdown(t *testing.T) {
	var buf bytes.Buffer
	if err := Markdown(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if out == "" {
		t.Fatal("empty")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(keys)+2 {
		t.Fatalf("%d lines, want header, separator and %d rows", len(lines), len(keys))
	}
	for i, k := range keys {
		row := lines[i+2]
		if !strings.HasPrefix(row, "| `"+k.Name+"` | `"+k.Env()+"` | ") {
			t.Errorf("row %d does not list %s: %q", i, k.Name, row)
		}
		// Five cells: the escaped "|" inside cells does not split them.
		if n := strings.Count(row, "|") - strings.Count(row, `\|`); n != 6 {
			t.Errorf("%s: %d cell separators in %q", k.Name, n, row)
		}
		if k.Default != "" && !strings.Contains(row, "`"+k.Default+"`") {
			t.Errorf("%s: default %q missing", k.Name, k.Default)
		}
		if k.Seed != "" && !strings.Contains(row, k.Seed) {
			t.Errorf("%s: seed %q missing", k.Name, k.Seed)
		}
	}
	if !strings.Contains(out, "TWO_FACTOR_TOTP_DIGITS") || !strings.Contains(out, "`TWOFACTOR_TWILIO_ACCOUNT_SID`") {
		t.Error("seed settings or environment names missing")
	}
}
