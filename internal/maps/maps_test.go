package maps

import (
	"bytes"
	"context"
	"errors"
	"image/color"
	"image/png"
	"math"
	"testing"

	"github.com/filedc/filedc/internal/maps/mapstest"
	"github.com/filedc/filedc/internal/webfetch"
)

func renderer(t *testing.T, tiles string, cfg Config) *Renderer {
	t.Helper()
	f, err := webfetch.New(webfetch.Config{Allow: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Tiles, cfg.Fetcher = tiles, f
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Rule M10: the preview is the w·scale × h·scale picture of the world
// around the point at the zoom, each tile pixel scale times larger, with
// the marker in the middle: checked pixel by pixel against the Web
// Mercator position computed here.
func TestM10_MapPreviewPixelByPixel(t *testing.T) {
	s, _ := mapstest.TileServer(t)
	r := renderer(t, s.URL+"/{z}/{x}/{y}.png", Config{})
	for _, v := range []View{
		{Lat: 55.7558, Long: 37.6173, W: 200, H: 100, Zoom: 15, Scale: 1},
		{Lat: -33.8688, Long: 151.2093, W: 64, H: 96, Zoom: 13, Scale: 2},
		{Lat: 0.0001, Long: -179.9999, W: 100, H: 40, Zoom: 16, Scale: 3}, // across the antimeridian
	} {
		b, err := r.Render(context.Background(), v)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		W, H := v.W*v.Scale, v.H*v.Scale
		if img.Bounds().Dx() != W || img.Bounds().Dy() != H {
			t.Fatalf("%+v: %v", v, img.Bounds())
		}
		world := math.Exp2(float64(v.Zoom)) * TileSize
		cx := (v.Long + 180) / 360 * world
		lat := v.Lat * math.Pi / 180
		cy := (1 - math.Asinh(math.Tan(lat))/math.Pi) / 2 * world
		outer := float64(MarkerRadius+MarkerRing) * float64(v.Scale)
		bad := 0
		for Y := 0; Y < H; Y++ {
			for X := 0; X < W; X++ {
				px, py := float64(X)+0.5-float64(W)/2, float64(Y)+0.5-float64(H)/2
				got := color.NRGBAModel.Convert(img.At(X, Y)).(color.NRGBA)
				if math.Hypot(px, py) <= float64(MarkerRadius)*float64(v.Scale) {
					if got != MarkerColor {
						t.Fatalf("%+v: (%d, %d) inside the marker is %v", v, X, Y, got)
					}
					continue
				}
				if math.Hypot(px, py) <= outer+1 {
					continue // the ring and its edge
				}
				gx := int64(math.Floor(cx + px/float64(v.Scale)))
				gy := int64(math.Floor(cy + py/float64(v.Scale)))
				gx = ((gx % int64(world)) + int64(world)) % int64(world)
				if want := mapstest.TileColor(gx, gy); got != want {
					bad++
					if bad < 5 {
						t.Errorf("%+v: (%d, %d) is %v, want world pixel (%d, %d) %v", v, X, Y, got, gx, gy, want)
					}
				}
			}
		}
		if bad > 0 {
			t.Fatalf("%+v: %d pixels differ", v, bad)
		}
	}
}

// Rule M10: tiles are fetched once, kept within the cache's budget;
// pictures are cached for the windows a client downloads them in.
func TestM10_MapTilesCachedWithinBudget(t *testing.T) {
	s, hits := mapstest.TileServer(t)
	r := renderer(t, s.URL+"/{z}/{x}/{y}.png", Config{TileCacheBytes: 4 * TileSize * TileSize * 4})
	v := View{Lat: 48.8566, Long: 2.3522, W: 256, H: 256, Zoom: 14, Scale: 1}
	if _, err := r.Render(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	first := hits.Load()
	if first < 1 || first > 4 {
		t.Fatalf("%d tiles for a 256×256 view", first)
	}
	if _, err := r.Render(context.Background(), v); err != nil || hits.Load() != first {
		t.Fatalf("the same view again fetched %d more tiles (%v)", hits.Load()-first, err)
	}
	for i := range 20 {
		v2 := v
		v2.Long += float64(i) * 0.05
		if _, err := r.Render(context.Background(), v2); err != nil {
			t.Fatal(err)
		}
		if used := r.tiles.Stats().Bytes; used > 4*TileSize*TileSize*4 {
			t.Fatalf("tile cache at %d bytes over its budget", used)
		}
	}
}

// Rule M10: without a tile server, with a view out of its limits, or with
// a tile server the fetcher may not reach, Render says so.
func TestM10_MapPreviewErrors(t *testing.T) {
	off, _ := New(Config{})
	if _, err := off.Render(context.Background(), View{Lat: 1, Long: 1, W: 100, H: 100, Zoom: 15, Scale: 1}); !errors.Is(err, ErrNoTiles) {
		t.Fatalf("no tiles: %v", err)
	}
	s, _ := mapstest.TileServer(t)
	r := renderer(t, s.URL+"/{z}/{x}/{y}.png", Config{})
	for _, v := range []View{
		{W: 15, H: 100, Zoom: 15, Scale: 1}, {W: 100, H: 1025, Zoom: 15, Scale: 1}, {W: 100, H: 100, Zoom: 12, Scale: 1},
		{W: 100, H: 100, Zoom: 21, Scale: 1}, {W: 100, H: 100, Zoom: 15, Scale: 4}, {W: 100, H: 100, Zoom: 15, Scale: 0},
		{Lat: 89, W: 100, H: 100, Zoom: 15, Scale: 1}, {Long: 181, W: 100, H: 100, Zoom: 15, Scale: 1},
		{Lat: math.NaN(), W: 100, H: 100, Zoom: 15, Scale: 1},
	} {
		if _, err := r.Render(context.Background(), v); !errors.Is(err, ErrBadView) {
			t.Errorf("%+v: %v", v, err)
		}
	}
	bad := renderer(t, s.URL+"/nothing/{z}/{x}/{y}.png", Config{})
	if _, err := bad.Render(context.Background(), View{Lat: 1, Long: 1, W: 100, H: 100, Zoom: 15, Scale: 1}); !errors.Is(err, ErrTile) {
		t.Fatalf("missing tiles: %v", err)
	}
	for _, tmpl := range []string{"http://x/{z}/{x}.png", "ftp://x/{z}/{x}/{y}"} {
		if _, err := New(Config{Tiles: tmpl}); err == nil {
			t.Errorf("template %q passed", tmpl)
		}
	}
}
