package files_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/bolt"
	"github.com/filedc/filedc/internal/store/local"
)

// lostReply commits like its Meta but answers the first commit with an error,
// as when a database's answer is lost on the network.
type lostReply struct {
	store.Meta
	lost bool
}

func (m *lostReply) CommitFile(ctx context.Context, rec store.FileRecord, ranges []store.Hash) error {
	if err := m.Meta.CommitFile(ctx, rec, ranges); err != nil {
		return err
	}
	if !m.lost {
		m.lost = true
		return errors.New("connection reset")
	}
	return nil
}

// TestF4_CommitWithLostReplyKeepsTheContent: when the commit's answer is lost
// the finalization fails, but the file it may have committed keeps its
// content, also across a restart.
func TestF4_CommitWithLostReplyKeepsTheContent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	disk, err := local.Open(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	meta, err := bolt.Open(dir + "/meta.db")
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	lr := &lostReply{Meta: meta}
	eng, err := files.New(ctx, files.Config{}, disk, disk, lr)
	if err != nil {
		t.Fatal(err)
	}
	data := content(7, 3000)
	key := store.UploadKey{Owner: 1, FileID: 2}
	if err := eng.SavePart(ctx, files.SavePart{Key: key, Part: 0, Data: data}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Finalize(ctx, files.Finalize{Key: key, Parts: 1, Name: "a"}); err == nil {
		t.Fatal("Finalize succeeded although the commit's answer was lost")
	}
	var recs []store.FileRecord
	if err := meta.Files(ctx, func(r store.FileRecord) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%d records, want the one committed", len(recs))
	}
	// A restart keeps content that a record names.
	eng, err = files.New(ctx, files.Config{}, disk, disk, meta)
	if err != nil {
		t.Fatal(err)
	}
	got, err := eng.ReadAll(ctx, files.FileRef{ID: recs[0].ID, AccessHash: recs[0].AccessHash}, 1<<20)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the committed file: %d bytes, %v", len(got), err)
	}
}
