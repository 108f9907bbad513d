package files_test

import (
	"context"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

func wantFloodWait(t *testing.T, err error, seconds string) {
	t.Helper()
	e, ok := files.AsError(err)
	if !ok || e.Code != 420 || e.Message != "FLOOD_WAIT_"+seconds {
		t.Fatalf("got %v, want 420 FLOOD_WAIT_%s", err, seconds)
	}
}

func TestS7_ConcurrentUploadsPerAccount(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{MaxUploadsPerOwner: 3, FloodWait: 7 * time.Second})
	part := content(1, 1024)
	for i := 0; i < 3; i++ {
		wantErr(t, e.SavePart(ctx, files.SavePart{Key: store.UploadKey{Owner: 1, FileID: int64(i)}, Part: 0, Data: part}), "")
	}
	// A fourth upload of the same account waits; other accounts do not.
	wantFloodWait(t, e.SavePart(ctx, files.SavePart{Key: store.UploadKey{Owner: 1, FileID: 3}, Part: 0, Data: part}), "7")
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: store.UploadKey{Owner: 2, FileID: 3}, Part: 0, Data: part}), "")
	// More parts of an existing upload are fine.
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: store.UploadKey{Owner: 1, FileID: 0}, Part: 1, Data: part}), "")
	// Finalizing one frees a slot.
	_, err := e.Finalize(ctx, files.Finalize{Key: store.UploadKey{Owner: 1, FileID: 1}, Parts: 1})
	wantErr(t, err, "")
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: store.UploadKey{Owner: 1, FileID: 3}, Part: 0, Data: part}), "")
}

func TestS7_TempBytesPerAccount(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{MaxTempBytesPerOwner: 10 * 1024})
	key := store.UploadKey{Owner: 1, FileID: 1, Big: true}
	for i := 0; i < 10; i++ {
		wantErr(t, e.SavePart(ctx, files.SavePart{Key: key, Part: i, TotalParts: 10, Data: content(uint64(i), 1024)}), "")
	}
	other := store.UploadKey{Owner: 1, FileID: 2}
	wantFloodWait(t, e.SavePart(ctx, files.SavePart{Key: other, Part: 0, Data: content(10, 1024)}), "5")
	// A retry of a stored part does not add bytes.
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: key, Part: 3, TotalParts: 10, Data: content(3, 1024)}), "")
	// Other accounts are not held back.
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: store.UploadKey{Owner: 2, FileID: 1}, Part: 0, Data: content(1, 4096)}), "")
	// Once the account's parts are consumed it may upload again.
	_, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 10})
	wantErr(t, err, "")
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: other, Part: 0, Data: content(10, 1024)}), "")
}
