package library

import (
	"context"
	"errors"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/store"
)

// Sizes and thumbnails: an image decoded, scaled to Telegram's boxes and
// each size stored as a file of its own, the stripped "i" inline. Photos
// get every box they fill (M5), documents an "m" thumbnail within 320×320.

// maxPhotoBytes is Telegram's limit on an uploaded photo.
const maxPhotoBytes = 10 << 20

const maxThumbBytes = maxPhotoBytes

var (
	errPhotoFile       = badRequest("PHOTO_SAVE_FILE_INVALID")
	errPhotoDimensions = badRequest("PHOTO_INVALID_DIMENSIONS")
	errImageProcess    = badRequest("IMAGE_PROCESS_FAILED")
)

// photoSizes decodes and scales an image. Decoding may take a few hundred
// MB for a hostile 25 MP JPEG: a few at a time.
func (s *Service) photoSizes(ctx context.Context, limits media.Limits, img []byte) (media.Photo, error) {
	if !takeSlot(ctx, s.photoSlots) {
		return media.Photo{}, ctx.Err()
	}
	defer func() { <-s.photoSlots }()
	made, err := limits.PhotoSizes(img)
	switch {
	case errors.Is(err, media.ErrDimensions):
		return media.Photo{}, errPhotoDimensions
	case err != nil:
		return media.Photo{}, errImageProcess
	}
	return made, nil
}

// storeSizes stores each size as a file of owner's; on an error, it
// returns the sizes stored before it.
func (s *Service) storeSizes(ctx context.Context, owner int64, sizes []media.Size) ([]store.PhotoSize, error) {
	var out []store.PhotoSize
	for _, sz := range sizes {
		f, err := s.cfg.Engine.StoreBytes(ctx, owner, sz.Type+".jpg", sz.Bytes)
		if err != nil {
			return out, err
		}
		out = append(out, store.PhotoSize{Type: sz.Type, W: sz.W, H: sz.H, File: f.ID, FileAccess: f.AccessHash, Size: f.Size})
	}
	return out, nil
}

// documentThumb makes the thumbnail sizes of d from an image: "m" within
// 320×320 as a stored file, and the stripped "i".
func (s *Service) documentThumb(ctx context.Context, owner int64, d *store.Document, img []byte) error {
	made, err := s.photoSizes(ctx, media.ThumbLimits, img)
	if err != nil {
		return err
	}
	d.Stripped = made.Stripped
	thumbs, err := s.storeSizes(ctx, owner, made.Sizes)
	d.Thumbs = append(d.Thumbs, thumbs...)
	return err
}

// clientThumb reads the thumbnail a client uploaded with a document. Its
// upload is consumed: only the sizes made of it are kept.
func (s *Service) clientThumb(ctx context.Context, u Upload) ([]byte, error) {
	rec, err := s.finalize(ctx, u)
	if err != nil {
		return nil, err
	}
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	defer s.cfg.Engine.DeleteFile(context.WithoutCancel(ctx), ref)
	b, err := s.cfg.Engine.ReadAll(ctx, ref, maxThumbBytes)
	if errors.Is(err, files.ErrTooLarge) {
		return nil, errPhotoFile
	}
	return b, err
}
