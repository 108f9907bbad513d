package library

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

// countingDocuments counts the document reads of the records.
type countingDocuments struct {
	store.Documents
	reads atomic.Int64
}

func (c *countingDocuments) Document(ctx context.Context, id int64) (store.Document, error) {
	c.reads.Add(1)
	return c.Documents.Document(ctx, id)
}

// TestD1_DownloadsOfADocumentReadItsRecordOnce: a process alone on its
// records resolves the downloads of a document it served lately without
// reading the records again; a wrong access hash or reference is still
// refused; once collected, the document is FILE_ID_INVALID at once.
func TestD1_DownloadsOfADocumentReadItsRecordOnce(t *testing.T) {
	var docs *countingDocuments
	l := newTestLib(t, func(c *Config) {
		docs = &countingDocuments{Documents: c.Documents}
		c.Documents = docs
	})
	ctx := context.Background()
	d, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: l.upload(t, 1, "a.png", picture(t, 300, 200))})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Thumbs) == 0 {
		t.Fatal("a picture without a thumbnail")
	}
	ref := l.Ref(files.FileRef{ID: d.ID, AccessHash: d.AccessHash}, ObjectOrigin)
	in := Named{ID: d.ID, AccessHash: d.AccessHash, FileReference: ref}
	before := docs.reads.Load()
	for range 100 {
		got, err := l.DocumentFile(ctx, in, "")
		if err != nil || got != (files.FileRef{ID: d.File, AccessHash: d.FileAccess}) {
			t.Fatalf("DocumentFile: %v, %v", got, err)
		}
	}
	thumb, err := l.DocumentFile(ctx, in, d.Thumbs[0].Type)
	if err != nil || thumb.ID != d.Thumbs[0].File {
		t.Fatalf("thumbnail %q: %v, %v", d.Thumbs[0].Type, thumb, err)
	}
	if n := docs.reads.Load() - before; n != 1 {
		t.Errorf("101 downloads read the document %d times, want 1", n)
	}
	if _, err := l.DocumentFile(ctx, Named{ID: d.ID, AccessHash: d.AccessHash + 1, FileReference: ref}, ""); !errors.Is(err, files.ErrFileIDInvalid) {
		t.Errorf("wrong access hash: %v, want FILE_ID_INVALID", err)
	}
	bad := append([]byte(nil), ref...)
	bad[len(bad)-1] ^= 1
	if _, err := l.DocumentFile(ctx, Named{ID: d.ID, AccessHash: d.AccessHash, FileReference: bad}, ""); err == nil {
		t.Error("a damaged file reference accepted")
	}
	if _, err := l.DocumentFile(ctx, in, "zz"); err == nil {
		t.Error("a thumbnail the document has not accepted")
	}

	if err := l.Collect(ctx, func() ([]int64, error) { return []int64{d.ID}, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := l.DocumentFile(ctx, in, ""); !errors.Is(err, files.ErrFileIDInvalid) {
		t.Errorf("a collected document: %v, want FILE_ID_INVALID", err)
	}
}
