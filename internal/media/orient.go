package media

import "encoding/binary"

// jpegOrientation returns the EXIF orientation (1..8) of a JPEG, 1 when it
// has none or the EXIF data is malformed. It walks the marker segments up to
// the first SOS and reads only inside the APP1 "Exif" segment, every offset
// checked against the segment's length.
func jpegOrientation(src []byte) int {
	if len(src) < 4 || src[0] != 0xff || src[1] != 0xd8 {
		return 1
	}
	i := 2
	for i+4 <= len(src) {
		if src[i] != 0xff {
			return 1
		}
		marker := src[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker == 0x01 {
			i += 2
			continue
		}
		if marker == 0xda || marker == 0xd9 {
			return 1
		}
		n := int(binary.BigEndian.Uint16(src[i+2:]))
		if n < 2 || i+2+n > len(src) {
			return 1
		}
		seg := src[i+4 : i+2+n]
		if marker == 0xe1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			if o := tiffOrientation(seg[6:]); o != 0 {
				return o
			}
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 of IFD0 of a TIFF structure, 0 if absent.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 0
	}
	n := int64(bo.Uint16(t[ifd:]))
	for k := int64(0); k < n; k++ {
		e := ifd + 2 + 12*k
		if e+12 > int64(len(t)) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		typ, count := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:])
		if typ != 3 || count != 1 { // SHORT, one value, stored inline
			return 0
		}
		if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
			return o
		}
		return 0
	}
	return 0
}

// swapsAxes reports whether orientation o displays the image transposed.
func swapsAxes(o int) bool { return o >= 5 && o <= 8 }

// orient applies EXIF orientation o to an image with chroma planes of their
// own (the output of ycc.scale), returning it as it is meant to be
// displayed. With an odd size, 4:2:0 chroma of the flipped axis lines up
// with the luma half a sample off; at the sizes' resolution that does not
// show.
func (m *ycc) orient(o int) *ycc {
	if o <= 1 || o > 8 {
		return m
	}
	out := &ycc{w: m.w, h: m.h, sx: m.sx, sy: m.sy, gray: m.gray}
	if swapsAxes(o) {
		out.w, out.h, out.sx, out.sy = m.h, m.w, m.sy, m.sx
	}
	out.y = orientPlane(m.y, o)
	if !m.gray {
		out.cb = orientPlane(m.cb, o)
		out.cr = orientPlane(m.cr, o)
	}
	return out
}

// orientPlane maps each displayed pixel (x, y) back to the stored one.
func orientPlane(p plane, o int) plane {
	w, h := p.w, p.h
	dw, dh := w, h
	if swapsAxes(o) {
		dw, dh = h, w
	}
	out := newPlane(dw, dh)
	for y := 0; y < dh; y++ {
		row := out.pix[y*dw : (y+1)*dw]
		for x := range row {
			var sx, sy int
			switch o {
			case 2: // mirrored horizontally
				sx, sy = w-1-x, y
			case 3: // rotated 180
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored vertically
				sx, sy = x, h-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // needs 90° clockwise
				sx, sy = y, h-1-x
			case 7: // transversed
				sx, sy = w-1-y, h-1-x
			case 8: // needs 90° counter-clockwise
				sx, sy = w-1-y, x
			}
			row[x] = p.pix[sy*p.stride+sx]
		}
	}
	return out
}
