package storetest

import (
	"context"
	"testing"

	"github.com/filedc/filedc/internal/store"
)

// TestMessages runs the conformance suite for store.Messages.
func TestMessages(t *testing.T, open func(t *testing.T) store.Messages) {
	ctx := context.Background()
	t.Run("IDsPerOwner", func(t *testing.T) {
		s := open(t)
		a := &store.Message{Owner: 1, Peer: 2, From: 1, Out: true, Date: savedAt(1), Text: "hi", RandomID: 9, Media: []byte{1, 2}}
		b := &store.Message{Owner: 2, Peer: 1, From: 1, Date: savedAt(1), Text: "hi", Media: []byte{1, 2}}
		c := &store.Message{Owner: 1, Peer: 1, From: 1, Out: true, Date: savedAt(2), GroupedID: 77}
		if err := s.AddMessages(ctx, []*store.Message{a, b, c}); err != nil {
			t.Fatal(err)
		}
		if a.ID != 1 || b.ID != 1 || c.ID != 2 {
			t.Fatalf("ids %d %d %d, want 1 1 2", a.ID, b.ID, c.ID)
		}
		got, err := s.Messages(ctx, 1, []int{2, 1, 3, -1})
		if err != nil || len(got) != 2 {
			t.Fatalf("%d messages, %v", len(got), err)
		}
		if g := got[1]; g.ID != 1 || g.Peer != 2 || g.From != 1 || !g.Out || !g.Date.Equal(a.Date) ||
			g.Text != "hi" || g.RandomID != 9 || string(g.Media) != "\x01\x02" || g.Owner != 1 {
			t.Fatalf("got %+v", g)
		}
		if got[0].GroupedID != 77 || got[0].Peer != 1 {
			t.Fatalf("got %+v", got[0])
		}
	})
	t.Run("History", func(t *testing.T) {
		s := open(t)
		var msgs []*store.Message
		for i := 0; i < 30; i++ {
			msgs = append(msgs, &store.Message{Owner: 5, Peer: int64(6 + i%3), From: 5, Out: true, Date: savedAt(i)})
		}
		if err := s.AddMessages(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		// Chat with 6 holds ids 1, 4, 7, ..., 28.
		check := func(before, limit int, want ...int) {
			t.Helper()
			got, err := s.History(ctx, 5, 6, before, limit)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int
			for _, m := range got {
				ids = append(ids, m.ID)
			}
			if len(ids) != len(want) {
				t.Fatalf("History(before %d, limit %d) = %v, want %v", before, limit, ids, want)
			}
			for i := range ids {
				if ids[i] != want[i] {
					t.Fatalf("History(before %d, limit %d) = %v, want %v", before, limit, ids, want)
				}
			}
		}
		check(0, 3, 28, 25, 22)
		check(22, 2, 19, 16)
		check(23, 2, 22, 19)
		check(1000, 1, 28)
		check(2, 5, 1)
		check(1, 5)
		check(0, 0)
		if got, _ := s.History(ctx, 5, 99, 0, 10); len(got) != 0 {
			t.Fatal("an empty chat has history")
		}
	})
	t.Run("TwinsPtsAndDeletion", func(t *testing.T) {
		s := open(t)
		mine := &store.Message{Owner: 1, Peer: 2, From: 1, Out: true, Date: savedAt(1), Objects: []int64{100, 200}}
		theirs := &store.Message{Owner: 2, Peer: 1, From: 1, Date: savedAt(1), Objects: []int64{100, 200}, TwinOf: mine}
		saved := &store.Message{Owner: 1, Peer: 1, From: 1, Out: true, Date: savedAt(2), Objects: []int64{100}}
		if err := s.AddMessages(ctx, []*store.Message{mine, theirs, saved}); err != nil {
			t.Fatal(err)
		}
		if mine.Twin != theirs.ID || theirs.Twin != mine.ID || saved.Twin != 0 {
			t.Fatalf("twins %d %d %d", mine.Twin, theirs.Twin, saved.Twin)
		}
		if mine.Pts != 1 || saved.Pts != 2 || theirs.Pts != 1 {
			t.Fatalf("pts %d %d %d", mine.Pts, saved.Pts, theirs.Pts)
		}
		got, err := s.Messages(ctx, 2, []int{theirs.ID})
		if err != nil || len(got) != 1 || got[0].Twin != mine.ID || len(got[0].Objects) != 2 || got[0].Objects[1] != 200 {
			t.Fatalf("stored twin %+v, %v", got, err)
		}
		referenced := func(obj int64, want bool) {
			t.Helper()
			if r, err := s.Referenced(ctx, obj); err != nil || r != want {
				t.Fatalf("Referenced(%d) = %v, %v; want %v", obj, r, err, want)
			}
		}
		referenced(100, true)
		referenced(300, false)
		deleted, pts, err := s.DeleteMessages(ctx, 1, []int{mine.ID, 99, -1})
		if err != nil || len(deleted) != 1 || deleted[0].ID != mine.ID || deleted[0].Twin != theirs.ID || pts != 3 {
			t.Fatalf("DeleteMessages: %+v, pts %d, %v", deleted, pts, err)
		}
		if got, _ := s.Messages(ctx, 1, []int{mine.ID}); len(got) != 0 {
			t.Fatal("a deleted message is still there")
		}
		if h, _ := s.History(ctx, 1, 2, 0, 10); len(h) != 0 {
			t.Fatal("a deleted message is still in its chat")
		}
		referenced(200, true) // the peer's copy
		if _, _, err := s.DeleteMessages(ctx, 2, []int{theirs.ID}); err != nil {
			t.Fatal(err)
		}
		referenced(200, false)
		referenced(100, true) // Saved Messages
		if _, pts, err := s.DeleteMessages(ctx, 1, []int{saved.ID}); err != nil || pts != 4 {
			t.Fatalf("pts %d, %v", pts, err)
		}
		referenced(100, false)
		if pts, err := s.Pts(ctx, 1); err != nil || pts != 4 {
			t.Fatalf("Pts %d, %v", pts, err)
		}
		if pts, err := s.Pts(ctx, 42); err != nil || pts != 0 {
			t.Fatalf("Pts of a new account %d, %v", pts, err)
		}
	})
}
