package media

import (
	"fmt"
	"image"
	"math"
	"testing"

	"golang.org/x/image/draw"
)

// The resampler candidates, each making every photo size of src.
type resampler struct {
	name string
	run  func(src *image.YCbCr, dims []image.Point) []image.Image
}

// lanczos3 is the reference: a windowed sinc with three lobes, the usual
// yardstick of downscaling quality, in float64.
var lanczos3 = &draw.Kernel{Support: 3, At: func(t float64) float64 {
	if t == 0 {
		return 1
	}
	if t < 0 {
		t = -t
	}
	if t >= 3 {
		return 0
	}
	x := math.Pi * t
	return 3 * math.Sin(x) * math.Sin(x/3) / (x * x)
}}

func xdraw(interp draw.Interpolator) func(*image.YCbCr, []image.Point) []image.Image {
	return func(src *image.YCbCr, dims []image.Point) []image.Image {
		out := make([]image.Image, len(dims))
		for i, d := range dims {
			dst := image.NewRGBA(image.Rect(0, 0, d.X, d.Y))
			interp.Scale(dst, dst.Rect, src, src.Rect, draw.Src, nil)
			out[i] = dst
		}
		return out
	}
}

// boxThen reduces by an integer factor with a box filter (exact block means)
// so that at most a factor in [minLeft, 2*minLeft) is left, then scales with
// interp.
func boxThen(interp draw.Interpolator, minLeft int) func(*image.YCbCr, []image.Point) []image.Image {
	return func(src *image.YCbCr, dims []image.Point) []image.Image {
		m := toYCC(src, src.Rect)
		out := make([]image.Image, len(dims))
		for i, d := range dims {
			k := min(m.w/d.X, m.h/d.Y) / minLeft
			var pre image.Image = src
			if k >= 2 {
				bw, bh := m.w/k, m.h/k
				c := &ycc{w: bw * k, h: bh * k, y: m.y, cb: m.cb, cr: m.cr, sx: m.sx, sy: m.sy}
				pre = c.scaleWith(bw, bh, kernelArea).ycbcr()
			}
			dst := image.NewRGBA(image.Rect(0, 0, d.X, d.Y))
			interp.Scale(dst, dst.Rect, pre, pre.Bounds(), draw.Src, nil)
			out[i] = dst
		}
		return out
	}
}

// direct scales every size from the source with kernel k.
func direct(k kernel) func(*image.YCbCr, []image.Point) []image.Image {
	return func(src *image.YCbCr, dims []image.Point) []image.Image {
		m := toYCC(src, src.Rect)
		out := make([]image.Image, len(dims))
		for i, d := range dims {
			out[i] = m.scaleWith(d.X, d.Y, k).ycbcr()
		}
		return out
	}
}

// cascade scales each size from the next larger one with kernel k; with
// photoKernel it is what PhotoSizes does.
func cascade(k kernel) func(*image.YCbCr, []image.Point) []image.Image {
	return func(src *image.YCbCr, dims []image.Point) []image.Image {
		cur := toYCC(src, src.Rect)
		out := make([]image.Image, len(dims))
		for i := len(dims) - 1; i >= 0; i-- {
			cur = cur.scaleWith(dims[i].X, dims[i].Y, k)
			out[i] = cur.ycbcr()
		}
		return out
	}
}

var resamplers = []resampler{
	{"cubic-cascade", cascade(kernelCubic)},
	{"cubic-direct", direct(kernelCubic)},
	{"area-cascade", cascade(kernelArea)},
	{"area-direct", direct(kernelArea)},
	{"catmullrom", xdraw(draw.CatmullRom)},
	{"approxbilinear", xdraw(draw.ApproxBiLinear)},
	{"box+approxbilinear", boxThen(draw.ApproxBiLinear, 1)},
	{"box+catmullrom", boxThen(draw.CatmullRom, 2)},
}

// resampleSource is the synthetic photo as a decoder returns it: a 4:2:0
// YCbCr from a quality-95 JPEG.
func resampleSource(t testing.TB, w, h int) *image.YCbCr {
	return decodeJPEG(t, encodeJPEG(t, synthPhoto(w, h), 95)).(*image.YCbCr)
}

// psnrs returns each candidate's luma PSNR against the Lanczos-3 reference,
// per size.
func psnrs(src *image.YCbCr, dims []image.Point, r resampler, ref []image.Image) []float64 {
	got := r.run(src, dims)
	out := make([]float64, len(dims))
	for i := range dims {
		out[i] = lumaPSNR(got[i], ref[i])
	}
	return out
}

// TestM5_ResamplerChoice records why PhotoSizes uses its own streaming
// Catmull-Rom cascade: against a Lanczos-3 downscale of a photo with hard
// edges, a zone plate and fine texture, it stays within 2 dB of
// x/image/draw's CatmullRom (which needs hundreds of megabytes for a large
// photo, see BenchmarkResample) and far above ApproxBiLinear, whose aliasing
// grows with the reduction; area averaging is cheaper but blurrier.
func TestM5_ResamplerChoice(t *testing.T) {
	t.Parallel()
	const w, h = 1000, 750
	src := resampleSource(t, w, h)
	dims := sizeDims(Boxes, w, h)
	ref := xdraw(lanczos3)(src, dims)
	res := map[string][]float64{}
	for _, r := range resamplers {
		switch r.name {
		case "cubic-direct", "area-direct", "box+approxbilinear", "box+catmullrom":
			continue // BenchmarkResample measures them
		}
		res[r.name] = psnrs(src, dims, r, ref)
		line := ""
		for i, p := range res[r.name] {
			line += fmt.Sprintf(" %s:%.1f", Boxes[i].Type, p)
		}
		t.Logf("%-20s PSNR vs Lanczos-3 (dB):%s", r.name, line)
	}
	for i, d := range dims {
		if d.X == w {
			continue // not scaled
		}
		got, cr, abl, area := res["cubic-cascade"][i], res["catmullrom"][i], res["approxbilinear"][i], res["area-cascade"][i]
		if got < 36 || got < cr-2 {
			t.Errorf("%s: cubic cascade %.1f dB, x/image CatmullRom %.1f dB", Boxes[i].Type, got, cr)
		}
		if got < area {
			t.Errorf("%s: cubic cascade %.1f dB below area averaging %.1f dB", Boxes[i].Type, got, area)
		}
		if d.X*4 <= w && got < abl+10 {
			t.Errorf("%s: cubic cascade %.1f dB, ApproxBiLinear %.1f dB: expected aliasing to show", Boxes[i].Type, got, abl)
		}
	}
}

// TestM5_ResamplerMemoryIsOutputSized: scaling allocates the output and
// buffers proportional to the output's width, never to the source's area
// (x/image/draw's kernel scalers allocate 32 bytes per destination column
// per source row).
func TestM5_ResamplerMemoryIsOutputSized(t *testing.T) {
	// A flat grey source: only the dimensions matter here.
	const sw, sh, dw, dh = 3000, 2000, 2560, 1707
	src := toYCC(image.NewGray(image.Rect(0, 0, sw, sh)), image.Rect(0, 0, sw, sh))
	var out *ycc
	got := allocated(func() { out = src.scale(dw, dh) })
	outBytes := uint64(dw * dh)
	if got > outBytes+1<<20 {
		t.Errorf("scaling %dx%d to %dx%d allocated %d bytes, output is %d", sw, sh, dw, dh, got, outBytes)
	}
	if out.w != dw || out.h != dh {
		t.Errorf("scaled to %dx%d", out.w, out.h)
	}
}

// BenchmarkResample makes all five sizes of a 12-megapixel decoded JPEG
// with each candidate; it reports the mean luma PSNR against Lanczos-3 over
// the sizes ("dB") next to time and allocated bytes (run with -benchmem).
func BenchmarkResample(b *testing.B) {
	src := resampleSource(b, 4000, 3000)
	dims := sizeDims(Boxes, 4000, 3000)
	ref := xdraw(lanczos3)(src, dims)
	for _, r := range resamplers {
		b.Run(r.name, func(b *testing.B) {
			p := psnrs(src, dims, r, ref)
			mean := 0.0
			for _, v := range p {
				mean += v
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r.run(src, dims)
			}
			b.ReportMetric(mean/float64(len(p)), "dB")
			b.ReportMetric(p[0], "dB-s")
			b.ReportMetric(p[len(p)-1], "dB-w")
		})
	}
}
