package media

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"testing"
)

// The IJG/ITU T.81 Annex K example quantization tables, in natural order.
var (
	annexKLuma = [64]int{
		16, 11, 10, 16, 24, 40, 51, 61,
		12, 12, 14, 19, 26, 58, 60, 55,
		14, 13, 16, 24, 40, 57, 69, 56,
		14, 17, 22, 29, 51, 87, 80, 62,
		18, 22, 37, 56, 68, 109, 103, 77,
		24, 35, 55, 64, 81, 104, 113, 92,
		49, 64, 78, 87, 103, 121, 120, 101,
		72, 92, 95, 98, 112, 100, 103, 99,
	}
	annexKChroma = [64]int{
		17, 18, 24, 47, 99, 99, 99, 99,
		18, 21, 26, 66, 99, 99, 99, 99,
		24, 26, 56, 99, 99, 99, 99, 99,
		47, 66, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99,
	}
	// zigzag[i] is the natural index of the i-th coefficient in zigzag order.
	zigzag = [64]int{
		0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
		12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
		35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
		58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
	}
)

// ijgScaled returns a table scaled for quality q the IJG way, in zigzag order.
func ijgScaled(table [64]int, q int) []byte {
	scale := 200 - 2*q
	if q < 50 {
		scale = 5000 / q
	}
	out := make([]byte, 64)
	for i, n := range zigzag {
		out[i] = byte(min(max((table[n]*scale+50)/100, 1), 255))
	}
	return out
}

// TestM5_StrippedHeaderIsQuality20: the clients' fixed header holds the
// Annex K tables scaled for quality 20, a 4:2:0 three-component baseline
// frame whose height and width low bytes sit at offsets 164 and 166, and the
// standard Huffman tables.
func TestM5_StrippedHeaderIsQuality20(t *testing.T) {
	h := headerParts
	if len(strippedHeader) != 623 {
		t.Fatalf("header is %d bytes; clients count stripped bytes + 622", len(strippedHeader))
	}
	if got, want := h.dqt[0][1:], ijgScaled(annexKLuma, 20); !bytes.Equal(got, want) {
		t.Errorf("luma table\n% x\nwant\n% x", got, want)
	}
	if got, want := h.dqt[1][1:], ijgScaled(annexKChroma, 20); !bytes.Equal(got, want) {
		t.Errorf("chroma table\n% x\nwant\n% x", got, want)
	}
	if !bytes.Equal(strippedHeader[158:163], []byte{0xff, 0xc0, 0x00, 0x11, 0x08}) {
		t.Errorf("SOF0 is not at 158: % x", strippedHeader[158:163])
	}
	if !bytes.Equal(h.sofComps, []byte{3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1}) {
		t.Errorf("components % x", h.sofComps)
	}
	e := ExpandStripped([]byte{1, 0x2a, 0x1b})
	if e[163] != 0 || e[164] != 0x2a || e[165] != 0 || e[166] != 0x1b {
		t.Errorf("height/width bytes % x", e[163:167])
	}
	if p, err := parseJPEG(e); err != nil || p.height != 0x2a || p.width != 0x1b {
		t.Errorf("patched frame %v %+v", err, p)
	}
	// The standard DC luminance table (T.81 Table K.3), as a spot check of
	// the Huffman tables the encoder comparison below covers in full.
	dc0 := []byte{0x00, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	if !bytes.Equal(h.dht[0x00], dc0) {
		t.Errorf("DC luminance table % x", h.dht[0x00])
	}
}

// TestM5_GoEncoderWritesTheHeadersTables: Go's image/jpeg at quality 20
// writes quantization and Huffman tables byte-identical to the fixed
// header's, the same frame components and the same scan header; at quality
// 21 it does not (the comparison would notice).
func TestM5_GoEncoderWritesTheHeadersTables(t *testing.T) {
	img := synthPhoto(40, 30)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 20}); err != nil {
		t.Fatal(err)
	}
	p, err := parseJPEG(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headerParts.dqt {
		if !bytes.Equal(p.dqt[k], v) {
			t.Errorf("DQT %d: encoder % x, header % x", k, p.dqt[k], v)
		}
	}
	for k, v := range headerParts.dht {
		if !bytes.Equal(p.dht[k], v) {
			t.Errorf("DHT %#x: encoder % x, header % x", k, p.dht[k], v)
		}
	}
	if err := sameCoding(p, headerParts); err != nil {
		t.Error(err)
	}
	buf.Reset()
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 21})
	if p21, _ := parseJPEG(buf.Bytes()); sameCoding(p21, headerParts) == nil {
		t.Error("quality 21 passes for the quality-20 header")
	}
	gray := image.NewGray(image.Rect(0, 0, 8, 8))
	buf.Reset()
	jpeg.Encode(&buf, gray, &jpeg.Options{Quality: 20})
	if pg, _ := parseJPEG(buf.Bytes()); sameCoding(pg, headerParts) == nil {
		t.Error("a one-component JPEG passes for the three-component header")
	}
}

// TestM5_StrippedRebuildsExactly: for landscape, portrait, square and tiny
// images, ExpandStripped rebuilds a JPEG that Go decodes to the announced
// size, pixel for pixel what the encoder's own file decodes to, and close
// to the source.
func TestM5_StrippedRebuildsExactly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		w, h, wantW, wantH int
	}{
		{640, 480, 40, 30},
		{480, 640, 30, 40},
		{500, 500, 40, 40},
		{1280, 720, 40, 23},
		{1, 1, 1, 1},
		{3, 50, 2, 40},
		{50, 3, 40, 2},
		{40, 40, 40, 40},
		{41, 41, 40, 40},
		{17, 9, 17, 9},
		{2000, 1, 40, 1},
	}
	for _, c := range cases {
		src := synthPhoto(c.w, c.h)
		b, err := Stripped(src)
		if err != nil {
			t.Fatalf("%dx%d: %v", c.w, c.h, err)
		}
		if b[0] != 1 || int(b[1]) != c.wantH || int(b[2]) != c.wantW {
			t.Errorf("%dx%d: prefix % x, want 01 %02x %02x", c.w, c.h, b[:3], c.wantH, c.wantW)
		}
		rebuilt := ExpandStripped(b)
		got, err := decodeJPEGErr(rebuilt)
		if err != nil {
			t.Errorf("%dx%d: rebuilt JPEG does not decode: %v", c.w, c.h, err)
			continue
		}
		if got.Bounds() != image.Rect(0, 0, c.wantW, c.wantH) {
			t.Errorf("%dx%d: rebuilt JPEG is %v", c.w, c.h, got.Bounds())
		}
		if !bytes.Equal(rebuilt[:164], strippedHeader[:164]) || !bytes.Equal(rebuilt[167:len(strippedHeader)], strippedHeader[167:]) {
			t.Errorf("%dx%d: rebuilt header differs from the fixed one", c.w, c.h)
		}

		// What the encoder itself wrote for the same small image.
		small := toYCC(src, src.Bounds()).scale(c.wantW, c.wantH).ycbcr()
		var enc bytes.Buffer
		jpeg.Encode(&enc, small, &jpeg.Options{Quality: 20})
		pe, _ := parseJPEG(enc.Bytes())
		pr, err := parseJPEG(rebuilt)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameCoding(pr, pe); err != nil {
			t.Errorf("%dx%d: %v", c.w, c.h, err)
		}
		if !bytes.Equal(pr.scan, pe.scan) {
			t.Errorf("%dx%d: scan data differs from the encoder's", c.w, c.h)
		}
		want := decodeJPEG(t, enc.Bytes())
		if !samePixels(got, want) {
			t.Errorf("%dx%d: rebuilt JPEG decodes differently from the encoder's", c.w, c.h)
		}
		// Close to the source scaled down: quality 20 at 4:2:0 smears
		// hard colour edges, but the average colour holds. (Thumbnails a
		// few pixels thin are mostly edge: only their exactness counts.)
		if min(c.wantW, c.wantH) < 8 {
			continue
		}
		gm, sm := meanColor(got), meanColor(small)
		for ch := range gm {
			if d := gm[ch] - sm[ch]; d > 5 || d < -5 {
				t.Errorf("%dx%d: channel %d average %.1f, source %.1f", c.w, c.h, ch, gm[ch], sm[ch])
			}
		}
	}

	// On photographic content without hard edges the error is small
	// pixel by pixel too.
	for _, d := range []image.Point{{640, 480}, {480, 640}, {300, 300}, {1000, 900}} {
		src := smoothPhoto(d.X, d.Y)
		b, err := Stripped(src)
		if err != nil {
			t.Fatal(err)
		}
		got := decodeJPEG(t, ExpandStripped(b))
		w, h := fit(d.X, d.Y, StrippedBox)
		mae := meanAbsError(got, toYCC(src, src.Bounds()).scale(w, h).ycbcr())
		t.Logf("%v: stripped %d bytes, mean abs error %.1f/%.1f/%.1f", d, len(b), mae[0], mae[1], mae[2])
		for ch, e := range mae {
			if e > 8 {
				t.Errorf("%v: channel %d off by %.1f on average", d, ch, e)
			}
		}
	}

	// A flat colour comes back flat.
	b, err := Stripped(solid(300, 200, color.RGBA{200, 120, 40, 255}))
	if err != nil {
		t.Fatal(err)
	}
	got := decodeJPEG(t, ExpandStripped(b))
	if c := centre(got, got.Bounds()); !near(c, color.RGBA{200, 120, 40, 255}, 6) {
		t.Errorf("flat colour comes back as %v", c)
	}
	if _, err := Stripped(image.NewRGBA(image.Rect(0, 0, 0, 5))); err == nil {
		t.Error("stripped thumbnail of an empty image")
	}
}

// meanColor is the average of each RGB channel.
func meanColor(m image.Image) [3]float64 {
	r := toRGBA(m)
	var s [3]float64
	for i := 0; i+3 < len(r.Pix); i += 4 {
		for c := range s {
			s[c] += float64(r.Pix[i+c])
		}
	}
	for c := range s {
		s[c] /= float64(len(r.Pix) / 4)
	}
	return s
}

// smoothPhoto is a photo without hard edges: sky, a soft sun, shading.
func smoothPhoto(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			u, v := float64(x)/float64(w), float64(y)/float64(h)
			dx, dy := u-0.7, v-0.3
			sun := 90 * math.Exp(-(dx*dx+dy*dy)*12)
			m.SetRGBA(x, y, color.RGBA{clamp8(70 + 120*v + sun), clamp8(120 + 60*v + 0.8*sun - 30*u), clamp8(220 - 140*v + 0.2*sun), 255})
		}
	}
	return m
}

func samePixels(a, b image.Image) bool {
	ra, rb := toRGBA(a), toRGBA(b)
	return ra.Rect == rb.Rect && bytes.Equal(ra.Pix, rb.Pix)
}

func TestM5_ExpandStrippedRefusesOtherFormats(t *testing.T) {
	for _, b := range [][]byte{nil, {1}, {1, 2}, {0, 10, 10, 1, 2}, {2, 10, 10}} {
		if got := ExpandStripped(b); got != nil {
			t.Errorf("% x expands to %d bytes", b, len(got))
		}
	}
	if got := ExpandStripped([]byte{1, 1, 1}); len(got) != len(strippedHeader)+2 {
		t.Errorf("an empty scan expands to %d bytes", len(got))
	}
}
