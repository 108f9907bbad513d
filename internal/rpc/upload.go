package rpc

import (
	"context"
	"errors"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/cdn"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/library"
	"github.com/filedc/filedc/internal/store"
)

// savePart is upload.saveFilePart or upload.saveBigFilePart.
type savePart struct {
	big    bool
	fileID int64
	part   int32
	total  int32
	data   []byte // a slice of the request: valid until the call returns
}

// decodeSavePart reads a save call without copying its bytes, unlike gotd's
// generated decoders: on the upload path every copy of a part counts.
//
//	upload.saveFilePart#b304a621 file_id:long file_part:int bytes:bytes
//	upload.saveBigFilePart#de7b673d file_id:long file_part:int file_total_parts:int bytes:bytes
func decodeSavePart(b *bin.Buffer) (savePart, error) {
	var p savePart
	id, err := b.ID()
	if err != nil {
		return p, err
	}
	p.big = id == tg.UploadSaveBigFilePartRequestTypeID
	if p.fileID, err = b.Long(); err != nil {
		return p, err
	}
	if p.part, err = b.Int32(); err != nil {
		return p, err
	}
	if p.big {
		if p.total, err = b.Int32(); err != nil {
			return p, err
		}
	}
	p.data, err = tlBytes(b)
	return p, err
}

// tlBytes reads a TL bytes value and returns it without copying.
func tlBytes(b *bin.Buffer) ([]byte, error) {
	buf := b.Buf
	if len(buf) == 0 {
		return nil, errBadBytes
	}
	n, head := int(buf[0]), 1
	if n == 254 {
		if len(buf) < 4 {
			return nil, errBadBytes
		}
		n, head = int(buf[1])|int(buf[2])<<8|int(buf[3])<<16, 4
	} else if n == 255 {
		return nil, errBadBytes
	}
	padded := (head + n + 3) &^ 3 // the value is padded to 4 bytes
	if len(buf) < padded {
		return nil, errBadBytes
	}
	b.Skip(padded)
	return buf[head : head+n : head+n], nil
}

var errBadBytes = errors.New("rpc: malformed TL bytes")

func (h *Handler) saveFilePart(ctx context.Context, c *call, p savePart) (bin.Encoder, error) {
	err := h.cfg.Engine.SavePart(ctx, files.SavePart{
		Key:        store.UploadKey{Owner: c.user, FileID: p.fileID, Big: p.big},
		Part:       int(p.part),
		TotalParts: p.total,
		Data:       p.data,
	})
	if err != nil {
		return nil, err
	}
	return &tg.BoolTrue{}, nil
}

// fileRef resolves a download location to a stored file (D1), checking its
// file_reference (D7) once the file itself is known to exist. A location of
// a file another DC holds is sent there (D5: FILE_MIGRATE_X) before anything
// is looked up; a malformed one is LOCATION_INVALID wherever it is asked.
func (h *Handler) fileRef(ctx context.Context, c *call, loc tg.InputFileLocationClass) (files.FileRef, error) {
	switch l := loc.(type) {
	case *tg.InputDocumentFileLocation:
		return h.namedFile(ctx, namedLocation{named: library.Named{ID: l.ID, AccessHash: l.AccessHash, FileReference: l.FileReference}, thumb: l.ThumbSize})
	case *tg.InputPhotoFileLocation:
		return h.namedFile(ctx, namedLocation{photo: true, named: library.Named{ID: l.ID, AccessHash: l.AccessHash, FileReference: l.FileReference}, thumb: l.ThumbSize})
	case *tg.InputPeerPhotoFileLocation:
		if err := h.migrate(l.PhotoID); err != nil {
			return files.FileRef{}, err
		}
		return h.peerPhotoFile(ctx, c, l)
	}
	return files.FileRef{}, errLocation
}

func (h *Handler) getFileHashes(ctx context.Context, c *call, req *tg.UploadGetFileHashesRequest) (bin.Encoder, error) {
	ref, err := h.fileRef(ctx, c, req.Location)
	if err != nil {
		return nil, err
	}
	hs, err := h.cfg.Engine.Hashes(ctx, ref, req.Offset)
	if err != nil {
		return nil, err
	}
	out := &tg.FileHashVector{Elems: make([]tg.FileHash, len(hs))}
	for i, fh := range hs {
		out.Elems[i] = tg.FileHash{Offset: fh.Offset, Limit: fh.Limit, Hash: fh.Hash[:]}
	}
	return out, nil
}

func storageType(t files.FileType) tg.StorageFileTypeClass {
	switch t {
	case files.TypeJPEG:
		return &tg.StorageFileJpeg{}
	case files.TypeGIF:
		return &tg.StorageFileGif{}
	case files.TypePNG:
		return &tg.StorageFilePng{}
	case files.TypePDF:
		return &tg.StorageFilePdf{}
	case files.TypeMP3:
		return &tg.StorageFileMp3{}
	case files.TypeMOV:
		return &tg.StorageFileMov{}
	case files.TypeMP4:
		return &tg.StorageFileMp4{}
	case files.TypeWEBP:
		return &tg.StorageFileWebp{}
	case files.TypePartial:
		return &tg.StorageFilePartial{}
	}
	return &tg.StorageFileUnknown{}
}

// The master's side of CDN downloads (C3, C4).

func (h *Handler) getCdnConfig(ctx context.Context, _ *call, _ *tg.HelpGetCDNConfigRequest) (bin.Encoder, error) {
	if h.cfg.CDN == nil {
		return &tg.CDNConfig{PublicKeys: []tg.CDNPublicKey{}}, nil
	}
	return h.cfg.CDN.CDNConfig(ctx), nil
}

func (h *Handler) reuploadCdnFile(ctx context.Context, _ *call, req *tg.UploadReuploadCDNFileRequest) (bin.Encoder, error) {
	if h.cfg.CDN == nil {
		return nil, cdn.ErrFileToken
	}
	hs, err := h.cfg.CDN.Reupload(ctx, req.FileToken, req.RequestToken)
	if err != nil {
		return nil, err
	}
	return &tg.FileHashVector{Elems: hs}, nil
}

func (h *Handler) getCdnFileHashes(ctx context.Context, _ *call, req *tg.UploadGetCDNFileHashesRequest) (bin.Encoder, error) {
	if h.cfg.CDN == nil {
		return nil, cdn.ErrFileToken
	}
	hs, err := h.cfg.CDN.Hashes(ctx, req.FileToken, req.Offset)
	if err != nil {
		return nil, err
	}
	return &tg.FileHashVector{Elems: hs}, nil
}
