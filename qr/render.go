package qr

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"strconv"
)

// DefaultScale is the number of PNG pixels per module used when PNG is
// given a scale ≤ 0.
const DefaultScale = 8

// MaxScale is the largest number of PNG pixels per module: a larger scale is
// reduced to it, which bounds a PNG of the largest code (version 40) to
// (177+8)·32 = 5920 pixels on a side.
const MaxScale = 32

// side returns the number of modules on each side including the quiet zone.
func (c *Code) side() int { return c.Size() + 2*QuietZone }

// blackQ is Black in coordinates that include the quiet zone.
func (c *Code) blackQ(x, y int) bool { return c.Black(x-QuietZone, y-QuietZone) }

// Terminal writes the code to w as text for a terminal, with its quiet zone,
// using the Unicode half blocks ▀ ▄ █ and spaces: each line of text shows two
// rows of modules, so modules come out roughly square in common fonts.
//
// A terminal draws the glyphs in its foreground colour over its background
// colour, and a scanner needs dark modules on a light ground. With invert
// false the glyphs mark the light modules and the quiet zone, which suits
// the usual light-text-on-dark-background terminal. With invert true the
// glyphs mark the dark modules and the quiet zone is left blank, which suits
// a terminal with dark text on a light background.
//
// As the code plus quiet zone has an odd number of rows, the lower half of
// the last line lies outside the image and is always left blank. Every line,
// the last included, ends in a newline. Terminal returns the error of writing
// to w, if any.
func (c *Code) Terminal(w io.Writer, invert bool) error {
	n := c.side()
	// ink reports whether the half cell for module row y, column x is drawn
	// with a glyph; rows beyond the image are terminal background.
	ink := func(x, y int) bool {
		if y >= n {
			return false
		}
		return c.blackQ(x, y) == invert
	}
	var buf bytes.Buffer
	buf.Grow((n + 1) / 2 * (3*n + 1))
	for y := 0; y < n; y += 2 {
		for x := 0; x < n; x++ {
			top, bottom := ink(x, y), ink(x, y+1)
			switch {
			case top && bottom:
				buf.WriteString("█")
			case top:
				buf.WriteString("▀")
			case bottom:
				buf.WriteString("▄")
			default:
				buf.WriteByte(' ')
			}
		}
		buf.WriteByte('\n')
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// SVG returns the code, with its quiet zone, as a standalone SVG document
// of one user unit per module: a white background rectangle and a single
// black path whose subpaths are the horizontal runs of black modules. It
// refers to nothing outside itself, so it can be served as "image/svg+xml;
// charset=utf-8" or embedded with SVGDataURI. It has a viewBox but no width
// or height, so it scales to the box it is given: set the size on the img
// element (or in CSS) of the page showing it.
func (c *Code) SVG() []byte {
	n := c.side()
	ns := strconv.Itoa(n)
	b := make([]byte, 0, 256+c.Size()*c.Size()*3)
	b = append(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `...)
	b = append(b, ns...)
	b = append(b, ' ')
	b = append(b, ns...)
	b = append(b, `" shape-rendering="crispEdges"><rect width="`...)
	b = append(b, ns...)
	b = append(b, `" height="`...)
	b = append(b, ns...)
	b = append(b, `" fill="#fff"/><path fill="#000" d="`...)
	for y := 0; y < n; y++ {
		prevEnd := -1 // column after the previous run in this row; -1: none yet
		for x := 0; x < n; {
			if !c.blackQ(x, y) {
				x++
				continue
			}
			start := x
			for x < n && c.blackQ(x, y) {
				x++
			}
			// Each run is a unit-high rectangle traced from its top left
			// corner: down, right, up. The pen then rests at its top
			// right corner, and filling closes the subpath along the top
			// edge. The first run of a row starts with an absolute move,
			// the others with a move relative to the end of the previous.
			if prevEnd < 0 {
				b = append(b, 'M')
				b = strconv.AppendInt(b, int64(start), 10)
				b = append(b, ' ')
				b = strconv.AppendInt(b, int64(y), 10)
			} else {
				b = append(b, 'm')
				b = strconv.AppendInt(b, int64(start-prevEnd), 10)
				b = append(b, " 0"...)
			}
			b = append(b, "v1h"...)
			b = strconv.AppendInt(b, int64(x-start), 10)
			b = append(b, "v-1"...)
			prevEnd = x
		}
	}
	b = append(b, `"/></svg>`...)
	return b
}

// SVGDataURI returns SVG as a data: URI ("data:image/svg+xml;base64,…"),
// ready for the src attribute of an img element.
func (c *Code) SVGDataURI() string {
	const prefix = "data:image/svg+xml;base64,"
	svg := c.SVG()
	out := make([]byte, len(prefix)+base64.StdEncoding.EncodedLen(len(svg)))
	copy(out, prefix)
	base64.StdEncoding.Encode(out[len(prefix):], svg)
	return string(out)
}

// PNG returns the code, with its quiet zone, as a black and white PNG image
// (1 bit per pixel) with scale pixels per module on each side. A scale ≤ 0
// means DefaultScale, and one above MaxScale is reduced to MaxScale.
func (c *Code) PNG(scale int) ([]byte, error) {
	switch {
	case scale <= 0:
		scale = DefaultScale
	case scale > MaxScale:
		scale = MaxScale
	}
	n := c.side()
	px := n * scale
	img := image.NewPaletted(image.Rect(0, 0, px, px), color.Palette{color.Gray{Y: 0xff}, color.Gray{Y: 0}})
	for y := 0; y < n; y++ {
		row := img.Pix[y*scale*img.Stride : y*scale*img.Stride+px]
		for x := 0; x < n; x++ {
			if c.blackQ(x, y) {
				for i := x * scale; i < (x+1)*scale; i++ {
					row[i] = 1
				}
			}
		}
		for i := 1; i < scale; i++ {
			copy(img.Pix[(y*scale+i)*img.Stride:], row)
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qr: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}
