package media

import (
	"image"
	"math"
)

// The resampler.
//
// Photo sizes are scaled with a Catmull-Rom cubic, stretched by the
// reduction factor so that it low-passes what the output cannot hold (the
// filter of golang.org/x/image/draw.CatmullRom), implemented here as a
// separable, streaming, fixed-point resampler over the 8-bit planes the
// decoders produce:
//
//   - it works on Y, Cb and Cr at their own resolution and writes chroma at
//     4:2:0, what the JPEG encoder stores, so a JPEG is never converted to
//     RGB and chroma costs a quarter of luma;
//   - it reads the source row by row, resamples each row horizontally once
//     into a ring of as many rows as the vertical kernel spans, and sums
//     ring rows into each output row: besides the output it allocates
//     O(output width × kernel height), whatever the source size;
//   - sizes are made largest first, each from the one before (w from the
//     source, y from w, x from y, ...), so only the first step reads the
//     full-resolution source.
//
// Measured on a 4000x3000 decoded JPEG, all five sizes, with quality as the
// luma PSNR against a float64 Lanczos-3 downscale of the same source (mean
// over the sizes; BenchmarkResample, TestM5_ResamplerChoice), on a 2-core
// Xeon:
//
//	candidate                         time    allocated  PSNR
//	this: cubic, cascade              139 ms    13 MB    47.4 dB
//	cubic, every size from source     302 ms    16 MB    48.0 dB
//	area averaging, cascade            81 ms    11 MB    41.1 dB
//	x/image CatmullRom               2254 ms   515 MB    48.6 dB
//	x/image ApproxBiLinear            167 ms    27 MB    24.8 dB
//	box pre-pass + ApproxBiLinear     234 ms    31 MB    37.7 dB
//	box pre-pass + CatmullRom        1652 ms   447 MB    45.2 dB
//
// x/image's CatmullRom sets the quality bar, but its kernel scaler
// allocates a [4]float64 per destination column per source row (2560×3000×32
// bytes = 245 MB for the w size of a 12 MP photo, 410 MB at the 5000x5000
// limit) and it is 16 times slower. ApproxBiLinear reads only the 2×2
// source pixels nearest each output pixel and aliases badly beyond a 2×
// reduction (24.9 dB for the s size, 40× smaller). A box pre-pass by an
// integer factor removes most of that aliasing, but the fractional last step
// still drops source pixels and the pre-pass does nothing for the w size (a
// 1.56× reduction), which costs the most. Area averaging is the cheapest
// antialiased filter but 6 dB softer. The cascade gives up about 1 dB (at
// x, made from y) against scaling every size from the source, for half the
// time.

// plane is one 8-bit channel: w×h samples, rows stride bytes apart.
type plane struct {
	pix    []byte
	stride int
	w, h   int
}

// photoKernel is the kernel of the photo sizes.
const photoKernel = kernelCubic

func newPlane(w, h int) plane {
	return plane{pix: make([]byte, w*h), stride: w, w: w, h: h}
}

// kernel is a resampling filter.
type kernel int

const (
	// kernelArea averages the source area each output pixel covers.
	kernelArea kernel = iota
	// kernelCubic is the Catmull-Rom cubic (B=0, C=1/2), stretched by the
	// reduction factor when scaling down so that it filters out what the
	// output cannot represent (as golang.org/x/image/draw.CatmullRom does).
	kernelCubic
)

// catmullRom is the Catmull-Rom kernel, support 2.
func catmullRom(t float64) float64 {
	t = math.Abs(t)
	switch {
	case t < 1:
		return (1.5*t-2.5)*t*t + 1
	case t < 2:
		return ((-0.5*t+2.5)*t-4)*t + 2
	}
	return 0
}

// axis holds the taps of one dimension: output i reads count[i] source
// samples starting at first[i] with weights[base[i]:] (fixed point, summing
// to exactly 1<<weightBits per output sample; cubic weights can be
// negative). first is non-decreasing in i.
type axis struct {
	first, count, base []int32
	weights            []int32
	maxCount           int
}

const weightBits = 14

// newAxis maps dst output samples onto the source extent [0, ext) of a
// plane n samples long (ext <= n: a subsampled chroma plane of an odd-sized
// image covers half a sample more than the image). Output i covers
// [i*ext/dst, (i+1)*ext/dst); source sample j covers [j, j+1). Taps that
// fall outside the plane are dropped and the rest renormalized.
func newAxis(n int, ext float64, dst int, k kernel) axis {
	a := axis{
		first: make([]int32, dst),
		count: make([]int32, dst),
		base:  make([]int32, dst),
	}
	scale := ext / float64(dst)
	var tmp []float64
	for i := 0; i < dst; i++ {
		var j0 int
		tmp = tmp[:0]
		switch k {
		case kernelArea:
			lo, hi := float64(i)*scale, float64(i+1)*scale
			j0 = int(math.Floor(lo))
			j1 := min(int(math.Ceil(hi)), n)
			for j := j0; j < j1; j++ {
				tmp = append(tmp, max(0, math.Min(hi, float64(j+1))-math.Max(lo, float64(j))))
			}
		case kernelCubic:
			fs := math.Max(scale, 1)
			c := (float64(i)+0.5)*scale - 0.5
			j0 = int(math.Ceil(c - 2*fs))
			j1 := int(math.Floor(c + 2*fs))
			for j := j0; j <= j1; j++ {
				tmp = append(tmp, catmullRom((float64(j)-c)/fs))
			}
		}
		// Drop taps outside the plane.
		for j0 < 0 && len(tmp) > 0 {
			j0, tmp = j0+1, tmp[1:]
		}
		if j0 >= n {
			j0, tmp = n-1, tmp[:0]
		}
		if len(tmp) > n-j0 {
			tmp = tmp[:n-j0]
		}
		sum := 0.0
		for _, w := range tmp {
			sum += w
		}
		if len(tmp) == 0 || sum <= 1e-9 {
			// Nothing usable: the nearest sample.
			j0 = min(max(int(float64(i)*scale+scale/2), 0), n-1)
			tmp, sum = append(tmp[:0], 1), 1
		}
		a.first[i] = int32(j0)
		a.count[i] = int32(len(tmp))
		a.base[i] = int32(len(a.weights))
		a.maxCount = max(a.maxCount, len(tmp))
		total := int32(0)
		big := len(a.weights)
		for _, w := range tmp {
			q := int32(math.Round(w / sum * (1 << weightBits)))
			a.weights = append(a.weights, q)
			total += q
			if q > a.weights[big] {
				big = len(a.weights) - 1
			}
		}
		a.weights[big] += (1 << weightBits) - total
	}
	return a
}

// resamplePlane scales the extent extW×extH of src (in src samples) to a
// dw×dh plane with kernel k. Each source row is resampled horizontally once
// into a ring of as many rows as the vertical kernel spans; output rows are
// weighted sums of ring rows.
func resamplePlane(src plane, extW, extH float64, dw, dh int, k kernel) plane {
	dst := newPlane(dw, dh)
	if src.w == dw && src.h == dh && extW == float64(dw) && extH == float64(dh) {
		for y := 0; y < dh; y++ {
			copy(dst.pix[y*dw:(y+1)*dw], src.pix[y*src.stride:y*src.stride+dw])
		}
		return dst
	}
	ax := newAxis(src.w, extW, dw, k)
	ay := newAxis(src.h, extH, dh, k)

	// Horizontal pass of one source row into 8.8 fixed point (signed: a
	// cubic overshoots).
	hrow := func(out []int32, y int) {
		row := src.pix[y*src.stride : y*src.stride+src.w]
		for x := range out {
			f := int(ax.first[x])
			n := int(ax.count[x])
			ws := ax.weights[ax.base[x] : int(ax.base[x])+n]
			s := row[f : f+n : f+n]
			var acc int32
			for i, w := range ws[:len(s)] {
				acc += int32(s[i]) * w
			}
			out[x] = (acc + 1<<5) >> 6
		}
	}

	ring := make([][]int32, ay.maxCount)
	ringRow := make([]int, ay.maxCount)
	for i := range ring {
		ring[i] = make([]int32, dw)
		ringRow[i] = -1
	}
	// |8.8 sample| <= 255·1.14·256 and the weights' absolute sum is at most
	// 1.14·2^14 (Catmull-Rom's lobes), so the sum fits an int32.
	acc := make([]int32, dw)
	for y := 0; y < dh; y++ {
		clear(acc)
		f := int(ay.first[y])
		n := int(ay.count[y])
		ws := ay.weights[ay.base[y] : int(ay.base[y])+n]
		for i, w := range ws {
			r := f + i
			slot := r % len(ring)
			if ringRow[slot] != r {
				hrow(ring[slot], r)
				ringRow[slot] = r
			}
			if w == 0 {
				continue
			}
			row := ring[slot][:len(acc)]
			for x, v := range row {
				acc[x] += v * w
			}
		}
		out := dst.pix[y*dw : (y+1)*dw]
		for x, v := range acc {
			v = (v + 1<<21) >> 22
			out[x] = byte(min(max(v, 0), 255))
		}
	}
	return dst
}

// ycc is an opaque image as 8-bit planes: Y at full resolution, Cb and Cr
// subsampled by sx×sy (1, 2 or 4), or absent for a grayscale image.
type ycc struct {
	w, h   int
	y      plane
	cb, cr plane
	sx, sy int
	gray   bool
}

// scale resamples m to dw×dh with the package's kernel. Chroma comes out
// at 4:2:0, what the JPEG encoder writes: resampling chroma to full
// resolution would only have the encoder average it back.
func (m *ycc) scale(dw, dh int) *ycc { return m.scaleWith(dw, dh, photoKernel) }

func (m *ycc) scaleWith(dw, dh int, k kernel) *ycc {
	out := &ycc{w: dw, h: dh, sx: 2, sy: 2, gray: m.gray}
	out.y = resamplePlane(m.y, float64(m.w), float64(m.h), dw, dh, k)
	if !m.gray {
		// Output chroma sample i covers luma [2i, 2i+2); with an odd
		// size the last one reaches past the image, as in the source.
		cw, ch := (dw+1)/2, (dh+1)/2
		ew := float64(m.w) / float64(m.sx) * float64(2*cw) / float64(dw)
		eh := float64(m.h) / float64(m.sy) * float64(2*ch) / float64(dh)
		out.cb = resamplePlane(m.cb, ew, eh, cw, ch, k)
		out.cr = resamplePlane(m.cr, ew, eh, cw, ch, k)
	}
	return out
}

// image returns m as an image the JPEG encoder has a fast path for.
func (m *ycc) image() image.Image {
	if m.gray {
		return &image.Gray{Pix: m.y.pix, Stride: m.y.stride, Rect: image.Rect(0, 0, m.w, m.h)}
	}
	return m.ycbcr()
}

// ycbcr returns m as a YCbCr image (gray gets neutral chroma). m must have
// 4:4:4 or 4:2:0 chroma in planes of their own (the output of scale).
func (m *ycc) ycbcr() *image.YCbCr {
	ratio := image.YCbCrSubsampleRatio420
	if m.sx == 1 && m.sy == 1 {
		ratio = image.YCbCrSubsampleRatio444
	}
	cb, cr, cstride := m.cb.pix, m.cr.pix, m.cb.stride
	if m.gray {
		cw, ch := (m.w+1)/2, (m.h+1)/2
		cb = make([]byte, cw*ch)
		for i := range cb {
			cb[i] = 128
		}
		cr, cstride = cb, cw
	}
	return &image.YCbCr{
		Y: m.y.pix, Cb: cb, Cr: cr,
		YStride: m.y.stride, CStride: cstride,
		SubsampleRatio: ratio,
		Rect:           image.Rect(0, 0, m.w, m.h),
	}
}
