package files_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/filedc/filedc/internal/backend"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

func TestSmokeRoundtrip(t *testing.T) {
	ctx := context.Background()
	b, err := backend.OpenEmbedded(ctx, t.TempDir(), files.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	data := make([]byte, 3*131072+1000)
	rand.Read(data)
	key := store.UploadKey{Owner: 1, FileID: 42}
	for i := 0; i*131072 < len(data); i++ {
		end := min(len(data), (i+1)*131072)
		if err := b.Engine.SavePart(ctx, files.SavePart{Key: key, Part: i, Data: data[i*131072 : end]}); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := b.Engine.Finalize(ctx, files.Finalize{Key: key, Parts: 4})
	if err != nil {
		t.Fatal(err)
	}
	if rec.SHA256 != sha256.Sum256(data) {
		t.Fatal("sha mismatch")
	}
	var got []byte
	for off := int64(0); ; off += 65536 {
		c, err := b.Engine.Read(ctx, files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}, off, 65536, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.Bytes...)
		if len(c.Bytes) < 65536 {
			break
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatal("content mismatch")
	}
}
