package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/filedc/filedc/internal/store"
)

// TestPhotos runs the conformance suite for store.Photos.
func TestPhotos(t *testing.T, open func(t *testing.T) store.Photos) {
	ctx := context.Background()
	s := open(t)
	p := store.Photo{ID: 12, AccessHash: -13, Owner: 14, Date: savedAt(3), Stripped: []byte{1, 40, 30, 9},
		Sizes: []store.PhotoSize{{Type: "s", W: 100, H: 75, File: 1, FileAccess: 2, Size: 3000}, {Type: "m", W: 320, H: 240, File: 4, FileAccess: 5, Size: 20000}},
		Video: &store.PhotoSize{Type: "u", W: 800, H: 800, File: 6, FileAccess: 7, Size: 90000}, VideoStart: 1.5}
	if err := s.PutPhoto(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := s.Photo(ctx, 12)
	if err != nil || got.AccessHash != -13 || got.Owner != 14 || !got.Date.Equal(p.Date) ||
		string(got.Stripped) != string(p.Stripped) || len(got.Sizes) != 2 || got.Sizes[1] != p.Sizes[1] ||
		got.Video == nil || *got.Video != *p.Video || got.VideoStart != 1.5 {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := s.Photo(ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown photo: %v", err)
	}
	if err := s.DeletePhoto(ctx, 12); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Photo(ctx, 12); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deleted photo: %v", err)
	}
	if err := s.DeletePhoto(ctx, 12); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
}
