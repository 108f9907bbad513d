package media

import (
	"bytes"
	"image/jpeg"
	"testing"
)

// bench12MP is a 4000x3000 photo as a camera would upload it (JPEG, quality
// 90), generated in memory.
func bench12MP(b *testing.B) []byte {
	return encodeJPEG(b, synthPhoto(4000, 3000), 90)
}

func reportMS(b *testing.B) {
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
}

// BenchmarkPhotoSizes12MP: bytes of a 12-megapixel JPEG in, all five sizes
// and the stripped thumbnail out (decode, scale, encode).
func BenchmarkPhotoSizes12MP(b *testing.B) {
	src := bench12MP(b)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := PhotoSizes(src); err != nil {
			b.Fatal(err)
		}
	}
	reportMS(b)
}

// BenchmarkPhotoSizes12MPStages splits the same work: decoding the source,
// scaling every size (the cascade), encoding every size, the stripped
// thumbnail.
func BenchmarkPhotoSizes12MPStages(b *testing.B) {
	src := bench12MP(b)
	dims := sizeDims(Boxes, 4000, 3000)
	img, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil {
		b.Fatal(err)
	}
	m := toYCC(img, img.Bounds())
	scaled := make([]*ycc, len(dims))
	cur := m
	for i := len(dims) - 1; i >= 0; i-- {
		cur = cur.scale(dims[i].X, dims[i].Y)
		scaled[i] = cur
	}
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			jpeg.Decode(bytes.NewReader(src))
		}
		reportMS(b)
	})
	b.Run("scale", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cur := m
			for i := len(dims) - 1; i >= 0; i-- {
				cur = cur.scale(dims[i].X, dims[i].Y)
			}
		}
		reportMS(b)
	})
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			for _, s := range scaled {
				jpeg.Encode(&bytes.Buffer{}, s.image(), &jpeg.Options{Quality: Quality})
			}
		}
		reportMS(b)
	})
	b.Run("stripped", func(b *testing.B) {
		for b.Loop() {
			if _, err := stripped(scaled[0]); err != nil {
				b.Fatal(err)
			}
		}
		reportMS(b)
	})
}

// BenchmarkEncodeSize: JPEG encoding of each size of a 12 MP photo alone.
func BenchmarkEncodeSize(b *testing.B) {
	src := bench12MP(b)
	img, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil {
		b.Fatal(err)
	}
	dims := sizeDims(Boxes, 4000, 3000)
	cur := toYCC(img, img.Bounds())
	scaled := make([]*ycc, len(dims))
	for i := len(dims) - 1; i >= 0; i-- {
		cur = cur.scale(dims[i].X, dims[i].Y)
		scaled[i] = cur
	}
	for i, s := range scaled {
		b.Run(Boxes[i].Type, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				jpeg.Encode(&buf, s.image(), &jpeg.Options{Quality: Quality})
			}
			reportMS(b)
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
	}
}

// BenchmarkStripped: the stripped thumbnail of an 800x600 image.
func BenchmarkStripped(b *testing.B) {
	img := synthPhoto(800, 600)
	for b.Loop() {
		if _, err := Stripped(img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOutline512: the outline of a 512x512 sticker.
func BenchmarkOutline512(b *testing.B) {
	img := alphaShape(512, 512, func(x, y float64) bool {
		return disc(200, 200, 150)(x, y) || disc(350, 380, 110)(x, y)
	})
	var out []byte
	for b.Loop() {
		out = Outline(img)
	}
	b.ReportMetric(float64(len(out)), "bytes")
}
