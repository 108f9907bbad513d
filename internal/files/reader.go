package files

import (
	"context"
	"io"

	"github.com/filedc/filedc/internal/store"
)

// ReaderAt returns a reader of a stored file's whole content, for server-side
// processing of files too large to read at once (probing a video). Reads
// past the end return io.EOF.
func (e *Engine) ReaderAt(ctx context.Context, ref FileRef) (io.ReaderAt, store.FileRecord, error) {
	rec, err := e.File(ctx, ref)
	if err != nil {
		return nil, store.FileRecord{}, err
	}
	return &contentReader{ctx: ctx, e: e, rec: rec}, rec, nil
}

type contentReader struct {
	ctx context.Context
	e   *Engine
	rec store.FileRecord
}

func (r *contentReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if off >= r.rec.Size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.rec.Size-off))
	if err := storeErr(&r.e.stats.contentErrs, r.e.content.ReadAt(r.ctx, r.rec.ID, r.rec.Layout(), p[:n], off)); err != nil {
		return 0, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
