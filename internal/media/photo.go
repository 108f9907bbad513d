package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// Box is one of Telegram's photo sizes: the type letter and the square box
// the size fits in.
type Box struct {
	Type string
	Side int
}

// Boxes are the photo sizes of rule M5, smallest first.
var Boxes = []Box{{"s", 100}, {"m", 320}, {"x", 800}, {"y", 1280}, {"w", 2560}}

// Quality is the JPEG quality of the photo sizes.
const Quality = 87

// Size is one encoded photo size.
type Size struct {
	Type  string
	W, H  int
	Bytes []byte // baseline JPEG
}

// Photo is what PhotoSizes makes of an image.
type Photo struct {
	Format   string // "jpeg", "png", "gif" or "webp"
	W, H     int    // as displayed: after the EXIF orientation
	Sizes    []Size // smallest first: s, m, ... up to the first box the photo fits in
	Stripped []byte // photoStrippedSize "i" bytes
}

// Largest returns the largest size.
func (p Photo) Largest() Size { return p.Sizes[len(p.Sizes)-1] }

// Limits bound what PhotoSizes accepts. They are checked from the header,
// before any pixel is decoded, so they bound the memory a photo can take.
//
// At the default limits the worst case is a progressive 4:4:4 JPEG of
// 5000×5000: image/jpeg holds its coefficients (256 bytes per 8×8 block per
// component, 300 MB) and the 75 MB image while decoding, and a file of a few
// kilobytes can declare it. Scaling adds little (the output sizes and rows
// of buffers). Callers should bound how many photos are processed at once.
type Limits struct {
	// MaxSideSum bounds width+height; Telegram's photo rule is 10000, which
	// bounds a photo to 25 megapixels (5000×5000).
	MaxSideSum int
	// MaxRatio bounds the longer side over the shorter one; Telegram's is 20.
	MaxRatio int
	// Boxes are the sizes to make, smallest first; nil means Boxes (the
	// sizes of photos in messages). Profile photos use ProfileBoxes.
	Boxes []Box
}

// ProfileBoxes are the sizes of profile photos: a small (160) and a big (640)
// one for inputPeerPhotoFileLocation, and one between.
var ProfileBoxes = []Box{{"a", 160}, {"b", 320}, {"c", 640}}

func (l Limits) boxes() []Box {
	if l.Boxes != nil {
		return l.Boxes
	}
	return Boxes
}

// DefaultLimits are Telegram's photo limits.
var DefaultLimits = Limits{MaxSideSum: 10000, MaxRatio: 20}

var (
	// ErrFormat: the bytes are not a JPEG, PNG, GIF or WebP image.
	ErrFormat = errors.New("media: not a JPEG, PNG, GIF or WebP image")
	// ErrDimensions: the image is empty, too large or too narrow
	// (PHOTO_INVALID_DIMENSIONS).
	ErrDimensions = errors.New("media: invalid photo dimensions")
	// ErrTruncated: the file is far too short for the dimensions its header
	// declares, or its data does not decode.
	ErrTruncated = errors.New("media: image data is truncated or corrupt")
)

// PhotoSizes decodes an image under DefaultLimits and makes its photo sizes
// and stripped thumbnail (rule M5).
func PhotoSizes(src []byte) (Photo, error) { return DefaultLimits.PhotoSizes(src) }

// PhotoSizes decodes an image under l and makes its photo sizes: for each box
// of Boxes, smallest first, the image scaled to fit the box keeping its
// aspect ratio, until the first box the image fits in unscaled, which gets
// the image at its own size and ends the list (a 500×300 photo gets s
// 100×60, m 320×192 and x 500×300). Each size is a baseline JPEG at
// Quality; transparent pixels show white; a JPEG's EXIF orientation is
// applied. Sizes are made largest first, each from the one before it, with
// the streaming Catmull-Rom resampler described in resample.go.
func (l Limits) PhotoSizes(src []byte) (Photo, error) {
	format, img, canvas, orientation, err := l.decode(src)
	if err != nil {
		return Photo{}, err
	}
	m := toYCC(img, canvas)

	w, h := m.w, m.h
	p := Photo{Format: format, W: w, H: h}
	if swapsAxes(orientation) {
		p.W, p.H = h, w
	}
	boxes := l.boxes()
	dims := sizeDims(boxes, w, h)
	p.Sizes = make([]Size, len(dims))
	cur := m
	for i := len(dims) - 1; i >= 0; i-- {
		cur = cur.scale(dims[i].X, dims[i].Y)
		shown := cur.orient(orientation)
		var buf bytes.Buffer
		buf.Grow(shown.w * shown.h / 8)
		if err := jpeg.Encode(&buf, shown.image(), &jpeg.Options{Quality: Quality}); err != nil {
			return Photo{}, err
		}
		p.Sizes[i] = Size{Type: boxes[i].Type, W: shown.w, H: shown.h, Bytes: buf.Bytes()}
	}
	if p.Stripped, err = stripped(cur.orient(orientation)); err != nil {
		return Photo{}, err
	}
	return p, nil
}

// sizeDims returns the stored (not oriented) dimensions of each size a w×h
// image gets, smallest first. Boxes are square, so orientation does not
// change which sizes exist, only which side is which.
func sizeDims(boxes []Box, w, h int) []image.Point {
	var out []image.Point
	for _, b := range boxes {
		if w <= b.Side && h <= b.Side {
			out = append(out, image.Pt(w, h))
			break
		}
		dw, dh := fit(w, h, b.Side)
		out = append(out, image.Pt(dw, dh))
	}
	return out
}

// fit scales w×h to fit a side×side box keeping the aspect ratio, rounding
// to the nearest pixel and never below 1; an image that already fits is
// returned as it is.
func fit(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, (h*side+w/2)/w)
	}
	return max(1, (w*side+h/2)/h), side
}

// decode sniffs the format, checks the header's dimensions against l and
// decodes. canvas is the image's declared area (a GIF frame can be smaller).
func (l Limits) decode(src []byte) (format string, img image.Image, canvas image.Rectangle, orientation int, err error) {
	format, cfg, err := decodeConfig(src)
	if err != nil {
		return "", nil, image.Rectangle{}, 0, err
	}
	if err := l.check(cfg.Width, cfg.Height); err != nil {
		return "", nil, image.Rectangle{}, 0, err
	}
	if !plausible(format, src, cfg.Width, cfg.Height) {
		return "", nil, image.Rectangle{}, 0, ErrTruncated
	}

	r := bytes.NewReader(src)
	switch format {
	case "jpeg":
		img, err = jpeg.Decode(r)
	case "png":
		img, err = png.Decode(r)
	case "gif":
		img, err = gif.Decode(r) // the first frame
	case "webp":
		img, err = webp.Decode(r)
	}
	if err != nil {
		return "", nil, image.Rectangle{}, 0, fmt.Errorf("%w: %v", ErrTruncated, err)
	}
	canvas = image.Rect(0, 0, cfg.Width, cfg.Height)
	// The decoders allocate from the same header fields DecodeConfig
	// read; a frame larger than the declared canvas is refused anyway.
	if b := img.Bounds(); !b.In(canvas) || b.Empty() {
		return "", nil, image.Rectangle{}, 0, ErrDimensions
	}
	orientation = 1
	if format == "jpeg" {
		orientation = jpegOrientation(src)
	}
	return format, img, canvas, orientation, nil
}

// check applies the limits to declared dimensions.
func (l Limits) check(w, h int) error {
	if w <= 0 || h <= 0 {
		return ErrDimensions
	}
	if l.MaxSideSum > 0 && (w > l.MaxSideSum || h > l.MaxSideSum || w+h > l.MaxSideSum) {
		return ErrDimensions
	}
	if l.MaxRatio > 0 && (w > h*l.MaxRatio || h > w*l.MaxRatio) {
		return ErrDimensions
	}
	return nil
}

func sniff(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff:
		return "jpeg"
	case len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return "png"
	case len(b) >= 6 && (string(b[:6]) == "GIF87a" || string(b[:6]) == "GIF89a"):
		return "gif"
	case len(b) >= 15 && string(b[:4]) == "RIFF" && string(b[8:15]) == "WEBPVP8":
		return "webp"
	}
	return ""
}

// plausible refuses files too short to hold the pixels their header
// declares, so that a few hundred bytes cannot make a decoder allocate a
// 25-megapixel image before failing. The bounds are ones no valid file can
// break:
//
//   - PNG: deflate expands at most 1032:1 (a 258-byte match in two bits), so
//     the file holds at least 1/1032 of the pixel bytes of its bit depth.
//   - GIF: an LZW code (at most 12 bits) stands for at most 4096 pixels.
//   - JPEG: every 8×8 block of every scanned component costs at least one
//     bit; the sparsest component is chroma at 4:1:0, one block per 8×8×8
//     pixels.
//   - WebP: its arithmetic and backward-reference coding have no useful
//     bound; the limits alone apply.
func plausible(format string, src []byte, w, h int) bool {
	px := int64(w) * int64(h)
	n := int64(len(src))
	switch format {
	case "png":
		if len(src) < 29 {
			return false
		}
		depth, ctype := int64(src[24]), src[25]
		channels := map[byte]int64{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
		if channels == 0 {
			return false
		}
		return (px*depth*channels+7)/8 <= n*1032
	case "gif":
		return px <= n*8*4096/12
	case "jpeg":
		return px <= n*8*64*8
	}
	return true
}
