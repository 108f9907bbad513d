package rpc

import (
	"context"
	"errors"
	"slices"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/store"
)

// Profile photos (M7): each account keeps a list of photos, the current one
// first; users carry userProfilePhoto with its stripped thumbnail, and
// inputPeerPhotoFileLocation downloads the small (a, 160) or big (c, 640) size.

var profileLimits = media.Limits{MaxSideSum: media.DefaultLimits.MaxSideSum, MaxRatio: media.DefaultLimits.MaxRatio, Boxes: media.ProfileBoxes}

func (h *Handler) uploadProfilePhoto(ctx context.Context, c *call, req *tg.PhotosUploadProfilePhotoRequest) (bin.Encoder, error) {
	var p store.Photo
	var err error
	if video, ok := req.GetVideo(); ok {
		p, err = h.profileVideo(ctx, c, video, req.VideoStartTs, req.File)
	} else if file, ok := req.GetFile(); ok {
		p, err = h.makePhoto(ctx, c, file, profileLimits)
	} else {
		return nil, badRequest("PHOTO_FILE_MISSING")
	}
	if err != nil {
		return nil, err
	}
	acc, err := h.cfg.Accounts.Account(ctx, c.user)
	if err != nil {
		return nil, err
	}
	acc.Photos = append([]int64{p.ID}, acc.Photos...)
	if err := h.cfg.Accounts.PutAccount(ctx, acc); err != nil {
		return nil, err
	}
	return h.photosPhoto(ctx, c, acc, &p)
}

func (h *Handler) photosPhoto(ctx context.Context, c *call, acc store.Account, p *store.Photo) (bin.Encoder, error) {
	u, err := h.userOf(ctx, acc, true)
	if err != nil {
		return nil, err
	}
	out := &tg.PhotosPhoto{Photo: &tg.PhotoEmpty{}, Users: []tg.UserClass{u}}
	if p != nil {
		out.Photo = h.tgPhoto(*p, profileOrigin(acc.ID))
	}
	return out, nil
}

func (h *Handler) updateProfilePhoto(ctx context.Context, c *call, req *tg.PhotosUpdateProfilePhotoRequest) (bin.Encoder, error) {
	acc, err := h.cfg.Accounts.Account(ctx, c.user)
	if err != nil {
		return nil, err
	}
	var chosen *store.Photo
	var removed []int64
	switch in := req.ID.(type) {
	case *tg.InputPhotoEmpty:
		// Remove the current photo; the previous one becomes current.
		if len(acc.Photos) > 0 {
			removed = acc.Photos[:1:1]
			acc.Photos = acc.Photos[1:]
		}
	case *tg.InputPhoto:
		i := slices.Index(acc.Photos, in.ID)
		if i < 0 {
			return nil, badRequest("PHOTO_ID_INVALID")
		}
		p, err := h.storedPhoto(ctx, in.ID, in.AccessHash, in.FileReference, badRequest("PHOTO_ID_INVALID"))
		if err != nil {
			return nil, err
		}
		acc.Photos = append([]int64{in.ID}, slices.Delete(acc.Photos, i, i+1)...)
		chosen = &p
	default:
		return nil, badRequest("PHOTO_ID_INVALID")
	}
	if err := h.cfg.Accounts.PutAccount(ctx, acc); err != nil {
		return nil, err
	}
	if err := h.dropProfilePhotos(ctx, removed); err != nil {
		return nil, err
	}
	if chosen == nil && len(acc.Photos) > 0 {
		p, err := h.cfg.Photos.Photo(ctx, acc.Photos[0])
		if err != nil {
			return nil, err
		}
		chosen = &p
	}
	return h.photosPhoto(ctx, c, acc, chosen)
}

// inputUser resolves an InputUser to an account.
func (h *Handler) inputUser(ctx context.Context, c *call, in tg.InputUserClass) (store.Account, error) {
	switch u := in.(type) {
	case *tg.InputUserSelf:
		return h.cfg.Accounts.Account(ctx, c.user)
	case *tg.InputUser:
		return h.peerAccount(ctx, c, &tg.InputPeerUser{UserID: u.UserID, AccessHash: u.AccessHash})
	}
	return store.Account{}, badRequest("USER_ID_INVALID")
}

func (h *Handler) getUserPhotos(ctx context.Context, c *call, req *tg.PhotosGetUserPhotosRequest) (bin.Encoder, error) {
	acc, err := h.inputUser(ctx, c, req.UserID)
	if err != nil {
		return nil, err
	}
	limit := req.Limit
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	ids := acc.Photos
	if req.Offset > 0 {
		ids = ids[min(req.Offset, len(ids)):]
	}
	out := &tg.PhotosPhotos{}
	for _, id := range ids[:min(limit, len(ids))] {
		p, err := h.cfg.Photos.Photo(ctx, id)
		if err != nil {
			return nil, err
		}
		out.Photos = append(out.Photos, h.tgPhoto(p, profileOrigin(acc.ID)))
	}
	u, err := h.userOf(ctx, acc, acc.ID == c.user)
	if err != nil {
		return nil, err
	}
	out.Users = []tg.UserClass{u}
	return out, nil
}

func (h *Handler) deletePhotos(ctx context.Context, c *call, req *tg.PhotosDeletePhotosRequest) (bin.Encoder, error) {
	acc, err := h.cfg.Accounts.Account(ctx, c.user)
	if err != nil {
		return nil, err
	}
	out := &tg.LongVector{}
	for _, in := range req.ID {
		p, ok := in.(*tg.InputPhoto)
		if !ok {
			continue
		}
		if i := slices.Index(acc.Photos, p.ID); i >= 0 {
			if stored, err := h.cfg.Photos.Photo(ctx, p.ID); err == nil && stored.AccessHash == p.AccessHash {
				acc.Photos = slices.Delete(acc.Photos, i, i+1)
				out.Elems = append(out.Elems, p.ID)
			}
		}
	}
	if len(out.Elems) > 0 {
		if err := h.cfg.Accounts.PutAccount(ctx, acc); err != nil {
			return nil, err
		}
		if err := h.dropProfilePhotos(ctx, out.Elems); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// peerPhotoFile resolves inputPeerPhotoFileLocation: one of a user's
// profile photos or a chat's photo, big (c) or small (a).
func (h *Handler) peerPhotoFile(ctx context.Context, c *call, l *tg.InputPeerPhotoFileLocation) (files.FileRef, error) {
	t, err := h.resolvePeer(ctx, c, l.Peer)
	if err != nil {
		return files.FileRef{}, err
	}
	var p store.Photo
	if t.chat != nil {
		if p, err = h.chatPhotoFile(ctx, *t.chat, l.PhotoID, l.Big); err != nil {
			return files.FileRef{}, err
		}
	} else {
		if !slices.Contains(t.user.Photos, l.PhotoID) {
			return files.FileRef{}, errLocation
		}
		p, err = h.cfg.Photos.Photo(ctx, l.PhotoID)
		if errors.Is(err, store.ErrNotFound) {
			return files.FileRef{}, errLocation
		}
		if err != nil {
			return files.FileRef{}, err
		}
	}
	if len(p.Sizes) == 0 {
		return files.FileRef{}, errLocation
	}
	want := "a"
	if l.Big {
		want = "c"
	}
	pick := p.Sizes[0]
	if l.Big {
		pick = p.Sizes[len(p.Sizes)-1] // a small photo may have no c size
	}
	for _, s := range p.Sizes {
		if s.Type == want {
			pick = s
		}
	}
	return files.FileRef{ID: pick.File, AccessHash: pick.FileAccess}, nil
}
