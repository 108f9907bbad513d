package rpc

import (
	"context"
	"errors"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/chats"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/library"
	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/randid"
	"github.com/filedc/filedc/internal/store"
)

const maxAlbum = 10 // messages.sendMultiMedia (M3)

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

// target is where messages go: an account (a private chat, or Saved
// Messages) or a chat the caller is a member of.
type target struct {
	user store.Account // when chat is nil
	chat *store.Chat
}

// peer is the target's peer id in stored messages.
func (t target) peer() int64 {
	if t.chat != nil {
		return t.chat.Peer()
	}
	return t.user.ID
}

// channel is the target's channel, nil for an account or a basic group.
func (t target) channel() *store.Chat {
	if t.chat != nil && t.chat.Channel {
		return t.chat
	}
	return nil
}

// resolvePeer resolves any peer messages go to or come from.
func (h *Handler) resolvePeer(ctx context.Context, c *call, p tg.InputPeerClass) (target, error) {
	var ref chats.Ref
	switch p := p.(type) {
	case *tg.InputPeerChat:
		ref = chats.Ref{ID: p.ChatID}
	case *tg.InputPeerChannel:
		ref = chats.Ref{ID: p.ChannelID, Channel: true, AccessHash: p.AccessHash}
	default:
		acc, err := h.peerAccount(ctx, c, p)
		return target{user: acc}, err
	}
	chat, err := h.chats.Visible(ctx, ref, c.user)
	if err != nil {
		return target{}, err
	}
	return target{chat: &chat}, nil
}

// sendTarget resolves a peer to send to: in a broadcast channel only
// admins post.
func (h *Handler) sendTarget(ctx context.Context, c *call, p tg.InputPeerClass) (target, error) {
	t, err := h.resolvePeer(ctx, c, p)
	if err != nil {
		return t, err
	}
	if ch := t.channel(); ch != nil && !ch.Megagroup {
		if m, _ := ch.Member(c.user); !m.Admin {
			return t, &server.RPCError{Code: 403, Message: "CHAT_WRITE_FORBIDDEN"}
		}
	}
	return t, nil
}

type outgoing struct {
	text     string
	media    tg.MessageMediaClass
	action   tg.MessageActionClass // a service message
	randomID int64
}

// deliver stores messages from the caller to t and returns the caller's
// copies. A private message is stored twice, the caller's copy and the
// peer's (once for Saved Messages); a basic group's in every member's
// history; a channel's once, in the channel's.
func (h *Handler) deliver(ctx context.Context, c *call, t target, items []outgoing, grouped int64) ([]*store.Message, error) {
	var all, mine []*store.Message
	now := h.cfg.Now()
	peer := t.peer()
	for _, it := range items {
		var media, action []byte
		var objects []int64
		if it.media != nil {
			var b bin.Buffer
			if err := it.media.Encode(&b); err != nil {
				return nil, err
			}
			media = b.Buf
			var err error
			if objects, err = library.MediaObjects(media); err != nil {
				return nil, err
			}
		}
		if it.action != nil {
			var b bin.Buffer
			if err := it.action.Encode(&b); err != nil {
				return nil, err
			}
			action = b.Buf
			objects = actionObjects(it.action)
		}
		msg := func(owner int64) *store.Message {
			return &store.Message{Owner: owner, Peer: peer, From: c.user, Out: owner == c.user, Date: now, Text: it.text,
				GroupedID: grouped, Media: media, Action: action, Objects: objects}
		}
		switch {
		case t.channel() != nil:
			own := msg(peer)
			own.RandomID = it.randomID
			mine = append(mine, own)
			all = append(all, own)
		case t.chat != nil:
			for _, m := range t.chat.Members {
				dup := msg(m.User)
				if m.User == c.user {
					dup.RandomID = it.randomID
					mine = append(mine, dup)
				}
				all = append(all, dup)
			}
		default:
			own := msg(c.user)
			own.RandomID = it.randomID
			mine = append(mine, own)
			all = append(all, own)
			if peer != c.user {
				twin := msg(peer)
				twin.Peer, twin.TwinOf = c.user, own
				all = append(all, twin)
			}
		}
	}
	err := h.cfg.Messages.AddMessages(ctx, all)
	if errors.Is(err, store.ErrNotFound) {
		// Another process deleted the media in the meantime (M6).
		return nil, badRequest("MEDIA_INVALID")
	}
	return mine, err
}

// tgPeer describes a peer id of a stored message.
func tgPeer(id int64) tg.PeerClass {
	chat, channel, ok := store.PeerChat(id)
	switch {
	case !ok:
		return &tg.PeerUser{UserID: id}
	case channel:
		return &tg.PeerChannel{ChannelID: chat}
	}
	return &tg.PeerChat{ChatID: chat}
}

// tgMessage describes a stored message to viewer, with fresh file
// references whose origin is the message (D7).
func (h *Handler) tgMessage(m store.Message, viewer int64) (tg.MessageClass, error) {
	out := m.Out
	if _, channel, _ := store.PeerChat(m.Owner); channel {
		out = m.From == viewer // one copy for every member
	}
	ref := func(id, accessHash int64) []byte {
		return h.media.Ref(files.FileRef{ID: id, AccessHash: accessHash}, library.MessageOrigin(m.Owner, m.ID))
	}
	if len(m.Action) > 0 {
		action, err := tg.DecodeMessageAction(&bin.Buffer{Buf: m.Action})
		if err != nil {
			return nil, err
		}
		if a, ok := action.(*tg.MessageActionChatEditPhoto); ok {
			if p, ok := a.Photo.(*tg.Photo); ok {
				p.FileReference = ref(p.ID, p.AccessHash)
			}
		}
		msg := &tg.MessageService{ID: m.ID, Out: out, PeerID: tgPeer(m.Peer), FromID: &tg.PeerUser{UserID: m.From},
			Date: int(m.Date.Unix()), Action: action}
		msg.SetFlags()
		return msg, nil
	}
	msg := &tg.Message{
		ID:        m.ID,
		Out:       out,
		PeerID:    tgPeer(m.Peer),
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
				doc.FileReference = ref(doc.ID, doc.AccessHash)
			}
		case *tg.MessageMediaPhoto:
			if p, ok := md.Photo.(*tg.Photo); ok {
				p.FileReference = ref(p.ID, p.AccessHash)
			}
		}
		msg.Media = media
	}
	msg.SetFlags()
	return msg, nil
}

// users describes the caller and the other accounts named; ids of chats
// are skipped.
func (h *Handler) users(ctx context.Context, c *call, ids ...int64) ([]tg.UserClass, error) {
	seen := map[int64]bool{}
	var out []tg.UserClass
	for _, id := range append([]int64{c.user}, ids...) {
		if seen[id] || id <= 0 {
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

// updates answers a call that stored messages: updateMessageID for each
// random_id, then updateNewMessage (updateNewChannelMessage in a channel),
// as clients require (M2), after the updates in head.
func (h *Handler) updates(ctx context.Context, c *call, t target, msgs []*store.Message, head ...tg.UpdateClass) (*tg.Updates, error) {
	u := &tg.Updates{Date: int(h.cfg.Now().Unix()), Updates: head}
	for _, m := range msgs {
		if m.RandomID != 0 {
			u.Updates = append(u.Updates, &tg.UpdateMessageID{ID: m.ID, RandomID: m.RandomID})
		}
	}
	for _, m := range msgs {
		msg, err := h.tgMessage(*m, c.user)
		if err != nil {
			return nil, err
		}
		if t.channel() != nil {
			u.Updates = append(u.Updates, &tg.UpdateNewChannelMessage{Message: msg, Pts: m.Pts, PtsCount: 1})
		} else {
			u.Updates = append(u.Updates, &tg.UpdateNewMessage{Message: msg, Pts: m.Pts, PtsCount: 1})
		}
	}
	if u.Updates == nil {
		u.Updates = []tg.UpdateClass{}
	}
	ids := []int64{t.user.ID}
	if t.chat != nil {
		ids = memberIDs(*t.chat)
		chat, err := h.tgChat(ctx, *t.chat, c.user)
		if err != nil {
			return nil, err
		}
		u.Chats = []tg.ChatClass{chat}
	}
	users, err := h.users(ctx, c, ids...)
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
	release := h.media.Hold()
	defer release()
	t, err := h.sendTarget(ctx, c, req.Peer)
	if err != nil {
		return nil, err
	}
	media, err := h.messageMedia(ctx, c, req.Media)
	if err != nil {
		return nil, err
	}
	msgs, err := h.deliver(ctx, c, t, []outgoing{{text: req.Message, media: media, randomID: req.RandomID}}, 0)
	if err != nil {
		return nil, err
	}
	return h.updates(ctx, c, t, msgs)
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
	release := h.media.Hold()
	defer release()
	t, err := h.sendTarget(ctx, c, req.Peer)
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
	msgs, err := h.deliver(ctx, c, t, items, randid.Int63())
	if err != nil {
		return nil, err
	}
	return h.updates(ctx, c, t, msgs)
}

// messagesOf answers getMessages and getHistory; channel is the channel
// they come from, nil for the caller's own history.
func (h *Handler) messagesOf(ctx context.Context, c *call, stored []store.Message, channel *store.Chat) (bin.Encoder, error) {
	var msgs []tg.MessageClass
	var peers []int64
	for _, m := range stored {
		msg, err := h.tgMessage(m, c.user)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, msg)
		peers = append(peers, m.Peer, m.From)
	}
	if channel != nil {
		peers = append(peers, channel.Peer())
	}
	users, err := h.users(ctx, c, peers...)
	if err != nil {
		return nil, err
	}
	chatList, err := h.chatsOf(ctx, c, peers...)
	if err != nil {
		return nil, err
	}
	if channel != nil {
		pts, err := h.cfg.Messages.Pts(ctx, channel.Peer())
		if err != nil {
			return nil, err
		}
		return &tg.MessagesChannelMessages{Pts: pts, Count: len(msgs), Messages: msgs, Topics: []tg.ForumTopicClass{}, Chats: chatList, Users: users}, nil
	}
	return &tg.MessagesMessages{Messages: msgs, Chats: chatList, Users: users}, nil
}

func inputMessageIDs(in []tg.InputMessageClass) []int {
	var ids []int
	for _, in := range in {
		if m, ok := in.(*tg.InputMessageID); ok {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

func (h *Handler) getMessages(ctx context.Context, c *call, req *tg.MessagesGetMessagesRequest) (bin.Encoder, error) {
	stored, err := h.cfg.Messages.Messages(ctx, c.user, inputMessageIDs(req.ID))
	if err != nil {
		return nil, err
	}
	return h.messagesOf(ctx, c, stored, nil)
}

func (h *Handler) getHistory(ctx context.Context, c *call, req *tg.MessagesGetHistoryRequest) (bin.Encoder, error) {
	t, err := h.resolvePeer(ctx, c, req.Peer)
	if err != nil {
		return nil, err
	}
	limit := req.Limit
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	owner := c.user
	if t.channel() != nil {
		owner = t.peer()
	}
	stored, err := h.cfg.Messages.History(ctx, owner, t.peer(), req.OffsetID, limit)
	if err != nil {
		return nil, err
	}
	return h.messagesOf(ctx, c, stored, t.channel())
}
