package chats_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/filedc/filedc/internal/chats"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/bolt"
)

func open(t *testing.T) (*chats.Service, *bolt.Meta) {
	m, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return chats.New(m, nil), m
}

func wantErr(t *testing.T, what string, err error, want files.Error) {
	t.Helper()
	got, ok := files.AsError(err)
	if !ok || got != want {
		t.Fatalf("%s: %v, want %s", what, err, want.Message)
	}
}

var (
	ann = store.Account{ID: 7000002, Name: "Ann"}
	bob = store.Account{ID: 7000003, Name: "Bob"}
	bot = store.Account{ID: 7000001, Name: "bot", Bot: true}
)

// TestM8_ChatRules: who creates, sees, adds to and changes the photo of
// basic groups and channels, with Telegram's error names.
func TestM8_ChatRules(t *testing.T) {
	ctx := context.Background()
	s, m := open(t)

	_, err := s.Create(ctx, bot, "by a bot", false, false, nil)
	wantErr(t, "a bot creating a chat", err, chats.ErrBotMethodInvalid)
	_, err = s.Create(ctx, ann, "  ", false, false, nil)
	wantErr(t, "an empty title", err, chats.ErrChatTitleEmpty)
	long, err := s.Create(ctx, ann, strings.Repeat("é", 300), false, false, nil)
	if err != nil || len([]rune(long.Title)) != chats.MaxTitle {
		t.Fatalf("a long title: %d characters, %v", len([]rune(long.Title)), err)
	}

	group, err := s.Create(ctx, ann, "group", false, false, []int64{bob.ID, bob.ID, ann.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(group.Members) != 2 || group.ID <= 0 || group.ID > store.MaxChatID || group.AccessHash != 0 {
		t.Fatalf("group %+v", group)
	}
	if m, _ := group.Member(ann.ID); !m.Admin {
		t.Fatal("the creator is not an admin")
	}
	gref := chats.Ref{ID: group.ID}
	// Bob, a member, adds the bot; adding it again is an error.
	if _, added, err := s.AddMembers(ctx, gref, bob.ID, []int64{bot.ID}); err != nil || len(added) != 1 {
		t.Fatalf("a member adding: %v, %v", added, err)
	}
	_, _, err = s.AddMembers(ctx, gref, bob.ID, []int64{bot.ID})
	wantErr(t, "adding a member twice", err, chats.ErrAlreadyParticipant)
	_, _, err = s.AddMembers(ctx, gref, 42, []int64{43})
	wantErr(t, "a stranger adding", err, chats.ErrChatIDInvalid)
	_, err = s.Visible(ctx, gref, 42)
	wantErr(t, "a stranger looking", err, chats.ErrChatIDInvalid)
	_, err = s.Visible(ctx, chats.Ref{ID: group.ID, Channel: true}, ann.ID)
	wantErr(t, "a group named as a channel", err, chats.ErrChannelInvalid)

	channel, err := s.Create(ctx, ann, "channel", true, false, nil)
	if err != nil || !channel.Channel || channel.AccessHash == 0 {
		t.Fatalf("channel %+v, %v", channel, err)
	}
	cref := chats.Ref{ID: channel.ID, Channel: true, AccessHash: channel.AccessHash}
	_, err = s.Visible(ctx, chats.Ref{ID: channel.ID, Channel: true, AccessHash: channel.AccessHash + 1}, ann.ID)
	wantErr(t, "a wrong access hash", err, chats.ErrChannelInvalid)
	_, err = s.Visible(ctx, chats.Ref{ID: channel.ID}, ann.ID)
	wantErr(t, "a channel named as a group", err, chats.ErrChatIDInvalid)
	_, err = s.Visible(ctx, cref, bob.ID)
	wantErr(t, "a stranger looking at a channel", err, chats.ErrChannelPrivate)
	if _, _, err := s.AddMembers(ctx, cref, ann.ID, []int64{bob.ID, bot.ID}); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.AddMembers(ctx, cref, bob.ID, []int64{42})
	wantErr(t, "a member of a channel adding", err, chats.ErrChatAdminRequired)
	if _, added, err := s.AddMembers(ctx, cref, ann.ID, []int64{bob.ID, 44}); err != nil || len(added) != 1 || added[0] != 44 {
		t.Fatalf("a channel skips members it has: %v, %v", added, err)
	}

	// Photos: a member of a group sets one, a channel's member cannot.
	photo := store.Photo{ID: 9000, AccessHash: 1, Owner: group.Peer()}
	if err := m.PutPhoto(ctx, photo); err != nil {
		t.Fatal(err)
	}
	got, err := s.SetPhoto(ctx, gref, bob.ID, photo.ID)
	if err != nil || got.Photo != photo.ID || got.Version <= group.Version {
		t.Fatalf("set photo: %+v, %v", got, err)
	}
	_, err = s.SetPhoto(ctx, gref, bob.ID, photo.ID)
	wantErr(t, "the same photo again", err, chats.ErrChatNotModified)
	_, err = s.SetPhoto(ctx, gref, 42, 0)
	wantErr(t, "a stranger removing the photo", err, chats.ErrChatIDInvalid)
	_, err = s.SetPhoto(ctx, cref, bob.ID, photo.ID)
	wantErr(t, "a channel member setting the photo", err, chats.ErrChatAdminRequired)
	_, err = s.SetPhoto(ctx, cref, ann.ID, 12345)
	wantErr(t, "a photo that is gone", err, chats.ErrPhotoInvalid)
	if _, err := s.SetPhoto(ctx, gref, ann.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err = s.SetPhoto(ctx, gref, ann.ID, 0)
	wantErr(t, "removing no photo", err, chats.ErrChatNotModified)
	_, err = s.SetPhoto(ctx, chats.Ref{ID: 77}, ann.ID, 0)
	wantErr(t, "an unknown chat", err, chats.ErrChatIDInvalid)
	if _, err := s.Find(ctx, chats.Ref{ID: -5}); !errors.Is(err, chats.ErrChatIDInvalid) {
		t.Fatalf("a negative id: %v", err)
	}
}

// TestM8_MembersAreBounded: a chat holds at most its bound of members.
func TestM8_MembersAreBounded(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	many := make([]int64, chats.MaxGroupMembers)
	for i := range many {
		many[i] = int64(100 + i)
	}
	_, err := s.Create(ctx, ann, "crowd", false, false, many)
	wantErr(t, "too many invitees", err, chats.ErrUsersTooMuch)
	group, err := s.Create(ctx, ann, "crowd", false, false, many[:chats.MaxGroupMembers-1])
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.AddMembers(ctx, chats.Ref{ID: group.ID}, ann.ID, []int64{99})
	wantErr(t, "one more than the bound", err, chats.ErrUsersTooMuch)
}
