package rpc

import (
	"context"
	"errors"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/randid"
	"github.com/filedc/filedc/internal/store"
)

// maxPhotoBytes is Telegram's limit on an uploaded photo.
const maxPhotoBytes = 10 << 20

// uploadedPhoto finalizes an uploaded photo and makes its sizes (M5).
func (h *Handler) uploadedPhoto(ctx context.Context, c *call, in tg.InputFileClass) (*tg.Photo, error) {
	p, err := h.makePhoto(ctx, c, in, media.DefaultLimits)
	if err != nil {
		return nil, err
	}
	return h.tgPhoto(p, objectOrigin), nil
}

// makePhoto finalizes an uploaded image and makes the sizes limits name:
// each size is stored as a file of its own, the stripped thumbnail inline.
func (h *Handler) makePhoto(ctx context.Context, c *call, in tg.InputFileClass, limits media.Limits) (store.Photo, error) {
	p, err := h.newPhoto(ctx, c, in, limits)
	if err != nil {
		return store.Photo{}, err
	}
	if err := h.cfg.Photos.PutPhoto(ctx, p); err != nil {
		return store.Photo{}, err
	}
	return p, nil
}

// newPhoto makes a photo of an uploaded image without storing its record.
func (h *Handler) newPhoto(ctx context.Context, c *call, in tg.InputFileClass, limits media.Limits) (store.Photo, error) {
	rec, err := h.finalize(ctx, c, in)
	if err != nil {
		return store.Photo{}, err
	}
	// Only the sizes made of the upload are kept.
	defer h.dropFile(ctx, files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash})
	data, err := h.cfg.Engine.ReadAll(ctx, files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}, maxPhotoBytes)
	if errors.Is(err, files.ErrTooLarge) {
		return store.Photo{}, badRequest("PHOTO_SAVE_FILE_INVALID")
	}
	if err != nil {
		return store.Photo{}, err
	}
	return h.photoOf(ctx, c, data, limits)
}

// photoOf makes the sizes of an image and stores each as a file of its own.
func (h *Handler) photoOf(ctx context.Context, c *call, data []byte, limits media.Limits) (store.Photo, error) {
	// Decoding a photo may take a few hundred MB for a hostile 25 MP JPEG:
	// a few at a time.
	made, err := h.photoSizes(ctx, limits, data)
	if err != nil {
		return store.Photo{}, err
	}
	p := store.Photo{ID: randid.Int63(), AccessHash: randid.Int63(), Owner: c.user, Date: h.cfg.Now(), Stripped: made.Stripped}
	for _, s := range made.Sizes {
		f, err := h.cfg.Engine.StoreBytes(ctx, c.user, s.Type+".jpg", s.Bytes)
		if err != nil {
			return store.Photo{}, err
		}
		p.Sizes = append(p.Sizes, store.PhotoSize{Type: s.Type, W: s.W, H: s.H, File: f.ID, FileAccess: f.AccessHash, Size: f.Size})
	}
	return p, nil
}

// storedPhoto finds a photo a client names, checking its access hash and
// file reference.
func (h *Handler) storedPhoto(ctx context.Context, id, accessHash int64, ref []byte, missing error) (store.Photo, error) {
	p, err := h.cfg.Photos.Photo(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.AccessHash != accessHash) {
		return store.Photo{}, missing
	}
	if err != nil {
		return store.Photo{}, err
	}
	return p, h.checkRef(ctx, files.FileRef{ID: p.ID, AccessHash: p.AccessHash}, ref)
}

// tgPhoto describes a photo with a fresh file reference from o: the stripped size
// first, then the sizes smallest first.
func (h *Handler) tgPhoto(p store.Photo, o origin) *tg.Photo {
	sizes := []tg.PhotoSizeClass{}
	if len(p.Stripped) > 0 {
		sizes = append(sizes, &tg.PhotoStrippedSize{Type: "i", Bytes: p.Stripped})
	}
	for _, s := range p.Sizes {
		sizes = append(sizes, &tg.PhotoSize{Type: s.Type, W: s.W, H: s.H, Size: int(s.Size)})
	}
	var videos []tg.VideoSizeClass
	if v := p.Video; v != nil {
		vs := &tg.VideoSize{Type: v.Type, W: v.W, H: v.H, Size: int(v.Size), VideoStartTs: p.VideoStart}
		vs.SetFlags()
		videos = append(videos, vs)
	}
	out := &tg.Photo{
		ID:            p.ID,
		AccessHash:    p.AccessHash,
		FileReference: h.refs.issue(files.FileRef{ID: p.ID, AccessHash: p.AccessHash}, o, h.cfg.Now()),
		Date:          int(p.Date.Unix()),
		Sizes:         sizes,
		VideoSizes:    videos,
		DCID:          h.cfg.DC,
	}
	out.SetFlags()
	return out
}

// photoSizeFile resolves inputPhotoFileLocation to the file of one size.
func (h *Handler) photoSizeFile(ctx context.Context, l *tg.InputPhotoFileLocation) (files.FileRef, error) {
	p, err := h.storedPhoto(ctx, l.ID, l.AccessHash, l.FileReference, files.ErrFileIDInvalid)
	if err != nil {
		return files.FileRef{}, err
	}
	sizes := p.Sizes
	if p.Video != nil {
		sizes = append(sizes, *p.Video) // a profile video (M7)
	}
	for _, s := range sizes {
		if s.Type == l.ThumbSize {
			return files.FileRef{ID: s.File, AccessHash: s.FileAccess}, nil
		}
	}
	return files.FileRef{}, errLocation
}
