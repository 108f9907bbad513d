package media

import (
	"bytes"
	"errors"
	"image/png"
	"testing"
)

func TestM5_ImageSizeFromHeader(t *testing.T) {
	img := synthPhoto(300, 200)
	var p bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		t.Fatal(err)
	}
	jpg := encodeJPEG(t, img, 90)
	for name, tc := range map[string]struct {
		b      []byte
		format string
		w, h   int
	}{
		"png":                   {p.Bytes(), "png", 300, 200},
		"png header only":       {p.Bytes()[:64], "png", 300, 200},
		"jpeg":                  {jpg, "jpeg", 300, 200},
		"jpeg turned by EXIF 6": {exifJPEG(t, img, 6, false), "jpeg", 200, 300},
		"jpeg turned by EXIF 3": {exifJPEG(t, img, 3, true), "jpeg", 300, 200},
	} {
		format, w, h, err := ImageSize(tc.b)
		if err != nil || format != tc.format || w != tc.w || h != tc.h {
			t.Errorf("%s: %s %dx%d, %v; want %s %dx%d", name, format, w, h, err, tc.format, tc.w, tc.h)
		}
	}
	if _, _, _, err := ImageSize([]byte("%PDF-1.4")); !errors.Is(err, ErrFormat) {
		t.Errorf("a PDF: %v", err)
	}
	if _, _, _, err := ImageSize(p.Bytes()[:20]); !errors.Is(err, ErrTruncated) {
		t.Errorf("a cut PNG header: %v", err)
	}
}
