package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/filedc/filedc/internal/store"
)

// ChatRecords are chats with the photos and messages they hold (M8).
type ChatRecords interface {
	store.Chats
	store.Photos
	store.Messages
}

// TestChats runs the conformance suite for store.Chats.
func TestChats(t *testing.T, open func(t *testing.T) ChatRecords) {
	ctx := context.Background()
	group := store.Chat{ID: 5000, Title: "group", Creator: 7, Date: savedAt(1), Version: 1,
		Members: []store.ChatMember{{User: 7, Admin: true, Date: savedAt(1)}, {User: 8, Inviter: 7, Date: savedAt(2)}}}
	channel := store.Chat{ID: store.MaxChatID, Channel: true, Megagroup: true, AccessHash: -99, Title: "channel", Creator: 8, Date: savedAt(3),
		Members: []store.ChatMember{{User: 8, Admin: true, Date: savedAt(3)}}}

	t.Run("CreateAndRead", func(t *testing.T) {
		s := open(t)
		for _, c := range []store.Chat{group, channel} {
			if err := s.CreateChat(ctx, c); err != nil {
				t.Fatal(err)
			}
			got, err := s.Chat(ctx, c.ID)
			if err != nil || !sameChat(got, c) {
				t.Fatalf("read back %+v, %v; want %+v", got, err, c)
			}
		}
		if err := s.CreateChat(ctx, store.Chat{ID: group.ID, Title: "other"}); !errors.Is(err, store.ErrChatExists) {
			t.Fatalf("a taken id: %v", err)
		}
		if _, err := s.Chat(ctx, 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an unknown chat: %v", err)
		}
		if _, err := s.UpdateChat(ctx, 1, func(*store.Chat) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("updating an unknown chat: %v", err)
		}
	})

	t.Run("UpdateIsAtomic", func(t *testing.T) {
		s := open(t)
		if err := s.CreateChat(ctx, group); err != nil {
			t.Fatal(err)
		}
		// An error leaves the chat as it was, and comes back as it was.
		_, err := s.UpdateChat(ctx, group.ID, func(c *store.Chat) error {
			c.Title = "changed"
			return store.ErrChatNotModified
		})
		if !errors.Is(err, store.ErrChatNotModified) {
			t.Fatalf("fn's error: %v", err)
		}
		if got, _ := s.Chat(ctx, group.ID); got.Title != "group" {
			t.Fatalf("a failed update was stored: %q", got.Title)
		}
		// Concurrent updates all land.
		const n = 16
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.UpdateChat(ctx, group.ID, func(c *store.Chat) error {
					c.Members = append(c.Members, store.ChatMember{User: int64(100 + i), Inviter: 7, Date: savedAt(i)})
					c.Version++
					return nil
				})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Chat(ctx, group.ID)
		if err != nil || len(got.Members) != 2+n || got.Version != 1+n {
			t.Fatalf("after %d concurrent updates: %d members, version %d, %v", n, len(got.Members), got.Version, err)
		}
		for i := range n {
			if _, ok := got.Member(int64(100 + i)); !ok {
				t.Fatalf("member %d lost", 100+i)
			}
		}
	})

	t.Run("PhotoIsKeptWhileCurrent", func(t *testing.T) {
		s := open(t)
		if err := s.CreateChat(ctx, group); err != nil {
			t.Fatal(err)
		}
		// Setting a photo that does not exist fails.
		if _, err := s.UpdateChat(ctx, group.ID, func(c *store.Chat) error { c.Photo = 4242; return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a missing photo: %v", err)
		}
		first := store.Photo{ID: 3000, AccessHash: 1, Owner: group.Peer()}
		second := store.Photo{ID: 3100, AccessHash: 2, Owner: group.Peer()}
		for _, p := range []store.Photo{first, second} {
			if err := s.PutPhoto(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.UpdateChat(ctx, group.ID, func(c *store.Chat) error { c.Photo = first.ID; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, deleted, err := s.CollectPhoto(ctx, first.ID); err != nil || deleted {
			t.Fatalf("the current chat photo was collected: %v, %v", deleted, err)
		}
		if _, err := s.UpdateChat(ctx, group.ID, func(c *store.Chat) error { c.Photo = second.ID; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, deleted, err := s.CollectPhoto(ctx, first.ID); err != nil || !deleted {
			t.Fatalf("a former chat photo that nothing names: deleted %v, %v", deleted, err)
		}
	})

	t.Run("ChannelHistory", func(t *testing.T) {
		s := open(t)
		if err := s.CreateChat(ctx, channel); err != nil {
			t.Fatal(err)
		}
		peer := channel.Peer()
		action := []byte{0x7f, 1, 2, 3}
		msgs := []*store.Message{
			{Owner: peer, Peer: peer, From: 8, Date: savedAt(4), Action: action},
			{Owner: peer, Peer: peer, From: 8, Date: savedAt(5), Text: "post"},
		}
		if err := s.AddMessages(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		if msgs[0].ID != 1 || msgs[1].ID != 2 || msgs[1].Pts != 2 {
			t.Fatalf("ids %d, %d, pts %d", msgs[0].ID, msgs[1].ID, msgs[1].Pts)
		}
		got, err := s.History(ctx, peer, peer, 0, 10)
		if err != nil || len(got) != 2 || string(got[1].Action) != string(action) || got[0].Action != nil || got[0].Text != "post" {
			t.Fatalf("history %+v, %v", got, err)
		}
	})
}

func sameChat(a, b store.Chat) bool {
	if a.ID != b.ID || a.Channel != b.Channel || a.Megagroup != b.Megagroup || a.AccessHash != b.AccessHash ||
		a.Title != b.Title || a.Creator != b.Creator || !a.Date.Equal(b.Date) || a.Version != b.Version ||
		a.Photo != b.Photo || len(a.Members) != len(b.Members) {
		return false
	}
	for i, m := range a.Members {
		n := b.Members[i]
		if m.User != n.User || m.Inviter != n.Inviter || m.Admin != n.Admin || !m.Date.Equal(n.Date) {
			return false
		}
	}
	return true
}
