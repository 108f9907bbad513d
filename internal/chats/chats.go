// Package chats decides who may do what in basic groups and channels: just
// enough chats to hold members, their media and a photo (M8). It keeps them
// in a store.Chats and knows nothing of TL; internal/rpc translates.
//
// The rules are Telegram's: user accounts create chats, bots cannot; any
// member of a basic group adds members and changes its photo; in a channel
// only admins do. Only members see a chat's photo and messages.
package chats

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

// Limits on what one chat holds. Members live in the chat's record, so the
// bound keeps that record small; a basic group's messages are copied to
// every member, which keeps its bound at Telegram's.
const (
	MaxGroupMembers   = 200
	MaxChannelMembers = 1000
	MaxTitle          = 128 // characters
)

func bad(msg string) files.Error { return files.Error{Code: 400, Message: msg} }

// Errors, as Telegram names them.
var (
	ErrChatIDInvalid      = bad("CHAT_ID_INVALID")
	ErrChannelInvalid     = bad("CHANNEL_INVALID")
	ErrChannelPrivate     = bad("CHANNEL_PRIVATE")
	ErrChatAdminRequired  = bad("CHAT_ADMIN_REQUIRED")
	ErrChatNotModified    = bad("CHAT_NOT_MODIFIED")
	ErrChatTitleEmpty     = bad("CHAT_TITLE_EMPTY")
	ErrUsersTooMuch       = bad("USERS_TOO_MUCH")
	ErrAlreadyParticipant = bad("USER_ALREADY_PARTICIPANT")
	ErrBotMethodInvalid   = bad("BOT_METHOD_INVALID")
	ErrPhotoInvalid       = bad("PHOTO_INVALID")
)

// Service decides and keeps chats.
type Service struct {
	Store store.Chats
	Now   func() time.Time
}

// New returns a service over s.
func New(s store.Chats, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{Store: s, Now: now}
}

// Ref names a chat as a client does: a basic group by id, a channel by id
// and access hash.
type Ref struct {
	ID         int64
	Channel    bool
	AccessHash int64
}

// invalid is the error for a chat that does not exist for the caller.
func (r Ref) invalid() error {
	if r.Channel {
		return ErrChannelInvalid
	}
	return ErrChatIDInvalid
}

// Create makes a chat whose creator is its first member and admin, with
// invitees as members. Bots cannot create chats.
func (s *Service) Create(ctx context.Context, creator store.Account, title string, channel, megagroup bool, invitees []int64) (store.Chat, error) {
	if creator.Bot {
		return store.Chat{}, ErrBotMethodInvalid
	}
	title = cleanTitle(title)
	if title == "" {
		return store.Chat{}, ErrChatTitleEmpty
	}
	now := s.Now()
	c := store.Chat{Channel: channel, Megagroup: channel && megagroup, Title: title, Creator: creator.ID, Date: now, Version: 1,
		Members: []store.ChatMember{{User: creator.ID, Admin: true, Date: now}}}
	if channel {
		c.AccessHash = rand.Int64()
	}
	for _, u := range invitees {
		if _, ok := c.Member(u); !ok {
			c.Members = append(c.Members, store.ChatMember{User: u, Inviter: creator.ID, Date: now})
		}
	}
	if len(c.Members) > maxMembers(c) {
		return store.Chat{}, ErrUsersTooMuch
	}
	for {
		// Random ids reveal nothing of how many chats there are.
		c.ID = 1 + rand.Int64N(store.MaxChatID)
		err := s.Store.CreateChat(ctx, c)
		if !errors.Is(err, store.ErrChatExists) {
			return c, err
		}
	}
}

func maxMembers(c store.Chat) int {
	if c.Channel {
		return MaxChannelMembers
	}
	return MaxGroupMembers
}

// cleanTitle trims a title and cuts it to MaxTitle characters.
func cleanTitle(t string) string {
	t = strings.TrimSpace(strings.ToValidUTF8(t, ""))
	if utf8.RuneCountInString(t) > MaxTitle {
		t = string([]rune(t)[:MaxTitle])
	}
	return t
}

// Find returns the chat r names, whether or not user is a member. A
// channel's access hash must match.
func (s *Service) Find(ctx context.Context, r Ref) (store.Chat, error) {
	if r.ID <= 0 || r.ID > store.MaxChatID {
		return store.Chat{}, r.invalid()
	}
	c, err := s.Store.Chat(ctx, r.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (c.Channel != r.Channel || (c.Channel && c.AccessHash != r.AccessHash))) {
		return store.Chat{}, r.invalid()
	}
	return c, err
}

// Visible returns the chat r names when user is a member: only members see
// a chat's photo, members and messages.
func (s *Service) Visible(ctx context.Context, r Ref, user int64) (store.Chat, error) {
	c, err := s.Find(ctx, r)
	if err != nil {
		return c, err
	}
	return c, canSee(c, user)
}

func canSee(c store.Chat, user int64) error {
	if _, ok := c.Member(user); ok {
		return nil
	}
	if c.Channel {
		return ErrChannelPrivate
	}
	return ErrChatIDInvalid
}

// canEdit: members of a basic group, admins of a channel.
func canEdit(c store.Chat, user int64) error {
	m, ok := c.Member(user)
	if !ok {
		return canSee(c, user)
	}
	if c.Channel && !m.Admin {
		return ErrChatAdminRequired
	}
	return nil
}

// Editable returns the chat r names when user may change its photo and
// members; callers check before doing costly work, and the change checks
// again atomically.
func (s *Service) Editable(ctx context.Context, r Ref, user int64) (store.Chat, error) {
	c, err := s.Find(ctx, r)
	if err != nil {
		return c, err
	}
	return c, canEdit(c, user)
}

// AddMembers adds users to the chat, invited by by. It returns the chat and
// the users it added. In a basic group adding a member twice is an error;
// a channel skips those it has, unless every one is already there.
func (s *Service) AddMembers(ctx context.Context, r Ref, by int64, users []int64) (store.Chat, []int64, error) {
	if _, err := s.Editable(ctx, r, by); err != nil {
		return store.Chat{}, nil, err
	}
	var added []int64
	c, err := s.Store.UpdateChat(ctx, r.ID, func(c *store.Chat) error {
		added = added[:0]
		if err := canEdit(*c, by); err != nil {
			return err
		}
		now := s.Now()
		for _, u := range users {
			if _, ok := c.Member(u); ok || slices.Contains(added, u) {
				if !c.Channel {
					return ErrAlreadyParticipant
				}
				continue
			}
			c.Members = append(c.Members, store.ChatMember{User: u, Inviter: by, Date: now})
			added = append(added, u)
		}
		if len(added) == 0 {
			return ErrAlreadyParticipant
		}
		if len(c.Members) > maxMembers(*c) {
			return ErrUsersTooMuch
		}
		c.Version++
		return nil
	})
	if err != nil {
		return store.Chat{}, nil, err
	}
	return c, added, nil
}

// SetPhoto makes photo (0: none) the chat's photo, when by may change it.
// Setting the photo it has, or removing none, is CHAT_NOT_MODIFIED; a photo
// that is gone is PHOTO_INVALID.
func (s *Service) SetPhoto(ctx context.Context, r Ref, by, photo int64) (store.Chat, error) {
	c, err := s.Store.UpdateChat(ctx, r.ID, func(c *store.Chat) error {
		if c.Channel != r.Channel || (c.Channel && c.AccessHash != r.AccessHash) {
			return r.invalid()
		}
		if err := canEdit(*c, by); err != nil {
			return err
		}
		if c.Photo == photo {
			return ErrChatNotModified
		}
		c.Photo = photo
		c.Version++
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound) && photo != 0:
		// The chat was found before; what is gone is the photo.
		if _, cerr := s.Store.Chat(ctx, r.ID); cerr == nil {
			return store.Chat{}, ErrPhotoInvalid
		}
		return store.Chat{}, r.invalid()
	case errors.Is(err, store.ErrNotFound):
		return store.Chat{}, r.invalid()
	}
	return c, err
}
