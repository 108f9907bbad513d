package rpc

import (
	"context"
	"errors"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/chats"
	"github.com/filedc/filedc/internal/library"
	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/store"
)

// Chats and channels (M8): created by user accounts, with members, media
// and a photo. internal/chats decides who may do what; this file
// translates. Every change that Telegram shows as a service message
// (created, member added, photo changed) stores one, in every member's
// history for a basic group and in the channel's for a channel.

const maxChatIDs = 100 // ids per messages.getChats and channels.getChannels

var errUserIDInvalid = badRequest("USER_ID_INVALID")

func channelRef(in tg.InputChannelClass) (chats.Ref, error) {
	ch, ok := in.(*tg.InputChannel)
	if !ok {
		return chats.Ref{}, chats.ErrChannelInvalid
	}
	return chats.Ref{ID: ch.ChannelID, Channel: true, AccessHash: ch.AccessHash}, nil
}

// inviteesOf resolves the users a call adds to a chat.
func (h *Handler) inviteesOf(ctx context.Context, c *call, in []tg.InputUserClass) ([]int64, error) {
	if len(in) > chats.MaxChannelMembers {
		return nil, chats.ErrUsersTooMuch
	}
	ids := make([]int64, 0, len(in))
	for _, u := range in {
		acc, err := h.inputUser(ctx, c, u)
		var re *server.RPCError
		if errors.As(err, &re) {
			return nil, errUserIDInvalid
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, acc.ID)
	}
	return ids, nil
}

func (h *Handler) createChat(ctx context.Context, c *call, req *tg.MessagesCreateChatRequest) (bin.Encoder, error) {
	return h.create(ctx, c, req.Title, false, false, req.Users)
}

func (h *Handler) createChannel(ctx context.Context, c *call, req *tg.ChannelsCreateChannelRequest) (bin.Encoder, error) {
	return h.create(ctx, c, req.Title, true, req.Megagroup && !req.Broadcast, nil)
}

func (h *Handler) create(ctx context.Context, c *call, title string, channel, megagroup bool, users []tg.InputUserClass) (bin.Encoder, error) {
	creator, err := h.cfg.Accounts.Account(ctx, c.user)
	if err != nil {
		return nil, err
	}
	if creator.Bot {
		return nil, chats.ErrBotMethodInvalid
	}
	invitees, err := h.inviteesOf(ctx, c, users)
	if err != nil {
		return nil, err
	}
	chat, err := h.chats.Create(ctx, creator, title, channel, megagroup, invitees)
	if err != nil {
		return nil, err
	}
	t := target{chat: &chat}
	if channel {
		msgs, err := h.deliver(ctx, c, t, []outgoing{{action: &tg.MessageActionChannelCreate{Title: chat.Title}}}, 0)
		if err != nil {
			return nil, err
		}
		return h.updates(ctx, c, t, msgs, &tg.UpdateChannel{ChannelID: chat.ID})
	}
	msgs, err := h.deliver(ctx, c, t, []outgoing{{action: &tg.MessageActionChatCreate{Title: chat.Title, Users: memberIDs(chat)}}}, 0)
	if err != nil {
		return nil, err
	}
	u, err := h.updates(ctx, c, t, msgs)
	if err != nil {
		return nil, err
	}
	return &tg.MessagesInvitedUsers{Updates: u, MissingInvitees: []tg.MissingInvitee{}}, nil
}

func memberIDs(c store.Chat) []int64 {
	ids := make([]int64, len(c.Members))
	for i, m := range c.Members {
		ids[i] = m.User
	}
	return ids
}

func (h *Handler) addChatUser(ctx context.Context, c *call, req *tg.MessagesAddChatUserRequest) (bin.Encoder, error) {
	return h.addMembers(ctx, c, chats.Ref{ID: req.ChatID}, []tg.InputUserClass{req.UserID})
}

func (h *Handler) inviteToChannel(ctx context.Context, c *call, req *tg.ChannelsInviteToChannelRequest) (bin.Encoder, error) {
	ref, err := channelRef(req.Channel)
	if err != nil {
		return nil, err
	}
	return h.addMembers(ctx, c, ref, req.Users)
}

func (h *Handler) addMembers(ctx context.Context, c *call, ref chats.Ref, users []tg.InputUserClass) (bin.Encoder, error) {
	if _, err := h.chats.Editable(ctx, ref, c.user); err != nil {
		return nil, err
	}
	ids, err := h.inviteesOf(ctx, c, users)
	if err != nil {
		return nil, err
	}
	chat, added, err := h.chats.AddMembers(ctx, ref, c.user, ids)
	if err != nil {
		return nil, err
	}
	t := target{chat: &chat}
	var msgs []*store.Message
	var head []tg.UpdateClass
	if chat.Channel {
		head = append(head, &tg.UpdateChannel{ChannelID: chat.ID})
	}
	if !chat.Channel || chat.Megagroup { // a broadcast channel says nothing
		if msgs, err = h.deliver(ctx, c, t, []outgoing{{action: &tg.MessageActionChatAddUser{Users: added}}}, 0); err != nil {
			return nil, err
		}
	}
	u, err := h.updates(ctx, c, t, msgs, head...)
	if err != nil {
		return nil, err
	}
	return &tg.MessagesInvitedUsers{Updates: u, MissingInvitees: []tg.MissingInvitee{}}, nil
}

func (h *Handler) editChatPhoto(ctx context.Context, c *call, req *tg.MessagesEditChatPhotoRequest) (bin.Encoder, error) {
	return h.editPhoto(ctx, c, chats.Ref{ID: req.ChatID}, req.Photo)
}

func (h *Handler) channelsEditPhoto(ctx context.Context, c *call, req *tg.ChannelsEditPhotoRequest) (bin.Encoder, error) {
	ref, err := channelRef(req.Channel)
	if err != nil {
		return nil, err
	}
	return h.editPhoto(ctx, c, ref, req.Photo)
}

// editPhoto sets a chat's photo: a new one made of an upload the way
// profile photos are (M7, video included), one that exists, or none.
func (h *Handler) editPhoto(ctx context.Context, c *call, ref chats.Ref, in tg.InputChatPhotoClass) (bin.Encoder, error) {
	// Rights first: making a photo is costly.
	if _, err := h.chats.Editable(ctx, ref, c.user); err != nil {
		return nil, err
	}
	// The new photo stays until the service message naming it is stored.
	release := h.media.Hold()
	defer release()
	var photo *store.Photo
	made := false
	switch p := in.(type) {
	case *tg.InputChatPhotoEmpty:
	case *tg.InputChatUploadedPhoto:
		np, err := h.media.ProfilePhoto(ctx, c.user, profileUpload(c, p.File, p.Video, p.VideoStartTs))
		if err != nil {
			return nil, err
		}
		photo, made = &np, true
	case *tg.InputChatPhoto:
		id, ok := p.ID.(*tg.InputPhoto)
		if !ok {
			return nil, chats.ErrPhotoInvalid
		}
		sp, err := h.media.Photo(ctx, inputPhoto(id), chats.ErrPhotoInvalid)
		if err != nil {
			return nil, err
		}
		photo = &sp
	default:
		return nil, chats.ErrPhotoInvalid
	}
	var id int64
	var action tg.MessageActionClass = &tg.MessageActionChatDeletePhoto{}
	if photo != nil {
		id, action = photo.ID, &tg.MessageActionChatEditPhoto{Photo: h.tgPhoto(*photo, library.ObjectOrigin)}
	}
	chat, err := h.chats.SetPhoto(ctx, ref, c.user, id)
	if err != nil {
		if made {
			if cerr := h.media.DiscardPhoto(ctx, photo.ID); cerr != nil {
				h.cfg.Logger.Warn("dropping an unused chat photo", "photo", photo.ID, "err", cerr)
			}
		}
		return nil, err
	}
	t := target{chat: &chat}
	msgs, err := h.deliver(ctx, c, t, []outgoing{{action: action}}, 0)
	if err != nil {
		return nil, err
	}
	return h.updates(ctx, c, t, msgs)
}

// actionObjects returns the photos a service message names.
func actionObjects(a tg.MessageActionClass) []int64 {
	if a, ok := a.(*tg.MessageActionChatEditPhoto); ok {
		if p, ok := a.Photo.(*tg.Photo); ok {
			return []int64{p.ID}
		}
	}
	return nil
}

func (h *Handler) getChats(ctx context.Context, c *call, req *tg.MessagesGetChatsRequest) (bin.Encoder, error) {
	refs := make([]chats.Ref, len(req.ID))
	for i, id := range req.ID {
		refs[i] = chats.Ref{ID: id}
	}
	return h.listChats(ctx, c, refs)
}

func (h *Handler) getChannels(ctx context.Context, c *call, req *tg.ChannelsGetChannelsRequest) (bin.Encoder, error) {
	refs := make([]chats.Ref, len(req.ID))
	for i, in := range req.ID {
		ref, err := channelRef(in)
		if err != nil {
			return nil, err
		}
		refs[i] = ref
	}
	return h.listChats(ctx, c, refs)
}

// listChats describes chats to the caller: in full where a member, as
// forbidden elsewhere.
func (h *Handler) listChats(ctx context.Context, c *call, refs []chats.Ref) (bin.Encoder, error) {
	if len(refs) > maxChatIDs {
		return nil, badRequest("LIMIT_INVALID")
	}
	out := &tg.MessagesChats{Chats: []tg.ChatClass{}}
	for _, ref := range refs {
		chat, err := h.chats.Find(ctx, ref)
		if err != nil {
			return nil, err
		}
		tc, err := h.tgChat(ctx, chat, c.user)
		if err != nil {
			return nil, err
		}
		out.Chats = append(out.Chats, tc)
	}
	return out, nil
}

func (h *Handler) getFullChat(ctx context.Context, c *call, req *tg.MessagesGetFullChatRequest) (bin.Encoder, error) {
	chat, err := h.chats.Visible(ctx, chats.Ref{ID: req.ChatID}, c.user)
	if err != nil {
		return nil, err
	}
	photo, err := h.fullChatPhoto(ctx, chat)
	if err != nil {
		return nil, err
	}
	parts := &tg.ChatParticipants{ChatID: chat.ID, Version: chat.Version}
	for _, m := range chat.Members {
		switch {
		case m.User == chat.Creator:
			parts.Participants = append(parts.Participants, &tg.ChatParticipantCreator{UserID: m.User})
		case m.Admin:
			parts.Participants = append(parts.Participants, &tg.ChatParticipantAdmin{UserID: m.User, InviterID: m.Inviter, Date: int(m.Date.Unix())})
		default:
			parts.Participants = append(parts.Participants, &tg.ChatParticipant{UserID: m.User, InviterID: m.Inviter, Date: int(m.Date.Unix())})
		}
	}
	full := &tg.ChatFull{ID: chat.ID, Participants: parts, ChatPhoto: photo, NotifySettings: tg.PeerNotifySettings{}}
	full.SetFlags()
	return h.chatFull(ctx, c, chat, full)
}

func (h *Handler) getFullChannel(ctx context.Context, c *call, req *tg.ChannelsGetFullChannelRequest) (bin.Encoder, error) {
	ref, err := channelRef(req.Channel)
	if err != nil {
		return nil, err
	}
	chat, err := h.chats.Visible(ctx, ref, c.user)
	if err != nil {
		return nil, err
	}
	photo, err := h.fullChatPhoto(ctx, chat)
	if err != nil {
		return nil, err
	}
	pts, err := h.cfg.Messages.Pts(ctx, chat.Peer())
	if err != nil {
		return nil, err
	}
	admins := 0
	for _, m := range chat.Members {
		if m.Admin {
			admins++
		}
	}
	full := &tg.ChannelFull{ID: chat.ID, ParticipantsCount: len(chat.Members), AdminsCount: admins, ChatPhoto: photo,
		NotifySettings: tg.PeerNotifySettings{}, BotInfo: []tg.BotInfo{}, Pts: pts, CanViewParticipants: true}
	full.SetFlags()
	return h.chatFull(ctx, c, chat, full)
}

func (h *Handler) chatFull(ctx context.Context, c *call, chat store.Chat, full tg.ChatFullClass) (bin.Encoder, error) {
	tc, err := h.tgChat(ctx, chat, c.user)
	if err != nil {
		return nil, err
	}
	users, err := h.users(ctx, c, memberIDs(chat)...)
	if err != nil {
		return nil, err
	}
	return &tg.MessagesChatFull{FullChat: full, Chats: []tg.ChatClass{tc}, Users: users}, nil
}

// fullChatPhoto is the chat's photo with a reference valid while it is
// the chat's photo.
func (h *Handler) fullChatPhoto(ctx context.Context, chat store.Chat) (tg.PhotoClass, error) {
	if chat.Photo == 0 {
		return &tg.PhotoEmpty{}, nil
	}
	p, err := h.cfg.Photos.Photo(ctx, chat.Photo)
	if errors.Is(err, store.ErrNotFound) {
		return &tg.PhotoEmpty{ID: chat.Photo}, nil
	}
	if err != nil {
		return nil, err
	}
	return h.tgPhoto(p, library.ChatOrigin(chat.Peer())), nil
}

func (h *Handler) channelGetMessages(ctx context.Context, c *call, req *tg.ChannelsGetMessagesRequest) (bin.Encoder, error) {
	ref, err := channelRef(req.Channel)
	if err != nil {
		return nil, err
	}
	chat, err := h.chats.Visible(ctx, ref, c.user)
	if err != nil {
		return nil, err
	}
	stored, err := h.cfg.Messages.Messages(ctx, chat.Peer(), inputMessageIDs(req.ID))
	if err != nil {
		return nil, err
	}
	return h.messagesOf(ctx, c, stored, &chat)
}

// tgChat describes a chat to viewer: in full to members, as forbidden to
// others.
func (h *Handler) tgChat(ctx context.Context, chat store.Chat, viewer int64) (tg.ChatClass, error) {
	member, ok := chat.Member(viewer)
	if !ok {
		if chat.Channel {
			return &tg.ChannelForbidden{ID: chat.ID, AccessHash: chat.AccessHash, Title: chat.Title,
				Broadcast: !chat.Megagroup, Megagroup: chat.Megagroup}, nil
		}
		return &tg.ChatForbidden{ID: chat.ID, Title: chat.Title}, nil
	}
	var photo tg.ChatPhotoClass = &tg.ChatPhotoEmpty{}
	if chat.Photo != 0 {
		p, err := h.cfg.Photos.Photo(ctx, chat.Photo)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if err == nil {
			cp := &tg.ChatPhoto{PhotoID: p.ID, StrippedThumb: p.Stripped, DCID: h.fileDC(p.ID), HasVideo: p.Video != nil}
			cp.SetFlags()
			photo = cp
		}
	}
	if chat.Channel {
		ch := &tg.Channel{ID: chat.ID, AccessHash: chat.AccessHash, Title: chat.Title, Photo: photo, Date: int(chat.Date.Unix()),
			Creator: viewer == chat.Creator, Broadcast: !chat.Megagroup, Megagroup: chat.Megagroup, ParticipantsCount: len(chat.Members)}
		if member.Admin {
			ch.AdminRights = allAdminRights(chat.Megagroup)
		}
		ch.SetFlags()
		return ch, nil
	}
	ct := &tg.Chat{ID: chat.ID, Title: chat.Title, Photo: photo, ParticipantsCount: len(chat.Members), Date: int(chat.Date.Unix()),
		Version: chat.Version, Creator: viewer == chat.Creator}
	if member.Admin {
		ct.AdminRights = allAdminRights(true)
	}
	ct.SetFlags()
	return ct, nil
}

func allAdminRights(group bool) tg.ChatAdminRights {
	r := tg.ChatAdminRights{ChangeInfo: true, DeleteMessages: true, BanUsers: true, InviteUsers: true, PinMessages: true, AddAdmins: true, Other: true}
	if !group {
		r.PostMessages, r.EditMessages = true, true
	}
	r.SetFlags()
	return r
}

// chatsOf describes the chats among peer ids to the caller.
func (h *Handler) chatsOf(ctx context.Context, c *call, peers ...int64) ([]tg.ChatClass, error) {
	seen := map[int64]bool{}
	out := []tg.ChatClass{}
	for _, p := range peers {
		id, _, ok := store.PeerChat(p)
		if !ok || seen[p] {
			continue
		}
		seen[p] = true
		chat, err := h.cfg.Chats.Chat(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		tc, err := h.tgChat(ctx, chat, c.user)
		if err != nil {
			return nil, err
		}
		out = append(out, tc)
	}
	return out, nil
}
