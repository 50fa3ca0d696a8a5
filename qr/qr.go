// Package qr turns text, in practice otpauth:// URIs, into QR codes and draws
// them for a terminal (Unicode half blocks), as SVG and as PNG.
//
// Encoding is done by rsc.io/qr; this package picks the parameters, chooses
// the mask as ISO/IEC 18004 recommends (rsc.io/qr always uses mask 0),
// turns library panics into errors and does all the drawing itself. Every
// rendering surrounds the code with the 4-module quiet zone the standard
// requires, so the images can be placed on any background.
package qr

import (
	"errors"
	"fmt"

	"rsc.io/qr/coding"
)

// QuietZone is the width, in modules, of the white border that every
// rendering puts around the code. Four modules is the minimum ISO/IEC 18004
// asks for; scanners need it to find the finder patterns.
const QuietZone = 4

// level is the error-correction level of every code made here.
//
// Level M restores up to about 15% of damaged codewords. L (7%) gives
// slightly smaller codes but little margin for glare, moiré, a dirty screen
// or a bent sheet of paper; Q and H make an otpauth URI with a long label and
// issuer grow by several versions, which packs the modules so densely that
// phone cameras struggle with them on small or low-resolution screens. M is
// the usual balance for codes shown on a screen and scanned by a phone.
const level = coding.M

// maxInput bounds the input length looked at before any encoding work: no
// QR code holds more than 7089 characters (numeric digits at level L), so a
// longer text can be rejected at once whatever its content.
const maxInput = 7089

// ErrEmpty is returned by Encode for an empty text: a QR code holding
// nothing is useless, and asking for one is most likely a mistake.
var ErrEmpty = errors.New("qr: empty text")

// ErrTooLong is returned, wrapped with the sizes involved, by Encode when the
// text does not fit in the largest QR code (version 40) at level M.
var ErrTooLong = errors.New("qr: text too long for a QR code")

// Code is an encoded QR code: a square of black and white modules. Create
// one with Encode; a Code is immutable and safe for concurrent use.
type Code struct {
	size    int
	black   []bool // size*size, row-major
	version int
	mask    int
}

// Size returns the number of modules on each side of the code, without the
// quiet zone: 21 for version 1, up to 177 for version 40. It is 0 for a nil
// Code.
func (c *Code) Size() int {
	if c == nil {
		return 0
	}
	return c.size
}

// Black reports whether the module in column x, row y is black, counting
// from the top left corner at (0, 0). It is false outside the code,
// including in the quiet zone (negative coordinates or ≥ Size()).
func (c *Code) Black(x, y int) bool {
	if c == nil || x < 0 || y < 0 || x >= c.size || y >= c.size {
		return false
	}
	return c.black[y*c.size+x]
}

// Encode encodes text as a QR code at error-correction level M (see the
// comment of the level constant: it balances density against robustness
// when a phone camera reads the code off a screen). The smallest version
// that holds the text is chosen, and the mask with the lowest ISO/IEC 18004
// penalty score.
//
// Text made only of digits, or only of upper-case letters, digits and
// " $%*+-./:", uses the compact numeric or alphanumeric modes; anything else,
// such as an otpauth URI, is stored as bytes, unchanged. Those bytes carry
// no character set (no ECI header), so scanners guess it, and short UTF-8
// text is sometimes taken for another encoding (zbar reads "Bücherei" as
// Big5); percent-encode non-ASCII text, as an otpauth label and issuer
// should be anyway, to keep the code pure ASCII. Encode returns an
// error wrapping ErrEmpty or ErrTooLong when the text is empty or does not
// fit; it does not panic.
func Encode(text string) (*Code, error) {
	return encode(text, -1)
}

// encode is Encode with the mask forced to mask when it is in 0..7, and
// chosen by penalty score when it is negative.
func encode(text string, mask int) (code *Code, err error) {
	if text == "" {
		return nil, ErrEmpty
	}
	if len(text) > maxInput {
		return nil, fmt.Errorf("%w: %d bytes, and no QR code holds more than %d characters", ErrTooLong, len(text), maxInput)
	}
	// rsc.io/qr reports most problems by panicking (for instance "qr: too
	// much data" when its size computation and its encoder disagree). None
	// is known to be reachable from here, but a panic must not take a
	// server down, so turn any into an error.
	defer func() {
		if r := recover(); r != nil {
			code, err = nil, fmt.Errorf("qr: encoding %d bytes of text failed: %v", len(text), r)
		}
	}()

	enc := chooseMode(text)
	v := coding.Version(coding.MinVersion)
	for ; enc.Bits(v) > v.DataBytes(level)*8; v++ {
		if v == coding.MaxVersion {
			return nil, fmt.Errorf("%w: %d bytes need %d bits, but the largest code (version 40, level M) holds %d",
				ErrTooLong, len(text), enc.Bits(v), v.DataBytes(level)*8)
		}
	}

	masks := []int{mask}
	if mask < 0 {
		masks = []int{0, 1, 2, 3, 4, 5, 6, 7}
	}
	best := -1
	for _, m := range masks {
		c, err := build(enc, v, m)
		if err != nil {
			return nil, fmt.Errorf("qr: encoding %d bytes of text as version %d, mask %d: %w", len(text), v, m, err)
		}
		if len(masks) == 1 {
			return c, nil
		}
		if p := penalty(c); best < 0 || p < best {
			code, best = c, p
		}
	}
	return code, nil
}

// chooseMode returns the most compact single-mode encoding that can hold
// text. Mixing modes within one code would save a little more but is not
// worth it for URIs, which are byte mode anyway because of their lower-case
// scheme.
func chooseMode(text string) coding.Encoding {
	switch {
	case coding.Num(text).Check() == nil:
		return coding.Num(text)
	case coding.Alpha(text).Check() == nil:
		return coding.Alpha(text)
	default:
		return coding.String(text)
	}
}

// build encodes enc as a code of version v with the given mask.
func build(enc coding.Encoding, v coding.Version, mask int) (*Code, error) {
	plan, err := coding.NewPlan(v, level, coding.Mask(mask))
	if err != nil {
		return nil, err
	}
	cc, err := plan.Encode(enc)
	if err != nil {
		return nil, err
	}
	c := &Code{size: cc.Size, black: make([]bool, cc.Size*cc.Size), version: int(v), mask: mask}
	for y := 0; y < cc.Size; y++ {
		for x := 0; x < cc.Size; x++ {
			c.black[y*cc.Size+x] = cc.Black(x, y)
		}
	}
	return c, nil
}

// penalty returns the ISO/IEC 18004 (section 7.8.3) penalty score of c; the
// mask giving the lowest score is the one to use. The four rules punish
// features that confuse a reader: long runs of one colour (N1 = 3, plus 1
// per module beyond 5), 2×2 blocks of one colour (N2 = 3 each), the
// 1:1:3:1:1 finder pattern with 4 light modules on one side (N3 = 40 each),
// and a dark share far from half (N4 = 10 per 5% away from 50%).
func penalty(c *Code) int {
	n := c.size
	score := 0

	// Rules 1 and 3, along each row and each column.
	line := make([]bool, n)
	for _, columns := range []bool{false, true} {
		for i := 0; i < n; i++ {
			for j := range line {
				if columns {
					line[j] = c.black[j*n+i]
				} else {
					line[j] = c.black[i*n+j]
				}
			}
			score += linePenalty(line)
		}
	}

	// Rule 2.
	for y := 0; y+1 < n; y++ {
		row, next := c.black[y*n:(y+1)*n], c.black[(y+1)*n:(y+2)*n]
		for x := 0; x+1 < n; x++ {
			b := row[x]
			if row[x+1] == b && next[x] == b && next[x+1] == b {
				score += 3
			}
		}
	}

	// Rule 4.
	dark := 0
	for _, b := range c.black {
		if b {
			dark++
		}
	}
	dev := dark*100/len(c.black) - 50
	if dev < 0 {
		dev = -dev
	}
	score += dev / 5 * 10
	return score
}

// finder is the 1:1:3:1:1 dark-light pattern of a finder's centre line.
var finder = [7]bool{true, false, true, true, true, false, true}

// linePenalty returns the rule 1 and rule 3 penalties of one row or column.
func linePenalty(line []bool) int {
	score, run := 0, 0
	for x := range line {
		if x > 0 && line[x] == line[x-1] {
			run++
		} else {
			run = 1
		}
		if run == 5 {
			score += 3
		} else if run > 5 {
			score++
		}
	}
	for x := 0; x+len(finder) <= len(line); x++ {
		if [7]bool(line[x:x+7]) == finder &&
			(light(line, x-4, x) || light(line, x+7, x+11)) {
			score += 40
		}
	}
	return score
}

// light reports whether modules from..to-1 of line are all light, counting
// modules outside the code (the quiet zone) as light.
func light(line []bool, from, to int) bool {
	for x := max(from, 0); x < min(to, len(line)); x++ {
		if line[x] {
			return false
		}
	}
	return true
}
