package qr

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/twofactor/twofactor/internal/testenv"
)

// bitmap is a square grid of modules, true for black, indexed [y][x]. The
// helpers below build it from the renderings independently of Code, so that
// the tests check what a reader of the output would see.
type bitmap [][]bool

func newBitmap(n int) bitmap {
	b := make(bitmap, n)
	for y := range b {
		b[y] = make([]bool, n)
	}
	return b
}

// codeBitmap returns c's modules with the quiet zone, as Black reports them.
func codeBitmap(c *Code) bitmap {
	n := c.Size() + 2*QuietZone
	b := newBitmap(n)
	for y := range b {
		for x := range b[y] {
			b[y][x] = c.Black(x-QuietZone, y-QuietZone)
		}
	}
	return b
}

// diff describes the first difference between two bitmaps, or returns "".
func (b bitmap) diff(o bitmap) string {
	if len(b) != len(o) {
		return fmt.Sprintf("got %d rows, want %d", len(b), len(o))
	}
	for y := range b {
		if len(b[y]) != len(o[y]) {
			return fmt.Sprintf("row %d: got %d columns, want %d", y, len(b[y]), len(o[y]))
		}
		for x := range b[y] {
			if b[y][x] != o[y][x] {
				return fmt.Sprintf("module (%d,%d) (quiet zone included): got black=%v, want %v", x, y, b[y][x], o[y][x])
			}
		}
	}
	return ""
}

// png renders the bitmap with scale pixels per module, using only the
// standard library.
func (b bitmap) png(t testing.TB, scale int) []byte {
	t.Helper()
	n := len(b) * scale
	img := image.NewGray(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			v := uint8(0xff)
			if b[y/scale][x/scale] {
				v = 0
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// parseTerminal turns the output of Terminal back into a bitmap of
// quiet-zone-included modules, checking its shape on the way.
func parseTerminal(out string, invert bool) (bitmap, error) {
	if !strings.HasSuffix(out, "\n") {
		return nil, fmt.Errorf("output does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	width := len([]rune(lines[0]))
	var rows [][]bool // ink, per half row
	for i, line := range lines {
		top := make([]bool, 0, width)
		bottom := make([]bool, 0, width)
		for _, r := range line {
			var t, b bool
			switch r {
			case '█':
				t, b = true, true
			case '▀':
				t = true
			case '▄':
				b = true
			case ' ':
			default:
				return nil, fmt.Errorf("line %d: unexpected character %q", i, r)
			}
			top = append(top, t)
			bottom = append(bottom, b)
		}
		if len(top) != width {
			return nil, fmt.Errorf("line %d has %d characters, line 0 has %d", i, len(top), width)
		}
		rows = append(rows, top, bottom)
	}
	if width%2 != 1 || len(rows) != width+1 {
		return nil, fmt.Errorf("%d lines of %d characters: want an odd width w and (w+1)/2 lines", len(lines), width)
	}
	for x, ink := range rows[width] {
		if ink {
			return nil, fmt.Errorf("lower half of the last line, column %d, is drawn: it lies outside the image", x)
		}
	}
	b := newBitmap(width)
	for y := range b {
		for x := range b[y] {
			// Glyphs mark light modules by default, dark ones with invert.
			b[y][x] = rows[y][x] == invert
		}
	}
	return b, nil
}

// terminalBitmap renders c with Terminal and parses the result back.
func terminalBitmap(t testing.TB, c *Code, invert bool) bitmap {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Terminal(&buf, invert); err != nil {
		t.Fatal(err)
	}
	b, err := parseTerminal(buf.String(), invert)
	if err != nil {
		t.Fatalf("Terminal(invert=%v): %v\n%s", invert, err, buf.String())
	}
	return b
}

// svgDoc is the structure SVG must have.
type svgDoc struct {
	XMLName        xml.Name `xml:"http://www.w3.org/2000/svg svg"`
	ViewBox        string   `xml:"viewBox,attr"`
	ShapeRendering string   `xml:"shape-rendering,attr"`
	Rects          []struct {
		Width  string `xml:"width,attr"`
		Height string `xml:"height,attr"`
		Fill   string `xml:"fill,attr"`
	} `xml:"rect"`
	Paths []struct {
		D    string `xml:"d,attr"`
		Fill string `xml:"fill,attr"`
	} `xml:"path"`
}

// parseSVG checks the document structure of an SVG made by Code.SVG and
// paints its path back into a bitmap. The path is interpreted as SVG
// defines it, for the commands SVG uses (M m H h V v Z z, integer
// coordinates); every subpath must be a rectangle one module high, and the
// rectangles must neither overlap nor touch on a row (runs are maximal).
func parseSVG(svg []byte) (bitmap, error) {
	// Well-formedness: walk all tokens with a strict decoder.
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %v", err)
		}
	}
	var doc svgDoc
	if err := xml.Unmarshal(svg, &doc); err != nil {
		return nil, fmt.Errorf("unmarshal: %v", err)
	}
	var n int
	if _, err := fmt.Sscanf(doc.ViewBox, "0 0 %d", &n); err != nil || doc.ViewBox != fmt.Sprintf("0 0 %d %d", n, n) {
		return nil, fmt.Errorf("viewBox %q is not \"0 0 N N\"", doc.ViewBox)
	}
	if doc.ShapeRendering != "crispEdges" {
		return nil, fmt.Errorf("shape-rendering=%q", doc.ShapeRendering)
	}
	ns := strconv.Itoa(n)
	if len(doc.Rects) != 1 || doc.Rects[0].Width != ns || doc.Rects[0].Height != ns || doc.Rects[0].Fill != "#fff" {
		return nil, fmt.Errorf("want one white %[1]sx%[1]s background rect, got %+v", ns, doc.Rects)
	}
	if len(doc.Paths) != 1 || doc.Paths[0].Fill != "#000" {
		return nil, fmt.Errorf("want one black path, got %d paths", len(doc.Paths))
	}
	subpaths, err := interpretPath(doc.Paths[0].D)
	if err != nil {
		return nil, err
	}
	b := newBitmap(n)
	for _, sp := range subpaths {
		x0, y0, x1, y1, ok := rectangle(sp)
		if !ok || y1 != y0+1 {
			return nil, fmt.Errorf("subpath %v is not a rectangle one module high", sp)
		}
		if x0 < 0 || y0 < 0 || x1 > n || y1 > n {
			return nil, fmt.Errorf("subpath %v lies outside the %dx%d viewBox", sp, n, n)
		}
		if (x0 > 0 && b[y0][x0-1]) || (x1 < n && b[y0][x1]) {
			return nil, fmt.Errorf("subpath %v touches another run: runs are not maximal", sp)
		}
		for x := x0; x < x1; x++ {
			if b[y0][x] {
				return nil, fmt.Errorf("subpath %v overlaps another run", sp)
			}
			b[y0][x] = true
		}
	}
	return b, nil
}

type point struct{ x, y int }

// interpretPath runs the path data d and returns the vertices of each
// subpath, starting with its initial point.
func interpretPath(d string) ([][]point, error) {
	var (
		subpaths [][]point
		cur      []point
		pen      point
		cmd      byte
		args     []int
	)
	flush := func() error {
		if cmd == 0 {
			return nil
		}
		var want int
		switch cmd {
		case 'M', 'm':
			want = 2
		case 'H', 'h', 'V', 'v':
			want = 1
		case 'Z', 'z':
			want = 0
		}
		if len(args) != want {
			return fmt.Errorf("command %c with %d numbers, want %d", cmd, len(args), want)
		}
		switch cmd {
		case 'M', 'm':
			if cmd == 'M' {
				pen = point{args[0], args[1]}
			} else {
				pen = point{pen.x + args[0], pen.y + args[1]}
			}
			if cur != nil {
				subpaths = append(subpaths, cur)
			}
			cur = []point{pen}
		case 'H':
			pen.x = args[0]
		case 'h':
			pen.x += args[0]
		case 'V':
			pen.y = args[0]
		case 'v':
			pen.y += args[0]
		case 'Z', 'z':
			if cur == nil {
				return fmt.Errorf("closepath without a subpath")
			}
			pen = cur[0] // the pen returns to the start of the subpath
			subpaths = append(subpaths, cur)
			cur = nil
		}
		if cmd != 'M' && cmd != 'm' && cmd != 'Z' && cmd != 'z' {
			if cur == nil {
				return fmt.Errorf("drawing before any moveto")
			}
			cur = append(cur, pen)
		}
		cmd, args = 0, nil
		return nil
	}
	for i := 0; i < len(d); {
		ch := d[i]
		switch {
		case strings.IndexByte("MmHhVvZz", ch) >= 0:
			if err := flush(); err != nil {
				return nil, err
			}
			cmd = ch
			i++
		case ch == ' ' || ch == ',':
			i++
		case ch == '-' || ('0' <= ch && ch <= '9'):
			j := i + 1
			for j < len(d) && '0' <= d[j] && d[j] <= '9' {
				j++
			}
			v, err := strconv.Atoi(d[i:j])
			if err != nil || cmd == 0 {
				return nil, fmt.Errorf("bad number %q at offset %d", d[i:j], i)
			}
			args = append(args, v)
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at offset %d of the path", ch, i)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if cur != nil {
		subpaths = append(subpaths, cur) // filled as if closed
	}
	return subpaths, nil
}

// rectangle reports whether the closed polygon through pts is an
// axis-aligned rectangle of positive area, and returns its corners.
func rectangle(pts []point) (x0, y0, x1, y1 int, ok bool) {
	if len(pts) > 1 && pts[len(pts)-1] == pts[0] {
		pts = pts[:len(pts)-1]
	}
	if len(pts) != 4 {
		return 0, 0, 0, 0, false
	}
	x0, y0, x1, y1 = pts[0].x, pts[0].y, pts[0].x, pts[0].y
	for _, p := range pts {
		x0, y0, x1, y1 = min(x0, p.x), min(y0, p.y), max(x1, p.x), max(y1, p.y)
	}
	if x0 == x1 || y0 == y1 {
		return 0, 0, 0, 0, false
	}
	corners := map[point]bool{}
	for i, p := range pts {
		q := pts[(i+1)%4]
		if p.x != q.x && p.y != q.y { // every edge axis-aligned
			return 0, 0, 0, 0, false
		}
		if (p.x != x0 && p.x != x1) || (p.y != y0 && p.y != y1) {
			return 0, 0, 0, 0, false
		}
		corners[p] = true
	}
	return x0, y0, x1, y1, len(corners) == 4
}

// zbar decodes a PNG image with zbarimg (Debian package zbar-tools) and
// returns the text of the one QR code in it. The test is skipped, or fails
// under TWOFACTOR_TEST_REQUIRE_ALL=1, when zbarimg is not installed.
func zbar(t testing.TB, pngData []byte) string {
	t.Helper()
	zbarimg := testenv.Command(t, "zbarimg", "zbar-tools")
	file := filepath.Join(t.TempDir(), "code.png")
	if err := os.WriteFile(file, pngData, 0o600); err != nil {
		t.Fatal(err)
	}
	// --raw -q: print only the data of each code, followed by a newline.
	// -Sdisable -Sqrcode.enable: look for QR codes only.
	// -Sqrcode.binary: hand back the bytes of the code as they are. Without
	// it zbar guesses a character set for byte-mode data and converts from
	// it, and it takes short UTF-8 such as "Bücherei" for Big5.
	// --nodbus: do not try to announce results on D-Bus.
	cmd := exec.Command(zbarimg, "--raw", "-q", "--nodbus",
		"-Sdisable", "-Sqrcode.enable", "-Sqrcode.binary", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zbarimg found no QR code (%v) %s", err, stderr.String())
	}
	text, ok := strings.CutSuffix(string(out), "\n")
	if !ok {
		t.Fatalf("zbarimg output %q does not end in a newline", out)
	}
	return text
}
