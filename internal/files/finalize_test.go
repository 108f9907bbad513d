package files_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

func TestF1_PartsMustMatchSavedParts(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	key := store.UploadKey{Owner: 1, FileID: 1}
	data := content(1, 3*1024)
	saveAll(t, e, key, split(data, 1024))
	for _, n := range []int{0, -1, 4001} {
		_, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: n})
		wantErr(t, err, "FILE_PARTS_INVALID")
	}
	_, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 2}) // three were saved
	wantErr(t, err, "FILE_PARTS_INVALID")
	_, err = e.Finalize(ctx, files.Finalize{Key: key, Parts: 4})
	wantErr(t, err, "FILE_PART_3_MISSING")
	rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 3})
	wantErr(t, err, "")
	checkStored(t, e, rec, data)

	// max_parts bounds finalization too, premium accounts included.
	big := store.UploadKey{Owner: 1, FileID: 2, Big: true}
	_, err = e.Finalize(ctx, files.Finalize{Key: big, Parts: 8001, Premium: true})
	wantErr(t, err, "FILE_PARTS_INVALID")
	_, err = e.Finalize(ctx, files.Finalize{Key: big, Parts: 8000, Premium: true})
	wantErr(t, err, "FILE_PART_0_MISSING")
}

func TestF2_LowestMissingPart(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	key := store.UploadKey{Owner: 1, FileID: 1, Big: true}
	data := content(1, 7*2048)
	parts := split(data, 2048)
	for _, i := range []int{6, 0, 4, 2, 1} {
		wantErr(t, e.SavePart(ctx, files.SavePart{Key: key, Part: i, TotalParts: 7, Data: parts[i]}), "")
	}
	for _, missing := range []int{3, 5} {
		_, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 7})
		wantErr(t, err, fmt.Sprintf("FILE_PART_%d_MISSING", missing))
		wantErr(t, e.SavePart(ctx, files.SavePart{Key: key, Part: missing, TotalParts: 7, Data: parts[missing]}), "")
	}
	rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 7})
	wantErr(t, err, "")
	checkStored(t, e, rec, data)
}

func TestF3_MD5Checksum(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	data := content(1, 5*1024+3)
	sum := md5.Sum(data)
	good := hex.EncodeToString(sum[:])
	wrong := hex.EncodeToString(make([]byte, 16))
	cases := []struct {
		md5  string
		want string
	}{
		{"", ""}, // GramJS and mtcute send none
		{good, ""},
		{strings.ToUpper(good), ""},
		{wrong, "MD5_CHECKSUM_INVALID"},
		{"not hex", "MD5_CHECKSUM_INVALID"},
	}
	for i, tc := range cases {
		key := store.UploadKey{Owner: 1, FileID: int64(i)}
		saveAll(t, e, key, split(data, 1024))
		rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 6, MD5: tc.md5})
		wantErr(t, err, tc.want)
		if tc.want != "" {
			// The parts stay; the client may finalize again with the right sum.
			rec, err = e.Finalize(ctx, files.Finalize{Key: key, Parts: 6, MD5: good})
			wantErr(t, err, "")
		}
		checkStored(t, e, rec, data)
	}
	// Big files carry no checksum: one given by mistake is ignored.
	key := store.UploadKey{Owner: 1, FileID: 100, Big: true}
	saveAll(t, e, key, split(data, 1024))
	_, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 6, MD5: wrong})
	wantErr(t, err, "")
}

func TestF4_ConsumedAtMostOnce(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	key := store.UploadKey{Owner: 1, FileID: 1}
	data := content(1, 4000)
	saveAll(t, e, key, [][]byte{data})
	rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 1})
	wantErr(t, err, "")
	_, err = e.Finalize(ctx, files.Finalize{Key: key, Parts: 1})
	wantErr(t, err, "FILE_PART_0_MISSING")
	checkStored(t, e, rec, data)

	// The file_id may be reused afterwards: that is a new upload.
	again := content(2, 3000)
	saveAll(t, e, key, [][]byte{again})
	rec2, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 1})
	wantErr(t, err, "")
	if rec2.ID == rec.ID {
		t.Fatal("a new upload under a reused file_id got the old file's id")
	}
	checkStored(t, e, rec2, again)
	checkStored(t, e, rec, data)
}

func TestF4_ConcurrentFinalizeOnlyOneWins(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	key := store.UploadKey{Owner: 1, FileID: 1, Big: true}
	data := content(1, 40*1024)
	saveAll(t, e, key, split(data, 4096))
	results := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			_, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 10})
			results <- err
		}()
	}
	ok := 0
	for i := 0; i < 8; i++ {
		if err := <-results; err == nil {
			ok++
		} else {
			wantErr(t, err, "FILE_PART_0_MISSING")
		}
	}
	if ok != 1 {
		t.Fatalf("%d finalizations succeeded, want exactly 1", ok)
	}
}

// TestF5_FinalizeLinksPartsWithoutCopy checks that the stored file's bytes
// are the very log the client's parts were saved into: sealing links it
// instead of copying.
func TestF5_FinalizeLinksPartsWithoutCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var checked int
	var cfg files.Config
	cfg.OnStep = func(s files.Step) {
		if s != files.StepCleanup {
			return
		}
		uploads, _ := os.ReadDir(filepath.Join(dir, "tmp"))
		stored, _ := os.ReadDir(filepath.Join(dir, "files"))
		if len(uploads) != 1 || len(stored) != 1 {
			t.Errorf("%d uploads and %d stored files at cleanup, want 1 and 1", len(uploads), len(stored))
			return
		}
		logs, _ := filepath.Glob(filepath.Join(dir, "tmp", uploads[0].Name(), "*.log"))
		for _, l := range logs {
			tmp, err1 := os.Stat(l)
			kept, err2 := os.Stat(filepath.Join(dir, "files", stored[0].Name(), filepath.Base(l)))
			if err1 != nil || err2 != nil {
				t.Errorf("log %s: %v, %v", l, err1, err2)
				return
			}
			if !os.SameFile(tmp, kept) {
				t.Errorf("log %s was copied, not linked", l)
			}
			checked++
		}
	}
	b := openIn(t, dir, cfg)
	key := store.UploadKey{Owner: 1, FileID: 1, Big: true}
	data := content(1, 8*(128<<10)-100)
	saveAll(t, b.Engine, key, split(data, 128<<10))
	rec, err := b.Engine.Finalize(ctx, files.Finalize{Key: key, Parts: 8})
	wantErr(t, err, "")
	if checked != 1 {
		t.Fatalf("checked %d logs, want 1", checked)
	}
	checkStored(t, b.Engine, rec, data)
}

func TestF6_RecordsSizeHashesAndType(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	e := newEngine(t, files.Config{Clock: clock})
	for _, tc := range []struct {
		size, partSize int
	}{{1, 1024}, {131072, 131072}, {131073, 1024}, {3*131072 + 7, 32 << 10}, {5 << 20, 512 << 10}} {
		key := store.UploadKey{Owner: 3, FileID: int64(tc.size), Big: true}
		data := content(uint64(tc.size), tc.size)
		copy(data, "\x89PNG\r\n\x1a\n")
		parts := split(data, tc.partSize)
		saveAll(t, e, key, parts)
		rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: len(parts), Name: "a.png"})
		wantErr(t, err, "")
		checkStored(t, e, rec, data)
		wantType := "png"
		if tc.size < 8 {
			wantType = "unknown" // too short to hold the PNG signature
		}
		if rec.Type != wantType || rec.Name != "a.png" || rec.Parts != len(parts) || !rec.Created.Equal(clock.Now()) {
			t.Fatalf("record %+v", rec)
		}
		// The range hashes cover the file exactly.
		ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
		var covered int64
		for covered < rec.Size {
			hs, err := e.Hashes(ctx, ref, covered)
			wantErr(t, err, "")
			if len(hs) == 0 {
				t.Fatalf("no hashes at %d of %d", covered, rec.Size)
			}
			for _, h := range hs {
				end := min(rec.Size, h.Offset+int64(h.Limit))
				if h.Offset != covered || h.Hash != sha256.Sum256(data[h.Offset:end]) {
					t.Fatalf("hash at %d (limit %d) is wrong", h.Offset, h.Limit)
				}
				covered = end
			}
		}
		if covered != rec.Size {
			t.Fatalf("hashes cover %d bytes of %d", covered, rec.Size)
		}
	}
}

func TestF6_DetectType(t *testing.T) {
	pad := func(b string) []byte { return append([]byte(b), make([]byte, 32)...) }
	cases := []struct {
		head []byte
		want files.FileType
	}{
		{pad("\xFF\xD8\xFF\xE0\x00\x10JFIF"), files.TypeJPEG},
		{pad("\x89PNG\r\n\x1a\n"), files.TypePNG},
		{pad("GIF89a"), files.TypeGIF},
		{pad("GIF87a"), files.TypeGIF},
		{pad("%PDF-1.7"), files.TypePDF},
		{pad("RIFF\x00\x00\x00\x00WEBPVP8 "), files.TypeWEBP},
		{pad("\x00\x00\x00\x18ftypisom"), files.TypeMP4},
		{pad("\x00\x00\x00\x18ftypmp42"), files.TypeMP4},
		{pad("\x00\x00\x00\x14ftypqt  "), files.TypeMOV},
		{pad("\x00\x00\x00\x08moov"), files.TypeMOV},
		{pad("ID3\x04\x00"), files.TypeMP3},
		{pad("\xFF\xFB\x90\x64"), files.TypeMP3}, // MPEG-1 layer III, 128 kbit/s, 44.1 kHz
		{pad("\xFF\xFF\xFF\xFF"), files.TypeUnknown},
		{pad("RIFF\x00\x00\x00\x00WAVE"), files.TypeUnknown},
		{pad("hello"), files.TypeUnknown},
		{nil, files.TypeUnknown},
		{[]byte{0xFF}, files.TypeUnknown},
	}
	for _, tc := range cases {
		if got := files.DetectType(tc.head); got != tc.want {
			t.Errorf("DetectType(%q) = %s, want %s", tc.head[:min(len(tc.head), 12)], got, tc.want)
		}
	}
}

func TestF6_StoreBytesMakesAFile(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	for _, size := range []int{1, 1000, 512 << 10, 512<<10 + 1, 3 << 20} {
		data := content(uint64(size), size)
		rec, err := e.StoreBytes(ctx, 9, "thumb.jpg", data)
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		checkStored(t, e, rec, data)
		if rec.Owner != 9 || rec.Name != "thumb.jpg" {
			t.Fatalf("record %+v", rec)
		}
	}
	if e.Uploads() != 0 || e.TempBytes() != 0 {
		t.Fatal("StoreBytes left temporary parts")
	}
	_, err := e.StoreBytes(ctx, 9, "empty", nil)
	wantErr(t, err, "FILE_PART_EMPTY")
}

func TestM6_DeleteFileRemovesRecordAndContent(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	rec, err := e.StoreBytes(ctx, 1, "x", content(1, 5000))
	if err != nil {
		t.Fatal(err)
	}
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	if err := e.DeleteFile(ctx, ref); err != nil {
		t.Fatal(err)
	}
	_, err = e.Read(ctx, ref, 0, 4096, false, nil)
	wantErr(t, err, "FILE_ID_INVALID")
	wantErr(t, e.DeleteFile(ctx, ref), "FILE_ID_INVALID")
}
