package media

import (
	"bytes"
	"image"
	"image/png"

	"golang.org/x/image/draw"
)

// StickerThumbSide is the box of a sticker's "m" thumbnail, as Telegram
// makes them.
const StickerThumbSide = 128

// Image decodes a JPEG, PNG, GIF or WebP within the limits.
func (l Limits) Image(src []byte) (format string, img image.Image, err error) {
	format, img, _, _, err = l.decode(src)
	return format, img, err
}

// HasAlpha reports whether any pixel of img is not fully opaque.
func HasAlpha(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return !o.Opaque()
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				return true
			}
		}
	}
	return false
}

// StickerThumb is a sticker's "m" thumbnail: the image within
// StickerThumbSide×StickerThumbSide (never enlarged), as a PNG that keeps
// its transparency.
func StickerThumb(img image.Image) (b []byte, w, h int, err error) {
	sb := img.Bounds()
	w, h = sb.Dx(), sb.Dy()
	if long := max(w, h); long > StickerThumbSide {
		w, h = max(1, w*StickerThumbSide/long), max(1, h*StickerThumbSide/long)
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, sb, draw.Src, nil)
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, dst); err != nil {
		return nil, 0, 0, err
	}
	return buf.Bytes(), w, h, nil
}
