package maps

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

// FuzzDecodeTile: whatever a tile server answers, decodeTile returns a
// 256×256 tile or an error, and never panics.
func FuzzDecodeTile(f *testing.F) {
	var b bytes.Buffer
	png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, TileSize, TileSize)))
	f.Add(b.Bytes())
	b.Reset()
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 10, 10)))
	f.Add(b.Bytes())
	f.Add([]byte("\xff\xd8\xff\xe0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tile, err := decodeTile(data)
		if err == nil && (tile.Bounds().Dx() != TileSize || tile.Bounds().Dy() != TileSize) {
			t.Fatalf("a tile of %v", tile.Bounds())
		}
	})
}
