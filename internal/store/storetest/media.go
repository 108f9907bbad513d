package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/filedc/filedc/internal/store"
)

// MediaRecords are messages and the media they name. Sends and deletions
// check each other (M6), so one store holds them all.
type MediaRecords interface {
	store.Messages
	store.Documents
	store.Photos
	store.Accounts
}

// TestCollect runs the conformance suite for deleting media nothing refers
// to: CollectDocument, CollectPhoto, and AddMessages refusing media that is
// gone.
func TestCollect(t *testing.T, open func(t *testing.T) MediaRecords) {
	ctx := context.Background()
	s := open(t)
	sum := [32]byte{4, 2}
	a := store.Document{ID: 1000, AccessHash: 1, File: 1000, Mime: "image/png", Size: 50, SHA256: sum,
		Thumbs: []store.PhotoSize{{Type: "m", W: 3, H: 3, File: 1001, FileAccess: 2, Size: 9}}}
	b := store.Document{ID: 1100, AccessHash: 3, File: 1100, Mime: "application/octet-stream", Size: 50, SHA256: sum}
	for _, d := range []store.Document{a, b} {
		if _, err := s.PutDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	shown := store.Photo{ID: 2000, AccessHash: 4, Owner: 7, Sizes: []store.PhotoSize{{Type: "x", File: 2001}}}
	profile := store.Photo{ID: 2100, AccessHash: 5, Owner: 7}
	for _, p := range []store.Photo{shown, profile} {
		if err := s.PutPhoto(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	acc := store.Account{ID: 7, Name: "seven", AccessKey: 8, Photos: []int64{profile.ID}}
	if err := s.PutAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}

	msg := &store.Message{Owner: 7, Peer: 7, From: 7, Out: true, Date: savedAt(1), Objects: []int64{a.ID, shown.ID}}
	if err := s.AddMessages(ctx, []*store.Message{msg}); err != nil {
		t.Fatal(err)
	}
	// A message naming media that does not exist is refused as a whole.
	bad := []*store.Message{
		{Owner: 7, Peer: 7, From: 7, Out: true, Date: savedAt(2), Objects: []int64{b.ID}},
		{Owner: 7, Peer: 7, From: 7, Out: true, Date: savedAt(2), Objects: []int64{b.ID, 999}},
	}
	if err := s.AddMessages(ctx, bad); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a message naming missing media: %v, want ErrNotFound", err)
	}
	if pts, err := s.Pts(ctx, 7); err != nil || pts != 1 {
		t.Fatalf("pts after a refused send: %d, %v", pts, err)
	}
	if h, err := s.History(ctx, 7, 7, 0, 10); err != nil || len(h) != 1 {
		t.Fatalf("history after a refused send: %d messages, %v", len(h), err)
	}

	collectDoc := func(id int64, wantDeleted, wantFree bool) {
		t.Helper()
		d, deleted, free, err := s.CollectDocument(ctx, id)
		if err != nil || deleted != wantDeleted || free != wantFree || (deleted && d.ID != id) {
			t.Fatalf("CollectDocument(%d) = %d, %v, %v, %v; want deleted %v, file free %v", id, d.ID, deleted, free, err, wantDeleted, wantFree)
		}
		if deleted && id == a.ID && len(d.Thumbs) != len(a.Thumbs) {
			t.Fatalf("collected document without its thumbnails: %+v", d)
		}
	}
	collectPhoto := func(id int64, wantDeleted bool) {
		t.Helper()
		p, deleted, err := s.CollectPhoto(ctx, id)
		if err != nil || deleted != wantDeleted || (deleted && p.ID != id) {
			t.Fatalf("CollectPhoto(%d) = %d, %v, %v; want deleted %v", id, p.ID, deleted, err, wantDeleted)
		}
	}
	collectDoc(a.ID, false, false) // named by msg
	collectPhoto(shown.ID, false)  // named by msg
	collectPhoto(profile.ID, false)
	collectDoc(shown.ID, false, false) // a photo is no document
	collectPhoto(a.ID, false)          // nor the other way round
	if _, err := s.Document(ctx, a.ID); err != nil {
		t.Fatalf("a named document is gone: %v", err)
	}

	if _, _, err := s.DeleteMessages(ctx, 7, []int{msg.ID}); err != nil {
		t.Fatal(err)
	}
	collectDoc(a.ID, true, false) // b shares the content
	collectDoc(a.ID, false, false)
	collectPhoto(shown.ID, true)
	collectPhoto(shown.ID, false)
	collectPhoto(profile.ID, false) // still the profile photo
	acc.Photos = nil
	if err := s.PutAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	collectPhoto(profile.ID, true)
	if _, err := s.Document(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a collected document: %v", err)
	}
	if _, err := s.Photo(ctx, shown.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a collected photo: %v", err)
	}
	if err := s.AddMessages(ctx, []*store.Message{{Owner: 7, Peer: 7, From: 7, Date: savedAt(3), Objects: []int64{a.ID}}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("sending a collected document: %v", err)
	}
	stored, err := s.PutDocument(ctx, store.Document{ID: 1200, AccessHash: 6, File: 1200, Mime: "image/png", Size: 50, SHA256: sum})
	if err != nil || stored.File != a.File {
		t.Fatalf("a document of content still stored: %+v, %v", stored, err)
	}
	collectDoc(b.ID, true, false) // 1200 took the file too
	collectDoc(1200, true, true)  // the last one
}

// TestCollectRace: sends naming a document race with deleting the last
// message that names it and collecting the document, through sender and
// collector (two processes on one database, or one store twice). Either
// the send wins and the document stays, or it fails with ErrNotFound and
// the document is gone: never a message naming a collected document.
func TestCollectRace(t *testing.T, sender, collector MediaRecords) {
	ctx := context.Background()
	const rounds = 40
	kept, refused := 0, 0
	for i := range rounds {
		id := int64(50_000 + i)
		if _, err := sender.PutDocument(ctx, store.Document{ID: id, AccessHash: 1, File: id, Mime: "text/plain", Size: 1}); err != nil {
			t.Fatal(err)
		}
		first := &store.Message{Owner: 9, Peer: 9, From: 9, Out: true, Objects: []int64{id}}
		if err := collector.AddMessages(ctx, []*store.Message{first}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var sendErr, collectErr error
		second := &store.Message{Owner: 9, Peer: 9, From: 9, Out: true, Objects: []int64{id}}
		wg.Add(2)
		go func() {
			defer wg.Done()
			sendErr = sender.AddMessages(ctx, []*store.Message{second})
		}()
		go func() {
			defer wg.Done()
			if _, _, err := collector.DeleteMessages(ctx, 9, []int{first.ID}); err != nil {
				collectErr = err
				return
			}
			_, _, _, collectErr = collector.CollectDocument(ctx, id)
		}()
		wg.Wait()
		if collectErr != nil {
			t.Fatal(collectErr)
		}
		_, docErr := collector.Document(ctx, id)
		used, err := collector.Referenced(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case sendErr == nil && docErr == nil && used:
			kept++
		case errors.Is(sendErr, store.ErrNotFound) && errors.Is(docErr, store.ErrNotFound) && !used:
			refused++
		default:
			t.Fatalf("round %d: send %v, document %v, named by a message %v", i, sendErr, docErr, used)
		}
	}
	t.Logf("%d sends kept their document, %d were refused", kept, refused)
}
