package library

import (
	"bytes"
	"context"
	"image/png"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/probe"
	"github.com/filedc/filedc/internal/store"
)

// stickerArt is what a sticker shows before its file arrives (M9): the
// outline of its opaque part, and for a static sticker an "m" thumbnail
// that keeps its transparency.
type stickerArt struct {
	outline []byte
	thumb   []byte // PNG; nil for video stickers
	w, h    int
}

// staticSticker makes the art of an image document that is a sticker: one
// the client declared with documentAttributeSticker, or a WebP with
// transparency (sent as a file, it becomes a sticker, as on Telegram,
// unless force_file). Other images get nil.
func (s *Service) staticSticker(ctx context.Context, attrs *docAttrs, format string, content []byte, forceFile bool) *stickerArt {
	if !attrs.sticker && (format != "webp" || forceFile) {
		return nil
	}
	if !takeSlot(ctx, s.photoSlots) {
		return nil
	}
	defer func() { <-s.photoSlots }()
	_, img, err := media.ThumbLimits.Image(content)
	if err != nil || (!attrs.sticker && !media.HasAlpha(img)) {
		return nil
	}
	thumb, w, hgt, err := media.StickerThumb(img)
	if err != nil {
		return nil
	}
	if !attrs.sticker {
		attrs.add(&tg.DocumentAttributeSticker{Alt: "", Stickerset: &tg.InputStickerSetEmpty{}})
	}
	return &stickerArt{outline: media.Outline(img), thumb: thumb, w: w, h: hgt}
}

// videoSticker makes the outline of a video sticker from its first frame
// (WebM VP9 with alpha, decoded by libvpx so the alpha survives). The
// caller holds a probe slot.
func (s *Service) videoSticker(ctx context.Context, src probe.Source, info probe.Info) *stickerArt {
	frame, err := s.cfg.Probe.AlphaFrame(ctx, src, info, 512)
	if err != nil {
		s.cfg.Logger.Debug("video sticker frame", "err", err)
		return nil
	}
	img, err := png.Decode(bytes.NewReader(frame))
	if err != nil {
		return nil
	}
	return &stickerArt{outline: media.Outline(img)}
}

// stickerThumbs stores a sticker's art in d.
func (s *Service) stickerThumbs(ctx context.Context, owner int64, d *store.Document, art *stickerArt) error {
	d.Outline = art.outline
	if art.thumb == nil {
		return nil
	}
	f, err := s.cfg.Engine.StoreBytes(ctx, owner, "m.png", art.thumb)
	if err != nil {
		return err
	}
	d.Thumbs = append(d.Thumbs, store.PhotoSize{Type: "m", W: art.w, H: art.h, File: f.ID, FileAccess: f.AccessHash, Size: f.Size})
	return nil
}
