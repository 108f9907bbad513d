package rpc

import (
	"context"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/library"
	"github.com/filedc/filedc/internal/store"
)

// Profile photos (M7): each account keeps a list of photos, the current one
// first; users carry userProfilePhoto with its stripped thumbnail, and
// inputPeerPhotoFileLocation downloads the small (a, 160) or big (c, 640)
// size. internal/library makes the photos and keeps the lists.

func (h *Handler) uploadProfilePhoto(ctx context.Context, c *call, req *tg.PhotosUploadProfilePhotoRequest) (bin.Encoder, error) {
	p, err := h.media.ProfilePhoto(ctx, c.user, profileUpload(c, req.File, req.Video, req.VideoStartTs))
	if err != nil {
		return nil, err
	}
	acc, err := h.media.AddProfilePhoto(ctx, c.user, p)
	if err != nil {
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
		out.Photo = h.tgPhoto(*p, library.ProfileOrigin(acc.ID))
	}
	return out, nil
}

func (h *Handler) updateProfilePhoto(ctx context.Context, c *call, req *tg.PhotosUpdateProfilePhotoRequest) (bin.Encoder, error) {
	var in *library.Named // nil: remove the current photo
	switch p := req.ID.(type) {
	case *tg.InputPhotoEmpty:
	case *tg.InputPhoto:
		named := inputPhoto(p)
		in = &named
	default:
		return nil, badRequest("PHOTO_ID_INVALID")
	}
	acc, chosen, err := h.media.ChooseProfilePhoto(ctx, c.user, in)
	if err != nil {
		return nil, err
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
		out.Photos = append(out.Photos, h.tgPhoto(p, library.ProfileOrigin(acc.ID)))
	}
	u, err := h.userOf(ctx, acc, acc.ID == c.user)
	if err != nil {
		return nil, err
	}
	out.Users = []tg.UserClass{u}
	return out, nil
}

func (h *Handler) deletePhotos(ctx context.Context, c *call, req *tg.PhotosDeletePhotosRequest) (bin.Encoder, error) {
	var photos []files.FileRef
	for _, in := range req.ID {
		if p, ok := in.(*tg.InputPhoto); ok {
			photos = append(photos, files.FileRef{ID: p.ID, AccessHash: p.AccessHash})
		}
	}
	deleted, err := h.media.DeleteProfilePhotos(ctx, c.user, photos)
	if err != nil {
		return nil, err
	}
	return &tg.LongVector{Elems: deleted}, nil
}

// peerPhotoFile resolves inputPeerPhotoFileLocation: one of a user's
// profile photos or, for members, a chat's current photo.
func (h *Handler) peerPhotoFile(ctx context.Context, c *call, l *tg.InputPeerPhotoFileLocation) (files.FileRef, error) {
	t, err := h.resolvePeer(ctx, c, l.Peer)
	if err != nil {
		return files.FileRef{}, err
	}
	var shown []int64
	switch {
	case t.chat == nil:
		shown = t.user.Photos
	case t.chat.Photo != 0:
		shown = []int64{t.chat.Photo}
	}
	return h.media.PeerPhotoFile(ctx, shown, l.PhotoID, l.Big)
}
