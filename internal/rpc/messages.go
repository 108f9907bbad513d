package rpc

import (
	"context"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

// finalize consumes an InputFile of the caller (rules F1–F6).
func (h *Handler) finalize(ctx context.Context, c *call, in tg.InputFileClass) (store.FileRecord, error) {
	switch f := in.(type) {
	case *tg.InputFile:
		return h.cfg.Engine.Finalize(ctx, files.Finalize{
			Key: store.UploadKey{Owner: c.user, FileID: f.ID}, Parts: f.Parts, MD5: f.MD5Checksum, Name: f.Name})
	case *tg.InputFileBig:
		return h.cfg.Engine.Finalize(ctx, files.Finalize{
			Key: store.UploadKey{Owner: c.user, FileID: f.ID, Big: true}, Parts: f.Parts, Name: f.Name})
	}
	return store.FileRecord{}, badRequest("FILE_ID_INVALID")
}

// uploadMedia finalizes an upload into media without sending a message (M1).
func (h *Handler) uploadMedia(ctx context.Context, c *call, req *tg.MessagesUploadMediaRequest) (bin.Encoder, error) {
	if _, ok := req.Peer.(*tg.InputPeerSelf); !ok {
		return nil, badRequest("PEER_ID_INVALID")
	}
	media, ok := req.Media.(*tg.InputMediaUploadedDocument)
	if !ok {
		return nil, badRequest("MEDIA_INVALID")
	}
	rec, err := h.finalize(ctx, c, media.File)
	if err != nil {
		return nil, err
	}
	return &tg.MessageMediaDocument{Document: h.document(rec, media)}, nil
}

// document describes a stored file as a document, with the attributes the
// client gave and a file name when it gave none.
func (h *Handler) document(rec store.FileRecord, media *tg.InputMediaUploadedDocument) *tg.Document {
	mime := media.MimeType
	if mime == "" {
		mime = "application/octet-stream"
	}
	attrs := append([]tg.DocumentAttributeClass(nil), media.Attributes...)
	named := false
	for _, a := range attrs {
		if _, ok := a.(*tg.DocumentAttributeFilename); ok {
			named = true
		}
	}
	if !named && rec.Name != "" {
		attrs = append(attrs, &tg.DocumentAttributeFilename{FileName: rec.Name})
	}
	return &tg.Document{
		ID:            rec.ID,
		AccessHash:    rec.AccessHash,
		FileReference: h.refs.issue(files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}, h.cfg.Now()),
		Date:          int(rec.Created.Unix()),
		MimeType:      mime,
		Size:          rec.Size,
		DCID:          h.cfg.DC,
		Attributes:    attrs,
	}
}
