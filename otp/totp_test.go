package otp_test

import (
	"fmt"
	"testing"

	"github.com/twofactor/twofactor/otp"
)

// TestTOTPRFC6238 checks every row of RFC 6238 Appendix B.
func TestTOTPRFC6238(t *testing.T) {
	t.Parallel()
	keys := map[otp.Algorithm][]byte{
		otp.SHA1:   []byte("12345678901234567890"),
		otp.SHA256: []byte("12345678901234567890123456789012"),
		otp.SHA512: []byte("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	tests := []struct {
		unix int64
		alg  otp.Algorithm
		want string
	}{
		{59, otp.SHA1, "94287082"},
		{59, otp.SHA256, "46119246"},
		{59, otp.SHA512, "90693936"},
		{1111111109, otp.SHA1, "07081804"},
		{1111111109, otp.SHA256, "68084774"},
		{1111111109, otp.SHA512, "25091201"},
		{1111111111, otp.SHA1, "14050471"},
		{1111111111, otp.SHA256, "67062674"},
		{1111111111, otp.SHA512, "99943326"},
		{1234567890, otp.SHA1, "89005924"},
		{1234567890, otp.SHA256, "91819424"},
		{1234567890, otp.SHA512, "93441116"},
		{2000000000, otp.SHA1, "69279037"},
		{2000000000, otp.SHA256, "90698825"},
		{2000000000, otp.SHA512, "38618901"},
		{20000000000, otp.SHA1, "65353130"},
		{20000000000, otp.SHA256, "77737706"},
		{20000000000, otp.SHA512, "47863826"},
	}
	for _, tt := range tests {
		g := otp.TOTP{Key: keys[tt.alg], Algorithm: tt.alg, Digits: 8, Step: 30}
		got := otp.Format(g.At(tt.unix, 0), 8)
		if got != tt.want {
			t.Errorf("%v at %d = %s, want %s", tt.alg, tt.unix, got, tt.want)
		}
		code, err := otp.ParseCode(tt.want, 8)
		if err != nil {
			t.Fatalf("ParseCode(%q): %v", tt.want, err)
		}
		m, ok := g.Verify(code, tt.unix, 0, 0, -1)
		if !ok || m.Counter != tt.unix/30 || m.Drift != 0 {
			t.Errorf("%v Verify(%s) at %d = (%+v, %v), want counter %d", tt.alg, tt.want, tt.unix, m, ok, tt.unix/30)
		}
	}
}

func TestTOTPCounter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		step, t0, unix, drift, want int64
	}{
		{0, 0, 0, 0, 0},
		{0, 0, 29, 0, 0},
		{0, 0, 30, 0, 1},
		{30, 0, 59, 0, 1},
		{30, 0, 59, -1, 0},
		{30, 0, 59, 3, 4},
		{-5, 0, 60, 0, 2}, // non-positive step means 30
		{30, 100, 99, 0, -1},
		{30, 100, 70, 0, -1},
		{30, 100, 69, 0, -2},
		{30, 0, -1, 0, -1},
		{30, 0, -30, 0, -1},
		{30, 0, -31, 0, -2},
		{7, 3, 3 + 7*5 + 6, 0, 5},
		{1, 0, 1_700_000_000, 0, 1_700_000_000},
	}
	for _, tt := range tests {
		g := otp.TOTP{Step: tt.step, T0: tt.t0}
		if got := g.Counter(tt.unix, tt.drift); got != tt.want {
			t.Errorf("TOTP{Step: %d, T0: %d}.Counter(%d, %d) = %d, want %d", tt.step, tt.t0, tt.unix, tt.drift, got, tt.want)
		}
	}
}

// TestTOTPDjangoDoctest follows the doctest of django-otp's oath.TOTP.
func TestTOTPDjangoDoctest(t *testing.T) {
	t.Parallel()
	g := otp.TOTP{Key: rfcKey, Step: 30, T0: 0, Digits: 6}
	if c, code := g.Counter(0, 0), g.At(0, 0); c != 0 || code != 755224 {
		t.Errorf("time 0: t=%d token=%d, want t=0 token=755224", c, code)
	}
	if c, code := g.Counter(30, 0), g.At(30, 0); c != 1 || code != 287082 {
		t.Errorf("time 30: t=%d token=%d, want t=1 token=287082", c, code)
	}
	if m, ok := g.Verify(359152, 30, 0, 0, -1); ok {
		t.Errorf("359152 tolerance 0 accepted: %+v", m)
	}
	if m, ok := g.Verify(359152, 30, 1, 0, -1); !ok || m.Drift != 1 || m.Counter != 2 {
		t.Errorf("359152 tolerance 1 = (%+v, %v), want ({Counter:2 Drift:1}, true)", m, ok)
	}
	// min_t = 3 in django-otp is lastCounter = 2 here.
	if m, ok := g.Verify(359152, 30, 1, 0, 2); ok {
		t.Errorf("359152 with min_t 3 accepted: %+v", m)
	}
}

// djangoTOTP is the TOTPDevice fixture of django-otp's tests: t0 is 90
// seconds before now, so the current step is 3.
var (
	djangoTOTPKeyHex = "2a2bbba1092ffdd25a328ad1a0a5f5d61d7aacc4"
	djangoTOTPTokens = []uint32{179225, 656163, 839400, 154567, 346912, 471576, 45675, 101397, 491039, 784503}
)

const djangoNow = 1_700_000_000

func TestTOTPDjangoDevice(t *testing.T) {
	t.Parallel()
	g := otp.TOTP{Key: mustHex(t, djangoTOTPKeyHex), Step: 30, T0: djangoNow - 90, Digits: 6}
	if c := g.Counter(djangoNow, 0); c != 3 {
		t.Fatalf("current step = %d, want 3", c)
	}
	for i, tok := range djangoTOTPTokens {
		if got := g.At(g.T0+int64(i)*30, 0); got != tok {
			t.Errorf("token t=%d = %06d, want %06d", i, got, tok)
		}
	}
	if got := otp.Format(djangoTOTPTokens[6], 6); got != "045675" {
		t.Errorf("Format(45675, 6) = %q, want 045675", got)
	}

	// Each case verifies all ten tokens in order against one device, which
	// stores the matched step as django-otp's verify_token does.
	tests := []struct {
		name      string
		tolerance int
		drift     int64
		accepted  []int
	}{
		{"tolerance 0", 0, 0, []int{3}},
		{"tolerance 1", 1, 0, []int{2, 3, 4}},
		{"tolerance 1 drift -1", 1, -1, []int{1, 2, 3}},
		{"tolerance 2", 2, 0, []int{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		last := int64(-1)
		var got []int
		for i, tok := range djangoTOTPTokens {
			m, ok := g.Verify(tok, djangoNow, tt.tolerance, tt.drift, last)
			if ok {
				if m.Counter != int64(i) {
					t.Errorf("%s: token %d matched step %d", tt.name, i, m.Counter)
				}
				last = m.Counter
				got = append(got, i)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.accepted) {
			t.Errorf("%s: accepted steps %v, want %v", tt.name, got, tt.accepted)
		}
	}

	// OTP_TOTP_SYNC: tolerance 2 and the token of step 5 moves drift to 2.
	m, ok := g.Verify(djangoTOTPTokens[5], djangoNow, 2, 0, -1)
	if !ok || m.Drift != 2 || m.Counter != 5 {
		t.Errorf("sync: got (%+v, %v), want ({Counter:5 Drift:2}, true)", m, ok)
	}
	// With the new drift the next step's token is found at offset 0.
	m, ok = g.Verify(djangoTOTPTokens[6], djangoNow+30, 0, m.Drift, m.Counter)
	if !ok || m.Drift != 2 || m.Counter != 6 {
		t.Errorf("after sync: got (%+v, %v), want ({Counter:6 Drift:2}, true)", m, ok)
	}

	// Replay: the same token twice, storing the step in between.
	m, ok = g.Verify(djangoTOTPTokens[3], djangoNow, 1, 0, -1)
	if !ok || m.Counter != 3 {
		t.Fatalf("first use: got (%+v, %v)", m, ok)
	}
	if m2, ok := g.Verify(djangoTOTPTokens[3], djangoNow, 1, 0, m.Counter); ok {
		t.Errorf("replayed token accepted: %+v", m2)
	}
	// An older token is refused too once a later step was used.
	if m2, ok := g.Verify(djangoTOTPTokens[2], djangoNow, 1, 0, m.Counter); ok {
		t.Errorf("token of an earlier step accepted after step 3: %+v", m2)
	}
	if _, ok := g.Verify(djangoTOTPTokens[4], djangoNow, 1, 0, m.Counter); !ok {
		t.Error("token of the next step refused after step 3")
	}
}

// TestTOTPDeviceForm mirrors django-two-factor-auth's test_totpdeviceform:
// hex key 12345678901234567890 (10 bytes), time 1641194517, tolerance 1.
// The codes were produced with oathtool.
func TestTOTPDeviceForm(t *testing.T) {
	t.Parallel()
	g := otp.TOTP{Key: mustHex(t, "12345678901234567890")}
	const now = 1641194517
	tests := []struct {
		offset int64
		code   string
		valid  bool
	}{
		{-2, "892037", false},
		{-1, "351488", true},
		{0, "109629", true},
		{1, "158007", true},
		{2, "624243", false},
	}
	for _, tt := range tests {
		if got := otp.Format(g.At(now+tt.offset*30, 0), 6); got != tt.code {
			t.Errorf("offset %d: code %s, want %s", tt.offset, got, tt.code)
		}
		if got := otp.Format(g.At(now, tt.offset), 6); got != tt.code {
			t.Errorf("drift %d: code %s, want %s", tt.offset, got, tt.code)
		}
		code, err := otp.ParseCode(tt.code, 6)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := g.Verify(code, now, 1, 0, -1)
		if ok != tt.valid {
			t.Errorf("offset %d: valid %v, want %v", tt.offset, ok, tt.valid)
		}
		if ok && (m.Drift != tt.offset || m.Counter != g.Counter(now, 0)+tt.offset) {
			t.Errorf("offset %d: match %+v", tt.offset, m)
		}
	}
}

func TestTOTPVerifyEdges(t *testing.T) {
	t.Parallel()
	g := otp.TOTP{Key: rfcKey}
	const now = 1_700_000_000
	cur := g.Counter(now, 0)
	at := func(off int64) uint32 { return g.At(now, off) }
	tests := []struct {
		name      string
		g         otp.TOTP
		code      uint32
		tolerance int
		drift     int64
		last      int64
		wantOK    bool
		want      otp.Match
	}{
		{"current", g, at(0), 1, 0, -1, true, otp.Match{Counter: cur, Drift: 0}},
		{"previous", g, at(-1), 1, 0, -1, true, otp.Match{Counter: cur - 1, Drift: -1}},
		{"next", g, at(1), 1, 0, -1, true, otp.Match{Counter: cur + 1, Drift: 1}},
		{"negative tolerance is 0", g, at(1), -4, 0, -1, false, otp.Match{}},
		{"negative tolerance current", g, at(0), -4, 0, -1, true, otp.Match{Counter: cur}},
		{"drift carries", g, at(5), 1, 4, -1, true, otp.Match{Counter: cur + 5, Drift: 5}},
		{"last is current", g, at(0), 1, 0, cur, false, otp.Match{}},
		{"last is previous", g, at(0), 1, 0, cur - 1, true, otp.Match{Counter: cur}},
		{"previous after current used", g, at(-1), 1, 0, cur, false, otp.Match{}},
		{"next after current used", g, at(1), 1, 0, cur, true, otp.Match{Counter: cur + 1, Drift: 1}},
		{"wrong code", g, (at(0) + 1) % 1000000, 0, 0, -1, false, otp.Match{}},
		{"code too large", g, at(0) + 1000000, 0, 0, -1, false, otp.Match{}},
		{"empty key", otp.TOTP{}, otp.TOTP{}.At(now, 0), 1, 0, -1, false, otp.Match{}},
		{"undefined algorithm", otp.TOTP{Key: rfcKey, Algorithm: 3}, at(0), 1, 0, -1, false, otp.Match{}},
		{"digits 4", otp.TOTP{Key: rfcKey, Digits: 4}, at(0) % 10000, 1, 0, -1, false, otp.Match{}},
		{"digits 10", otp.TOTP{Key: rfcKey, Digits: 10}, otp.TOTP{Key: rfcKey, Digits: 8}.At(now, 0), 1, 0, -1, false, otp.Match{}},
		{"before T0", otp.TOTP{Key: rfcKey, T0: now + 100}, otp.TOTP{Key: rfcKey, T0: now + 100}.At(now, 0), 1, 0, -1000, false, otp.Match{}},
	}
	for _, tt := range tests {
		m, ok := tt.g.Verify(tt.code, now, tt.tolerance, tt.drift, tt.last)
		if ok != tt.wantOK || m != tt.want {
			t.Errorf("%s: got (%+v, %v), want (%+v, %v)", tt.name, m, ok, tt.want, tt.wantOK)
		}
	}
}

// TestTOTPVerifyLowestOffsetWins finds a key whose code repeats inside a
// window and checks that the lowest offset is reported.
func TestTOTPVerifyLowestOffsetWins(t *testing.T) {
	t.Parallel()
	const now = 1_700_000_000
	const tol = 50
	for k := 0; k < 2000; k++ {
		g := otp.TOTP{Key: []byte{byte(k), byte(k >> 8), 9, 8, 7, 6, 5, 4, 3, 2}}
		seen := map[uint32]int64{}
		for off := int64(-tol); off <= tol; off++ {
			code := g.At(now, off)
			if first, dup := seen[code]; dup {
				m, ok := g.Verify(code, now, tol, 0, -1)
				if !ok || m.Drift != first {
					t.Fatalf("code %06d at offsets %d and %d: got (%+v, %v), want drift %d", code, first, off, m, ok, first)
				}
				// Once the first step is used, the later one still verifies.
				m2, ok := g.Verify(code, now, tol, 0, m.Counter)
				if !ok || m2.Drift != off {
					t.Fatalf("second occurrence: got (%+v, %v), want drift %d", m2, ok, off)
				}
				return
			}
			seen[code] = off
		}
	}
	t.Skip("no collision found")
}
