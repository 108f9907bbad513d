package media

import (
	"image"
	"image/color"
	"math"
	"testing"
)

// alphaShape draws an NRGBA sticker: opaque (some colour) where in says so,
// transparent elsewhere, with a one-pixel soft edge.
func alphaShape(w, h int, in func(x, y float64) bool) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := 0
			for _, d := range [][2]float64{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}} {
				if in(float64(x)+d[0], float64(y)+d[1]) {
					n++
				}
			}
			m.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 200, uint8(n * 255 / 4)})
		}
	}
	return m
}

func disc(cx, cy, r float64) func(x, y float64) bool {
	return func(x, y float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) < r*r }
}

// pathMask samples filled polygons at the centres of step×step cells of the
// 512 box, with the even-odd rule (Telegram Desktop) or the non-zero rule
// (SVG's default, web clients).
func pathMask(polys [][]Point, step float64, evenOdd bool) []bool {
	n := int(PathViewBox / step)
	out := make([]bool, n*n)
	for j := 0; j < n; j++ {
		y := (float64(j) + 0.5) * step
		for i := 0; i < n; i++ {
			x := (float64(i) + 0.5) * step
			wind := 0
			for _, p := range polys {
				for k := range p {
					a, b := p[k], p[(k+1)%len(p)]
					if (a.Y <= y) == (b.Y <= y) {
						continue
					}
					if xc := a.X + (y-a.Y)*(b.X-a.X)/(b.Y-a.Y); xc > x {
						if b.Y > a.Y {
							wind++
						} else {
							wind--
						}
					}
				}
			}
			if evenOdd {
				out[j*n+i] = wind%2 != 0
			} else {
				out[j*n+i] = wind != 0
			}
		}
	}
	return out
}

// opaqueMask samples the image's alpha at the same points, the image scaled
// so that its longer side is 512.
func opaqueMask(m *image.NRGBA, step float64) []bool {
	n := int(PathViewBox / step)
	b := m.Bounds()
	long := float64(max(b.Dx(), b.Dy()))
	out := make([]bool, n*n)
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			px := int((float64(i) + 0.5) * step * long / PathViewBox)
			py := int((float64(j) + 0.5) * step * long / PathViewBox)
			if px < b.Dx() && py < b.Dy() {
				out[j*n+i] = m.NRGBAAt(px, py).A >= 128
			}
		}
	}
	return out
}

func iou(a, b []bool) float64 {
	and, or := 0, 0
	for i := range a {
		if a[i] && b[i] {
			and++
		}
		if a[i] || b[i] {
			or++
		}
	}
	if or == 0 {
		return 1
	}
	return float64(and) / float64(or)
}

// bbox returns the bounding box of a mask in 512 units.
func bbox(mask []bool, step float64) image.Rectangle {
	n := int(PathViewBox / step)
	r := image.Rectangle{}
	first := true
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			if !mask[j*n+i] {
				continue
			}
			c := image.Rect(int(float64(i)*step), int(float64(j)*step), int(float64(i+1)*step), int(float64(j+1)*step))
			if first {
				r, first = c, false
			} else {
				r = r.Union(c)
			}
		}
	}
	return r
}

// TestM9_OutlineMatchesOpaqueRegion: the outline of stickers of various
// shapes and sizes decodes to a path Telegram Desktop draws, under 300
// bytes, whose filled area (with either fill rule) matches the opaque part
// of the image.
func TestM9_OutlineMatchesOpaqueRegion(t *testing.T) {
	t.Parallel()
	star := func(x, y float64) bool {
		// Five-pointed star around (256, 256).
		dx, dy := x-256, y-256
		a := math.Atan2(dy, dx) + math.Pi/2
		r := math.Hypot(dx, dy)
		k := math.Mod(a+2*math.Pi, 2*math.Pi/5) / (2 * math.Pi / 5)
		lim := 110 + 130*math.Abs(2*k-1)
		return r < lim
	}
	cases := []struct {
		name string
		img  *image.NRGBA
	}{
		{"disc", alphaShape(512, 512, disc(256, 256, 200))},
		{"landscape rectangle", alphaShape(512, 320, func(x, y float64) bool { return x > 60 && x < 450 && y > 40 && y < 280 })},
		{"portrait two blobs", alphaShape(320, 512, func(x, y float64) bool { return disc(160, 120, 100)(x, y) || disc(160, 390, 90)(x, y) })},
		{"ring with a hole", alphaShape(512, 512, func(x, y float64) bool { r := math.Hypot(x-256, y-256); return r > 100 && r < 230 })},
		{"small disc (scaled to 512)", alphaShape(256, 256, disc(128, 128, 90))},
		{"star", alphaShape(512, 512, star)},
		{"L touching the borders", alphaShape(512, 512, func(x, y float64) bool { return x < 180 || y > 400 })},
		{"tiny sticker", alphaShape(100, 60, func(x, y float64) bool { return x > 10 && x < 90 && y > 5 && y < 55 })},
		{"fully opaque", alphaShape(512, 400, func(x, y float64) bool { return true })},
	}
	const step = 2.0
	for _, c := range cases {
		b := Outline(c.img)
		if len(b) == 0 || len(b) > OutlineBudget || len(b) >= 300 {
			t.Errorf("%s: %d bytes", c.name, len(b))
			continue
		}
		d := DecodePath(b)
		polys, err := ParsePath(d)
		if err != nil {
			t.Errorf("%s: %v in %q", c.name, err, d)
			continue
		}
		want := opaqueMask(c.img, step)
		for _, evenOdd := range []bool{true, false} {
			got := pathMask(polys, step, evenOdd)
			score := iou(got, want)
			gb, wb := bbox(got, step), bbox(want, step)
			if evenOdd {
				t.Logf("%s: %d bytes, IoU %.3f, bbox %v (opaque %v)", c.name, len(b), score, gb, wb)
			}
			if score < 0.9 {
				t.Errorf("%s (even-odd %v): IoU %.3f", c.name, evenOdd, score)
			}
			const tol = 12 // path units: a cell and a half
			if abs(gb.Min.X-wb.Min.X) > tol || abs(gb.Min.Y-wb.Min.Y) > tol || abs(gb.Max.X-wb.Max.X) > tol || abs(gb.Max.Y-wb.Max.Y) > tol {
				t.Errorf("%s (even-odd %v): bbox %v, opaque %v", c.name, evenOdd, gb, wb)
			}
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// TestM9_OutlineStaysUnderBudget: a busy mask (many separate blobs) still
// gives a valid path within the budget, keeping the largest parts.
func TestM9_OutlineStaysUnderBudget(t *testing.T) {
	t.Parallel()
	type blob struct{ x, y, r float64 }
	var blobs []blob
	for i := 0; i < 80; i++ {
		h := hash32(uint32(i), 7)
		blobs = append(blobs, blob{float64(h % 512), float64(h / 512 % 512), float64(6 + h/(512*512)%24)})
	}
	blobs = append(blobs, blob{256, 256, 120})
	img := alphaShape(512, 512, func(x, y float64) bool {
		for _, b := range blobs {
			if disc(b.x, b.y, b.r)(x, y) {
				return true
			}
		}
		return false
	})
	b := Outline(img)
	if len(b) == 0 || len(b) > OutlineBudget {
		t.Fatalf("%d bytes", len(b))
	}
	polys, err := ParsePath(DecodePath(b))
	if err != nil {
		t.Fatal(err)
	}
	got := pathMask(polys, 4, true)
	// The big central disc is inside the outline.
	n := PathViewBox / 4
	if !got[(256/4)*n+256/4] {
		t.Error("the largest blob is not in the outline")
	}
	t.Logf("%d blobs: %d bytes, %d polygons, IoU %.3f", len(blobs), len(b), len(polys), iou(got, opaqueMask(img, 4)))
}

func TestM9_OutlineOfNothing(t *testing.T) {
	if b := Outline(image.NewNRGBA(image.Rect(0, 0, 100, 100))); b != nil {
		t.Errorf("transparent image: % x", b)
	}
	if b := Outline(image.NewNRGBA(image.Rect(0, 0, 0, 0))); b != nil {
		t.Errorf("empty image: % x", b)
	}
	// Other image types are read through their alpha too.
	if b := Outline(image.NewGray(image.Rect(0, 0, 30, 20))); b == nil {
		t.Error("opaque gray image has no outline")
	}
}
