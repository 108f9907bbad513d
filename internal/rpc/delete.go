package rpc

import (
	"context"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/store"
)

// Deleting (M6): a message goes from its owner's history, and with revoke
// from its peer's too, as in Telegram's private chats. The documents and
// photos the deleted messages named are then collected by internal/library
// when nothing refers to them any more.

const maxDeleteIDs = 100 // ids per messages.deleteMessages, as Telegram

func (h *Handler) deleteMessages(ctx context.Context, c *call, req *tg.MessagesDeleteMessagesRequest) (bin.Encoder, error) {
	if len(req.ID) > maxDeleteIDs {
		return nil, badRequest("LIMIT_INVALID")
	}
	var deleted []store.Message
	var pts int
	err := h.media.Collect(ctx, func() ([]int64, error) {
		var err error
		deleted, pts, err = h.cfg.Messages.DeleteMessages(ctx, c.user, req.ID)
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
		return objects, nil
	})
	if err != nil {
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
