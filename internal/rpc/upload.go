package rpc

import (
	"context"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

func (h *Handler) saveFilePart(ctx context.Context, c *call, fileID int64, part, total int, big bool, data []byte) (bin.Encoder, error) {
	err := h.cfg.Engine.SavePart(ctx, files.SavePart{
		Key:        store.UploadKey{Owner: c.user, FileID: fileID, Big: big},
		Part:       part,
		TotalParts: int32(total),
		Data:       data,
	})
	if err != nil {
		return nil, err
	}
	return &tg.BoolTrue{}, nil
}

// fileRef resolves a download location to a stored file (D1), checking its
// file_reference (D7) once the file itself is known to exist.
func (h *Handler) fileRef(ctx context.Context, loc tg.InputFileLocationClass) (files.FileRef, error) {
	switch l := loc.(type) {
	case *tg.InputDocumentFileLocation:
		if l.ThumbSize != "" {
			return files.FileRef{}, errLocation // document thumbnails come with media
		}
		ref := files.FileRef{ID: l.ID, AccessHash: l.AccessHash}
		if _, err := h.cfg.Engine.File(ctx, ref); err != nil {
			return files.FileRef{}, err
		}
		return ref, h.refs.check(ref, l.FileReference, h.cfg.Now())
	}
	return files.FileRef{}, errLocation
}

func (h *Handler) getFile(ctx context.Context, c *call, req *tg.UploadGetFileRequest) (bin.Encoder, error) {
	ref, err := h.fileRef(ctx, req.Location)
	if err != nil {
		return nil, err
	}
	chunk, err := h.cfg.Engine.Read(ctx, ref, req.Offset, req.Limit, req.Precise, nil)
	if err != nil {
		return nil, err
	}
	return &tg.UploadFile{Type: storageType(chunk.Type), Mtime: int(chunk.MTime.Unix()), Bytes: chunk.Bytes}, nil
}

func (h *Handler) getFileHashes(ctx context.Context, c *call, req *tg.UploadGetFileHashesRequest) (bin.Encoder, error) {
	ref, err := h.fileRef(ctx, req.Location)
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
