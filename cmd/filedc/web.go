package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/filedc/filedc/internal/maps"
	"github.com/filedc/filedc/internal/webfetch"
)

// webOptions are the flags of the safe fetcher: what media sent by URL may
// reach (M10).
type webOptions struct {
	allow, deny []string
	maxSize     string
	timeout     time.Duration
	mapTiles    string
	mapCache    string
}

func webFlags(f *pflag.FlagSet, o *webOptions) {
	f.StringArrayVar(&o.allow, "web-allow", envList("FILEDC_WEB_ALLOW"),
		"let media sent by URL reach this CIDR, address, host name or *.domain even when it is private or loopback (repeatable; env FILEDC_WEB_ALLOW, comma-separated)")
	f.StringArrayVar(&o.deny, "web-deny", envList("FILEDC_WEB_DENY"),
		"never let media sent by URL reach this CIDR, address, host name or *.domain (repeatable, wins over --web-allow; env FILEDC_WEB_DENY)")
	f.StringVar(&o.maxSize, "web-max-size", "20MiB", "the largest file fetched for media sent by URL")
	f.DurationVar(&o.timeout, "web-timeout", 20*time.Second, "the longest fetch of media sent by URL, redirects included")
	f.StringVar(&o.mapTiles, "map-tiles", os.Getenv("FILEDC_MAP_TILES"),
		"XYZ raster tile server for map previews (upload.getWebFile of a geo point), such as https://tile.example.org/{z}/{x}/{y}.png, fetched under --web-allow/--web-deny; empty: no previews (env FILEDC_MAP_TILES)")
	f.StringVar(&o.mapCache, "map-cache", "64MiB", "most bytes of decoded map tiles kept in memory (rendered previews get half as much)")
}

// renderer returns the map preview renderer over the fetcher.
func (o webOptions) renderer(f *webfetch.Fetcher) (*maps.Renderer, error) {
	cache, err := parseSize(o.mapCache)
	if err != nil {
		return nil, fmt.Errorf("--map-cache: %w", err)
	}
	return maps.New(maps.Config{Tiles: o.mapTiles, Fetcher: f, TileCacheBytes: cache, ImageCacheBytes: cache / 2})
}

func (o webOptions) fetcher() (*webfetch.Fetcher, error) {
	size, err := parseSize(o.maxSize)
	if err != nil {
		return nil, fmt.Errorf("--web-max-size: %w", err)
	}
	f, err := webfetch.New(webfetch.Config{Allow: o.allow, Deny: o.deny, MaxBytes: size, Timeout: o.timeout, UserAgent: "filedc (media sent by URL)"})
	if err != nil {
		return nil, fmt.Errorf("--web-allow/--web-deny: %w", err)
	}
	return f, nil
}
