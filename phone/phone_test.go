package phone_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/twofactor/twofactor/phone"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, input, region, want string
	}{
		// The seed's validator vectors (test_validators.py).
		{"seed valid", "+31101234567", "", "+31101234567"},
		{"seed invalid length", "+3110123456", "", ""},
		{"seed too short", "123", "", ""},

		{"formatted international", "+41 52 420 42 42", "", "+41524204242"},
		{"00 prefix", "0041 52 420 42 42", "", "+41524204242"},
		{"00 prefix with region", "0041524204242", "NL", "+41524204242"},
		{"dots", "+41.52.420.42.42", "", "+41524204242"},
		{"dashes and parentheses", "+1 (201) 555-0123", "", "+12015550123"},
		{"surrounding space", "  +31 10 123 4567 ", "", "+31101234567"},
		{"national with region", "010 123 4567", "NL", "+31101234567"},
		{"national with lower-case region", "052 420 42 42", "ch", "+41524204242"},
		{"US national", "(201) 555-0123", "US", "+12015550123"},
		{"international ignores region", "+41 52 420 42 42", "US", "+41524204242"},
		{"national without region", "010 123 4567", "", ""},
		{"national invalid for region", "010 123 4567", "US", ""},

		{"empty", "", "", ""},
		{"only spaces", "   ", "NL", ""},
		{"only plus", "+", "", ""},
		{"plus in the middle", "31+101234567", "NL", ""},
		{"two plus", "++31101234567", "", ""},
		{"letters", "+31 10 ABC 4567", "", ""},
		{"vanity", "1-800-FLOWERS", "US", ""},
		{"extension", "+31101234567 ext. 12", "", ""},
		{"extension x", "+31101234567x12", "", ""},
		{"slash", "+31/101234567", "", ""},
		{"unicode digits", "+٣١١٠١٢٣٤٥٦٧", "", ""},
		{"fullwidth plus", "＋31101234567", "", ""},
		{"newline", "+31101234567\n", "", "+31101234567"},
		{"inner newline", "+31\n101234567", "", ""},
		{"too long", "+31 " + strings.Repeat("1", 70), "", ""},
		{"too many digits", "+3110123456789012345", "", ""},
		{"unknown country code", "+999 1234567", "", ""},
		{"zero country code", "+0 1234567", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := phone.Parse(tt.input, tt.region)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Parse(%q, %q) = %q, want an error", tt.input, tt.region, got)
				}
				if !errors.Is(err, phone.ErrInvalid) {
					t.Fatalf("error %v does not wrap ErrInvalid", err)
				}
				if got != "" {
					t.Fatalf("Parse returned %q with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q, %q): %v", tt.input, tt.region, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q, %q) = %q, want %q", tt.input, tt.region, got, tt.want)
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := phone.Parse("123", "")
	const seed = "Please enter a valid phone number, including your country code starting with + or 00."
	if phone.ErrInvalid.Error() != seed {
		t.Fatalf("ErrInvalid = %q, want the seed's message", phone.ErrInvalid)
	}
	if !strings.HasSuffix(err.Error(), seed) {
		t.Fatalf("error %q does not end with the seed's message", err)
	}
	// The error never repeats what was typed.
	_, err = phone.Parse("+31 10 XYZ 99887766", "")
	if strings.Contains(err.Error(), "99887766") || strings.Contains(err.Error(), "XYZ") {
		t.Fatalf("error %q repeats the input", err)
	}
}

func TestRegion(t *testing.T) {
	for _, r := range []string{"", "NL", "us", " ch "} {
		if err := phone.CheckRegion(r); err != nil {
			t.Errorf("CheckRegion(%q): %v", r, err)
		}
	}
	for _, r := range []string{"XX", "NLD", "N", "ZZ", "1", "en"} {
		err := phone.CheckRegion(r)
		if !errors.Is(err, phone.ErrRegion) {
			t.Errorf("CheckRegion(%q) = %v, want ErrRegion", r, err)
		}
		if _, err := phone.Parse("+31101234567", r); !errors.Is(err, phone.ErrRegion) {
			t.Errorf("Parse with region %q = %v, want ErrRegion", r, err)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := map[string]string{
		"+41524204242":    "+41 52 420 42 42",
		"+31101234567":    "+31 10 123 4567",
		"+12015550123":    "+1 201-555-0123",
		"+442079460958":   "+44 20 7946 0958",
		"":                "",
		"not a number":    "not a number",
		"0041524204242":   "0041524204242",
		"+":               "+",
		"+41 52 420 4242": "+41 52 420 42 42",
	}
	for in, want := range tests {
		if got := phone.Format(in); got != want {
			t.Errorf("Format(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMask(t *testing.T) {
	tests := map[string]string{
		// The seed's vectors (test_utils.py, test_views_phone.py).
		"+41524204242":     "+41 ** *** ** 42",
		"+31101234567":     "+31 ** *** **67",
		"+41 52 420 42 42": "+41 ** *** ** 42",
		"+41 524 204 242":  "+41 *** *** *42",

		"+12015550123": "+1 ***-***-**23",
		"+35840123456": "+35* ** ****56",
		"":             "",
		"12":           "12",
		"12345":        "12345",
		"123456":       "123*56",
	}
	for in, want := range tests {
		if got := phone.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	tests := map[string]string{
		// The seed's rule (test_utils.py mask_email).
		"tim@example.org":   "t**@example.org",
		"bouke@example.org": "b***e@example.org",
		"abcd@example.org":  "a**d@example.org",
		"ab@example.org":    "a*@example.org",
		"a@example.org":     "a@example.org",

		"@example.org":           "@example.org",
		"":                       "",
		"bouke":                  "b***e",
		"a@b@example.org":        "a**@example.org",
		"jürgen@example.de":      "j****n@example.de",
		"\"bo uke\"@example.org": "\"******\"@example.org",
	}
	for in, want := range tests {
		if got := phone.MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidDeux(t *testing.T) {
	// deux's validator cases (test_validators.py).
	valid := []string{"1234567", "12345678", "123456789012345", "4151234567"}
	invalid := []string{"", "1", "123456", "1234567890123456", "12345678901234567",
		"415-123-4567", "4151234567x12", "41512345ab", "+4151234567", "415 1234567",
		"4151234567\n", "٤١٥١٢٣٤٥٦٧"}
	for _, s := range valid {
		if !phone.ValidDeux(s) {
			t.Errorf("ValidDeux(%q) = false", s)
		}
	}
	for _, s := range invalid {
		if phone.ValidDeux(s) {
			t.Errorf("ValidDeux(%q) = true", s)
		}
	}
}

func TestDigits(t *testing.T) {
	tests := map[string][]string{
		"654321":   {"6", "5", "4", "3", "2", "1"},
		"054321":   {"0", "5", "4", "3", "2", "1"},
		"07654321": {"0", "7", "6", "5", "4", "3", "2", "1"},
		"000000":   {"0", "0", "0", "0", "0", "0"},
		"123 456":  {"1", "2", "3", "4", "5", "6"},
		"":         {},
		"abc":      {},
	}
	for in, want := range tests {
		if got := phone.Digits(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Digits(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsE164(t *testing.T) {
	for _, s := range []string{"+31101234567", "+12", "+123456789012345"} {
		if !phone.IsE164(s) {
			t.Errorf("IsE164(%q) = false", s)
		}
	}
	for _, s := range []string{"", "+", "+1", "31101234567", "+0123456", "+1234567890123456", "+31 10", "+31a"} {
		if phone.IsE164(s) {
			t.Errorf("IsE164(%q) = true", s)
		}
	}
}

// checkMasked fails unless every ASCII digit left in masked sits in the
// first three or the last two characters.
func checkMasked(t *testing.T, in, masked string) {
	t.Helper()
	rs := []rune(masked)
	for i, r := range rs {
		if r >= '0' && r <= '9' && i >= 3 && i < len(rs)-2 {
			t.Fatalf("Mask(%q) = %q reveals digit %d", in, masked, i)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"+31101234567", "+3110123456", "123", "0041 52 420 42 42",
		"(201) 555-0123", "+1-800-FLOWERS", "", "++", "00", "+٣١", "010 123 4567"} {
		f.Add(s, "")
		f.Add(s, "NL")
	}
	f.Add("5550123", "us")
	f.Add("1", "XX")
	f.Fuzz(func(t *testing.T, input, region string) {
		e164, err := phone.Parse(input, region)
		if err != nil {
			if e164 != "" {
				t.Fatalf("Parse(%q, %q) returned %q and %v", input, region, e164, err)
			}
			if !errors.Is(err, phone.ErrInvalid) && !errors.Is(err, phone.ErrRegion) {
				t.Fatalf("Parse error %v wraps neither ErrInvalid nor ErrRegion", err)
			}
			return
		}
		if !phone.IsE164(e164) {
			t.Fatalf("Parse(%q, %q) = %q, not E.164", input, region, e164)
		}
		// A parsed number parses again to itself, also from its
		// international format, with or without a region.
		for _, again := range []string{e164, phone.Format(e164)} {
			got, err := phone.Parse(again, region)
			if err != nil || got != e164 {
				t.Fatalf("Parse(%q) = %q, %v; want %q", again, got, err, e164)
			}
		}
		masked := phone.Mask(e164)
		checkMasked(t, e164, masked)
		// What is left visible at the end are the number's last two digits.
		if !strings.HasSuffix(e164, strings.Trim(masked[len(masked)-2:], " -*")) {
			t.Fatalf("Mask(%q) = %q shows digits that are not the last ones", e164, masked)
		}
		// At the start only the + and the country code's first digits.
		head := strings.TrimRight([]string{masked[:3]}[0], " *")
		if !strings.HasPrefix(e164, head) {
			t.Fatalf("Mask(%q) = %q shows %q at the start", e164, masked, head)
		}
	})
}

func FuzzFormatMask(f *testing.F) {
	for _, s := range []string{"+41524204242", "+31101234567", "+41 524 204 242", "", "+", "123456",
		"+12015550123", "tim@example.org", "\xff\xfe", "+35840123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		formatted := phone.Format(s)
		if !utf8.ValidString(s) {
			return
		}
		if !utf8.ValidString(formatted) {
			t.Fatalf("Format(%q) = %q is not UTF-8", s, formatted)
		}
		masked := phone.Mask(s)
		checkMasked(t, s, masked)
		if !phone.IsE164(s) && utf8.RuneCountInString(masked) != utf8.RuneCountInString(s) {
			t.Fatalf("Mask(%q) = %q changed the length", s, masked)
		}
		_ = phone.Digits(s)
		_ = phone.ValidDeux(s)
	})
}

func FuzzMaskEmail(f *testing.F) {
	for _, s := range []string{"tim@example.org", "bouke@example.org", "", "@", "a@", "@b", "a@b@c", "ü@x", "\xff@x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		masked := phone.MaskEmail(addr)
		if !utf8.ValidString(addr) {
			return
		}
		local, domain, ok := addr, "", false
		if i := strings.LastIndexByte(addr, '@'); i >= 0 {
			local, domain, ok = addr[:i], addr[i+1:], true
		}
		if ok && !strings.HasSuffix(masked, "@"+domain) {
			t.Fatalf("MaskEmail(%q) = %q lost the domain", addr, masked)
		}
		mlocal := strings.TrimSuffix(masked, "@"+domain)
		if !ok {
			mlocal = masked
		}
		lr, mr := []rune(local), []rune(mlocal)
		if len(lr) != len(mr) {
			t.Fatalf("MaskEmail(%q) = %q changed the local part's length", addr, masked)
		}
		// At most the first and (from four characters on) the last
		// character of the local part stay visible.
		for i := range lr {
			visible := i == 0 || (len(lr) >= 4 && i == len(lr)-1)
			if !visible && mr[i] != '*' {
				t.Fatalf("MaskEmail(%q) = %q reveals character %d", addr, masked, i)
			}
		}
	})
}
