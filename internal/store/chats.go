package store

import (
	"context"
	"errors"
	"time"
)

// Chat is a basic group or a channel: just enough of one to hold members,
// their messages and a photo (M8).
type Chat struct {
	ID         int64 // 1..MaxChatID; basic groups and channels share one id space
	Channel    bool
	Megagroup  bool  // a channel whose members all post
	AccessHash int64 // channels: what inputChannel and inputPeerChannel carry
	Title      string
	Creator    int64
	Date       time.Time
	// Version counts changes of members and photo (chatParticipants.version).
	Version int
	Photo   int64 // the current photo, 0 for none
	Members []ChatMember
}

// ChatMember is one member of a chat.
type ChatMember struct {
	User    int64
	Inviter int64
	Admin   bool // the creator is always an admin
	Date    time.Time
}

// Member returns the member record of user, if user is a member.
func (c Chat) Member(user int64) (ChatMember, bool) {
	for _, m := range c.Members {
		if m.User == user {
			return m, true
		}
	}
	return ChatMember{}, false
}

// Peer is the chat's peer id in stored messages.
func (c Chat) Peer() int64 {
	if c.Channel {
		return -(channelMark + c.ID)
	}
	return -c.ID
}

// MaxChatID bounds chat ids so that marked peer ids never overlap.
const MaxChatID = channelMark - 1

// channelMark: stored messages name peers the way the Bot API marks them,
// a positive id for an account, -id for a basic group, -(1e12+id) for a
// channel.
const channelMark = 1_000_000_000_000

// PeerChat tells which chat a peer id of a stored message names: ok is
// false for an account.
func PeerChat(peer int64) (id int64, channel, ok bool) {
	switch {
	case peer >= 0:
		return 0, false, false
	case peer > -channelMark:
		return -peer, false, true
	default:
		return -peer - channelMark, true, true
	}
}

// ErrChatNotModified is what an UpdateChat function returns to leave the
// chat as it is; UpdateChat passes it back.
var ErrChatNotModified = errors.New("store: chat not modified")

// Chats stores chats. A channel's messages are one history, stored under
// the channel's peer as both owner and peer; a basic group's messages are
// copied into each member's history, as private messages are.
type Chats interface {
	// CreateChat stores a new chat; it fails when the id is taken.
	CreateChat(ctx context.Context, c Chat) error
	// Chat returns a chat or ErrNotFound.
	Chat(ctx context.Context, id int64) (Chat, error)
	// UpdateChat changes a chat atomically, also against other processes:
	// fn gets the chat as stored and changes it, and the result is stored
	// unless fn fails. When fn sets a Photo other than the one stored, that
	// photo must exist (else ErrNotFound), atomically with CollectPhoto,
	// which keeps every chat's current photo.
	UpdateChat(ctx context.Context, id int64, fn func(*Chat) error) (Chat, error)
}

// ErrChatExists is returned by CreateChat when the id is taken.
var ErrChatExists = errors.New("store: chat id taken")
