package storetest

import (
	"context"
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
