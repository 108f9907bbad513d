package files_test

import (
	"context"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

func TestU8_PartsExpireAfterMaxTTL(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	e := newEngine(t, files.Config{Clock: clock, MaxTTL: 6 * time.Hour})
	key := store.UploadKey{Owner: 1, FileID: 1, Big: true}
	data := content(1, 3*1024+10)
	parts := split(data, 1024)
	save := func(i int) {
		t.Helper()
		wantErr(t, e.SavePart(ctx, files.SavePart{Key: key, Part: i, TotalParts: 4, Data: parts[i]}), "")
	}
	save(0)
	save(1)
	clock.Advance(5 * time.Hour)
	save(2)
	save(3)
	clock.Advance(time.Hour) // parts 0 and 1 are now exactly 6 h old
	if err := e.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 4})
	wantErr(t, err, "FILE_PART_0_MISSING")
	save(0)
	_, err = e.Finalize(ctx, files.Finalize{Key: key, Parts: 4})
	wantErr(t, err, "FILE_PART_1_MISSING")
	save(1)
	rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 4})
	wantErr(t, err, "")
	checkStored(t, e, rec, data)

	// Once every part of an upload expired, the upload itself is gone.
	lone := store.UploadKey{Owner: 1, FileID: 2}
	saveAll(t, e, lone, [][]byte{content(2, 100)})
	clock.Advance(6*time.Hour + time.Second)
	if err := e.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if e.Uploads() != 0 || e.TempBytes() != 0 {
		t.Fatalf("%d uploads with %d bytes left after their TTL", e.Uploads(), e.TempBytes())
	}
}

func TestS7b_HardBudgetEvictsLeastRecentlyTouchedAfterMinTTL(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	const K = 1024
	e := newEngine(t, files.Config{Clock: clock, TempBudget: 64 * K, MinTTL: 10 * time.Minute})
	a := store.UploadKey{Owner: 1, FileID: 1}
	b := store.UploadKey{Owner: 1, FileID: 2}
	c := store.UploadKey{Owner: 2, FileID: 3}
	d := store.UploadKey{Owner: 2, FileID: 4}
	aData, bData, cData, dData := content(1, 40*K), content(2, 40*K), content(3, 8*K), content(4, 8*K)

	saveAll(t, e, a, split(aData, 8*K))
	clock.Advance(time.Minute)
	bParts := split(bData, 8*K)
	saveAll(t, e, b, bParts[:3])
	// The budget is hard (S7b): the save past it waits, since nothing is
	// older than the minimum TTL, and nothing goes.
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: b, Part: 3, Data: bParts[3]}), "FLOOD_WAIT_5")
	if err := e.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.TempBytes(); got != 64*K {
		t.Fatalf("temp bytes %d, want %d: the budget is exact, and no upload younger than the min TTL goes", got, 64*K)
	}
	clock.Advance(10 * time.Minute)
	// Touching A makes B the least recently touched upload.
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: a, Part: 0, Data: aData[:8*K]}), "")
	clock.Advance(10 * time.Minute)
	saveAll(t, e, c, [][]byte{cData}) // no room: B goes, A stays
	if got := e.TempBytes(); got != 48*K {
		t.Fatalf("temp bytes %d, want %d after evicting one upload", got, 48*K)
	}
	_, err := e.Finalize(ctx, files.Finalize{Key: b, Parts: 3})
	wantErr(t, err, "FILE_PART_0_MISSING")
	recA, err := e.Finalize(ctx, files.Finalize{Key: a, Parts: 5})
	wantErr(t, err, "")
	checkStored(t, e, recA, aData)
	saveAll(t, e, d, [][]byte{dData})
	recC, err := e.Finalize(ctx, files.Finalize{Key: c, Parts: 1})
	wantErr(t, err, "")
	checkStored(t, e, recC, cData)
}

func TestU9_PartsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newFakeClock()
	cfg := files.Config{Clock: clock, TempBudget: 1 << 30}
	b := openIn(t, dir, cfg)
	key := store.UploadKey{Owner: 7, FileID: -3, Big: true}
	data := content(1, 10*4096+5)
	parts := split(data, 4096)
	for i := 0; i < len(parts); i += 2 { // half the parts, then a restart
		wantErr(t, b.Engine.SavePart(ctx, files.SavePart{Key: key, Part: i, TotalParts: -1, Data: parts[i]}), "")
	}
	b.Close()

	clock.Advance(time.Hour)
	b = openIn(t, dir, cfg)
	if got, want := b.Engine.TempBytes(), int64(5*4096+5); got != want {
		t.Fatalf("after restart %d temp bytes, want %d", got, want)
	}
	// The rules still see the parts saved before the restart.
	wantErr(t, b.Engine.SavePart(ctx, files.SavePart{Key: key, Part: 1, TotalParts: -1, Data: make([]byte, 2048)}), "FILE_PART_SIZE_CHANGED")
	for i := 1; i < len(parts); i += 2 {
		total := int32(-1)
		if i == len(parts)-1 {
			total = int32(len(parts))
		}
		wantErr(t, b.Engine.SavePart(ctx, files.SavePart{Key: key, Part: i, TotalParts: total, Data: parts[i]}), "")
	}
	rec, err := b.Engine.Finalize(ctx, files.Finalize{Key: key, Parts: len(parts)})
	wantErr(t, err, "")
	b.Close()

	b = openIn(t, dir, cfg)
	checkStored(t, b.Engine, rec, data)
	if b.Engine.Uploads() != 0 {
		t.Fatal("a finalized upload came back after restart")
	}
	// Save times survive too: the parts of an upload saved before the restart
	// expire on schedule.
	other := store.UploadKey{Owner: 7, FileID: 4}
	saveAll(t, b.Engine, other, [][]byte{content(2, 10)})
	b.Close()
	clock.Advance(6*time.Hour + time.Minute)
	b = openIn(t, dir, cfg)
	if err := b.Engine.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Engine.Uploads() != 0 {
		t.Fatal("parts outlived their TTL across a restart")
	}
}
