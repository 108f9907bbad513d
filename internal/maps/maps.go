// Package maps renders the map previews of upload.getWebFile with
// inputWebFileGeoPointLocation (rule M10): a w×h picture around a point at a
// zoom and scale, stitched from an operator's XYZ raster tile server, with
// the point marked. Tiles are fetched through the safe fetcher and kept,
// decoded, in a bounded cache; rendered pictures are cached too, since a
// client downloads one in several windows.
package maps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // tiles come as PNG or JPEG
	"image/png"
	"math"
	"strconv"
	"strings"

	"golang.org/x/sync/singleflight"

	"github.com/filedc/filedc/internal/lru"
	"github.com/filedc/filedc/internal/webfetch"
)

// TileSize is the side of an XYZ tile in pixels.
const TileSize = 256

// Limits of a preview, as Telegram documents them.
const (
	MinSide, MaxSide   = 16, 1024
	MinZoom, MaxZoom   = 13, 20
	MinScale, MaxScale = 1, 3
)

// Errors.
var (
	ErrNoTiles = errors.New("maps: no tile server configured (--map-tiles)")
	ErrBadView = errors.New("maps: w and h must be 16..1024, zoom 13..20, scale 1..3, and the point on Earth")
	ErrTile    = errors.New("maps: a tile could not be fetched or decoded")
)

// Config is what a renderer draws from.
type Config struct {
	// Tiles is the tile URL template with {z}, {x} and {y}, such as
	// "https://tile.example.org/{z}/{x}/{y}.png"; empty disables previews.
	Tiles   string
	Fetcher *webfetch.Fetcher
	// TileCacheBytes and ImageCacheBytes bound the caches (defaults 64 MiB
	// and 32 MiB).
	TileCacheBytes, ImageCacheBytes int64
}

// Renderer renders previews.
type Renderer struct {
	cfg    Config
	tiles  *lru.Cache[tileKey, *image.NRGBA]
	images *lru.Cache[View, []byte]
	fetch  singleflight.Group
	slots  chan struct{} // renders at once: each holds up to 36 MiB
}

// New returns a renderer; with no template, Render answers ErrNoTiles.
func New(cfg Config) (*Renderer, error) {
	if cfg.Tiles != "" {
		for _, k := range []string{"{z}", "{x}", "{y}"} {
			if !strings.Contains(cfg.Tiles, k) {
				return nil, fmt.Errorf("--map-tiles %q: the template needs {z}, {x} and {y}", cfg.Tiles)
			}
		}
		if !strings.HasPrefix(cfg.Tiles, "http://") && !strings.HasPrefix(cfg.Tiles, "https://") {
			return nil, fmt.Errorf("--map-tiles %q: want an http or https URL", cfg.Tiles)
		}
	}
	if cfg.TileCacheBytes <= 0 {
		cfg.TileCacheBytes = 64 << 20
	}
	if cfg.ImageCacheBytes <= 0 {
		cfg.ImageCacheBytes = 32 << 20
	}
	return &Renderer{cfg: cfg, tiles: lru.New[tileKey, *image.NRGBA](cfg.TileCacheBytes),
		images: lru.New[View, []byte](cfg.ImageCacheBytes), slots: make(chan struct{}, 2)}, nil
}

// Enabled reports whether a tile server is configured.
func (r *Renderer) Enabled() bool { return r != nil && r.cfg.Tiles != "" }

// View is one preview.
type View struct {
	Lat, Long         float64
	W, H, Zoom, Scale int
}

// Valid checks a view against the limits.
func (v View) Valid() bool {
	return v.W >= MinSide && v.W <= MaxSide && v.H >= MinSide && v.H <= MaxSide &&
		v.Zoom >= MinZoom && v.Zoom <= MaxZoom && v.Scale >= MinScale && v.Scale <= MaxScale &&
		v.Lat >= -85.0511 && v.Lat <= 85.0511 && v.Long >= -180 && v.Long <= 180
}

// WorldPixel is where a point lies at a zoom, in tile pixels from the top
// left of the world (Web Mercator, as XYZ tile servers cut it).
func WorldPixel(lat, long float64, zoom int) (x, y float64) {
	world := float64(TileSize) * math.Exp2(float64(zoom))
	x = (long + 180) / 360 * world
	phi := lat * math.Pi / 180
	y = (1 - math.Log(math.Tan(phi)+1/math.Cos(phi))/math.Pi) / 2 * world
	return x, y
}

// Marker is how the point is marked: a disc of MarkerRadius×scale pixels in
// MarkerColor ringed with MarkerRing×scale pixels of white.
var MarkerColor = color.NRGBA{R: 0xe5, G: 0x39, B: 0x35, A: 0xff}

const (
	MarkerRadius = 7
	MarkerRing   = 2
)

// Render returns the PNG of a view.
func (r *Renderer) Render(ctx context.Context, v View) ([]byte, error) {
	if !r.Enabled() {
		return nil, ErrNoTiles
	}
	if !v.Valid() {
		return nil, ErrBadView
	}
	if b, ok := r.images.Get(v); ok {
		return b, nil
	}
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-r.slots }()
	b, err := r.render(ctx, v)
	if err != nil {
		return nil, err
	}
	r.images.Put(v, b, int64(len(b)))
	return b, nil
}

func (r *Renderer) render(ctx context.Context, v View) ([]byte, error) {
	W, H, s := v.W*v.Scale, v.H*v.Scale, float64(v.Scale)
	cx, cy := WorldPixel(v.Lat, v.Long, v.Zoom)
	out := image.NewNRGBA(image.Rect(0, 0, W, H))
	draw.Draw(out, out.Bounds(), &image.Uniform{color.NRGBA{0xdd, 0xdd, 0xdd, 0xff}}, image.Point{}, draw.Src)
	n := int64(1) << v.Zoom
	// Output pixel (X, Y) shows world pixel floor(c + (X + 0.5 - W/2) / s).
	world := func(X int, c float64, side int) int64 {
		return int64(math.Floor(c + (float64(X)+0.5-float64(side)/2)/s))
	}
	var cur tileKey
	var tile *image.NRGBA
	for Y := 0; Y < H; Y++ {
		wy := world(Y, cy, H)
		if wy < 0 || wy >= n*TileSize {
			continue // beyond the poles: the background
		}
		for X := 0; X < W; X++ {
			wx := ((world(X, cx, W) % (n * TileSize)) + n*TileSize) % (n * TileSize) // wraps around
			k := tileKey{z: v.Zoom, x: wx / TileSize, y: wy / TileSize}
			if k != cur || tile == nil {
				var err error
				if tile, err = r.tile(ctx, k); err != nil {
					return nil, err
				}
				cur = k
			}
			out.SetNRGBA(X, Y, tile.NRGBAAt(int(wx%TileSize), int(wy%TileSize)))
		}
	}
	mark(out, float64(W)/2, float64(H)/2, s)
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// mark draws the marker centred on (x, y).
func mark(img *image.NRGBA, x, y, s float64) {
	inner, outer := MarkerRadius*s, (MarkerRadius+MarkerRing)*s
	for py := int(y - outer - 1); py <= int(y+outer+1); py++ {
		for px := int(x - outer - 1); px <= int(x+outer+1); px++ {
			d := math.Hypot(float64(px)+0.5-x, float64(py)+0.5-y)
			switch {
			case d <= inner:
				img.SetNRGBA(px, py, MarkerColor)
			case d <= outer:
				img.SetNRGBA(px, py, color.NRGBA{0xff, 0xff, 0xff, 0xff})
			}
		}
	}
}

// decodeTile decodes a tile server's answer: a PNG or JPEG of exactly
// TileSize×TileSize, checked from its header before anything is allocated
// for its pixels.
func decodeTile(b []byte) (*image.NRGBA, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != TileSize || cfg.Height != TileSize {
		return nil, fmt.Errorf("not a %d-pixel PNG or JPEG tile", TileSize)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if b := img.Bounds(); b.Dx() != TileSize || b.Dy() != TileSize {
		return nil, fmt.Errorf("a tile of %v", b)
	}
	t := image.NewNRGBA(image.Rect(0, 0, TileSize, TileSize))
	draw.Draw(t, t.Bounds(), img, img.Bounds().Min, draw.Src)
	return t, nil
}

type tileKey struct {
	z    int
	x, y int64
}

// tile returns a decoded tile, fetching it once however many renders ask.
func (r *Renderer) tile(ctx context.Context, k tileKey) (*image.NRGBA, error) {
	if t, ok := r.tiles.Get(k); ok {
		return t, nil
	}
	url := strings.NewReplacer("{z}", strconv.Itoa(k.z), "{x}", strconv.FormatInt(k.x, 10), "{y}", strconv.FormatInt(k.y, 10)).Replace(r.cfg.Tiles)
	v, err, _ := r.fetch.Do(url, func() (any, error) {
		res, err := r.cfg.Fetcher.Get(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrTile, url, err)
		}
		t, err := decodeTile(res.Body)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrTile, url, err)
		}
		r.tiles.Put(k, t, int64(len(t.Pix)))
		return t, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*image.NRGBA), nil
}
