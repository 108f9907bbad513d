package library

import (
	"context"
	"slices"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/store"
)

// Profile photos (M7): each account keeps a list of photos, the current one
// first, with the sizes a (160), b (320) and c (640). Chats take their
// photos the same way (M8). A photo that leaves a profile is collected
// unless a message still shows it.

var profileLimits = media.Limits{MaxSideSum: media.DefaultLimits.MaxSideSum, MaxRatio: media.DefaultLimits.MaxRatio, Boxes: media.ProfileBoxes}

var errPhotoIDInvalid = badRequest("PHOTO_ID_INVALID")

// ProfileUpload is a new profile or chat photo: an image, or a video with
// the time of its still frame and perhaps an image for the still.
type ProfileUpload struct {
	File       *Upload
	Video      *Upload
	VideoStart float64 // seconds
}

// ProfilePhoto makes and stores a profile photo of an upload: a video's
// when there is one (M7), else an image's.
func (s *Service) ProfilePhoto(ctx context.Context, owner int64, u ProfileUpload) (store.Photo, error) {
	switch {
	case u.Video != nil:
		return s.profileVideo(ctx, owner, *u.Video, u.VideoStart, u.File)
	case u.File != nil:
		return s.makePhoto(ctx, owner, *u.File, profileLimits)
	}
	return store.Photo{}, badRequest("PHOTO_FILE_MISSING")
}

// AddProfilePhoto makes p the current profile photo of account user.
func (s *Service) AddProfilePhoto(ctx context.Context, user int64, p store.Photo) (store.Account, error) {
	acc, err := s.cfg.Accounts.Account(ctx, user)
	if err != nil {
		return store.Account{}, err
	}
	acc.Photos = append([]int64{p.ID}, acc.Photos...)
	if err := s.cfg.Accounts.PutAccount(ctx, acc); err != nil {
		return store.Account{}, err
	}
	return acc, nil
}

// ChooseProfilePhoto makes one of the account's profile photos its current
// one, or with in nil removes the current one (the previous one becomes
// current). It returns the account and its current photo, nil if none.
func (s *Service) ChooseProfilePhoto(ctx context.Context, user int64, in *Named) (store.Account, *store.Photo, error) {
	acc, err := s.cfg.Accounts.Account(ctx, user)
	if err != nil {
		return store.Account{}, nil, err
	}
	var chosen *store.Photo
	var removed []int64
	if in == nil {
		if len(acc.Photos) > 0 {
			removed = acc.Photos[:1:1]
			acc.Photos = acc.Photos[1:]
		}
	} else {
		i := slices.Index(acc.Photos, in.ID)
		if i < 0 {
			return store.Account{}, nil, errPhotoIDInvalid
		}
		p, err := s.Photo(ctx, *in, errPhotoIDInvalid)
		if err != nil {
			return store.Account{}, nil, err
		}
		acc.Photos = append([]int64{in.ID}, slices.Delete(acc.Photos, i, i+1)...)
		chosen = &p
	}
	if err := s.cfg.Accounts.PutAccount(ctx, acc); err != nil {
		return store.Account{}, nil, err
	}
	if err := s.dropProfilePhotos(ctx, removed); err != nil {
		return store.Account{}, nil, err
	}
	if chosen == nil && len(acc.Photos) > 0 {
		p, err := s.cfg.Photos.Photo(ctx, acc.Photos[0])
		if err != nil {
			return store.Account{}, nil, err
		}
		chosen = &p
	}
	return acc, chosen, nil
}

// DeleteProfilePhotos takes photos off the account's profile and returns
// the ids of those it took off: the ones among its photos whose access
// hash is right.
func (s *Service) DeleteProfilePhotos(ctx context.Context, user int64, photos []files.FileRef) ([]int64, error) {
	acc, err := s.cfg.Accounts.Account(ctx, user)
	if err != nil {
		return nil, err
	}
	var deleted []int64
	for _, p := range photos {
		if i := slices.Index(acc.Photos, p.ID); i >= 0 {
			if stored, err := s.cfg.Photos.Photo(ctx, p.ID); err == nil && stored.AccessHash == p.AccessHash {
				acc.Photos = slices.Delete(acc.Photos, i, i+1)
				deleted = append(deleted, p.ID)
			}
		}
	}
	if len(deleted) > 0 {
		if err := s.cfg.Accounts.PutAccount(ctx, acc); err != nil {
			return nil, err
		}
		if err := s.dropProfilePhotos(ctx, deleted); err != nil {
			return nil, err
		}
	}
	return deleted, nil
}
