package media

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// ImageSize reads an image's format and its size as displayed (after a
// JPEG's EXIF orientation) from the header alone, without decoding pixels:
// documentAttributeImageSize of image documents. head is the beginning of
// the file; a JPEG's size may follow large EXIF segments, so a few hundred
// kilobytes are worth passing.
func ImageSize(head []byte) (format string, w, h int, err error) {
	format, cfg, err := decodeConfig(head)
	if err != nil {
		return "", 0, 0, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return "", 0, 0, ErrDimensions
	}
	w, h = cfg.Width, cfg.Height
	if format == "jpeg" && swapsAxes(jpegOrientation(head)) {
		w, h = h, w
	}
	return format, w, h, nil
}

// ThumbBoxes is the size of document thumbnails: Telegram's "m", within
// 320×320, with the stripped "i" beside it.
var ThumbBoxes = []Box{{"m", 320}}

// ThumbLimits make document thumbnails: photo limits on the source's size,
// any aspect ratio (a document may be a long strip).
var ThumbLimits = Limits{MaxSideSum: DefaultLimits.MaxSideSum, Boxes: ThumbBoxes}

// decodeConfig sniffs the format of src and reads its header's dimensions.
func decodeConfig(src []byte) (format string, cfg image.Config, err error) {
	format = sniff(src)
	r := bytes.NewReader(src)
	switch format {
	case "jpeg":
		cfg, err = jpeg.DecodeConfig(r)
	case "png":
		cfg, err = png.DecodeConfig(r)
	case "gif":
		cfg, err = gif.DecodeConfig(r)
	case "webp":
		cfg, err = webp.DecodeConfig(r)
	default:
		return "", cfg, ErrFormat
	}
	if err != nil {
		return "", cfg, fmt.Errorf("%w: %v", ErrTruncated, err)
	}
	return format, cfg, nil
}
