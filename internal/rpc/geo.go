package rpc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/maps"
)

// Locations and their map previews (M10). A geoPoint's access_hash is an
// HMAC of its coordinates under a key derived from the DC's secret, so any
// process of the cluster checks it and nothing is stored per point.

var errGeoInvalid = badRequest("GEO_POINT_INVALID")

func (h *Handler) geoHash(lat, long float64) int64 {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], math.Float64bits(lat))
	binary.BigEndian.PutUint64(b[8:], math.Float64bits(long))
	m := hmac.New(sha256.New, h.geoKey)
	m.Write(b[:])
	return int64(binary.BigEndian.Uint64(m.Sum(nil)) &^ (1 << 63))
}

// geoMedia is messageMediaGeo of inputMediaGeoPoint.
func (h *Handler) geoMedia(m *tg.InputMediaGeoPoint) (tg.MessageMediaClass, error) {
	p, ok := m.GeoPoint.(*tg.InputGeoPoint)
	if !ok || math.IsNaN(p.Lat) || math.IsNaN(p.Long) || p.Lat < -90 || p.Lat > 90 || p.Long < -180 || p.Long > 180 || p.AccuracyRadius < 0 {
		return nil, errGeoInvalid
	}
	g := &tg.GeoPoint{Lat: p.Lat, Long: p.Long, AccessHash: h.geoHash(p.Lat, p.Long), AccuracyRadius: p.AccuracyRadius}
	g.SetFlags()
	return &tg.MessageMediaGeo{Geo: g}, nil
}

// maxWebWindow is the most bytes one upload.getWebFile answers.
const maxWebWindow = 1 << 20

// getWebFile answers upload.getWebFile. Map previews are rendered here; a
// plain inputWebFileLocation names a URL of a web document this server
// never issues, so its access hash cannot be valid.
func (h *Handler) getWebFile(ctx context.Context, _ *call, req *tg.UploadGetWebFileRequest) (bin.Encoder, error) {
	if req.Offset < 0 || req.Limit <= 0 || req.Limit > maxWebWindow {
		return nil, badRequest("LIMIT_INVALID")
	}
	loc, ok := req.Location.(*tg.InputWebFileGeoPointLocation)
	if !ok {
		return nil, errLocation
	}
	p, ok := loc.GeoPoint.(*tg.InputGeoPoint)
	if !ok || loc.AccessHash != h.geoHash(p.Lat, p.Long) {
		return nil, errLocation
	}
	if !h.cfg.Maps.Enabled() {
		return nil, badRequest("WEBFILE_NOT_AVAILABLE")
	}
	img, err := h.cfg.Maps.Render(ctx, maps.View{Lat: p.Lat, Long: p.Long, W: loc.W, H: loc.H, Zoom: loc.Zoom, Scale: loc.Scale})
	switch {
	case errors.Is(err, maps.ErrBadView):
		return nil, errLocation
	case errors.Is(err, maps.ErrTile):
		h.cfg.Logger.Warn("maps", "err", err)
		return nil, badRequest("WEBFILE_NOT_AVAILABLE")
	case err != nil:
		return nil, err
	}
	from := min(req.Offset, len(img))
	return &tg.UploadWebFile{Size: len(img), MimeType: "image/png", FileType: &tg.StorageFilePng{},
		Mtime: int(h.cfg.Now().Unix()), Bytes: img[from:min(from+req.Limit, len(img))]}, nil
}
