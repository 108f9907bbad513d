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
	d := store.Document{ID: -3, AccessHash: 4, File: 5, Mime: "image/png", Attributes: []byte{1, 2, 3, 4}, Date: savedAt(1), Size: 99}
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
}
