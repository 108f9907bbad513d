package media

import (
	"image"
	"image/color/palette"
	"image/gif"
	"math"
	"os"
	"strings"
	"testing"
)

// fuzzLimits keep each input's pixels small so the fuzzer runs fast; the
// code paths are those of the default limits.
var fuzzLimits = Limits{MaxSideSum: 1024, MaxRatio: 20}

// FuzzPhotoSizes feeds untrusted bytes to PhotoSizes: it must never panic,
// must refuse anything over the limits before decoding it, and whatever it
// accepts must come out as JPEG sizes of the announced dimensions and a
// stripped thumbnail clients can rebuild.
func FuzzPhotoSizes(f *testing.F) {
	small := synthPhoto(24, 16)
	f.Add(encodeJPEG(f, small, 75))
	f.Add(exifJPEG(f, small, 6, false))
	f.Add(exifJPEG(f, small, 3, true))
	f.Add(encodeJPEG(f, image.NewGray(image.Rect(0, 0, 9, 7)), 50))
	f.Add(pngBytes(f, alphaShape(20, 12, disc(10, 6, 5))))
	f.Add(pngBytes(f, image.NewNRGBA64(image.Rect(0, 0, 3, 2))))
	pal := image.NewPaletted(image.Rect(0, 0, 5, 4), palette.WebSafe)
	f.Add(pngBytes(f, pal))
	f.Add(gifBytes(f, &gif.GIF{Image: []*image.Paletted{pal, pal}, Delay: []int{1, 1}}))
	for _, s := range tinyWebP {
		f.Add(b64(f, s))
	}
	if b, err := os.ReadFile("testdata/gopher-doc.with-alpha.lossless.webp"); err == nil {
		f.Add(b)
	}
	f.Add(pngHeader(5000, 5000))
	f.Add(patchSOF(f, encodeJPEG(f, small, 75), 1000, 20))

	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := fuzzLimits.PhotoSizes(src)
		if err != nil {
			return
		}
		if fuzzLimits.check(p.W, p.H) != nil {
			t.Fatalf("accepted %dx%d", p.W, p.H)
		}
		if len(p.Sizes) == 0 || len(p.Sizes) > len(Boxes) {
			t.Fatalf("%d sizes", len(p.Sizes))
		}
		for i, s := range p.Sizes {
			if s.Type != Boxes[i].Type || max(s.W, s.H) > Boxes[i].Side || s.W < 1 || s.H < 1 {
				t.Fatalf("size %d: %s %dx%d", i, s.Type, s.W, s.H)
			}
			if parts, err := parseJPEG(s.Bytes); err != nil || parts.width != s.W || parts.height != s.H {
				t.Fatalf("size %s: %v", s.Type, err)
			}
		}
		rebuilt, err := parseJPEG(ExpandStripped(p.Stripped))
		if err != nil || sameCoding(rebuilt, headerParts) != nil || max(rebuilt.width, rebuilt.height) > StrippedBox {
			t.Fatalf("stripped thumbnail: %v", err)
		}
	})
}

// FuzzDecodePath: any bytes expand to at most three characters each, in
// the alphabet, so EncodePath takes the path back without growing it;
// ParsePath never panics on it and yields finite points.
func FuzzDecodePath(f *testing.F) {
	for _, d := range []string{
		"M0,0l512,0,0,512-512,0z",
		"M256,0c141,0,256,115,256,256s-115,256-256,256S0,397,0,256,115,0,256,0z",
		"M10.5,20.25L30,40H50V60h-5v-5zM100,100l5,5z",
	} {
		b, _ := EncodePath(d)
		f.Add(b)
	}
	f.Add(Outline(alphaShape(64, 64, disc(32, 32, 20))))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xc0, 0x80, 0x40, 0x3f})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := DecodePath(b)
		if len(d) > 3*len(b)+2 || !strings.HasPrefix(d, "M") || !strings.HasSuffix(d, "z") {
			t.Fatalf("%q", d)
		}
		e, err := EncodePath(d)
		if err != nil {
			t.Fatalf("decoded path does not re-encode: %v", err)
		}
		if len(e) > len(b) || DecodePath(e) != d {
			t.Fatalf("re-encoding % x as % x", b, e)
		}
		polys, err := ParsePath(d)
		if err != nil {
			return
		}
		for _, p := range polys {
			for _, q := range p {
				if math.IsNaN(q.X) || math.IsNaN(q.Y) || math.IsInf(q.X, 0) || math.IsInf(q.Y, 0) {
					t.Fatalf("point %v in %q", q, d)
				}
			}
		}
	})
}

// FuzzOutline: Outline of any small alpha mask is nil or a valid path
// within the budget.
func FuzzOutline(f *testing.F) {
	f.Add(uint8(16), uint8(16), []byte{0, 255, 255, 0, 128, 127})
	f.Add(uint8(1), uint8(1), []byte{255})
	f.Add(uint8(70), uint8(3), []byte{255, 0})
	f.Fuzz(func(t *testing.T, w, h uint8, alpha []byte) {
		if w == 0 || h == 0 || len(alpha) == 0 {
			return
		}
		m := image.NewNRGBA(image.Rect(0, 0, int(w), int(h)))
		for i := 0; i < int(w)*int(h); i++ {
			m.Pix[4*i+3] = alpha[i%len(alpha)]
		}
		b := Outline(m)
		if b == nil {
			return
		}
		if len(b) > OutlineBudget {
			t.Fatalf("%d bytes", len(b))
		}
		if _, err := ParsePath(DecodePath(b)); err != nil {
			t.Fatalf("%v: %q", err, DecodePath(b))
		}
	})
}

// FuzzImageSize: image headers from clients never panic, and a size found is
// positive.
func FuzzImageSize(f *testing.F) {
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x00\x80\x08\x06\x00\x00\x00"))
	f.Add([]byte("GIF89a\x10\x00\x08\x00\x00\x00\x00"))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00*\x00\x00\x00\x08"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, w, h, err := ImageSize(b); err == nil && (w <= 0 || h <= 0) {
			t.Fatalf("size %dx%d without an error", w, h)
		}
	})
}
