package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/filedc/filedc/internal/store"
)

// TestPartLister runs the conformance suite for store.PartLister on a Temp
// store that implements it.
func TestPartLister(t *testing.T, open func(t *testing.T) store.Temp) {
	ctx := context.Background()
	tmp := open(t)
	lister, ok := tmp.(store.PartLister)
	if !ok {
		t.Fatalf("%T does not implement store.PartLister", tmp)
	}
	id, key := UploadID(40), store.UploadKey{Owner: 4, FileID: 40, Big: true}
	if parts, err := lister.Parts(ctx, id); err != nil || len(parts) != 0 {
		t.Fatalf("missing upload: %v, %v", parts, err)
	}
	want := []store.Part{
		{Index: 5, Size: 1000, Total: 6, SavedAt: savedAt(5)},
		{Index: 0, Size: 4096, Total: -1, SavedAt: savedAt(0)},
		{Index: 2, Size: 4096, Total: 6, SavedAt: savedAt(2)},
	}
	for _, p := range want {
		if _, err := tmp.PutPart(ctx, id, key, p, Data(uint64(p.Index), p.Size)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tmp.PutPart(ctx, UploadID(41), key, want[0], Data(1, want[0].Size)); err != nil {
		t.Fatal(err)
	}
	parts, err := lister.Parts(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	order := []store.Part{want[1], want[2], want[0]}
	if len(parts) != len(order) {
		t.Fatalf("listed %d parts, want %d", len(parts), len(order))
	}
	for i := range order {
		if !samePart(parts[i], order[i]) {
			t.Fatalf("part %d: %s, want %s", i, fmtPart(parts[i]), fmtPart(order[i]))
		}
	}
	if err := tmp.DeletePart(ctx, id, 2); err != nil {
		t.Fatal(err)
	}
	if parts, _ := lister.Parts(ctx, id); len(parts) != 2 || parts[0].Index != 0 || parts[1].Index != 5 {
		t.Fatalf("after deleting part 2: %v", parts)
	}
	if err := tmp.DeleteUpload(ctx, id); err != nil {
		t.Fatal(err)
	}
	if parts, err := lister.Parts(ctx, id); err != nil || len(parts) != 0 {
		t.Fatalf("deleted upload: %v, %v", parts, err)
	}
}

// TestHashStateKeeper runs the conformance suite for store.HashStateKeeper
// on a Temp store that implements it; reopen opens the same store again, as
// a process does after a restart.
func TestHashStateKeeper(t *testing.T, open func(t *testing.T) store.Temp, reopen func(t *testing.T, old store.Temp) store.Temp) {
	ctx := context.Background()
	tmp := open(t)
	keeper, ok := tmp.(store.HashStateKeeper)
	if !ok {
		t.Fatalf("%T does not implement store.HashStateKeeper", tmp)
	}
	id, other := UploadID(50), UploadID(51)
	key := store.UploadKey{Owner: 5, FileID: 50, Big: true}
	if _, err := keeper.HashState(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no state yet: %v, want ErrNotFound", err)
	}
	for _, u := range []store.UploadID{id, other} {
		if _, err := tmp.PutPart(ctx, u, key, store.Part{Index: 0, Size: 100, Total: 1, SavedAt: savedAt(0)}, Data(1, 100)); err != nil {
			t.Fatal(err)
		}
	}
	first, big := Data(2, 300), Data(3, 600<<10) // the state of a 2 GiB upload is about this size
	if err := keeper.PutHashState(ctx, id, first); err != nil {
		t.Fatal(err)
	}
	if err := keeper.PutHashState(ctx, other, Data(4, 10)); err != nil {
		t.Fatal(err)
	}
	if got, err := keeper.HashState(ctx, id); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("state read back: %d bytes, %v; want the %d written", len(got), err, len(first))
	}
	if err := keeper.PutHashState(ctx, id, big); err != nil {
		t.Fatal(err)
	}
	if reopen != nil {
		tmp = reopen(t, tmp)
		keeper = tmp.(store.HashStateKeeper)
	}
	if got, err := keeper.HashState(ctx, id); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("state replaced (and reopened): %d bytes, %v; want the %d written last", len(got), err, len(big))
	}
	if err := tmp.DeleteUpload(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := keeper.HashState(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after DeleteUpload: %v, want ErrNotFound", err)
	}
	if got, err := keeper.HashState(ctx, other); err != nil || !bytes.Equal(got, Data(4, 10)) {
		t.Fatalf("another upload's state: %d bytes, %v", len(got), err)
	}
}
