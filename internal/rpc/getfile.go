package rpc

import (
	"context"
	"sync"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/library"
)

// A download is thousands of upload.getFile calls. gotd's generated
// decoder allocates each one's request, location and a copy of its file
// reference; the locations clients download from, documents and photos, are
// read here in place instead, and the others through gotd.
//
//	upload.getFile#be5335be flags:# precise:flags.0?true cdn_supported:flags.1?true
//	    location:InputFileLocation offset:long limit:int
//	inputDocumentFileLocation#bad07584 id:long access_hash:long file_reference:bytes thumb_size:string
//	inputPhotoFileLocation#40181ffe id:long access_hash:long file_reference:bytes thumb_size:string

// chunkRange is what upload.getFile asks of a file.
type chunkRange struct {
	precise, cdnSupported bool
	offset                int64
	limit                 int
}

// namedLocation is a document's or a photo's download location; its file
// reference is a slice of the request, valid until the call returns.
type namedLocation struct {
	photo bool
	named library.Named
	thumb string
}

// decodeGetFile reads an upload.getFile of a document or a photo; ok is
// false for any other location, and b is then left as it was.
func decodeGetFile(b *bin.Buffer) (loc namedLocation, r chunkRange, ok bool, err error) {
	d := bin.Buffer{Buf: b.Buf}
	if err := d.ConsumeID(tg.UploadGetFileRequestTypeID); err != nil {
		return loc, r, false, err
	}
	flags, err := d.Uint32()
	if err != nil {
		return loc, r, false, err
	}
	r.precise, r.cdnSupported = flags&1 != 0, flags&2 != 0
	id, err := d.PeekID()
	if err != nil {
		return loc, r, false, err
	}
	switch id {
	case tg.InputDocumentFileLocationTypeID:
	case tg.InputPhotoFileLocationTypeID:
		loc.photo = true
	default:
		return loc, r, false, nil
	}
	d.Skip(4)
	if loc.named.ID, err = d.Long(); err != nil {
		return loc, r, false, err
	}
	if loc.named.AccessHash, err = d.Long(); err != nil {
		return loc, r, false, err
	}
	if loc.named.FileReference, err = tlBytes(&d); err != nil {
		return loc, r, false, err
	}
	thumb, err := tlBytes(&d) // a TL string is bytes
	if err != nil {
		return loc, r, false, err
	}
	if len(thumb) > 0 {
		loc.thumb = string(thumb)
	}
	if r.offset, err = d.Long(); err != nil {
		return loc, r, false, err
	}
	if r.limit, err = d.Int(); err != nil {
		return loc, r, false, err
	}
	b.Buf = d.Buf
	return loc, r, true, nil
}

// getFileRoute serves upload.getFile, documents and photos decoded in
// place and other locations through gotd's decoder.
func getFileRoute() route {
	generic := method(needsLogin, (*Handler).getFile)
	return route{name: generic.name, login: needsLogin, serve: func(h *Handler, ctx context.Context, c *call) (bin.Encoder, error) {
		loc, r, ok, err := decodeGetFile(c.Body)
		if err != nil {
			return nil, errInputRequest
		}
		if !ok {
			return generic.serve(h, ctx, c)
		}
		ref, err := h.namedFile(ctx, loc)
		if err != nil {
			return nil, err
		}
		return h.readChunk(ctx, ref, r)
	}}
}

// namedFile resolves a document's or a photo's location to its file (D1),
// after sending a location of another DC there (D5).
func (h *Handler) namedFile(ctx context.Context, loc namedLocation) (files.FileRef, error) {
	if err := h.migrate(loc.named.ID); err != nil {
		return files.FileRef{}, err
	}
	if loc.photo {
		return h.media.PhotoFile(ctx, loc.named, loc.thumb)
	}
	return h.media.DocumentFile(ctx, loc.named, loc.thumb)
}

func (h *Handler) getFile(ctx context.Context, c *call, req *tg.UploadGetFileRequest) (bin.Encoder, error) {
	ref, err := h.fileRef(ctx, c, req.Location)
	if err != nil {
		return nil, err
	}
	return h.readChunk(ctx, ref, chunkRange{precise: req.Precise, cdnSupported: req.CDNSupported, offset: req.Offset, limit: req.Limit})
}

// readChunk answers a getFile of a resolved file: a CDN redirect (D8) or
// the bytes, in a pooled answer.
func (h *Handler) readChunk(ctx context.Context, ref files.FileRef, r chunkRange) (bin.Encoder, error) {
	if r.cdnSupported && h.cfg.CDN != nil {
		if err := files.CheckRange(r.offset, r.limit, r.precise); err != nil {
			return nil, err
		}
		redirect, err := h.cfg.CDN.Redirect(ctx, ref, r.offset)
		if err != nil || redirect != nil {
			return redirect, err // D8
		}
	}
	f := fileAnswers.Get().(*pooledFile)
	chunk, err := h.cfg.Engine.Read(ctx, ref, r.offset, r.limit, r.precise, f.buf)
	if err != nil {
		fileAnswers.Put(f)
		return nil, err
	}
	f.UploadFile = tg.UploadFile{Type: storageType(chunk.Type), Mtime: int(chunk.MTime.Unix()), Bytes: chunk.Bytes}
	return f, nil
}

// fileAnswers hold getFile answers, each with room for a chunk (at most
// 1 MiB), until they are sent.
var fileAnswers = sync.Pool{New: func() any { return &pooledFile{buf: make([]byte, 1<<20)} }}

// pooledFile is an upload.file that goes back to fileAnswers once sent.
type pooledFile struct {
	tg.UploadFile
	buf []byte
}

// Release implements server.Releaser.
func (f *pooledFile) Release() {
	f.UploadFile = tg.UploadFile{}
	fileAnswers.Put(f)
}
