package qr

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"strings"
	"testing"

	"rsc.io/qr/coding"
)

// maxBytes is the longest byte-mode text a version 40 code holds at level
// M: 2334 data bytes less the 4-bit mode and 16-bit length fields, the
// 2331 bytes ISO/IEC 18004 lists.
const maxBytes = 2331

// typicalURI is what the CLI and the web pages show.
const typicalURI = "otpauth://totp/Example%20Corp:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example%20Corp&algorithm=SHA1&digits=6&period=30"

// longURI returns an otpauth URI of exactly n bytes, padding the label.
func longURI(n int) string {
	const head, tail = "otpauth://totp/Example:", "?secret=JBSWY3DPEHPK3PXP&issuer=Example"
	return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
}

// samples are texts that must come back unchanged from every rendering.
var samples = []struct {
	name, text string
}{
	{"ascii", "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example"},
	{"typical", typicalURI},
	{"hotp", "otpauth://hotp/ACME%20Co:john.doe%40example.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&counter=0"},
	{"percent-encoded UTF-8", "otpauth://totp/B%C3%BCcherei%20M%C3%BCnchen:j%C3%BCrgen%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=B%C3%BCcherei%20M%C3%BCnchen&algorithm=SHA256&digits=8&period=60"},
	{"percent-encoded CJK", "otpauth://totp/%E6%A0%AA%E5%BC%8F%E4%BC%9A%E7%A4%BE:%E5%B1%B1%E7%94%B0?secret=JBSWY3DPEHPK3PXP&issuer=%E6%A0%AA%E5%BC%8F%E4%BC%9A%E7%A4%BE"},
	{"raw UTF-8", "otpauth://totp/Bücherei:jürgen?secret=JBSWY3DPEHPK3PXP"},
	{"alphanumeric mode", "HTTPS://EXAMPLE.COM/2FA/ABC-123"},
	{"numeric mode", "31415926535897932384626433832795"},
	{"one byte", "x"},
	{"long", longURI(1000)},
	{"at capacity", longURI(maxBytes)},
	{"alphanumeric at capacity", strings.Repeat("OTPAUTH://TOTP/", 3391/15) + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:3391%15]},
	{"numeric at capacity", strings.Repeat("0123456789", 559) + "012345"},
}

func mustEncode(t testing.TB, text string) *Code {
	t.Helper()
	c, err := Encode(text)
	if err != nil {
		t.Fatalf("Encode(%d bytes): %v", len(text), err)
	}
	return c
}

// TestPNGDecodes checks PNG against zbarimg, an independent decoder.
func TestPNGDecodes(t *testing.T) {
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			c := mustEncode(t, s.text)
			img, err := c.PNG(4)
			if err != nil {
				t.Fatal(err)
			}
			if got := zbar(t, img); got != s.text {
				t.Errorf("zbarimg read %q, want %q", got, s.text)
			}
		})
	}
}

// TestTerminalDecodes parses the half-block text back into modules, renders
// those to PNG with the standard library and has zbarimg read them.
func TestTerminalDecodes(t *testing.T) {
	for _, s := range samples {
		for _, invert := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/invert=%v", s.name, invert), func(t *testing.T) {
				t.Parallel()
				c := mustEncode(t, s.text)
				b := terminalBitmap(t, c, invert)
				if d := b.diff(codeBitmap(c)); d != "" {
					t.Fatalf("Terminal does not show the code: %s", d)
				}
				if got := zbar(t, b.png(t, 4)); got != s.text {
					t.Errorf("zbarimg read %q, want %q", got, s.text)
				}
			})
		}
	}
}

// TestSVGDecodes paints the SVG path back into modules, compares them with
// Black and has zbarimg read them.
func TestSVGDecodes(t *testing.T) {
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			c := mustEncode(t, s.text)
			b, err := parseSVG(c.SVG())
			if err != nil {
				t.Fatal(err)
			}
			if d := b.diff(codeBitmap(c)); d != "" {
				t.Fatalf("SVG does not show the code: %s", d)
			}
			if got := zbar(t, b.png(t, 4)); got != s.text {
				t.Errorf("zbarimg read %q, want %q", got, s.text)
			}
		})
	}
}

// TestEveryVersionAndMask has zbarimg read a code of each of the 40
// versions, filled to capacity, and codes made with each of the 8 masks,
// since Encode relies on the tables of rsc.io/qr for all of them and picks
// masks that rsc.io/qr itself never uses.
func TestEveryVersionAndMask(t *testing.T) {
	for v := 1; v <= 40; v++ {
		// Byte mode: 4 bits of mode, then a length of 8 bits up to
		// version 9 and 16 bits above.
		lenBits := 8
		if v > 9 {
			lenBits = 16
		}
		n := (coding.Version(v).DataBytes(coding.M)*8 - 4 - lenBits) / 8
		text := longURI(max(n, 100))[:n] // a URI prefix for small versions
		t.Run(fmt.Sprintf("version %d", v), func(t *testing.T) {
			t.Parallel()
			c := mustEncode(t, text)
			if c.version != v {
				t.Fatalf("%d bytes gave version %d, want %d", n, c.version, v)
			}
			if want := 17 + 4*v; c.Size() != want {
				t.Errorf("Size() = %d, want %d", c.Size(), want)
			}
			if v < 40 {
				if c1 := mustEncode(t, text+"x"); c1.version != v+1 {
					t.Errorf("%d bytes gave version %d, want %d", n+1, c1.version, v+1)
				}
			}
			img, err := c.PNG(3)
			if err != nil {
				t.Fatal(err)
			}
			if got := zbar(t, img); got != text {
				t.Errorf("zbarimg read %q, want %q", got, text)
			}
		})
	}
	for _, text := range []string{samples[0].text, longURI(400), longURI(1500)} {
		for m := 0; m < 8; m++ {
			t.Run(fmt.Sprintf("%d bytes/mask %d", len(text), m), func(t *testing.T) {
				t.Parallel()
				c, err := encode(text, m)
				if err != nil {
					t.Fatal(err)
				}
				img, err := c.PNG(3)
				if err != nil {
					t.Fatal(err)
				}
				if got := zbar(t, img); got != text {
					t.Errorf("zbarimg read %q, want %q", got, text)
				}
			})
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want error // nil: must succeed
	}{
		{"empty", "", ErrEmpty},
		{"one byte", "a", nil},
		{"bytes at capacity", longURI(maxBytes), nil},
		{"bytes over capacity", longURI(maxBytes + 1), ErrTooLong},
		{"alphanumeric at capacity", strings.Repeat("A", 3391), nil},
		{"alphanumeric over capacity", strings.Repeat("A", 3392), ErrTooLong},
		{"numeric at capacity", strings.Repeat("7", 5596), nil},
		{"numeric over capacity", strings.Repeat("7", 5597), ErrTooLong},
		{"far too long", strings.Repeat("x", 1<<20), ErrTooLong},
		{"invalid UTF-8", "\xff\xfe otpauth", nil},
		{"NUL bytes", "\x00\x00\x00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Encode(tt.text)
			if tt.want == nil {
				if err != nil || c == nil {
					t.Fatalf("Encode: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || c != nil {
				t.Fatalf("Encode: code %v, error %v; want no code and an error wrapping %v", c != nil, err, tt.want)
			}
			if tt.want == ErrTooLong && !strings.Contains(err.Error(), "bytes") {
				t.Errorf("error %q gives no size", err)
			}
		})
	}
}

// TestEncodeRecoversPanic checks that a panic inside rsc.io/qr becomes an
// error: an invalid mask makes its mask table lookup fail.
func TestEncodeRecoversPanic(t *testing.T) {
	c, err := encode("otpauth://totp/x", 8)
	if err == nil || c != nil {
		t.Fatalf("encode with mask 8: code %v, error %v; want an error", c != nil, err)
	}
	if !strings.Contains(err.Error(), "qr: encoding") {
		t.Errorf("error %q lacks context", err)
	}
}

func TestSizeAndBlackBounds(t *testing.T) {
	c := mustEncode(t, "a")
	if c.Size() != 21 {
		t.Fatalf("Size() = %d, want 21 for version 1", c.Size())
	}
	n := c.Size()
	tests := []struct {
		x, y int
		want bool
	}{
		{0, 0, true},            // top left corner of the top left finder
		{n - 1, 0, true},        // top right finder
		{0, n - 1, true},        // bottom left finder
		{7, 0, false},           // separator beside a finder
		{3, 3, true},            // centre of a finder
		{1, 1, false},           // light ring of a finder
		{8, n - 8, true},        // the dark module that is always dark
		{-1, 0, false},          // quiet zone
		{0, -1, false},          // quiet zone
		{n, 0, false},           // quiet zone
		{0, n, false},           // quiet zone
		{n, n, false},           // quiet zone
		{math.MinInt, 3, false}, // far outside
		{3, math.MaxInt, false}, // far outside
	}
	for _, tt := range tests {
		if got := c.Black(tt.x, tt.y); got != tt.want {
			t.Errorf("Black(%d, %d) = %v, want %v", tt.x, tt.y, got, tt.want)
		}
	}
	// The timing patterns alternate.
	for i := 8; i < n-8; i++ {
		if c.Black(i, 6) != (i%2 == 0) || c.Black(6, i) != (i%2 == 0) {
			t.Errorf("timing pattern wrong at %d", i)
		}
	}

	var nilCode *Code
	if nilCode.Size() != 0 || nilCode.Black(0, 0) {
		t.Errorf("nil Code: Size() = %d, Black(0,0) = %v", nilCode.Size(), nilCode.Black(0, 0))
	}
}

func TestMaskChoice(t *testing.T) {
	for _, s := range samples {
		c := mustEncode(t, s.text)
		best := penalty(c)
		for m := 0; m < 8; m++ {
			cm, err := encode(s.text, m)
			if err != nil {
				t.Fatal(err)
			}
			if cm.version != c.version {
				t.Errorf("%s: mask %d gives version %d, Encode version %d", s.name, m, cm.version, c.version)
			}
			if p := penalty(cm); p < best {
				t.Errorf("%s: Encode chose mask %d (penalty %d), but mask %d scores %d", s.name, c.mask, best, m, p)
			}
			if m == c.mask && codeBitmap(cm).diff(codeBitmap(c)) != "" {
				t.Errorf("%s: Encode differs from forced mask %d", s.name, m)
			}
		}
	}
}

func TestPenalty(t *testing.T) {
	grid := func(rows ...string) *Code {
		c := &Code{size: len(rows), black: make([]bool, len(rows)*len(rows))}
		for y, r := range rows {
			for x, ch := range r {
				c.black[y*c.size+x] = ch == '#'
			}
		}
		return c
	}
	tests := []struct {
		name string
		code *Code
		want int
	}{
		// 5 rows and 5 columns of 5 (N1: 10·3), 16 2×2 blocks (N2: 16·3),
		// 0% dark (N4: 10·10).
		{"all light 5x5", grid(".....", ".....", ".....", ".....", "....."), 30 + 48 + 100},
		// 13 of 25 dark = 52%: nothing to punish.
		{"checkerboard 5x5", grid("#.#.#", ".#.#.", "#.#.#", ".#.#.", "#.#.#"), 0},
		// Row 0 is a finder-like pattern followed by 4 light modules;
		// rows 1..10 alternate by column. See finderRowPenalty.
		{"finder row", grid(
			"#.###.#....",
			"#.#.#.#.#.#",
			"#.#.#.#.#.#",
			"#.#.#.#.#.#",
			"#.#.#.#.#.#",
			"#.#.#.#.#.#",
			"#.#.#.#.#.#",
			"#.#.#.#.#.#",
			"#.#.#.#.#.#",
			"#.#.#.#.#.#",
			"#.#.#.#.#.#",
		), finderRowPenalty},
	}
	for _, tt := range tests {
		if got := penalty(tt.code); got != tt.want {
			t.Errorf("%s: penalty = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// finderRowPenalty is the penalty of the "finder row" grid in TestPenalty.
// N1, rows: no run reaches 5. N1, columns: rows 1..10 of each column are one
// colour (dark in even columns); row 0 extends that run to 11 (3+6) in
// columns 0, 1, 2, 4, 5, 6, 7 and 9, and differs from it in columns 3, 8
// and 10, leaving runs of 10 (3+5). N2: adjacent columns always differ in
// rows 1..10, so no 2×2 block is uniform. N3: row 0 starts with 1:1:3:1:1
// followed by 4 light modules: 40. N4: 5 + 10·6 = 65 of 121 modules are
// dark, 53%: nothing.
const finderRowPenalty = 8*(3+6) + 3*(3+5) + 40

func TestPNG(t *testing.T) {
	c := mustEncode(t, typicalURI)
	n := c.Size() + 2*QuietZone
	for _, tt := range []struct{ scale, want int }{
		{-3, DefaultScale}, {0, DefaultScale}, {1, 1}, {5, 5}, {MaxScale, MaxScale}, {MaxScale + 1, MaxScale}, {1 << 30, MaxScale},
	} {
		data, err := c.PNG(tt.scale)
		if err != nil {
			t.Fatalf("PNG(%d): %v", tt.scale, err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("PNG(%d) is not a valid PNG: %v", tt.scale, err)
		}
		if want := image.Rect(0, 0, n*tt.want, n*tt.want); img.Bounds() != want {
			t.Fatalf("PNG(%d) bounds %v, want %v", tt.scale, img.Bounds(), want)
		}
		for y := 0; y < n*tt.want; y++ {
			for x := 0; x < n*tt.want; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				black := c.Black(x/tt.want-QuietZone, y/tt.want-QuietZone)
				if white := r == 0xffff && g == 0xffff && b == 0xffff; white == black || (!white && r|g|b != 0) {
					t.Fatalf("PNG(%d) pixel (%d,%d) = %v, want black=%v", tt.scale, x, y, img.At(x, y), black)
				}
			}
		}
	}
}

func TestSVGDocument(t *testing.T) {
	c := mustEncode(t, typicalURI)
	svg := string(c.SVG())
	n := c.Size() + 2*QuietZone
	prefix := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	if !strings.HasPrefix(svg, prefix) || !strings.HasSuffix(svg, "</svg>") {
		t.Errorf("SVG does not start with %s and end with </svg>:\n%s", prefix, svg)
	}
	for _, bad := range []string{"href", "url(", "<script", "<?", "<!", "\n", "<style", "<image"} {
		if strings.Contains(svg, bad) {
			t.Errorf("SVG contains %q", bad)
		}
	}
	if len(svg) > 8*1024 {
		t.Errorf("SVG of a typical URI is %d bytes; want it compact", len(svg))
	}

	uri := c.SVGDataURI()
	const p = "data:image/svg+xml;base64,"
	enc, ok := strings.CutPrefix(uri, p)
	if !ok {
		t.Fatalf("SVGDataURI does not start with %q: %.40s…", p, uri)
	}
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatalf("SVGDataURI payload: %v", err)
	}
	if string(dec) != svg {
		t.Errorf("SVGDataURI does not hold SVG()")
	}
}

func TestTerminalShape(t *testing.T) {
	c := mustEncode(t, "a")
	var dark, light bytes.Buffer
	if err := c.Terminal(&dark, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Terminal(&light, true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(dark.String(), "\n")
	// 21 modules + 8 quiet = 29 rows: 15 lines and a final newline.
	if len(lines) != 16 || lines[15] != "" {
		t.Fatalf("got %d lines, want 15 and a final newline", len(lines)-1)
	}
	// For a dark terminal the quiet zone is drawn: the first two lines are
	// full blocks, the last has only its upper half drawn.
	if want := strings.Repeat("█", 29); lines[0] != want || lines[1] != want {
		t.Errorf("top quiet zone for a dark terminal:\n%s\n%s", lines[0], lines[1])
	}
	if want := strings.Repeat("▀", 29); lines[14] != want {
		t.Errorf("last line for a dark terminal: %q", lines[14])
	}
	// For a light terminal it is blank.
	if want := strings.Repeat(" ", 29); !strings.HasPrefix(light.String(), want+"\n"+want+"\n") {
		t.Errorf("top quiet zone for a light terminal is not blank")
	}
	// The two settings are negatives of each other, but for the lower half
	// of the last line, which is blank in both.
	swap := strings.NewReplacer("█", " ", " ", "█", "▀", "▄", "▄", "▀")
	dl := strings.Split(dark.String(), "\n")
	ll := strings.Split(light.String(), "\n")
	for i := 0; i < 14; i++ {
		if swap.Replace(dl[i]) != ll[i] {
			t.Errorf("line %d: invert is not the negative:\n%s\n%s", i, dl[i], ll[i])
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestTerminalWriteError(t *testing.T) {
	c := mustEncode(t, "a")
	if err := c.Terminal(failWriter{}, false); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Terminal to a failing writer = %v, want its error", err)
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range samples {
		f.Add(s.text)
	}
	f.Add("")
	f.Add(longURI(maxBytes + 1))
	f.Add("\xff\x00\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Encode(text)
		if err != nil {
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrTooLong) {
				t.Fatalf("Encode(%q): unexpected error %v", text, err)
			}
			if c != nil {
				t.Fatalf("Encode returned a code with error %v", err)
			}
			return
		}
		if c.Size() < 21 || c.Size() > 177 || (c.Size()-17)%4 != 0 {
			t.Fatalf("Size() = %d is not a QR size", c.Size())
		}
		want := codeBitmap(c)
		for _, invert := range []bool{false, true} {
			if d := terminalBitmap(t, c, invert).diff(want); d != "" {
				t.Fatalf("Terminal(invert=%v) round trip: %s", invert, d)
			}
		}
		b, err := parseSVG(c.SVG())
		if err != nil {
			t.Fatal(err)
		}
		if d := b.diff(want); d != "" {
			t.Fatalf("SVG round trip: %s", d)
		}
	})
}

func BenchmarkSVG(b *testing.B) {
	c := mustEncode(b, typicalURI)
	b.ReportAllocs()
	for b.Loop() {
		c.SVG()
	}
}

func BenchmarkEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(typicalURI); err != nil {
			b.Fatal(err)
		}
	}
}
