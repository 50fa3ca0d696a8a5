package otp_test

import (
	"errors"
	"testing"

	"github.com/twofactor/twofactor/otp"
)

func TestFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code   uint32
		digits int
		want   string
	}{
		{5428, 6, "005428"},
		{0, 6, "000000"},
		{45675, 6, "045675"},
		{7081804, 8, "07081804"},
		{94287082, 8, "94287082"},
		{999999, 6, "999999"},
		{1234567, 6, "1234567"}, // never truncated
		{4294967295, 6, "4294967295"},
		{5, 0, "5"},
		{0, -1, "0"},
		{12, 40, "0000000012"}, // width capped at 10
	}
	for _, tt := range tests {
		if got := otp.Format(tt.code, tt.digits); got != tt.want {
			t.Errorf("Format(%d, %d) = %q, want %q", tt.code, tt.digits, got, tt.want)
		}
	}
}

func TestParseCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		digits int
		want   uint32
		err    error
	}{
		{"123456", 6, 123456, nil},
		{"005428", 6, 5428, nil}, // django-two-factor-auth test_forms
		{"000000", 6, 0, nil},
		{"123 456", 6, 123456, nil},
		{" 123456 ", 6, 123456, nil},
		{"\t123456\r\n", 6, 123456, nil},
		{"12 34 56", 6, 123456, nil},
		{"123  456", 6, 123456, nil},
		{"07081804", 8, 7081804, nil},
		{"0708 1804", 8, 7081804, nil},
		{"1234567", 7, 1234567, nil},
		{"123456", 0, 123456, nil}, // 0 means DefaultDigits

		{"", 6, 0, otp.ErrCodeEmpty},
		{"   ", 6, 0, otp.ErrCodeEmpty},
		{"\t\n", 6, 0, otp.ErrCodeEmpty},

		{"12345", 6, 0, otp.ErrCodeLength},
		{"1234567", 6, 0, otp.ErrCodeLength},
		{"123456", 8, 0, otp.ErrCodeLength},
		{"12345678901234567890", 6, 0, otp.ErrCodeLength},
		{"0005428", 6, 0, otp.ErrCodeLength},

		{"+123456", 6, 0, otp.ErrCodeMalformed},
		{"-123456", 6, 0, otp.ErrCodeMalformed},
		{"123_456", 6, 0, otp.ErrCodeMalformed},
		{"123-456", 6, 0, otp.ErrCodeMalformed},
		{"12345a", 6, 0, otp.ErrCodeMalformed},
		{"abcdef", 6, 0, otp.ErrCodeMalformed},
		{"123\t456", 6, 0, otp.ErrCodeMalformed},
		{"123\u00a0456", 6, 0, otp.ErrCodeMalformed}, // no-break space
		{"１２３４５６", 6, 0, otp.ErrCodeMalformed},       // fullwidth digits
		{"١٢٣٤٥٦", 6, 0, otp.ErrCodeMalformed},       // Arabic-Indic digits
		{"123456\x00", 6, 0, otp.ErrCodeMalformed},
		{"0x1234", 6, 0, otp.ErrCodeMalformed},
		{"1e5", 6, 0, otp.ErrCodeMalformed},
		{"12.456", 6, 0, otp.ErrCodeMalformed},

		{"123456", 5, 0, otp.ErrDigits},
		{"123456789", 9, 0, otp.ErrDigits},
		{"123456", -6, 0, otp.ErrDigits},
	}
	for _, tt := range tests {
		got, err := otp.ParseCode(tt.in, tt.digits)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("ParseCode(%q, %d) error = %v, want %v", tt.in, tt.digits, err, tt.err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseCode(%q, %d) = %d, want %d", tt.in, tt.digits, got, tt.want)
		}
	}
}

// TestCodeRoundTrip: Format then ParseCode returns the code, leading zeros
// included.
func TestCodeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, d := range []int{6, 7, 8} {
		for _, c := range []uint32{0, 1, 5428, 45675, 99999, 100000, 999999, 7081804, 9999999, 99999999} {
			max := uint32(1)
			for range d {
				max *= 10
			}
			if c >= max {
				continue
			}
			s := otp.Format(c, d)
			if len(s) != d {
				t.Errorf("Format(%d, %d) = %q: wrong length", c, d, s)
			}
			got, err := otp.ParseCode(s, d)
			if err != nil || got != c {
				t.Errorf("ParseCode(Format(%d, %d)) = %d, %v", c, d, got, err)
			}
		}
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	for _, err := range []error{otp.ErrCodeEmpty, otp.ErrCodeMalformed, otp.ErrCodeLength, otp.ErrDigits, otp.ErrAlgorithm, otp.ErrKeyURI} {
		msg := err.Error()
		if msg == "" || msg[len(msg)-1] == '.' || (msg[0] >= 'A' && msg[0] <= 'Z') {
			t.Errorf("error message %q: want lower case without a trailing period", msg)
		}
	}
}

func TestAlgorithm(t *testing.T) {
	t.Parallel()
	names := map[otp.Algorithm]string{otp.SHA1: "SHA1", otp.SHA256: "SHA256", otp.SHA512: "SHA512", 7: "Algorithm(7)"}
	for a, want := range names {
		if got := a.String(); got != want {
			t.Errorf("Algorithm(%d).String() = %q, want %q", uint8(a), got, want)
		}
	}
	tests := []struct {
		in   string
		want otp.Algorithm
		ok   bool
	}{
		{"SHA1", otp.SHA1, true},
		{"sha1", otp.SHA1, true},
		{"Sha-1", otp.SHA1, true},
		{"SHA256", otp.SHA256, true},
		{"sha-256", otp.SHA256, true},
		{"SHA512", otp.SHA512, true},
		{"SHA-512", otp.SHA512, true},
		{"", 0, false},
		{"SHA", 0, false},
		{"SHA-", 0, false},
		{"SHA384", 0, false},
		{"MD5", 0, false},
		{" SHA1", 0, false},
		{"SHA--1", 0, false},
		{"SHA_1", 0, false},
		{"HMAC-SHA1", 0, false},
	}
	for _, tt := range tests {
		got, err := otp.ParseAlgorithm(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseAlgorithm(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, otp.ErrAlgorithm) {
			t.Errorf("ParseAlgorithm(%q) error %v is not ErrAlgorithm", tt.in, err)
		}
	}
}
