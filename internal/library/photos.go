package library

import (
	"context"
	"errors"
	"slices"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/randid"
	"github.com/filedc/filedc/internal/store"
)

// Photos (M5): an image becomes the sizes its limits name, each stored as
// a file of its own, and the stripped thumbnail inline. Only the sizes are
// kept, never the image they were made of.

// UploadPhoto finalizes an uploaded photo and makes its sizes (M5).
func (s *Service) UploadPhoto(ctx context.Context, owner int64, u Upload) (store.Photo, error) {
	return s.makePhoto(ctx, owner, u, media.DefaultLimits)
}

// makePhoto finalizes an uploaded image, makes the sizes limits name and
// stores the photo.
func (s *Service) makePhoto(ctx context.Context, owner int64, u Upload, limits media.Limits) (store.Photo, error) {
	p, err := s.newPhoto(ctx, owner, u, limits)
	if err != nil {
		return store.Photo{}, err
	}
	if err := s.cfg.Photos.PutPhoto(ctx, p); err != nil {
		return store.Photo{}, err
	}
	return p, nil
}

// newPhoto makes a photo of an uploaded image without storing its record.
func (s *Service) newPhoto(ctx context.Context, owner int64, u Upload, limits media.Limits) (store.Photo, error) {
	rec, err := s.finalize(ctx, u)
	if err != nil {
		return store.Photo{}, err
	}
	// Only the sizes made of the upload are kept.
	defer s.dropFile(ctx, files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash})
	data, err := s.cfg.Engine.ReadAll(ctx, files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}, maxPhotoBytes)
	if errors.Is(err, files.ErrTooLarge) {
		return store.Photo{}, errPhotoFile
	}
	if err != nil {
		return store.Photo{}, err
	}
	return s.photoOf(ctx, owner, data, limits)
}

// photoOf makes the sizes of an image and stores each as a file of its own.
func (s *Service) photoOf(ctx context.Context, owner int64, data []byte, limits media.Limits) (store.Photo, error) {
	made, err := s.photoSizes(ctx, limits, data)
	if err != nil {
		return store.Photo{}, err
	}
	p := store.Photo{ID: randid.InDC(s.cfg.DC), AccessHash: randid.Int63(), Owner: owner, Date: s.cfg.Now(), Stripped: made.Stripped}
	if p.Sizes, err = s.storeSizes(ctx, owner, made.Sizes); err != nil {
		return store.Photo{}, err
	}
	return p, nil
}

// Photo finds a photo a client names, checking its access hash and file
// reference; missing is the answer when there is no such photo.
func (s *Service) Photo(ctx context.Context, in Named, missing error) (store.Photo, error) {
	p, err := s.cfg.Photos.Photo(ctx, in.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.AccessHash != in.AccessHash) {
		return store.Photo{}, missing
	}
	if err != nil {
		return store.Photo{}, err
	}
	return p, s.CheckRef(ctx, files.FileRef{ID: p.ID, AccessHash: p.AccessHash}, in.FileReference)
}

// PhotoFile resolves a photo's download location to the file of one size,
// the profile video "u" among them (M7).
func (s *Service) PhotoFile(ctx context.Context, in Named, size string) (files.FileRef, error) {
	p, err := s.Photo(ctx, in, files.ErrFileIDInvalid)
	if err != nil {
		return files.FileRef{}, err
	}
	sizes := p.Sizes
	if p.Video != nil {
		sizes = append(sizes, *p.Video) // a profile video (M7)
	}
	for _, sz := range sizes {
		if sz.Type == size {
			return files.FileRef{ID: sz.File, AccessHash: sz.FileAccess}, nil
		}
	}
	return files.FileRef{}, errLocation
}

// PeerPhotoFile resolves a peer's photo location (inputPeerPhotoFileLocation)
// to its big (c) or small (a) size. shown are the photos of the peer the
// caller may see: a user's profile photos, a chat's current photo.
func (s *Service) PeerPhotoFile(ctx context.Context, shown []int64, id int64, big bool) (files.FileRef, error) {
	if !slices.Contains(shown, id) {
		return files.FileRef{}, errLocation
	}
	p, err := s.cfg.Photos.Photo(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return files.FileRef{}, errLocation
	}
	if err != nil {
		return files.FileRef{}, err
	}
	if len(p.Sizes) == 0 {
		return files.FileRef{}, errLocation
	}
	want := "a"
	if big {
		want = "c"
	}
	pick := p.Sizes[0]
	if big {
		pick = p.Sizes[len(p.Sizes)-1] // a small photo may have no c size
	}
	for _, sz := range p.Sizes {
		if sz.Type == want {
			pick = sz
		}
	}
	return files.FileRef{ID: pick.File, AccessHash: pick.FileAccess}, nil
}
