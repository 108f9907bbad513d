package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/filedc/filedc/internal/store"
)

// TestDocuments runs the conformance suite for store.Documents.
func TestDocuments(t *testing.T, open func(t *testing.T) store.Documents) {
	ctx := context.Background()
	s := open(t)
	d := store.Document{ID: -3, AccessHash: 4, Owner: 31, File: 5, FileAccess: 6, Mime: "image/png", Attributes: []byte{1, 2, 3, 4}, Date: savedAt(1), Size: 99, SHA256: [32]byte{7, 7},
		Thumbs: []store.PhotoSize{{Type: "m", W: 320, H: 200, File: 8, FileAccess: 9, Size: 1000}}, Stripped: []byte{1, 2, 3}, Outline: []byte{0xc0, 4, 5}}
	if stored, err := s.PutDocument(ctx, d); err != nil || stored.ID != d.ID || stored.File != d.File || stored.FileAccess != d.FileAccess {
		t.Fatalf("PutDocument: %+v, %v", stored, err)
	}
	got, err := s.Document(ctx, d.ID)
	if err != nil || got.ID != d.ID || got.AccessHash != 4 || got.Owner != 31 || got.File != 5 || got.Mime != d.Mime ||
		string(got.Attributes) != string(d.Attributes) || !got.Date.Equal(d.Date) || got.Size != 99 ||
		got.FileAccess != 6 || len(got.Thumbs) != 1 || got.Thumbs[0] != d.Thumbs[0] || string(got.Stripped) != "\x01\x02\x03" ||
		string(got.Outline) != "\xc0\x04\x05" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := s.Document(ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown document: %v", err)
	}
	if got, err := s.DocumentByHash(ctx, d.SHA256, 99, "image/png", 0); err != nil || got.ID != d.ID || got.SHA256 != d.SHA256 {
		t.Fatalf("by hash: %+v, %v", got, err)
	}
	for _, miss := range []struct {
		sum  [32]byte
		size int64
		mime string
	}{{d.SHA256, 98, "image/png"}, {d.SHA256, 99, "image/jpeg"}, {[32]byte{7}, 99, "image/png"}} {
		if _, err := s.DocumentByHash(ctx, miss.sum, miss.size, miss.mime, 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("by hash %+v: %v", miss, err)
		}
	}
	// Documents of one content under other mime types share it.
	e := store.Document{ID: 10, AccessHash: 11, File: 5, FileAccess: 6, Mime: "application/octet-stream", Date: savedAt(2), Size: 99, SHA256: d.SHA256}
	other := store.Document{ID: 12, AccessHash: 13, File: 14, Mime: "image/png", Date: savedAt(2), Size: 98, SHA256: d.SHA256}
	for _, x := range []store.Document{e, other} {
		if _, err := s.PutDocument(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	same, err := s.DocumentsByContent(ctx, d.SHA256, 99)
	if err != nil || len(same) != 2 || same[0].ID+same[1].ID != d.ID+e.ID {
		t.Fatalf("by content: %+v, %v", same, err)
	}
	if err := s.DeleteDocument(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Document(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deleted document: %v", err)
	}
	if _, err := s.DocumentByHash(ctx, d.SHA256, 99, "image/png", 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deleted document by hash: %v", err)
	}
	if same, err := s.DocumentsByContent(ctx, d.SHA256, 99); err != nil || len(same) != 1 || same[0].ID != e.ID {
		t.Fatalf("by content after deletion: %+v, %v", same, err)
	}
	if err := s.DeleteDocument(ctx, d.ID); err != nil {
		t.Fatalf("deleting again: %v", err)
	}

	// Content is stored once: a new document of stored content takes the
	// file of the documents that have it, and one of the same content and
	// mime type is the one already there.
	f := store.Document{ID: 20, AccessHash: 21, File: 22, FileAccess: 23, Mime: "image/png", Date: savedAt(3), Size: 99, SHA256: d.SHA256}
	stored, err := s.PutDocument(ctx, f)
	if err != nil || stored.ID != f.ID || stored.File != e.File || stored.FileAccess != e.FileAccess || stored.AccessHash != f.AccessHash {
		t.Fatalf("a document of stored content: %+v, %v", stored, err)
	}
	if got, err := s.Document(ctx, f.ID); err != nil || got.File != e.File || got.FileAccess != e.FileAccess {
		t.Fatalf("stored %+v, %v", got, err)
	}
	g := store.Document{ID: 24, AccessHash: 25, File: 26, Mime: "image/png", Date: savedAt(4), Size: 99, SHA256: d.SHA256}
	if stored, err := s.PutDocument(ctx, g); err != nil || stored.ID != f.ID || stored.File != e.File {
		t.Fatalf("a second document of one content and mime type: %+v, %v", stored, err)
	}
	if _, err := s.Document(ctx, g.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the second document was stored: %v", err)
	}
	f.Attributes = []byte{9}
	if stored, err := s.PutDocument(ctx, f); err != nil || stored.ID != f.ID {
		t.Fatalf("putting a document again: %+v, %v", stored, err)
	}
	if got, err := s.Document(ctx, f.ID); err != nil || string(got.Attributes) != "\x09" {
		t.Fatalf("a document put again: %+v, %v", got, err)
	}

	// Metadata is each owner's own (S7e): another owner's document of the
	// same content and mime type, or the same owner's with other
	// attributes, is a document of its own that shares the content.
	own := func(id, owner int64, attrs string) store.Document {
		return store.Document{ID: id, AccessHash: id + 1, Owner: owner, File: id + 2, Mime: "image/png",
			Attributes: []byte(attrs), Date: savedAt(5), Size: 99, SHA256: d.SHA256}
	}
	for _, x := range []store.Document{own(30, 7, "a.png"), own(40, 8, "a.png"), own(50, 7, "b.png")} {
		stored, err := s.PutDocument(ctx, x)
		if err != nil || stored.ID != x.ID || stored.Owner != x.Owner || string(stored.Attributes) != string(x.Attributes) ||
			stored.File != e.File || stored.FileAccess != e.FileAccess {
			t.Fatalf("owner %d's document %q of stored content: %+v, %v", x.Owner, x.Attributes, stored, err)
		}
	}
	if stored, err := s.PutDocument(ctx, own(60, 8, "a.png")); err != nil || stored.ID != 40 {
		t.Fatalf("owner 8's same document again: %+v, %v", stored, err)
	}
	if _, err := s.Document(ctx, 60); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the same document of one owner was stored twice: %v", err)
	}
	if got, err := s.DocumentByHash(ctx, d.SHA256, 99, "image/png", 8); err != nil || got.ID != 40 {
		t.Fatalf("by hash for owner 8: %+v, %v", got, err)
	}
	if got, err := s.DocumentByHash(ctx, d.SHA256, 99, "image/png", 7); err != nil || got.Owner != 7 {
		t.Fatalf("by hash for owner 7: %+v, %v", got, err)
	}
	if got, err := s.DocumentByHash(ctx, d.SHA256, 99, "image/png", 9); err != nil || got.Mime != "image/png" || got.SHA256 != d.SHA256 {
		t.Fatalf("by hash for an owner without one: %+v, %v", got, err)
	}
	if err := s.DeleteDocument(ctx, 40); err != nil {
		t.Fatal(err)
	}
	if got, err := s.DocumentByHash(ctx, d.SHA256, 99, "image/png", 8); err != nil || got.ID == 40 {
		t.Fatalf("by hash for owner 8 after deleting its document: %+v, %v", got, err)
	}
	if same, err := s.DocumentsByContent(ctx, d.SHA256, 99); err != nil || len(same) != 4 {
		t.Fatalf("by content with several owners: %d documents, %v; want 4", len(same), err)
	}
}
