package library

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"path/filepath"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/bolt"
	"github.com/filedc/filedc/internal/store/local"
)

// testLib is a service of DC 2 over the embedded stores: bbolt records and
// files on local disk, as `filedc serve` keeps them by default.
type testLib struct {
	*Service
	meta *bolt.Meta
	eng  *files.Engine
	now  *time.Time
}

const testOwner = 7000001

func newTestLib(t *testing.T, edits ...func(*Config)) *testLib {
	t.Helper()
	dir := t.TempDir()
	meta, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	disk, err := local.Open(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := files.New(context.Background(), files.Config{DC: 2}, disk, disk, meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := meta.PutAccount(context.Background(), store.Account{ID: testOwner, Name: "owner", AccessKey: 9}); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	l := &testLib{meta: meta, eng: eng, now: &now}
	cfg := Config{DC: 2, Engine: eng, Documents: meta, Photos: meta, Messages: meta, Accounts: meta, Chats: meta,
		Secret: []byte("library test secret"), Now: func() time.Time { return *l.now }}
	for _, edit := range edits {
		edit(&cfg)
	}
	l.Service = New(cfg)
	return l
}

// upload saves data as the parts of a new upload of testOwner's and names
// it for finalizing, as an InputFile would (an InputFileBig over 10 MiB).
func (l *testLib) upload(t *testing.T, fileID int64, name string, data []byte) Upload {
	t.Helper()
	return l.uploadAs(t, testOwner, fileID, name, data)
}

// uploadAs is upload by another account.
func (l *testLib) uploadAs(t *testing.T, owner, fileID int64, name string, data []byte) Upload {
	t.Helper()
	const partSize = 512 << 10
	key := store.UploadKey{Owner: owner, FileID: fileID, Big: len(data) > 10<<20}
	total := int32((len(data) + partSize - 1) / partSize)
	parts := 0
	for off := 0; off < len(data); off += partSize {
		err := l.eng.SavePart(context.Background(), files.SavePart{Key: key, Part: parts, TotalParts: total,
			Data: data[off:min(off+partSize, len(data))]})
		if err != nil {
			t.Fatal(err)
		}
		parts++
	}
	return Upload{Finalize: files.Finalize{Key: key, Parts: parts, Name: name}}
}

// exists reports whether a stored file is still there.
func (l *testLib) exists(t *testing.T, id, accessHash int64) bool {
	t.Helper()
	_, err := l.eng.File(context.Background(), files.FileRef{ID: id, AccessHash: accessHash})
	if err != nil && !errors.Is(err, files.ErrFileIDInvalid) {
		t.Fatalf("file %d: %v", id, err)
	}
	return err == nil
}

// picture is a PNG of w×h with detail everywhere, so that its sizes are
// not trivially small.
func picture(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wantError checks that err is the Telegram error code/msg.
func wantError(t *testing.T, what string, err error, code int, msg string) {
	t.Helper()
	fe, ok := files.AsError(err)
	if !ok || fe.Code != code || fe.Message != msg {
		t.Errorf("%s: %v, want %d %s", what, err, code, msg)
	}
}

// storedFiles lists the records of every stored file.
func (l *testLib) storedFiles(t *testing.T) map[int64]store.FileRecord {
	t.Helper()
	out := map[int64]store.FileRecord{}
	err := l.meta.Files(context.Background(), func(r store.FileRecord) error {
		out[r.ID] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
