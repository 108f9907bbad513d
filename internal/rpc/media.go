package rpc

import (
	"context"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/library"
	"github.com/filedc/filedc/internal/store"
)

// Media in calls: InputMedia and InputFile decoded into calls of
// internal/library, which makes and finds documents and photos, and the
// documents and photos it answers with encoded as tg.Document and tg.Photo
// with fresh file references (D7).

// upload names an InputFile of the caller's to finalize (rules F1–F6).
func upload(c *call, in tg.InputFileClass) library.Upload {
	switch f := in.(type) {
	case *tg.InputFile:
		return library.Upload{Finalize: files.Finalize{
			Key: store.UploadKey{Owner: c.user, FileID: f.ID}, Parts: f.Parts, MD5: f.MD5Checksum, Name: f.Name}}
	case *tg.InputFileBig:
		return library.Upload{Finalize: files.Finalize{
			Key: store.UploadKey{Owner: c.user, FileID: f.ID, Big: true}, Parts: f.Parts, Name: f.Name}}
	}
	return library.Upload{Invalid: true} // FILE_ID_INVALID when it is finalized
}

// optionalUpload is upload of an InputFile a call may leave out: nil then.
func optionalUpload(c *call, in tg.InputFileClass) *library.Upload {
	if in == nil {
		return nil
	}
	u := upload(c, in)
	return &u
}

func profileUpload(c *call, file, video tg.InputFileClass, start float64) library.ProfileUpload {
	return library.ProfileUpload{File: optionalUpload(c, file), Video: optionalUpload(c, video), VideoStart: start}
}

func inputPhoto(p *tg.InputPhoto) library.Named {
	return library.Named{ID: p.ID, AccessHash: p.AccessHash, FileReference: p.FileReference}
}

// uploadMedia finalizes an upload into media without sending a message (M1).
func (h *Handler) uploadMedia(ctx context.Context, c *call, req *tg.MessagesUploadMediaRequest) (bin.Encoder, error) {
	if _, err := h.resolvePeer(ctx, c, req.Peer); err != nil {
		return nil, err
	}
	if err := h.prefetch(ctx, c, req.Media); err != nil {
		return nil, err
	}
	release := h.media.Hold()
	defer release()
	return h.messageMedia(ctx, c, req.Media)
}

// prefetch fetches the URLs of media sent by URL (M10) before the call
// holds media: a slow remote server must not hold up deletions.
func (h *Handler) prefetch(ctx context.Context, c *call, media ...tg.InputMediaClass) error {
	var urls []string
	for _, m := range media {
		switch m := m.(type) {
		case *tg.InputMediaPhotoExternal:
			urls = append(urls, m.URL)
		case *tg.InputMediaDocumentExternal:
			urls = append(urls, m.URL)
		}
	}
	var err error
	c.fetched, err = h.media.Prefetch(ctx, urls...)
	return err
}

// messageMedia turns the media of a call into a MessageMedia: uploads are
// finalized, existing documents are sent again without re-upload (M4).
func (h *Handler) messageMedia(ctx context.Context, c *call, in tg.InputMediaClass) (tg.MessageMediaClass, error) {
	switch m := in.(type) {
	case *tg.InputMediaUploadedDocument:
		return h.mediaDocument(h.media.UploadDocument(ctx, c.user, library.DocumentUpload{
			File: upload(c, m.File), Thumb: optionalUpload(c, m.Thumb), MimeType: m.MimeType, Attributes: m.Attributes,
			ForceFile: m.ForceFile, NosoundVideo: m.NosoundVideo}))
	case *tg.InputMediaUploadedPhoto:
		return h.mediaPhoto(h.media.UploadPhoto(ctx, c.user, upload(c, m.File)))
	case *tg.InputMediaGeoPoint:
		return h.geoMedia(m)
	case *tg.InputMediaPhotoExternal:
		return h.mediaPhoto(h.media.PhotoFromURL(ctx, c.user, m.URL, c.fetched))
	case *tg.InputMediaDocumentExternal:
		return h.mediaDocument(h.media.DocumentFromURL(ctx, c.user, m.URL, c.fetched))
	case *tg.InputMediaPhoto:
		in, ok := m.ID.(*tg.InputPhoto)
		if !ok {
			return nil, library.ErrMediaInvalid
		}
		return h.mediaPhoto(h.media.Photo(ctx, inputPhoto(in), library.ErrMediaInvalid))
	case *tg.InputMediaDocument:
		in, ok := m.ID.(*tg.InputDocument)
		if !ok {
			return nil, library.ErrMediaInvalid
		}
		return h.mediaDocument(h.media.Document(ctx, library.Named{ID: in.ID, AccessHash: in.AccessHash, FileReference: in.FileReference},
			library.ErrMediaInvalid))
	}
	return nil, library.ErrMediaInvalid
}

// mediaDocument is messageMediaDocument of what the library answered.
func (h *Handler) mediaDocument(d store.Document, err error) (tg.MessageMediaClass, error) {
	if err != nil {
		return nil, err
	}
	doc, err := h.tgDocument(d, library.ObjectOrigin)
	if err != nil {
		return nil, err
	}
	return &tg.MessageMediaDocument{Document: doc}, nil
}

// mediaPhoto is messageMediaPhoto of what the library answered.
func (h *Handler) mediaPhoto(p store.Photo, err error) (tg.MessageMediaClass, error) {
	if err != nil {
		return nil, err
	}
	return &tg.MessageMediaPhoto{Photo: h.tgPhoto(p, library.ObjectOrigin)}, nil
}

// getDocumentByHash finds a stored document by content (M6), the caller's
// own when there is one.
func (h *Handler) getDocumentByHash(ctx context.Context, c *call, req *tg.MessagesGetDocumentByHashRequest) (bin.Encoder, error) {
	d, ok, err := h.media.DocumentByHash(ctx, c.user, req.SHA256, req.Size, req.MimeType)
	if err != nil {
		return nil, err
	}
	if !ok {
		return &tg.DocumentEmpty{ID: 0}, nil
	}
	return h.tgDocument(d, library.ObjectOrigin)
}

// tgDocument describes a document with a fresh file reference from o (D7).
func (h *Handler) tgDocument(d store.Document, o library.Origin) (*tg.Document, error) {
	attrs, err := library.Attributes(d)
	if err != nil {
		return nil, err
	}
	doc := &tg.Document{
		ID:            d.ID,
		AccessHash:    d.AccessHash,
		FileReference: h.media.Ref(files.FileRef{ID: d.ID, AccessHash: d.AccessHash}, o),
		Date:          int(d.Date.Unix()),
		MimeType:      d.Mime,
		Size:          d.Size,
		DCID:          h.fileDC(d.ID),
		Attributes:    attrs,
	}
	if len(d.Outline) > 0 {
		doc.Thumbs = append(doc.Thumbs, &tg.PhotoPathSize{Type: "j", Bytes: d.Outline})
	}
	if len(d.Stripped) > 0 {
		doc.Thumbs = append(doc.Thumbs, &tg.PhotoStrippedSize{Type: "i", Bytes: d.Stripped})
	}
	for _, t := range d.Thumbs {
		doc.Thumbs = append(doc.Thumbs, &tg.PhotoSize{Type: t.Type, W: t.W, H: t.H, Size: int(t.Size)})
	}
	doc.SetFlags()
	return doc, nil
}

// tgPhoto describes a photo with a fresh file reference from o: the stripped
// size first, then the sizes smallest first.
func (h *Handler) tgPhoto(p store.Photo, o library.Origin) *tg.Photo {
	sizes := []tg.PhotoSizeClass{}
	if len(p.Stripped) > 0 {
		sizes = append(sizes, &tg.PhotoStrippedSize{Type: "i", Bytes: p.Stripped})
	}
	for _, s := range p.Sizes {
		sizes = append(sizes, &tg.PhotoSize{Type: s.Type, W: s.W, H: s.H, Size: int(s.Size)})
	}
	var videos []tg.VideoSizeClass
	if v := p.Video; v != nil {
		vs := &tg.VideoSize{Type: v.Type, W: v.W, H: v.H, Size: int(v.Size), VideoStartTs: p.VideoStart}
		vs.SetFlags()
		videos = append(videos, vs)
	}
	out := &tg.Photo{
		ID:            p.ID,
		AccessHash:    p.AccessHash,
		FileReference: h.media.Ref(files.FileRef{ID: p.ID, AccessHash: p.AccessHash}, o),
		Date:          int(p.Date.Unix()),
		Sizes:         sizes,
		VideoSizes:    videos,
		DCID:          h.fileDC(p.ID),
	}
	out.SetFlags()
	return out
}
