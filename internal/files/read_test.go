package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

const MiB = 1 << 20

// storedFile uploads size bytes in 128 KiB parts and returns the record.
func storedFile(t *testing.T, e *files.Engine, size int, head string) (store.FileRecord, []byte) {
	t.Helper()
	data := content(uint64(size), size)
	copy(data, head)
	key := store.UploadKey{Owner: 1, FileID: int64(size) ^ 0x5a5a, Big: true}
	parts := split(data, 128<<10)
	saveAll(t, e, key, parts)
	rec, err := e.Finalize(context.Background(), files.Finalize{Key: key, Parts: len(parts)})
	if err != nil {
		t.Fatal(err)
	}
	return rec, data
}

type rangeCase struct {
	offset int64
	limit  int
	want   string
}

func checkRanges(t *testing.T, precise bool, cases []rangeCase) {
	t.Helper()
	e := newEngine(t, files.Config{})
	rec, data := storedFile(t, e, 3*MiB+12345, "")
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	for _, tc := range cases {
		wantErr(t, files.CheckRange(tc.offset, tc.limit, precise), tc.want)
		c, err := e.Read(context.Background(), ref, tc.offset, tc.limit, precise, nil)
		wantErr(t, err, tc.want)
		if tc.want == "" {
			end := min(int64(len(data)), tc.offset+int64(tc.limit))
			if !bytes.Equal(c.Bytes, data[tc.offset:end]) {
				t.Fatalf("offset %d limit %d: wrong bytes", tc.offset, tc.limit)
			}
		}
	}
}

func TestD2_AlignmentWithoutPrecise(t *testing.T) {
	checkRanges(t, false, []rangeCase{
		{0, 4096, ""},
		{4096, 4096, ""},
		{8192, 8192, ""},
		{0, MiB, ""},
		{MiB, 512 << 10, ""},
		{1024, 4096, "OFFSET_INVALID"},
		{-4096, 4096, "OFFSET_INVALID"},
		{0, 1024, "LIMIT_INVALID"},    // not a multiple of 4 KiB
		{0, 12288, "LIMIT_INVALID"},   // 1 MiB is not divisible by 12 KiB
		{0, 2 * MiB, "LIMIT_INVALID"}, // 1 MiB is not divisible by 2 MiB
		{0, 0, "LIMIT_INVALID"},
		{0, -4096, "LIMIT_INVALID"},
	})
}

func TestD3_AlignmentWithPrecise(t *testing.T) {
	checkRanges(t, true, []rangeCase{
		{1024, 1024, ""},
		{0, 3072, ""}, // precise: 1 MiB need not be divisible by the limit
		{5120, 7168, ""},
		{0, MiB, ""},
		{512, 1024, "OFFSET_INVALID"},
		{-1024, 1024, "OFFSET_INVALID"},
		{0, 1000, "LIMIT_INVALID"},
		{0, MiB + 1024, "LIMIT_INVALID"},
		{0, 0, "LIMIT_INVALID"},
	})
}

func TestD4_RequestStaysInOneMiBBlock(t *testing.T) {
	checkRanges(t, true, []rangeCase{
		{MiB - 1024, 1024, ""},
		{MiB - 1024, 2048, "LIMIT_INVALID"},
		{MiB - 512<<10, 512 << 10, ""},
		{MiB - 511<<10, 512 << 10, "LIMIT_INVALID"},
		{2*MiB + 1024, MiB - 1024, ""},
		{2*MiB + 1024, MiB, "LIMIT_INVALID"},
	})
	checkRanges(t, false, []rangeCase{
		{MiB - 4096, 4096, ""},
		{MiB - 4096, 8192, "LIMIT_INVALID"},
		{MiB - 256<<10, 512 << 10, "LIMIT_INVALID"},
		{MiB + 512<<10, 512 << 10, ""},
	})
}

func TestD5_UnknownFileOrWrongAccessHash(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	rec, _ := storedFile(t, e, 5000, "")
	for _, ref := range []files.FileRef{
		{ID: rec.ID + 1, AccessHash: rec.AccessHash},
		{ID: rec.ID, AccessHash: rec.AccessHash + 1},
		{ID: 0, AccessHash: 0},
	} {
		_, err := e.Read(ctx, ref, 0, 4096, false, nil)
		wantErr(t, err, "FILE_ID_INVALID")
		_, err = e.Hashes(ctx, ref, 0)
		wantErr(t, err, "FILE_ID_INVALID")
		_, err = e.File(ctx, ref)
		wantErr(t, err, "FILE_ID_INVALID")
	}
}

func TestD6_TypeMTimeAndEndOfFile(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	e := newEngine(t, files.Config{Clock: clock})
	created := clock.Now()
	rec, data := storedFile(t, e, 2*MiB, "\xFF\xD8\xFF\xE0")
	clock.Advance(time.Hour)
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	c, err := e.Read(ctx, ref, 0, 4096, false, nil)
	wantErr(t, err, "")
	if c.Type != files.TypeJPEG || !c.MTime.Equal(created) || !bytes.Equal(c.Bytes, data[:4096]) {
		t.Fatalf("first chunk: type %s mtime %v", c.Type, c.MTime)
	}
	c, err = e.Read(ctx, ref, 4096, 4096, false, nil)
	wantErr(t, err, "")
	if c.Type != files.TypePartial {
		t.Fatalf("later chunk type %s, want partial", c.Type)
	}
	// GramJS asks for offset == size when the size is a multiple of its chunk.
	for _, off := range []int64{2 * MiB, 3 * MiB} {
		c, err = e.Read(ctx, ref, off, 512<<10, false, nil)
		wantErr(t, err, "")
		if len(c.Bytes) != 0 {
			t.Fatalf("read at %d past the end returned %d bytes", off, len(c.Bytes))
		}
	}
	// A short last chunk, and a caller's buffer that is reused.
	rec2, data2 := storedFile(t, e, MiB+5000, "")
	buf := make([]byte, 512<<10)
	c, err = e.Read(ctx, files.FileRef{ID: rec2.ID, AccessHash: rec2.AccessHash}, MiB, 512<<10, true, buf)
	wantErr(t, err, "")
	if len(c.Bytes) != 5000 || !bytes.Equal(c.Bytes, data2[MiB:]) || &c.Bytes[0] != &buf[0] {
		t.Fatalf("short last chunk: %d bytes", len(c.Bytes))
	}
}

func TestD9_FileHashes(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	const R = 131072
	size := 20*R + 999
	rec, data := storedFile(t, e, size, "")
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	cases := []struct {
		offset    int64
		first, n  int
		lastLimit int
	}{
		{0, 0, 8, R},
		{R + 5, 1, 8, R}, // starts with the range that holds offset
		{8 * R, 8, 8, R},
		{17 * R, 17, 4, 999}, // the last range is shorter
		{20 * R, 20, 1, 999},
		{int64(size) - 1, 20, 1, 999},
		{int64(size), 0, 0, 0}, // nothing past the end
	}
	for _, tc := range cases {
		hs, err := e.Hashes(ctx, ref, tc.offset)
		wantErr(t, err, "")
		if len(hs) != tc.n {
			t.Fatalf("offset %d: %d hashes, want %d", tc.offset, len(hs), tc.n)
		}
		for i, h := range hs {
			off := int64(tc.first+i) * R
			covered := R // bytes the hash covers: the last range is shorter
			if i == len(hs)-1 {
				covered = tc.lastLimit
			}
			// The limit is always the full range, so that a client can
			// download exactly (offset, limit) as a valid precise request.
			if h.Offset != off || h.Limit != R || h.Hash != sha256.Sum256(data[off:off+int64(covered)]) {
				t.Fatalf("offset %d: hash %d = {%d %d}, want {%d %d} with the SHA-256 of the %d bytes there", tc.offset, i, h.Offset, h.Limit, off, R, covered)
			}
			if err := files.CheckRange(h.Offset, h.Limit, true); err != nil {
				t.Fatalf("hash range {%d %d} is not a valid precise request: %v", h.Offset, h.Limit, err)
			}
		}
	}
	_, err := e.Hashes(ctx, ref, -1)
	wantErr(t, err, "OFFSET_INVALID")
}
