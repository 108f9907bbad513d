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
	d := store.Document{ID: -3, AccessHash: 4, File: 5, Mime: "image/png", Attributes: []byte{1, 2, 3, 4}, Date: savedAt(1), Size: 99, SHA256: [32]byte{7, 7}}
	if err := s.PutDocument(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := s.Document(ctx, d.ID)
	if err != nil || got.ID != d.ID || got.AccessHash != 4 || got.File != 5 || got.Mime != d.Mime ||
		string(got.Attributes) != string(d.Attributes) || !got.Date.Equal(d.Date) || got.Size != 99 {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := s.Document(ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown document: %v", err)
	}
	if got, err := s.DocumentByHash(ctx, d.SHA256, 99, "image/png"); err != nil || got.ID != d.ID || got.SHA256 != d.SHA256 {
		t.Fatalf("by hash: %+v, %v", got, err)
	}
	for _, miss := range []struct {
		sum  [32]byte
		size int64
		mime string
	}{{d.SHA256, 98, "image/png"}, {d.SHA256, 99, "image/jpeg"}, {[32]byte{7}, 99, "image/png"}} {
		if _, err := s.DocumentByHash(ctx, miss.sum, miss.size, miss.mime); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("by hash %+v: %v", miss, err)
		}
	}
}
