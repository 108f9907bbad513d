package media

import (
	"image"
	"image/color"
)

// toYCC returns the canvas of a decoded image as planes, composited over
// white where it is transparent (JPEG has no alpha; Telegram shows
// transparent photos on white). Pixels of the canvas outside img's bounds (a
// GIF frame smaller than its logical screen) are white.
//
// A full-canvas YCbCr or Gray image (every JPEG, opaque lossy WebP) is used
// as it is, without a copy; other types are converted once to 4:4:4 planes.
func toYCC(img image.Image, canvas image.Rectangle) *ycc {
	w, h := canvas.Dx(), canvas.Dy()
	switch m := img.(type) {
	case *image.YCbCr:
		if m.Rect == canvas && canvas.Min == (image.Point{}) {
			if sx, sy, ok := subsampling(m.SubsampleRatio); ok {
				cw, ch := (w+sx-1)/sx, (h+sy-1)/sy
				return &ycc{
					w: w, h: h, sx: sx, sy: sy,
					y:  plane{pix: m.Y, stride: m.YStride, w: w, h: h},
					cb: plane{pix: m.Cb, stride: m.CStride, w: cw, h: ch},
					cr: plane{pix: m.Cr, stride: m.CStride, w: cw, h: ch},
				}
			}
		}
	case *image.Gray:
		if m.Rect == canvas && canvas.Min == (image.Point{}) {
			return &ycc{w: w, h: h, sx: 1, sy: 1, gray: true,
				y: plane{pix: m.Pix, stride: m.Stride, w: w, h: h}}
		}
	}

	out := &ycc{w: w, h: h, sx: 1, sy: 1,
		y: newPlane(w, h), cb: newPlane(w, h), cr: newPlane(w, h)}
	b := img.Bounds()
	ox, oy := canvas.Min.X, canvas.Min.Y
	set := func(x, y int, r, g, bl uint8) {
		i := (y-oy)*w + x - ox
		out.y.pix[i], out.cb.pix[i], out.cr.pix[i] = color.RGBToYCbCr(r, g, bl)
	}
	// White wherever the image does not reach.
	for i := range out.y.pix {
		out.y.pix[i], out.cb.pix[i], out.cr.pix[i] = 255, 128, 128
	}
	r := b.Intersect(canvas)

	switch m := img.(type) {
	case *image.NRGBA:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := m.Pix[m.PixOffset(r.Min.X, y):]
			for x := r.Min.X; x < r.Max.X; x++ {
				p := row[(x-r.Min.X)*4 : (x-r.Min.X)*4+4]
				a := uint32(p[3])
				set(x, y, overWhite8(p[0], a), overWhite8(p[1], a), overWhite8(p[2], a))
			}
		}
	case *image.RGBA:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := m.Pix[m.PixOffset(r.Min.X, y):]
			for x := r.Min.X; x < r.Max.X; x++ {
				p := row[(x-r.Min.X)*4 : (x-r.Min.X)*4+4]
				na := 255 - p[3] // premultiplied: c + (1-a)·white
				set(x, y, sat(p[0], na), sat(p[1], na), sat(p[2], na))
			}
		}
	case *image.Paletted:
		// Each palette entry composited once.
		var lut [256][3]uint8
		for i := range lut {
			c := color.RGBA64{A: 0}
			if i < len(m.Palette) {
				rr, gg, bb, aa := m.Palette[i].RGBA()
				c = color.RGBA64{R: uint16(rr), G: uint16(gg), B: uint16(bb), A: uint16(aa)}
			}
			lut[i][0], lut[i][1], lut[i][2] = color.RGBToYCbCr(over16(c.R, c.A), over16(c.G, c.A), over16(c.B, c.A))
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := m.Pix[m.PixOffset(r.Min.X, y):]
			for x := r.Min.X; x < r.Max.X; x++ {
				e := &lut[row[x-r.Min.X]]
				i := (y-oy)*w + x - ox
				out.y.pix[i], out.cb.pix[i], out.cr.pix[i] = e[0], e[1], e[2]
			}
		}
	case *image.NYCbCrA:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				yi, ci, ai := m.YOffset(x, y), m.COffset(x, y), m.AOffset(x, y)
				a := uint32(m.A[ai])
				if a == 255 {
					i := (y-oy)*w + x - ox
					out.y.pix[i], out.cb.pix[i], out.cr.pix[i] = m.Y[yi], m.Cb[ci], m.Cr[ci]
					continue
				}
				rr, gg, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				set(x, y, overWhite8(rr, a), overWhite8(gg, a), overWhite8(bb, a))
			}
		}
	case image.RGBA64Image:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				c := m.RGBA64At(x, y)
				set(x, y, over16(c.R, c.A), over16(c.G, c.A), over16(c.B, c.A))
			}
		}
	default:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				rr, gg, bb, aa := img.At(x, y).RGBA()
				set(x, y, over16(uint16(rr), uint16(aa)), over16(uint16(gg), uint16(aa)), over16(uint16(bb), uint16(aa)))
			}
		}
	}
	return out
}

// subsampling returns the chroma subsampling factors of a YCbCr ratio.
func subsampling(r image.YCbCrSubsampleRatio) (sx, sy int, ok bool) {
	switch r {
	case image.YCbCrSubsampleRatio444:
		return 1, 1, true
	case image.YCbCrSubsampleRatio422:
		return 2, 1, true
	case image.YCbCrSubsampleRatio420:
		return 2, 2, true
	case image.YCbCrSubsampleRatio440:
		return 1, 2, true
	case image.YCbCrSubsampleRatio411:
		return 4, 1, true
	case image.YCbCrSubsampleRatio410:
		return 4, 2, true
	}
	return 0, 0, false
}

// overWhite8 composites a non-premultiplied 8-bit channel over white.
func overWhite8(c uint8, a uint32) uint8 {
	return uint8((uint32(c)*a + 255*(255-a) + 127) / 255)
}

// sat adds with saturation (a premultiplied channel plus the white that
// shows through).
func sat(c, add uint8) uint8 {
	s := uint16(c) + uint16(add)
	if s > 255 {
		s = 255
	}
	return uint8(s)
}

// over16 composites a premultiplied 16-bit channel over white, to 8 bits.
func over16(c, a uint16) uint8 {
	s := uint32(c) + 0xffff - uint32(a)
	if s > 0xffff {
		s = 0xffff
	}
	return uint8(s >> 8)
}
