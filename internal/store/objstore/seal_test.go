package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/objstore"
	"github.com/filedc/filedc/internal/store/storetest"
)

// hookedIndex runs before, once, ahead of the index's n-th GetMany.
type hookedIndex struct {
	objstore.Index
	calls, n int
	before   func()
}

func (h *hookedIndex) GetMany(ctx context.Context, id store.UploadID, indexes []int) ([]objstore.Entry, []bool, error) {
	if h.calls++; h.calls == h.n {
		h.before()
	}
	return h.Index.GetMany(ctx, id, indexes)
}

// TestS7e_SealUndoneWhenAPartChangesAsItSeals: a part saved again through
// another process while Seal writes the manifest (after Seal checked the
// versions the first time) makes Seal fail and leave no file, and frees the
// replaced part's object; the parts as they are then seal exactly.
func TestS7e_SealUndoneWhenAPartChangesAsItSeals(t *testing.T) {
	bucket, index := openDir(t), openBolt(t)
	other := newStore(t, bucket, index, objstore.GC{})
	hooked := &hookedIndex{Index: index, n: 2} // Seal's second check
	s := newStore(t, bucket, hooked, objstore.GC{})
	id := storetest.UploadID(1)
	data := storetest.Data(1, 3*1024)
	n := putParts(t, s, id, data, 1024)
	read := storetest.Versions(t, s, id, n)
	resaved := storetest.Data(2, 1024)
	hooked.before = func() {
		p := store.Part{Index: 1, Size: 1024, Total: -1, SavedAt: time.Now()}
		if _, err := other.PutPart(t.Context(), id, store.UploadKey{Owner: 1, FileID: 2, Big: true}, p, resaved); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Seal(t.Context(), id, 42, read); !errors.Is(err, store.ErrPartChanged) {
		t.Fatalf("Seal while a part was saved again: %v, want store.ErrPartChanged", err)
	}
	if files := objects(t, bucket, "files/"); len(files) != 0 {
		t.Fatalf("the undone seal left manifests %v", files)
	}
	if parts := objects(t, bucket, "parts/"); len(parts) != n {
		t.Fatalf("%d part objects after the undone seal, want the %d the index names", len(parts), n)
	}
	now := storetest.Versions(t, s, id, n)
	if err := s.Seal(t.Context(), id, 43, now); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if err := s.ReadAt(t.Context(), 43, store.Layout{Size: int64(len(data)), PartSize: 1024, Parts: n}, got, 0); err != nil {
		t.Fatal(err)
	}
	if want := slices.Concat(data[:1024], resaved, data[2048:]); !bytes.Equal(got, want) {
		t.Fatal("the file is not the parts as saved last")
	}
}
