package library

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// Rule M6: once no message names a document it is deleted with its
// thumbnails, and its content with the last document of that content; a
// photo goes with its sizes; what a message still names stays.
func TestM6_UnreferencedMediaIsCollected(t *testing.T) {
	l := newTestLib(t)
	ctx := context.Background()
	content := picture(t, 300, 200)
	png, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: l.upload(t, 1, "a.png", content)})
	if err != nil {
		t.Fatal(err)
	}
	custom, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: l.upload(t, 2, "a.png", content), MimeType: "application/x-picture"})
	if err != nil {
		t.Fatal(err)
	}
	if custom.File != png.File {
		t.Fatal("two mime types of one content do not share the stored file")
	}
	photo, err := l.UploadPhoto(ctx, testOwner, l.upload(t, 3, "p.png", content))
	if err != nil {
		t.Fatal(err)
	}
	send := func(objects ...int64) int {
		t.Helper()
		m := &store.Message{Owner: testOwner, Peer: testOwner, From: testOwner, Out: true, Date: *l.now, Objects: objects}
		if err := l.meta.AddMessages(ctx, []*store.Message{m}); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	msgPNG, msgCustom, msgPhoto, msgBoth := send(png.ID), send(custom.ID), send(photo.ID), send(png.ID, photo.ID)
	deleteMessages := func(ids ...int) {
		t.Helper()
		err := l.Collect(ctx, func() ([]int64, error) {
			gone, _, err := l.meta.DeleteMessages(ctx, testOwner, ids)
			var objects []int64
			for _, m := range gone {
				objects = append(objects, m.Objects...)
			}
			return objects, err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	documentStored := func(d store.Document) bool {
		t.Helper()
		_, err := l.meta.Document(ctx, d.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	photoStored := func(p store.Photo) bool {
		t.Helper()
		_, err := l.meta.Photo(ctx, p.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}

	// Still named by another message: everything stays.
	deleteMessages(msgPNG, msgPhoto)
	if !documentStored(png) || !photoStored(photo) {
		t.Fatal("media another message names was collected")
	}
	// Named by nothing: the document and its thumbnail go, the content
	// stays for the other document; the photo goes with its sizes.
	deleteMessages(msgBoth)
	if documentStored(png) || l.exists(t, png.Thumbs[0].File, png.Thumbs[0].FileAccess) {
		t.Error("an unreferenced document or its thumbnail is still stored")
	}
	if !l.exists(t, png.File, png.FileAccess) {
		t.Error("content another document uses was deleted")
	}
	if photoStored(photo) {
		t.Error("an unreferenced photo is still stored")
	}
	for _, s := range photo.Sizes {
		if l.exists(t, s.File, s.FileAccess) {
			t.Errorf("size %s of a collected photo is still stored", s.Type)
		}
	}
	// The last document of the content takes the content with it.
	deleteMessages(msgCustom)
	if documentStored(custom) || l.exists(t, custom.File, custom.FileAccess) || l.exists(t, custom.Thumbs[0].File, custom.Thumbs[0].FileAccess) {
		t.Error("the last document of a content, its thumbnail or the content is still stored")
	}
	if n := len(l.storedFiles(t)); n != 0 {
		t.Errorf("%d stored files left", n)
	}

	// An error while unlinking collects nothing.
	kept, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: l.upload(t, 4, "b.png", picture(t, 30, 30))})
	if err != nil {
		t.Fatal(err)
	}
	failed := errors.New("unlink failed")
	if err := l.Collect(ctx, func() ([]int64, error) { return []int64{kept.ID}, failed }); !errors.Is(err, failed) {
		t.Errorf("Collect: %v, want the unlink error", err)
	}
	if !documentStored(kept) {
		t.Error("collected after a failed unlink")
	}
}

// Rule M6: within a process, collection waits for sends holding media,
// and sends hold media together.
func TestM6_CollectWaitsForSends(t *testing.T) {
	l := newTestLib(t)
	ctx := context.Background()
	release := l.Hold()
	releaseToo := l.Hold() // sends do not wait for each other
	unlinked := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- l.Collect(ctx, func() ([]int64, error) { close(unlinked); return nil, nil })
	}()
	select {
	case <-unlinked:
		t.Fatal("collection ran while a send held media")
	case <-time.After(100 * time.Millisecond):
	}
	release()
	releaseToo()
	select {
	case <-unlinked:
	case <-time.After(10 * time.Second):
		t.Fatal("collection did not run once the sends were done")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
