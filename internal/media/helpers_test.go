package media

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"testing"
)

// synthPhoto draws a deterministic photo-like w×h test image: smooth colour
// gradients (sky, shading), discs with hard edges (objects), a zone plate
// whose rings reach the source's Nyquist frequency (the worst case for
// aliasing: ideally it averages to grey when scaled down), and a band of
// pseudo-random fine texture (foliage, fabric, sensor noise).
func synthPhoto(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fw, fh := float64(w), float64(h)
	type disc struct {
		x, y, r float64
		c       [3]float64
	}
	discs := []disc{
		{0.25, 0.35, 0.12, [3]float64{220, 40, 40}},
		{0.55, 0.60, 0.18, [3]float64{30, 140, 60}},
		{0.80, 0.30, 0.08, [3]float64{250, 220, 30}},
		{0.40, 0.80, 0.06, [3]float64{20, 20, 30}},
	}
	zx, zy, zr := 0.78*fw, 0.75*fh, 0.2*fh
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride:]
		v := float64(y) / fh
		for x := 0; x < w; x++ {
			u := float64(x) / fw
			r := 90 + 120*v + 20*math.Sin(6*u)
			g := 140 + 60*v - 30*u
			b := 230 - 120*v + 15*math.Cos(5*u+3*v)
			for _, d := range discs {
				dx, dy := (u-d.x)*fw, (v-d.y)*fh
				if dx*dx+dy*dy < d.r*d.r*fh*fh {
					shade := 0.75 + 0.25*(dx+dy)/(d.r*fh*2)
					r, g, b = d.c[0]*shade, d.c[1]*shade, d.c[2]*shade
				}
			}
			if dx, dy := float64(x)-zx, float64(y)-zy; dx*dx+dy*dy < zr*zr {
				// Zone plate: local frequency grows to 0.5 cycles/pixel at the rim.
				z := 127 + 110*math.Cos(math.Pi/2*(dx*dx+dy*dy)/zr)
				r, g, b = z, z, z
			}
			if v > 0.9 {
				n := float64(hash32(uint32(x), uint32(y))%64) - 32
				r, g, b = r+n, g+n, b+n
			}
			p := row[4*x : 4*x+4]
			p[0], p[1], p[2], p[3] = clamp8(r), clamp8(g), clamp8(b), 255
		}
	}
	return img
}

func hash32(x, y uint32) uint32 {
	h := x*0x9E3779B1 ^ y*0x85EBCA77
	h ^= h >> 15
	h *= 0x2C1B3C6D
	h ^= h >> 12
	return h
}

func clamp8(v float64) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v + 0.5)
}

func encodeJPEG(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeJPEG(t testing.TB, b []byte) image.Image {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func decodeJPEGErr(b []byte) (image.Image, error) {
	return jpeg.Decode(bytes.NewReader(b))
}

// toRGBA copies any image into an RGBA at the origin.
func toRGBA(m image.Image) *image.RGBA {
	b := m.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Rect, m, b.Min, draw.Src)
	return out
}

// lumaPSNR compares two same-sized images on luma (BT.601), in dB.
func lumaPSNR(a, b image.Image) float64 {
	ra, rb := toRGBA(a), toRGBA(b)
	if ra.Rect != rb.Rect {
		return math.NaN()
	}
	var se float64
	n := 0
	for i := 0; i+3 < len(ra.Pix); i += 4 {
		ya := 0.299*float64(ra.Pix[i]) + 0.587*float64(ra.Pix[i+1]) + 0.114*float64(ra.Pix[i+2])
		yb := 0.299*float64(rb.Pix[i]) + 0.587*float64(rb.Pix[i+1]) + 0.114*float64(rb.Pix[i+2])
		se += (ya - yb) * (ya - yb)
		n++
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

// meanAbsError returns the mean absolute difference per RGB channel.
func meanAbsError(a, b image.Image) [3]float64 {
	ra, rb := toRGBA(a), toRGBA(b)
	var s [3]float64
	n := 0
	for i := 0; i+3 < len(ra.Pix) && i+3 < len(rb.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			s[c] += math.Abs(float64(ra.Pix[i+c]) - float64(rb.Pix[i+c]))
		}
		n++
	}
	for c := range s {
		s[c] /= float64(n)
	}
	return s
}

// solid returns a w×h image of one colour.
func solid(w, h int, c color.Color) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Rect, image.NewUniform(c), image.Point{}, draw.Src)
	return m
}
