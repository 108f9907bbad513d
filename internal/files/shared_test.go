package files_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

// twoProcesses returns two engines on the same stores, as two processes of
// one DC sharing their backends see them: each with its own in-memory state.
func twoProcesses(t *testing.T, cfg files.Config) (*files.Engine, *files.Engine) {
	t.Helper()
	cfg.Shared = true
	b := openIn(t, t.TempDir(), cfg)
	other, err := files.New(context.Background(), cfg, b.Disk, b.Disk, b.Meta)
	if err != nil {
		t.Fatal(err)
	}
	return b.Engine, other
}

func TestO2_PartsSavedThroughOneProcessFinalizedThroughAnother(t *testing.T) {
	ctx := context.Background()
	a, b := twoProcesses(t, files.Config{})
	data := content(21, 7*128<<10+999)
	parts := split(data, 128<<10)
	key := store.UploadKey{Owner: 5, FileID: 77, Big: true}
	// Parts arrive in parallel, alternating between the processes.
	var wg sync.WaitGroup
	for i, p := range parts {
		e := a
		if i%2 == 1 {
			e = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.SavePart(ctx, files.SavePart{Key: key, Part: i, TotalParts: int32(len(parts)), Data: p}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rec, err := b.Finalize(ctx, files.Finalize{Key: key, Parts: len(parts), Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	checkStored(t, b, rec, data)
	checkStored(t, a, rec, data) // the file is readable through either
	// The other process sees the upload consumed: finalizing it there finds
	// no parts, and it forgets its view at the next sweep.
	_, err = a.Finalize(ctx, files.Finalize{Key: key, Parts: len(parts)})
	wantErr(t, err, "FILE_PART_0_MISSING")
	if err := a.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := a.Uploads(); n != 0 {
		t.Fatalf("process a still holds %d uploads after another finalized them", n)
	}
	// The client may reuse the file_id: a new generation, through either.
	again := content(22, 1000)
	saveAll(t, a, key, [][]byte{again})
	rec2, err := b.Finalize(ctx, files.Finalize{Key: key, Parts: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkStored(t, a, rec2, again)
}

func TestO2_MissingPartSavedThroughTheOtherProcess(t *testing.T) {
	ctx := context.Background()
	a, b := twoProcesses(t, files.Config{})
	data := content(23, 4*64<<10)
	parts := split(data, 64<<10)
	key := store.UploadKey{Owner: 6, FileID: 1}
	saveAll(t, a, key, parts[:3])
	_, err := b.Finalize(ctx, files.Finalize{Key: key, Parts: 4})
	wantErr(t, err, "FILE_PART_3_MISSING")
	if err := b.SavePart(ctx, files.SavePart{Key: key, Part: 3, Data: parts[3]}); err != nil {
		t.Fatal(err)
	}
	rec, err := a.Finalize(ctx, files.Finalize{Key: key, Parts: 4})
	if err != nil {
		t.Fatal(err)
	}
	checkStored(t, a, rec, data)
	// Rules that need every part still hold across processes (U3).
	key2 := store.UploadKey{Owner: 6, FileID: 2}
	if err := a.SavePart(ctx, files.SavePart{Key: key2, Part: 0, Data: content(1, 64<<10)}); err != nil {
		t.Fatal(err)
	}
	if err := b.SavePart(ctx, files.SavePart{Key: key2, Part: 1, Data: content(2, 128<<10)}); err != nil {
		t.Fatal(err)
	}
	if err := b.SavePart(ctx, files.SavePart{Key: key2, Part: 2, Data: content(3, 10)}); err != nil {
		t.Fatal(err)
	}
	_, err = a.Finalize(ctx, files.Finalize{Key: key2, Parts: 3})
	wantErr(t, err, "FILE_PART_SIZE_CHANGED")
}

// A process making room in its temp budget does not evict an upload that
// looks old to it but was touched through another process lately (U8); an
// upload nobody touched for MinTTL it evicts for every process. The budget
// is hard in each process (S7b).
func TestO2_SweepSeesPartsSavedThroughAnotherProcess(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	const part = 64 << 10
	a, b := twoProcesses(t, files.Config{Clock: clock, TempBudget: part, MinTTL: 10 * time.Minute})
	key := store.UploadKey{Owner: 7, FileID: 3}
	parts := split(content(24, 2*part), part)
	if err := a.SavePart(ctx, files.SavePart{Key: key, Part: 0, Data: parts[0]}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(11 * time.Minute)
	if err := b.SavePart(ctx, files.SavePart{Key: key, Part: 1, Data: parts[1]}); err != nil {
		t.Fatal(err)
	}
	// a is at its budget: another upload's part waits, since the only
	// upload a could evict was touched through b a moment ago.
	other := store.UploadKey{Owner: 8, FileID: 9}
	err := a.SavePart(ctx, files.SavePart{Key: other, Part: 0, Data: parts[0]})
	wantErr(t, err, "FLOOD_WAIT_5")
	rec, err := a.Finalize(ctx, files.Finalize{Key: key, Parts: 2})
	if err != nil {
		t.Fatalf("the upload touched through b was evicted by a: %v", err)
	}
	checkStored(t, a, rec, append(append([]byte(nil), parts[0]...), parts[1]...))
	// b still counts part 1 of the upload a finalized: making room, it
	// finds that upload gone and forgets it.
	key2 := store.UploadKey{Owner: 7, FileID: 4}
	if err := b.SavePart(ctx, files.SavePart{Key: key2, Part: 0, Data: parts[0]}); err != nil {
		t.Fatalf("b's save after a finalized what b counted: %v", err)
	}
	if err := a.SavePart(ctx, files.SavePart{Key: key2, Part: 1, Data: parts[1]}); err != nil {
		t.Fatal(err)
	}
	// Once nobody touches an upload for MinTTL, either process evicts it.
	clock.Advance(11 * time.Minute)
	if err := a.SavePart(ctx, files.SavePart{Key: other, Part: 0, Data: parts[0]}); err != nil {
		t.Fatalf("a save after MinTTL: %v", err)
	}
	_, err = b.Finalize(ctx, files.Finalize{Key: key2, Parts: 2})
	wantErr(t, err, "FILE_PART_0_MISSING")
}
