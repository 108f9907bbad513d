// Package mapstest is a tile server for tests of map previews: each pixel
// of its tiles tells which world pixel it is.
package mapstest

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

const tileSize = 256

// TileColor is what the server paints at world pixel (gx, gy): the low
// bits of both coordinates, so that a rendered pixel tells which world
// pixel it shows.
func TileColor(gx, gy int64) color.NRGBA {
	return color.NRGBA{R: uint8(gx), G: uint8(gy), B: uint8((gx>>8)&15<<4 | (gy>>8)&15), A: 255}
}

// TileServer serves generated tiles at /{z}/{x}/{y}.png until the test
// ends, and counts the tiles it served.
func TileServer(t testing.TB) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var z, x, y int64
		if _, err := fmt.Sscanf(r.URL.Path, "/%d/%d/%d.png", &z, &x, &y); err != nil || z < 0 || z > 30 {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		img := image.NewNRGBA(image.Rect(0, 0, tileSize, tileSize))
		for j := 0; j < tileSize; j++ {
			for i := 0; i < tileSize; i++ {
				img.SetNRGBA(i, j, TileColor(x*tileSize+int64(i), y*tileSize+int64(j)))
			}
		}
		png.Encode(w, img)
	}))
	t.Cleanup(s.Close)
	return s, &hits
}
