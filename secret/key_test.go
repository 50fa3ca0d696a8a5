package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	t.Parallel()
	want := testKey(7)
	hexLower := hex.EncodeToString(want)
	long := append(bytes.Clone(want), 0xff)
	tests := []struct {
		name    string
		in      string
		wantErr string // substring of the error; "" for success
	}{
		{"hex lower", hexLower, ""},
		{"hex upper", strings.ToUpper(hexLower), ""},
		{"hex with newline", hexLower + "\n", ""},
		{"hex with spaces", "  \t" + hexLower + " \r\n", ""},
		{"base64 std", base64.StdEncoding.EncodeToString(want), ""},
		{"base64 std raw", base64.RawStdEncoding.EncodeToString(want), ""},
		{"base64 url", base64.URLEncoding.EncodeToString(want), ""},
		{"base64 url raw", base64.RawURLEncoding.EncodeToString(want), ""},
		{"base64 with newline", base64.StdEncoding.EncodeToString(want) + "\n", ""},
		{"empty", "", "empty"},
		{"blank", " \n", "empty"},
		{"hex 31 bytes", hexLower[:62], "got 31 bytes"},
		{"hex 33 bytes", hexLower + "ab", "got 33 bytes"},
		{"base64 31 bytes", base64.StdEncoding.EncodeToString(want[:31]), "got 31 bytes"},
		{"base64 33 bytes", base64.StdEncoding.EncodeToString(long), "got 33 bytes"},
		{"non-hex", "zz" + hexLower[2:], "got 48 bytes"}, // not hex, but base64 of 48 bytes
		{"garbage", "not a key!", "neither hex nor base64"},
		{"inner space", hexLower[:32] + " " + hexLower[32:], "neither hex nor base64"},
		{"all zeros", strings.Repeat("0", 64), "all zeros"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseKey(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseKey: %v", err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("ParseKey = %x, want %x", got, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseKey = %x, want error", got)
			}
			// The error says what is wrong without echoing the value.
			if trimmed := strings.TrimSpace(tt.in); len(trimmed) >= 8 && strings.Contains(err.Error(), trimmed[:8]) {
				t.Errorf("error %q echoes the value", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if tt.name != "all zeros" && !strings.Contains(err.Error(), "64 hex characters or base64") {
				t.Errorf("error %q does not state the format", err)
			}
		})
	}
}
