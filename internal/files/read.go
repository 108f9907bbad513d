package files

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// FileRef names a stored file the way a location does: id and access hash.
type FileRef struct {
	ID         int64
	AccessHash int64
}

// Chunk is the answer to upload.getFile.
type Chunk struct {
	Type  FileType // the file's type for the chunk at offset 0, else partial
	MTime time.Time
	Bytes []byte
}

// RangeHash is one FileHash of upload.getFileHashes.
type RangeHash struct {
	Offset int64
	Limit  int
	Hash   store.Hash
}

// CheckRange applies the offset and limit rules of upload.getFile (D2–D4).
func CheckRange(offset int64, limit int, precise bool) error {
	if offset < 0 {
		return ErrOffsetInvalid
	}
	if limit <= 0 {
		return ErrLimitInvalid
	}
	if precise {
		if offset%1024 != 0 {
			return ErrOffsetInvalid
		}
		if limit%1024 != 0 || limit > blockSize {
			return ErrLimitInvalid
		}
	} else {
		if offset%4096 != 0 {
			return ErrOffsetInvalid
		}
		if limit%4096 != 0 || blockSize%limit != 0 {
			return ErrLimitInvalid
		}
	}
	if offset/blockSize != (offset+int64(limit)-1)/blockSize {
		return ErrLimitInvalid
	}
	return nil
}

// File returns the record of a stored file, or FILE_ID_INVALID when there is
// none or the access hash does not match (D5).
func (e *Engine) File(ctx context.Context, ref FileRef) (store.FileRecord, error) {
	var rec store.FileRecord
	if v, ok := e.files.Load(ref.ID); ok {
		rec = v.(store.FileRecord)
	} else {
		var err error
		rec, err = e.meta.File(ctx, ref.ID)
		storeErr(&e.stats.recordErrs, err)
		if errors.Is(err, store.ErrNotFound) {
			return store.FileRecord{}, ErrFileIDInvalid
		}
		if err != nil {
			return store.FileRecord{}, fmt.Errorf("files: load record: %w", err)
		}
		e.files.Store(ref.ID, rec)
	}
	if rec.AccessHash != ref.AccessHash {
		return store.FileRecord{}, ErrFileIDInvalid
	}
	return rec, nil
}

// Read returns up to limit bytes of a stored file from offset (D2–D6). A read
// at or past the end returns no bytes. buf, when it holds limit bytes, receives
// the content; otherwise a buffer is allocated.
func (e *Engine) Read(ctx context.Context, ref FileRef, offset int64, limit int, precise bool, buf []byte) (Chunk, error) {
	if err := CheckRange(offset, limit, precise); err != nil {
		return Chunk{}, err
	}
	rec, err := e.File(ctx, ref)
	if err != nil {
		return Chunk{}, err
	}
	c := Chunk{Type: TypePartial, MTime: rec.Created}
	if offset == 0 {
		c.Type = FileType(rec.Type)
	}
	if offset >= rec.Size {
		c.Bytes = buf[:0]
		return c, nil
	}
	n := int(min(int64(limit), rec.Size-offset))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	c.Bytes = buf[:n]
	if err := storeErr(&e.stats.contentErrs, e.content.ReadAt(ctx, rec.ID, rec.Layout(), c.Bytes, offset)); err != nil {
		return Chunk{}, fmt.Errorf("files: read %d: %w", rec.ID, err)
	}
	e.stats.bytesServed.Add(int64(n))
	return c, nil
}

// Hashes returns the SHA-256 hashes of consecutive 128 KiB ranges starting
// with the one that holds offset (D9); none past the end. Every FileHash
// names the full 128 KiB range as its limit, the last one too, while its hash
// covers the bytes that exist: clients verify by downloading exactly
// (offset, limit), which must stay a valid precise request.
func (e *Engine) Hashes(ctx context.Context, ref FileRef, offset int64) ([]RangeHash, error) {
	if offset < 0 {
		return nil, ErrOffsetInvalid
	}
	rec, err := e.File(ctx, ref)
	if err != nil {
		return nil, err
	}
	if offset >= rec.Size {
		return nil, nil
	}
	first := int(offset / rangeHashSize)
	hs, err := e.meta.RangeHashes(ctx, rec.ID, first, hashesPerCall)
	storeErr(&e.stats.recordErrs, err)
	if err != nil {
		return nil, fmt.Errorf("files: hashes of %d: %w", rec.ID, err)
	}
	out := make([]RangeHash, len(hs))
	for i, h := range hs {
		off := int64(first+i) * rangeHashSize
		out[i] = RangeHash{Offset: off, Limit: rangeHashSize, Hash: h}
	}
	return out, nil
}

// ErrTooLarge is returned by ReadAll for a file over its limit.
var ErrTooLarge = errors.New("files: file too large")

// ReadAll returns the whole content of a stored file of at most limit bytes,
// for processing on the server (photo sizes, thumbnails).
func (e *Engine) ReadAll(ctx context.Context, ref FileRef, limit int64) ([]byte, error) {
	rec, err := e.File(ctx, ref)
	if err != nil {
		return nil, err
	}
	if rec.Size > limit {
		return nil, ErrTooLarge
	}
	buf := make([]byte, rec.Size)
	if err := e.content.ReadAt(ctx, rec.ID, rec.Layout(), buf, 0); err != nil {
		return nil, fmt.Errorf("files: read %d: %w", rec.ID, err)
	}
	return buf, nil
}

// DeleteFile removes a stored file: its record first (after which nothing
// can reach it), then its content.
func (e *Engine) DeleteFile(ctx context.Context, ref FileRef) error {
	rec, err := e.File(ctx, ref)
	if err != nil {
		return err
	}
	if err := e.meta.DeleteFile(ctx, rec.ID); err != nil {
		return fmt.Errorf("files: delete record %d: %w", rec.ID, err)
	}
	e.files.Delete(rec.ID)
	// Content without a record is also removed on the next start.
	return e.content.Delete(ctx, rec.ID)
}
