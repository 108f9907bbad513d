package media

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/png"
	"os"
	"runtime"
	"testing"
)

func TestM5_SizesFollowTelegramBoxes(t *testing.T) {
	cases := []struct {
		w, h int
		want []image.Point // s, m, x, y, w as far as they exist
	}{
		// The example of the rule: sizes up to the first box the
		// photo fits in, which gets the photo unscaled.
		{500, 300, []image.Point{{100, 60}, {320, 192}, {500, 300}}},
		{4000, 3000, []image.Point{{100, 75}, {320, 240}, {800, 600}, {1280, 960}, {2560, 1920}}},
		{3000, 4000, []image.Point{{75, 100}, {240, 320}, {600, 800}, {960, 1280}, {1920, 2560}}},
		{5000, 5000, []image.Point{{100, 100}, {320, 320}, {800, 800}, {1280, 1280}, {2560, 2560}}},
		{2560, 1440, []image.Point{{100, 56}, {320, 180}, {800, 450}, {1280, 720}, {2560, 1440}}},
		{1300, 700, []image.Point{{100, 54}, {320, 172}, {800, 431}, {1280, 689}, {1300, 700}}},
		{800, 600, []image.Point{{100, 75}, {320, 240}, {800, 600}}},
		{801, 600, []image.Point{{100, 75}, {320, 240}, {800, 599}, {801, 600}}},
		{100, 100, []image.Point{{100, 100}}},
		{101, 50, []image.Point{{100, 50}, {101, 50}}},
		{1, 1, []image.Point{{1, 1}}},
		{3000, 150, []image.Point{{100, 5}, {320, 16}, {800, 40}, {1280, 64}, {2560, 128}}},
		{4000, 10, []image.Point{{100, 1}, {320, 1}, {800, 2}, {1280, 3}, {2560, 6}}},
	}
	for _, c := range cases {
		got := sizeDims(Boxes, c.w, c.h)
		if len(got) != len(c.want) {
			t.Errorf("%dx%d: sizes %v, want %v", c.w, c.h, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%dx%d: size %s is %v, want %v", c.w, c.h, Boxes[i].Type, got[i], c.want[i])
			}
		}
	}
}

// TestM5_PhotoSizesEndToEnd: the bytes of every size are baseline JPEGs of
// the announced dimensions, in the order s, m, x, ...
func TestM5_PhotoSizesEndToEnd(t *testing.T) {
	t.Parallel()
	for _, d := range []image.Point{{500, 300}, {1300, 700}, {300, 1700}, {64, 64}} {
		src := encodeJPEG(t, synthPhoto(d.X, d.Y), 90)
		p, err := PhotoSizes(src)
		if err != nil {
			t.Fatalf("%v: %v", d, err)
		}
		if p.Format != "jpeg" || p.W != d.X || p.H != d.Y {
			t.Errorf("%v: format %q, %dx%d", d, p.Format, p.W, p.H)
		}
		want := sizeDims(Boxes, d.X, d.Y)
		if len(p.Sizes) != len(want) {
			t.Fatalf("%v: %d sizes, want %d", d, len(p.Sizes), len(want))
		}
		for i, s := range p.Sizes {
			if s.Type != Boxes[i].Type || s.W != want[i].X || s.H != want[i].Y {
				t.Errorf("%v: size %d is %s %dx%d, want %s %v", d, i, s.Type, s.W, s.H, Boxes[i].Type, want[i])
			}
			parts, err := parseJPEG(s.Bytes)
			if err != nil || !parts.baseline {
				t.Errorf("%v %s: not a baseline JPEG: %v", d, s.Type, err)
				continue
			}
			m := decodeJPEG(t, s.Bytes)
			if m.Bounds().Dx() != s.W || m.Bounds().Dy() != s.H {
				t.Errorf("%v %s: decodes to %v", d, s.Type, m.Bounds())
			}
		}
		if p.Largest().Type != Boxes[len(want)-1].Type {
			t.Errorf("%v: largest is %s", d, p.Largest().Type)
		}
		if len(p.Stripped) < 3 || p.Stripped[0] != 1 {
			t.Errorf("%v: stripped % x", d, p.Stripped[:min(len(p.Stripped), 3)])
		}
	}
}

// TestM5_SizesLookLikeTheSource: each size, after JPEG at quality 87, is
// close to a float64 Lanczos-3 downscale of the decoded source.
func TestM5_SizesLookLikeTheSource(t *testing.T) {
	t.Parallel()
	srcBytes := encodeJPEG(t, synthPhoto(1000, 750), 92)
	src := decodeJPEG(t, srcBytes).(*image.YCbCr)
	p, err := PhotoSizes(srcBytes)
	if err != nil {
		t.Fatal(err)
	}
	ref := xdraw(lanczos3)(src, sizeDims(Boxes, 1000, 750))
	for i, s := range p.Sizes {
		got := decodeJPEG(t, s.Bytes)
		psnr := lumaPSNR(got, ref[i])
		mae := meanAbsError(got, ref[i])
		t.Logf("%s %dx%d: %d bytes, %.1f dB, mean abs error %.1f/%.1f/%.1f", s.Type, s.W, s.H, len(s.Bytes), psnr, mae[0], mae[1], mae[2])
		if psnr < 30 {
			t.Errorf("%s: %.1f dB from the reference", s.Type, psnr)
		}
		for c, e := range mae {
			if e > 6 {
				t.Errorf("%s: channel %d off by %.1f on average", s.Type, c, e)
			}
		}
	}
}

// pngBytes encodes m as PNG.
func pngBytes(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gifBytes(t testing.TB, g *gif.GIF) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Tiny WebP files (1x1: lossy, lossless, lossy with alpha), the ones
// browsers' feature tests use.
var tinyWebP = []string{
	"UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA",
	"UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==",
	"UklGRkoAAABXRUJQVlA4WAoAAAAQAAAAAAAAAAAAQUxQSAwAAAARBxAR/Q9ERP8DAABWUDggGAAAABQBAJ0BKgEAAQAAAP4AAA3AAP7mtQAAAA==",
}

func b64(t testing.TB, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// centre returns the colour at the centre of the rectangle r of m.
func centre(m image.Image, r image.Rectangle) color.RGBA {
	c := m.At((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
	return color.RGBAModel.Convert(c).(color.RGBA)
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

func TestM5_DecodesEveryFormat(t *testing.T) {
	t.Parallel()
	// Half-transparent red over white is pink; transparent is white.
	alpha := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 300; x++ {
			switch {
			case x < 100:
				alpha.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 255})
			case x < 200:
				alpha.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 128})
			default:
				alpha.SetNRGBA(x, y, color.NRGBA{0, 0, 255, 0})
			}
		}
	}
	pal := image.NewPaletted(image.Rect(0, 0, 120, 80), palette.Plan9)
	for i := range pal.Pix {
		pal.Pix[i] = byte(i % 7)
	}
	gray := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range gray.Pix {
		gray.Pix[i] = byte(i % 251)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name, format string
		src          []byte
		w, h         int
	}{
		{"jpeg", "jpeg", encodeJPEG(t, synthPhoto(900, 600), 90), 900, 600},
		{"gray jpeg", "jpeg", encodeJPEG(t, gray, 90), 640, 480},
		{"png with alpha", "png", pngBytes(t, alpha), 300, 200},
		{"paletted png", "png", pngBytes(t, pal), 120, 80},
		{"16-bit png", "png", pngBytes(t, image.NewNRGBA64(image.Rect(0, 0, 50, 40))), 50, 40},
		{"gif", "gif", gifBytes(t, &gif.GIF{Image: []*image.Paletted{pal}, Delay: []int{0}}), 120, 80},
		{"webp lossy", "webp", read("video-001.lossy.webp"), 150, 103},
		{"webp lossy alpha", "webp", read("yellow_rose.lossy-with-alpha.webp"), 400, 301},
		{"webp lossless alpha", "webp", read("gopher-doc.with-alpha.lossless.webp"), 75, 100},
		{"webp 1x1 lossy", "webp", b64(t, tinyWebP[0]), 1, 1},
		{"webp 1x1 lossless", "webp", b64(t, tinyWebP[1]), 1, 1},
		{"webp 1x1 alpha", "webp", b64(t, tinyWebP[2]), 1, 1},
	}
	for _, c := range cases {
		p, err := PhotoSizes(c.src)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if p.Format != c.format || p.W != c.w || p.H != c.h {
			t.Errorf("%s: %s %dx%d, want %s %dx%d", c.name, p.Format, p.W, p.H, c.format, c.w, c.h)
		}
		for _, s := range p.Sizes {
			if m := decodeJPEG(t, s.Bytes); m.Bounds().Dx() != s.W || m.Bounds().Dy() != s.H {
				t.Errorf("%s %s: decodes to %v", c.name, s.Type, m.Bounds())
			}
		}
		if c.name == "png with alpha" {
			m := decodeJPEG(t, p.Largest().Bytes)
			for _, q := range []struct {
				r    image.Rectangle
				want color.RGBA
			}{
				{image.Rect(0, 0, 100, 200), color.RGBA{255, 0, 0, 255}},
				{image.Rect(100, 0, 200, 200), color.RGBA{255, 127, 127, 255}},
				{image.Rect(200, 0, 300, 200), color.RGBA{255, 255, 255, 255}},
			} {
				if got := centre(m, q.r); !near(got, q.want, 12) {
					t.Errorf("alpha: %v shows %v, want %v", q.r, got, q.want)
				}
			}
		}
	}
}

// TestM5_GIFFirstFrameOnItsCanvas: only the first frame counts, placed on
// the logical screen, white where it does not reach.
func TestM5_GIFFirstFrameOnItsCanvas(t *testing.T) {
	pal := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}}
	first := image.NewPaletted(image.Rect(20, 10, 60, 40), pal) // red, not at the origin
	second := image.NewPaletted(image.Rect(0, 0, 80, 50), pal)
	for i := range second.Pix {
		second.Pix[i] = 1 // blue
	}
	src := gifBytes(t, &gif.GIF{
		Image: []*image.Paletted{first, second}, Delay: []int{10, 10},
		Config: image.Config{ColorModel: pal, Width: 80, Height: 50},
	})
	p, err := PhotoSizes(src)
	if err != nil {
		t.Fatal(err)
	}
	if p.W != 80 || p.H != 50 || len(p.Sizes) != 1 {
		t.Fatalf("%dx%d, %d sizes", p.W, p.H, len(p.Sizes))
	}
	m := decodeJPEG(t, p.Sizes[0].Bytes)
	if got := centre(m, image.Rect(20, 10, 60, 40)); !near(got, color.RGBA{255, 0, 0, 255}, 16) {
		t.Errorf("first frame shows %v", got)
	}
	if got := centre(m, image.Rect(62, 42, 80, 50)); !near(got, color.RGBA{255, 255, 255, 255}, 16) {
		t.Errorf("outside the first frame shows %v, want white", got)
	}
}

// exifJPEG returns a JPEG with an APP1 Exif segment holding orientation o,
// in big-endian (MM) or little-endian (II) TIFF.
func exifJPEG(t testing.TB, img image.Image, o int, little bool) []byte {
	jpg := encodeJPEG(t, img, 95)
	var bo binary.AppendByteOrder = binary.BigEndian
	tiff := []byte("MM\x00\x2a")
	if little {
		bo = binary.LittleEndian
		tiff = []byte("II\x2a\x00")
	}
	tiff = bo.AppendUint32(tiff, 8)
	tiff = bo.AppendUint16(tiff, 2) // two entries: something else, then orientation
	tiff = bo.AppendUint16(tiff, 0x010f)
	tiff = bo.AppendUint16(tiff, 2)
	tiff = bo.AppendUint32(tiff, 4)
	tiff = append(tiff, 'a', 'b', 'c', 0)
	tiff = bo.AppendUint16(tiff, 0x0112)
	tiff = bo.AppendUint16(tiff, 3)
	tiff = bo.AppendUint32(tiff, 1)
	tiff = bo.AppendUint16(tiff, uint16(o))
	tiff = append(tiff, 0, 0)
	tiff = bo.AppendUint32(tiff, 0)
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xff, 0xe1}
	app1 = binary.BigEndian.AppendUint16(app1, uint16(len(seg)+2))
	app1 = append(app1, seg...)
	return append(append(append([]byte{}, jpg[:2]...), app1...), jpg[2:]...)
}

// TestM5_ExifOrientation: a JPEG's EXIF orientation is applied, so every
// size shows the photo upright, with width and height swapped for 5..8.
func TestM5_ExifOrientation(t *testing.T) {
	// Stored 128x64: red, green / blue, white quadrants.
	red, green, blue, white := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}, color.RGBA{0, 0, 255, 255}, color.RGBA{255, 255, 255, 255}
	img := image.NewRGBA(image.Rect(0, 0, 128, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 128; x++ {
			c := [2][2]color.RGBA{{red, green}, {blue, white}}[y/32][x/64]
			img.SetRGBA(x, y, c)
		}
	}
	// Displayed quadrants (top-left, top-right, bottom-left, bottom-right)
	// per the EXIF definition of each orientation.
	want := map[int][4]color.RGBA{
		1: {red, green, blue, white},
		2: {green, red, white, blue},
		3: {white, blue, green, red},
		4: {blue, white, red, green},
		5: {red, blue, green, white},
		6: {blue, red, white, green},
		7: {white, green, blue, red},
		8: {green, white, red, blue},
	}
	for o := 1; o <= 8; o++ {
		for _, little := range []bool{false, true} {
			src := exifJPEG(t, img, o, little)
			if got := jpegOrientation(src); got != o {
				t.Fatalf("orientation %d read as %d", o, got)
			}
			p, err := PhotoSizes(src)
			if err != nil {
				t.Fatal(err)
			}
			w, h := 128, 64
			if o >= 5 {
				w, h = 64, 128
			}
			if p.W != w || p.H != h {
				t.Errorf("orientation %d: photo %dx%d, want %dx%d", o, p.W, p.H, w, h)
			}
			for _, s := range p.Sizes {
				m := decodeJPEG(t, s.Bytes)
				b := m.Bounds()
				if b.Dx() != s.W || b.Dy() != s.H || (s.W > s.H) != (w > h) {
					t.Errorf("orientation %d %s: %dx%d decodes to %v", o, s.Type, s.W, s.H, b)
				}
				mx, my := b.Dx()/2, b.Dy()/2
				quads := []image.Rectangle{
					image.Rect(0, 0, mx, my), image.Rect(mx, 0, b.Dx(), my),
					image.Rect(0, my, mx, b.Dy()), image.Rect(mx, my, b.Dx(), b.Dy()),
				}
				for q, r := range quads {
					if got := centre(m, r); !near(got, want[o][q], 40) {
						t.Errorf("orientation %d %s: quadrant %d shows %v, want %v", o, s.Type, q, got, want[o][q])
					}
				}
			}
			ex, err := decodeJPEGErr(ExpandStripped(p.Stripped))
			if err != nil || ex.Bounds().Dx() > ex.Bounds().Dy() != (w > h) {
				t.Errorf("orientation %d: stripped thumbnail %v %v", o, err, ex)
			}
		}
	}
	// Malformed EXIF is ignored.
	bad := exifJPEG(t, img, 6, false)
	bad[2+4+6+4+3] = 0xff // IFD offset far past the segment
	if got := jpegOrientation(bad); got != 1 {
		t.Errorf("malformed EXIF read as orientation %d", got)
	}
}

// pngHeader returns a PNG signature, a valid IHDR declaring w×h RGBA 8-bit
// and a few bytes of nonsense IDAT.
func pngHeader(w, h int) []byte {
	chunk := func(typ string, data []byte) []byte {
		c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		c = append(c, typ...)
		c = append(c, data...)
		return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", []byte{0x78, 0x9c, 0x01, 0x02, 0x03})...)
	return append(out, chunk("IEND", nil)...)
}

// patchSOF sets the dimensions in a JPEG's SOF0.
func patchSOF(t testing.TB, jpg []byte, w, h int) []byte {
	out := append([]byte{}, jpg...)
	i := bytes.Index(out, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0")
	}
	binary.BigEndian.PutUint16(out[i+5:], uint16(h))
	binary.BigEndian.PutUint16(out[i+7:], uint16(w))
	return out
}

// patchGIF sets the logical screen and first frame dimensions of a GIF
// made by image/gif without a global colour table.
func patchGIF(t testing.TB, g []byte, w, h int) []byte {
	out := append([]byte{}, g...)
	binary.LittleEndian.PutUint16(out[6:], uint16(w))
	binary.LittleEndian.PutUint16(out[8:], uint16(h))
	i := bytes.IndexByte(out[13:], 0x2c)
	if i < 0 {
		t.Fatal("no image descriptor")
	}
	binary.LittleEndian.PutUint16(out[13+i+5:], uint16(w))
	binary.LittleEndian.PutUint16(out[13+i+7:], uint16(h))
	return out
}

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestM5_DimensionsCheckedBeforeDecoding: oversized, empty or too narrow
// images are refused from their header, and so are files far too short for
// the size they declare, without the decoder allocating their pixels.
func TestM5_DimensionsCheckedBeforeDecoding(t *testing.T) {
	small := encodeJPEG(t, synthPhoto(64, 48), 80)
	tinyGIF := gifBytes(t, &gif.GIF{Image: []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 4, 4), palette.Plan9)}, Delay: []int{0}})
	cases := []struct {
		name string
		src  []byte
		want error
	}{
		{"png 20000x100", pngHeader(20000, 100), ErrDimensions},
		{"png 6000x6000 (sum over 10000)", pngHeader(6000, 6000), ErrDimensions},
		{"png 2100x100 (ratio over 20)", pngHeader(2100, 100), ErrDimensions},
		{"png 0x10", pngHeader(0, 10), ErrTruncated}, // the PNG decoder refuses it first
		{"png 5000x5000 in 70 bytes", pngHeader(5000, 5000), ErrTruncated},
		{"jpeg 5000x5000 in a small file", patchSOF(t, small, 5000, 5000), ErrTruncated},
		{"jpeg 9000x1200", patchSOF(t, small, 9000, 1200), ErrDimensions},
		{"gif 5000x5000 in a small file", patchGIF(t, tinyGIF, 5000, 5000), ErrTruncated},
		{"not an image", []byte("GIF8 is not enough"), ErrFormat},
		{"empty", nil, ErrFormat},
	}
	for _, c := range cases {
		var err error
		n := allocated(func() { _, err = PhotoSizes(c.src) })
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if n > 1<<20 {
			t.Errorf("%s: allocated %d bytes before refusing", c.name, n)
		}
	}
	// Limits are the caller's to change.
	if _, err := (Limits{MaxSideSum: 100}).PhotoSizes(small); !errors.Is(err, ErrDimensions) {
		t.Errorf("64x48 under a 100 side-sum limit: %v", err)
	}
	if _, err := (Limits{MaxSideSum: 112}).PhotoSizes(small); err != nil {
		t.Errorf("64x48 under a 112 side-sum limit: %v", err)
	}
}

func TestM7_ProfileBoxes(t *testing.T) {
	src := encodeJPEG(t, synthPhoto(900, 900), 90)
	p, err := Limits{MaxSideSum: 10000, MaxRatio: 20, Boxes: ProfileBoxes}.PhotoSizes(src)
	if err != nil {
		t.Fatal(err)
	}
	want := []Size{{Type: "a", W: 160, H: 160}, {Type: "b", W: 320, H: 320}, {Type: "c", W: 640, H: 640}}
	if len(p.Sizes) != len(want) {
		t.Fatalf("%d sizes", len(p.Sizes))
	}
	for i, w := range want {
		if s := p.Sizes[i]; s.Type != w.Type || s.W != w.W || s.H != w.H {
			t.Errorf("size %d = %s %dx%d, want %s %dx%d", i, s.Type, s.W, s.H, w.Type, w.W, w.H)
		}
	}
	if len(p.Stripped) == 0 {
		t.Error("no stripped thumbnail")
	}
}
