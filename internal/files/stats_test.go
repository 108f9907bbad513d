package files_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

// TestO3_EngineStats: the engine counts the parts and bytes it saved and
// served, finalizations and their failures, and lists uploads in flight
// with part maps that show which parts are there and nothing of their
// owner or file id.
func TestO3_EngineStats(t *testing.T) {
	var finalizes []error
	e := newEngine(t, files.Config{OnFinalize: func(d time.Duration, err error) {
		if d <= 0 {
			t.Errorf("finalization took %v", d)
		}
		finalizes = append(finalizes, err)
	}})
	ctx := context.Background()
	data := content(1, 3*(128<<10)+100)
	parts := split(data, 128<<10)
	key := store.UploadKey{Owner: 77, FileID: 123456789}
	saveAll(t, e, key, parts)

	// A big upload with parts 0 and 2 of 5.
	big := store.UploadKey{Owner: 77, FileID: 987654321, Big: true}
	for _, i := range []int{0, 2} {
		if err := e.SavePart(ctx, files.SavePart{Key: big, Part: i, TotalParts: 5, Data: parts[0]}); err != nil {
			t.Fatal(err)
		}
	}
	fl := e.InFlight(50, 8000)
	if len(fl) != 2 {
		t.Fatalf("%d uploads in flight, want 2", len(fl))
	}
	if got := fmt.Sprint(fl[0].Map, fl[0].Parts, fl[0].Total, fl[0].Big); got != "[1 0 1 0 0] 2 5 true" {
		t.Errorf("big upload in flight: map, parts, total, big = %s", got)
	}
	if got := fmt.Sprint(fl[1].Map, fl[1].Parts, fl[1].Bytes); got != fmt.Sprint([]byte{1, 1, 1, 1}, 4, len(data)) {
		t.Errorf("small upload in flight: map, parts, bytes = %s", got)
	}
	for _, u := range fl {
		if len(u.ID) != 12 || u.ID == fmt.Sprint(key.FileID) {
			t.Errorf("upload shown as %q", u.ID)
		}
	}
	if got := len(e.InFlight(1, 3)[0].Map); got != 3 {
		t.Errorf("part map cut at 3 parts has %d", got)
	}
	if n := e.TempParts(); n != 6 {
		t.Errorf("TempParts = %d, want 6", n)
	}

	rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: len(parts), Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Finalize(ctx, files.Finalize{Key: store.UploadKey{Owner: 77, FileID: 5}, Parts: 1}); err == nil {
		t.Fatal("finalized an upload with no parts")
	}
	readAll(t, e, rec)
	st := e.Stats()
	want := files.Stats{PartsSaved: 6, BytesSaved: int64(len(data) + 2*len(parts[0])), BytesServed: int64(len(data)),
		Finalized: 1, FinalizeErrs: 1}
	if st != want {
		t.Errorf("Stats = %+v\nwant %+v", st, want)
	}
	if len(finalizes) != 2 || finalizes[0] != nil || finalizes[1] == nil {
		t.Errorf("OnFinalize saw %v", finalizes)
	}
}
