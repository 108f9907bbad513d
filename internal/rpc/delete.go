package rpc

import (
	"context"
	"errors"
	"slices"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

// Deleting (M6): a message goes from its owner's history, and with revoke
// from its peer's too, as in Telegram's private chats. A document or photo
// that no message names any more, and that is no one's profile photo, is
// deleted with its thumbnails; a document's content goes when no other
// document shares it. Identical content is stored once, so a file stays
// while anything refers to it.

const maxDeleteIDs = 100 // ids per messages.deleteMessages, as Telegram

func (h *Handler) deleteMessages(ctx context.Context, c *call, req *tg.MessagesDeleteMessagesRequest) (bin.Encoder, error) {
	if len(req.ID) > maxDeleteIDs {
		return nil, badRequest("LIMIT_INVALID")
	}
	h.mediaMu.Lock()
	defer h.mediaMu.Unlock()
	deleted, pts, err := h.cfg.Messages.DeleteMessages(ctx, c.user, req.ID)
	if err != nil {
		return nil, err
	}
	objects := messageObjects(deleted)
	if req.Revoke {
		// The peer's copies of private messages go too.
		twins := map[int64][]int{}
		for _, m := range deleted {
			if m.Twin != 0 && m.Peer != c.user {
				twins[m.Peer] = append(twins[m.Peer], m.Twin)
			}
		}
		for peer, ids := range twins {
			gone, _, err := h.cfg.Messages.DeleteMessages(ctx, peer, ids)
			if err != nil {
				return nil, err
			}
			objects = append(objects, messageObjects(gone)...)
		}
	}
	if err := h.collect(ctx, objects); err != nil {
		return nil, err
	}
	return &tg.MessagesAffectedMessages{Pts: pts, PtsCount: len(deleted)}, nil
}

func messageObjects(msgs []store.Message) []int64 {
	var out []int64
	for _, m := range msgs {
		out = append(out, m.Objects...)
	}
	return out
}

// collect deletes the documents and photos among objects that nothing
// refers to any more. The caller holds mediaMu, so no send can pick one of
// them up meanwhile.
func (h *Handler) collect(ctx context.Context, objects []int64) error {
	slices.Sort(objects)
	for _, id := range slices.Compact(objects) {
		used, err := h.cfg.Messages.Referenced(ctx, id)
		if err != nil {
			return err
		}
		if used {
			continue
		}
		d, err := h.cfg.Documents.Document(ctx, id)
		if err == nil {
			if err := h.deleteDocument(ctx, d); err != nil {
				return err
			}
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		p, err := h.cfg.Photos.Photo(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := h.deletePhotoIfUnused(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// deleteDocument removes a document, its thumbnails, and its content
// unless another document shares it.
func (h *Handler) deleteDocument(ctx context.Context, d store.Document) error {
	h.docMu.Lock()
	defer h.docMu.Unlock()
	if err := h.cfg.Documents.DeleteDocument(ctx, d.ID); err != nil {
		return err
	}
	h.dropDocumentFiles(ctx, d)
	peers, err := h.cfg.Documents.DocumentsByContent(ctx, d.SHA256, d.Size)
	if err != nil {
		return err
	}
	for _, p := range peers {
		if p.File == d.File {
			return nil
		}
	}
	h.dropFile(ctx, files.FileRef{ID: d.File, AccessHash: d.FileAccess})
	return nil
}

// deletePhotoIfUnused removes a photo and its sizes when no message names it
// and it is not its owner's profile photo.
func (h *Handler) deletePhotoIfUnused(ctx context.Context, p store.Photo) error {
	used, err := h.cfg.Messages.Referenced(ctx, p.ID)
	if err != nil || used {
		return err
	}
	acc, err := h.cfg.Accounts.Account(ctx, p.Owner)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if slices.Contains(acc.Photos, p.ID) {
		return nil
	}
	if err := h.cfg.Photos.DeletePhoto(ctx, p.ID); err != nil {
		return err
	}
	sizes := p.Sizes
	if p.Video != nil {
		sizes = append(sizes, *p.Video)
	}
	for _, s := range sizes {
		h.dropFile(ctx, files.FileRef{ID: s.File, AccessHash: s.FileAccess})
	}
	return nil
}

// dropProfilePhotos deletes photos that left a profile, unless a message
// still shows them.
func (h *Handler) dropProfilePhotos(ctx context.Context, ids []int64) error {
	h.mediaMu.Lock()
	defer h.mediaMu.Unlock()
	for _, id := range ids {
		p, err := h.cfg.Photos.Photo(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := h.deletePhotoIfUnused(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// updatesState answers updates.getState with the account's pts.
func (h *Handler) updatesState(ctx context.Context, c *call) (bin.Encoder, error) {
	pts := 1
	if h.cfg.Messages != nil {
		n, err := h.cfg.Messages.Pts(ctx, c.user)
		if err != nil {
			return nil, err
		}
		pts = max(n, 1)
	}
	return &tg.UpdatesState{Pts: pts, Date: int(h.cfg.Now().Unix())}, nil
}
