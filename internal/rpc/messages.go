package rpc

import (
	"context"
	"errors"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/randid"
	"github.com/filedc/filedc/internal/store"
)

const maxAlbum = 10 // messages.sendMultiMedia (M3)

// finalize consumes an InputFile of the caller (rules F1–F6).
func (h *Handler) finalize(ctx context.Context, c *call, in tg.InputFileClass) (store.FileRecord, error) {
	switch f := in.(type) {
	case *tg.InputFile:
		return h.cfg.Engine.Finalize(ctx, files.Finalize{
			Key: store.UploadKey{Owner: c.user, FileID: f.ID}, Parts: f.Parts, MD5: f.MD5Checksum, Name: f.Name})
	case *tg.InputFileBig:
		return h.cfg.Engine.Finalize(ctx, files.Finalize{
			Key: store.UploadKey{Owner: c.user, FileID: f.ID, Big: true}, Parts: f.Parts, Name: f.Name})
	}
	return store.FileRecord{}, badRequest("FILE_ID_INVALID")
}

// uploadMedia finalizes an upload into media without sending a message (M1).
func (h *Handler) uploadMedia(ctx context.Context, c *call, req *tg.MessagesUploadMediaRequest) (bin.Encoder, error) {
	if _, err := h.peerAccount(ctx, c, req.Peer); err != nil {
		return nil, err
	}
	if err := h.prefetch(ctx, c, req.Media); err != nil {
		return nil, err
	}
	h.mediaMu.RLock()
	defer h.mediaMu.RUnlock()
	return h.messageMedia(ctx, c, req.Media)
}

// messageMedia turns the media of a call into a MessageMedia: uploads are
// finalized, existing documents are sent again without re-upload (M4).
func (h *Handler) messageMedia(ctx context.Context, c *call, in tg.InputMediaClass) (tg.MessageMediaClass, error) {
	switch m := in.(type) {
	case *tg.InputMediaUploadedDocument:
		doc, err := h.uploadedDocument(ctx, c, m)
		if err != nil {
			return nil, err
		}
		return &tg.MessageMediaDocument{Document: doc}, nil
	case *tg.InputMediaUploadedPhoto:
		photo, err := h.uploadedPhoto(ctx, c, m.File)
		if err != nil {
			return nil, err
		}
		return &tg.MessageMediaPhoto{Photo: photo}, nil
	case *tg.InputMediaGeoPoint:
		return h.geoMedia(m)
	case *tg.InputMediaPhotoExternal:
		photo, err := h.externalPhoto(ctx, c, m.URL)
		if err != nil {
			return nil, err
		}
		return &tg.MessageMediaPhoto{Photo: photo}, nil
	case *tg.InputMediaDocumentExternal:
		doc, err := h.externalDocument(ctx, c, m.URL)
		if err != nil {
			return nil, err
		}
		return &tg.MessageMediaDocument{Document: doc}, nil
	case *tg.InputMediaPhoto:
		in, ok := m.ID.(*tg.InputPhoto)
		if !ok {
			return nil, badRequest("MEDIA_INVALID")
		}
		p, err := h.storedPhoto(ctx, in.ID, in.AccessHash, in.FileReference, badRequest("MEDIA_INVALID"))
		if err != nil {
			return nil, err
		}
		return &tg.MessageMediaPhoto{Photo: h.tgPhoto(p, objectOrigin)}, nil
	case *tg.InputMediaDocument:
		in, ok := m.ID.(*tg.InputDocument)
		if !ok {
			return nil, badRequest("MEDIA_INVALID")
		}
		d, err := h.storedDocument(ctx, in.ID, in.AccessHash, in.FileReference, badRequest("MEDIA_INVALID"))
		if err != nil {
			return nil, err
		}
		doc, err := h.tgDocument(d, objectOrigin)
		if err != nil {
			return nil, err
		}
		return &tg.MessageMediaDocument{Document: doc}, nil
	}
	return nil, badRequest("MEDIA_INVALID")
}

// peerAccount resolves a private-chat peer: Saved Messages or another
// account of this server.
func (h *Handler) peerAccount(ctx context.Context, c *call, p tg.InputPeerClass) (store.Account, error) {
	invalid := badRequest("PEER_ID_INVALID")
	var id, hash int64
	switch p := p.(type) {
	case *tg.InputPeerSelf:
		return h.cfg.Accounts.Account(ctx, c.user)
	case *tg.InputPeerUser:
		id, hash = p.UserID, p.AccessHash
	default:
		return store.Account{}, invalid
	}
	acc, err := h.cfg.Accounts.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && id != c.user && acc.AccessKey != hash) {
		return store.Account{}, invalid
	}
	return acc, err
}

type outgoing struct {
	text     string
	media    tg.MessageMediaClass
	randomID int64
}

// deliver stores messages from the caller to peer: the caller's copy, and
// the peer's own copy unless the peer is the caller (Saved Messages).
func (h *Handler) deliver(ctx context.Context, c *call, peer int64, items []outgoing, grouped int64) ([]*store.Message, error) {
	var all, mine []*store.Message
	now := h.cfg.Now()
	for _, it := range items {
		var media []byte
		if it.media != nil {
			var b bin.Buffer
			if err := it.media.Encode(&b); err != nil {
				return nil, err
			}
			media = b.Buf
		}
		objects, err := mediaObjects(media)
		if err != nil {
			return nil, err
		}
		own := &store.Message{Owner: c.user, Peer: peer, From: c.user, Out: true, Date: now,
			Text: it.text, RandomID: it.randomID, GroupedID: grouped, Media: media, Objects: objects}
		mine = append(mine, own)
		all = append(all, own)
		if peer != c.user {
			all = append(all, &store.Message{Owner: peer, Peer: c.user, From: c.user, Date: now,
				Text: it.text, GroupedID: grouped, Media: media, Objects: objects, TwinOf: own})
		}
	}
	err := h.cfg.Messages.AddMessages(ctx, all)
	if errors.Is(err, store.ErrNotFound) {
		// Another process deleted the media in the meantime (M6).
		return nil, badRequest("MEDIA_INVALID")
	}
	return mine, err
}

// tgMessage describes a stored message, with fresh file references whose
// origin is the message (D7).
func (h *Handler) tgMessage(m store.Message) (*tg.Message, error) {
	msg := &tg.Message{
		ID:        m.ID,
		Out:       m.Out,
		PeerID:    &tg.PeerUser{UserID: m.Peer},
		FromID:    &tg.PeerUser{UserID: m.From},
		Date:      int(m.Date.Unix()),
		Message:   m.Text,
		GroupedID: m.GroupedID,
	}
	if len(m.Media) > 0 {
		media, err := tg.DecodeMessageMedia(&bin.Buffer{Buf: m.Media})
		if err != nil {
			return nil, err
		}
		switch md := media.(type) {
		case *tg.MessageMediaDocument:
			if doc, ok := md.Document.(*tg.Document); ok {
				doc.FileReference = h.refs.issue(files.FileRef{ID: doc.ID, AccessHash: doc.AccessHash}, messageOrigin(m.Owner, m.ID), h.cfg.Now())
			}
		case *tg.MessageMediaPhoto:
			if p, ok := md.Photo.(*tg.Photo); ok {
				p.FileReference = h.refs.issue(files.FileRef{ID: p.ID, AccessHash: p.AccessHash}, messageOrigin(m.Owner, m.ID), h.cfg.Now())
			}
		}
		msg.Media = media
	}
	msg.SetFlags()
	return msg, nil
}

// users describes the caller and the other accounts named.
func (h *Handler) users(ctx context.Context, c *call, ids ...int64) ([]tg.UserClass, error) {
	seen := map[int64]bool{}
	var out []tg.UserClass
	for _, id := range append([]int64{c.user}, ids...) {
		if seen[id] {
			continue
		}
		seen[id] = true
		acc, err := h.cfg.Accounts.Account(ctx, id)
		if err != nil {
			return nil, err
		}
		u, err := h.userOf(ctx, acc, id == c.user)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// sent answers sendMedia and sendMultiMedia: updateMessageID for each
// random_id, then updateNewMessage, as clients require (M2).
func (h *Handler) sent(ctx context.Context, c *call, peer int64, msgs []*store.Message) (bin.Encoder, error) {
	u := &tg.Updates{Date: int(h.cfg.Now().Unix())}
	for _, m := range msgs {
		u.Updates = append(u.Updates, &tg.UpdateMessageID{ID: m.ID, RandomID: m.RandomID})
	}
	for _, m := range msgs {
		msg, err := h.tgMessage(*m)
		if err != nil {
			return nil, err
		}
		u.Updates = append(u.Updates, &tg.UpdateNewMessage{Message: msg, Pts: m.Pts, PtsCount: 1})
	}
	users, err := h.users(ctx, c, peer)
	if err != nil {
		return nil, err
	}
	u.Users = users
	return u, nil
}

func (h *Handler) sendMedia(ctx context.Context, c *call, req *tg.MessagesSendMediaRequest) (bin.Encoder, error) {
	if err := h.prefetch(ctx, c, req.Media); err != nil {
		return nil, err
	}
	// Media found here stays until the message that names it is stored.
	h.mediaMu.RLock()
	defer h.mediaMu.RUnlock()
	peer, err := h.peerAccount(ctx, c, req.Peer)
	if err != nil {
		return nil, err
	}
	media, err := h.messageMedia(ctx, c, req.Media)
	if err != nil {
		return nil, err
	}
	msgs, err := h.deliver(ctx, c, peer.ID, []outgoing{{text: req.Message, media: media, randomID: req.RandomID}}, 0)
	if err != nil {
		return nil, err
	}
	return h.sent(ctx, c, peer.ID, msgs)
}

func (h *Handler) sendMultiMedia(ctx context.Context, c *call, req *tg.MessagesSendMultiMediaRequest) (bin.Encoder, error) {
	if len(req.MultiMedia) > maxAlbum {
		return nil, badRequest("MULTI_MEDIA_TOO_LONG")
	}
	if len(req.MultiMedia) == 0 {
		return nil, badRequest("MEDIA_EMPTY")
	}
	media := make([]tg.InputMediaClass, len(req.MultiMedia))
	for i, sm := range req.MultiMedia {
		media[i] = sm.Media
	}
	if err := h.prefetch(ctx, c, media...); err != nil {
		return nil, err
	}
	h.mediaMu.RLock()
	defer h.mediaMu.RUnlock()
	peer, err := h.peerAccount(ctx, c, req.Peer)
	if err != nil {
		return nil, err
	}
	items := make([]outgoing, len(req.MultiMedia))
	for i, sm := range req.MultiMedia {
		media, err := h.messageMedia(ctx, c, sm.Media)
		if err != nil {
			return nil, err
		}
		items[i] = outgoing{text: sm.Message, media: media, randomID: sm.RandomID}
	}
	msgs, err := h.deliver(ctx, c, peer.ID, items, randid.Int63())
	if err != nil {
		return nil, err
	}
	return h.sent(ctx, c, peer.ID, msgs)
}

// messagesOf answers getMessages and getHistory.
func (h *Handler) messagesOf(ctx context.Context, c *call, stored []store.Message) (bin.Encoder, error) {
	out := &tg.MessagesMessages{}
	var peers []int64
	for _, m := range stored {
		msg, err := h.tgMessage(m)
		if err != nil {
			return nil, err
		}
		out.Messages = append(out.Messages, msg)
		peers = append(peers, m.Peer, m.From)
	}
	users, err := h.users(ctx, c, peers...)
	if err != nil {
		return nil, err
	}
	out.Users = users
	return out, nil
}

func (h *Handler) getMessages(ctx context.Context, c *call, req *tg.MessagesGetMessagesRequest) (bin.Encoder, error) {
	var ids []int
	for _, in := range req.ID {
		if m, ok := in.(*tg.InputMessageID); ok {
			ids = append(ids, m.ID)
		}
	}
	stored, err := h.cfg.Messages.Messages(ctx, c.user, ids)
	if err != nil {
		return nil, err
	}
	return h.messagesOf(ctx, c, stored)
}

func (h *Handler) getHistory(ctx context.Context, c *call, req *tg.MessagesGetHistoryRequest) (bin.Encoder, error) {
	peer, err := h.peerAccount(ctx, c, req.Peer)
	if err != nil {
		return nil, err
	}
	limit := req.Limit
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	stored, err := h.cfg.Messages.History(ctx, c.user, peer.ID, req.OffsetID, limit)
	if err != nil {
		return nil, err
	}
	return h.messagesOf(ctx, c, stored)
}

// getDocumentByHash finds a stored document by content (M6).
func (h *Handler) getDocumentByHash(ctx context.Context, c *call, req *tg.MessagesGetDocumentByHashRequest) (bin.Encoder, error) {
	if len(req.SHA256) != 32 {
		return nil, badRequest("SHA256_HASH_INVALID")
	}
	d, err := h.cfg.Documents.DocumentByHash(ctx, [32]byte(req.SHA256), req.Size, req.MimeType)
	if errors.Is(err, store.ErrNotFound) {
		return &tg.DocumentEmpty{ID: 0}, nil
	}
	if err != nil {
		return nil, err
	}
	return h.tgDocument(d, objectOrigin)
}
