package interop

import (
	"bytes"
	"context"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"testing"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/maps"
	"github.com/filedc/filedc/internal/maps/mapstest"
)

// Rule M10 over the wire: a bot sends a location (inputMediaGeoPoint) and
// gets a geoPoint with an access hash; gotd's web downloader fetches its
// map preview with upload.getWebFile(inputWebFileGeoPointLocation) in
// windows, and the picture is the tile server's world around the point,
// with the marker where the point is. A forged access hash, a view out of
// bounds and a server without --map-tiles are refused.
func TestM10_MapPreviewOverTheWire(t *testing.T) {
	tiles, _ := mapstest.TileServer(t)
	srv := startServer(t, "--web-allow", "127.0.0.1/32", "--map-tiles", tiles.URL+"/{z}/{x}/{y}.png")
	const lat, long = 59.9386, 30.3141
	var geo *tg.GeoPoint
	run := func(srv *dc, f func(ctx context.Context, client *telegram.Client) error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		client := srv.client(transports[1].proto)
		if err := client.Run(ctx, func(ctx context.Context) error {
			if _, err := client.Auth().Bot(ctx, botToken); err != nil {
				return err
			}
			return f(ctx, client)
		}); err != nil {
			t.Fatal(err)
		}
	}
	run(srv, func(ctx context.Context, client *telegram.Client) error {
		api := client.API()
		res, err := api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{},
			Media: &tg.InputMediaGeoPoint{GeoPoint: &tg.InputGeoPoint{Lat: lat, Long: long}}, RandomID: 5})
		if err != nil {
			return fmt.Errorf("sendMedia(geo point): %w", err)
		}
		g, ok := sentMessages(t, res, 5)[0].Media.(*tg.MessageMediaGeo)
		if !ok {
			return fmt.Errorf("sent %T", sentMessages(t, res, 5)[0].Media)
		}
		geo = g.Geo.(*tg.GeoPoint)
		if geo.Lat != lat || geo.Long != long || geo.AccessHash == 0 {
			return fmt.Errorf("geo point %+v", geo)
		}
		loc := &tg.InputWebFileGeoPointLocation{GeoPoint: &tg.InputGeoPoint{Lat: lat, Long: long}, AccessHash: geo.AccessHash,
			W: 300, H: 200, Zoom: 16, Scale: 2}
		var buf bytes.Buffer
		// In 64 KiB windows: several upload.getWebFile calls.
		if _, err := downloader.NewDownloader().WithPartSize(64<<10).Web(api, loc).Stream(ctx, &buf); err != nil {
			return fmt.Errorf("download of the map preview: %w", err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			return fmt.Errorf("the preview is not a PNG: %w", err)
		}
		if b := img.Bounds(); b.Dx() != 600 || b.Dy() != 400 {
			return fmt.Errorf("preview of %v, want 600×400", b)
		}
		if got := color.NRGBAModel.Convert(img.At(300, 200)); got != maps.MarkerColor {
			return fmt.Errorf("the middle is %v, not the marker", got)
		}
		// Far from the marker, each pixel is the world pixel it shows.
		cx, cy := maps.WorldPixel(lat, long, 16)
		for _, p := range [][2]int{{0, 0}, {599, 399}, {10, 380}, {450, 30}, {300, 100}} {
			gx := int64(math.Floor(cx + (float64(p[0])+0.5-300)/2))
			gy := int64(math.Floor(cy + (float64(p[1])+0.5-200)/2))
			if got, want := color.NRGBAModel.Convert(img.At(p[0], p[1])), mapstest.TileColor(gx, gy); got != want {
				return fmt.Errorf("pixel %v is %v, want world pixel (%d, %d) %v", p, got, gx, gy, want)
			}
		}
		for _, bad := range []*tg.InputWebFileGeoPointLocation{
			{GeoPoint: loc.GeoPoint, AccessHash: geo.AccessHash + 1, W: 300, H: 200, Zoom: 16, Scale: 2},
			{GeoPoint: &tg.InputGeoPoint{Lat: lat + 1, Long: long}, AccessHash: geo.AccessHash, W: 300, H: 200, Zoom: 16, Scale: 2},
			{GeoPoint: loc.GeoPoint, AccessHash: geo.AccessHash, W: 2000, H: 200, Zoom: 16, Scale: 2},
			{GeoPoint: loc.GeoPoint, AccessHash: geo.AccessHash, W: 300, H: 200, Zoom: 5, Scale: 2},
		} {
			_, err := api.UploadGetWebFile(ctx, &tg.UploadGetWebFileRequest{Location: bad, Limit: 4096})
			if rpcErr(err) != "400 LOCATION_INVALID" {
				return fmt.Errorf("%+v: %s", bad, rpcErr(err))
			}
		}
		_, err = api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{},
			Media: &tg.InputMediaGeoPoint{GeoPoint: &tg.InputGeoPoint{Lat: 91, Long: 0}}, RandomID: 6})
		if rpcErr(err) != "400 GEO_POINT_INVALID" {
			return fmt.Errorf("a point off Earth: %s", rpcErr(err))
		}
		return nil
	})

	bare := startServer(t)
	run(bare, func(ctx context.Context, client *telegram.Client) error {
		res, err := client.API().MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{},
			Media: &tg.InputMediaGeoPoint{GeoPoint: &tg.InputGeoPoint{Lat: lat, Long: long}}, RandomID: 7})
		if err != nil {
			return err
		}
		g := sentMessages(t, res, 7)[0].Media.(*tg.MessageMediaGeo).Geo.(*tg.GeoPoint)
		_, err = client.API().UploadGetWebFile(ctx, &tg.UploadGetWebFileRequest{Location: &tg.InputWebFileGeoPointLocation{
			GeoPoint: &tg.InputGeoPoint{Lat: lat, Long: long}, AccessHash: g.AccessHash, W: 100, H: 100, Zoom: 15, Scale: 1}, Limit: 4096})
		if rpcErr(err) != "400 WEBFILE_NOT_AVAILABLE" {
			return fmt.Errorf("a map preview without --map-tiles: %s", rpcErr(err))
		}
		return nil
	})
}
