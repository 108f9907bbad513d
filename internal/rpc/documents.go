package rpc

import (
	"context"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/probe"
	"github.com/filedc/filedc/internal/store"
)

// Documents (M4, M5): a finalized file becomes a document with attributes
// from its content where the client gave none, a mime type from its content
// where the client's says nothing, and a thumbnail for images and videos.
//
// The client's attributes win: Telegram keeps what a client declares (a
// player's duration, a round video, a voice note's waveform) and clients
// rely on it, so the server only adds the attribute types the client left
// out. A file name the client declares must be a valid name; one taken from
// the InputFile is cleaned to its last path element instead.

const (
	maxFileName   = 255     // bytes of a file name
	maxTagLen     = 256     // bytes of an audio title or performer
	maxAttributes = 16      // attributes a client may declare
	headLen       = 1 << 20 // bytes read for the mime type and an image's header
	maxThumbBytes = maxPhotoBytes
)

var (
	errFileName   = badRequest("FILENAME_INVALID")
	errAttributes = badRequest("MEDIA_INVALID")
)

// validFileName reports whether s can be a file name on a client's disk:
// valid UTF-8, 1 to 255 bytes, no path separators or control characters,
// not "." or "..".
func validFileName(s string) bool {
	if s == "" || len(s) > maxFileName || !utf8.ValidString(s) || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if r == '/' || r == '\\' || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// cleanFileName makes a name from an InputFile's name: its last path
// element, or nothing when that is not a valid name.
func cleanFileName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSpace(s)
	if !validFileName(s) {
		return ""
	}
	return s
}

// clip cuts s to at most n bytes on a rune boundary, dropping invalid UTF-8.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// contentMime names the mime type of content from its first bytes.
func contentMime(typ files.FileType, head []byte) string {
	switch typ {
	case files.TypeJPEG:
		return "image/jpeg"
	case files.TypePNG:
		return "image/png"
	case files.TypeGIF:
		return "image/gif"
	case files.TypeWEBP:
		return "image/webp"
	case files.TypePDF:
		return "application/pdf"
	case files.TypeMP3:
		return "audio/mpeg"
	case files.TypeMOV:
		return "video/quicktime"
	case files.TypeMP4:
		if len(head) >= 12 && string(head[8:11]) == "M4A" {
			return "audio/mp4"
		}
		return "video/mp4"
	}
	m, _, err := mime.ParseMediaType(http.DetectContentType(head))
	if err != nil {
		return "application/octet-stream"
	}
	if m == "application/ogg" {
		return "audio/ogg"
	}
	return m
}

// docAttrs are the attributes of a document being made, one per type.
type docAttrs struct {
	list           []tg.DocumentAttributeClass
	name, size, av bool // a file name, an image size, a video or audio attribute
	sticker        bool // documentAttributeSticker
}

func (a *docAttrs) add(x tg.DocumentAttributeClass) {
	switch x.(type) {
	case *tg.DocumentAttributeFilename:
		a.name = true
	case *tg.DocumentAttributeImageSize:
		a.size = true
	case *tg.DocumentAttributeVideo, *tg.DocumentAttributeAudio:
		a.av = true
	case *tg.DocumentAttributeSticker:
		a.sticker = true
	}
	a.list = append(a.list, x)
}

// clientAttrs checks the attributes a client declared, keeping the first of
// each type.
func clientAttrs(in []tg.DocumentAttributeClass) (*docAttrs, error) {
	if len(in) > maxAttributes {
		return nil, errAttributes
	}
	a := &docAttrs{}
	seen := map[uint32]bool{}
	for _, x := range in {
		if seen[x.TypeID()] {
			continue
		}
		seen[x.TypeID()] = true
		switch x := x.(type) {
		case *tg.DocumentAttributeFilename:
			if !validFileName(x.FileName) {
				return nil, errFileName
			}
		case *tg.DocumentAttributeImageSize:
			if x.W <= 0 || x.H <= 0 {
				return nil, errAttributes
			}
		case *tg.DocumentAttributeVideo:
			if x.W < 0 || x.H < 0 || x.Duration < 0 || math.IsNaN(x.Duration) || math.IsInf(x.Duration, 0) {
				return nil, errAttributes
			}
		case *tg.DocumentAttributeAudio:
			if x.Duration < 0 {
				return nil, errAttributes
			}
		}
		a.add(x)
	}
	return a, nil
}

// uploadedDocument makes a document of inputMediaUploadedDocument.
func (h *Handler) uploadedDocument(ctx context.Context, c *call, m *tg.InputMediaUploadedDocument) (*tg.Document, error) {
	attrs, err := clientAttrs(m.Attributes)
	if err != nil {
		return nil, err
	}
	rec, err := h.finalize(ctx, c, m.File)
	if err != nil {
		return nil, err
	}
	return h.documentOf(ctx, c, rec, attrs, m)
}

// documentOf makes a document of a stored file: m says what the client
// declared (its file is already rec).
func (h *Handler) documentOf(ctx context.Context, c *call, rec store.FileRecord, attrs *docAttrs, m *tg.InputMediaUploadedDocument) (*tg.Document, error) {
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	// On an error the upload is consumed and its file dropped; once it is
	// a document's, or shown to be a duplicate, the document code owns it.
	owned := false
	defer func() {
		if !owned {
			h.dropFile(ctx, ref)
		}
	}()
	r, _, err := h.cfg.Engine.ReaderAt(ctx, ref)
	if err != nil {
		return nil, err
	}
	head := make([]byte, min(rec.Size, headLen))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	mimeType := strings.TrimSpace(m.MimeType)
	if mimeType == "" || mimeType == "application/octet-stream" {
		mimeType = contentMime(files.FileType(rec.Type), head)
	}
	if len(mimeType) > 255 {
		return nil, badRequest("MIME_INVALID")
	}
	// The same content under the same mime type is one document (M6).
	if d, ok, err := h.sameDocument(ctx, rec, mimeType); err != nil || ok {
		owned = ok
		return d, err
	}

	if !attrs.name {
		if name := cleanFileName(rec.Name); name != "" {
			attrs.add(&tg.DocumentAttributeFilename{FileName: name})
		}
	}
	var thumb []byte    // an image the thumbnail is made of
	var art *stickerArt // a sticker's outline and thumbnail (M9)
	if format, w, hgt, err := media.ImageSize(head); err == nil {
		if !attrs.size {
			attrs.add(&tg.DocumentAttributeImageSize{W: w, H: hgt})
		}
		if rec.Size <= maxThumbBytes && (m.Thumb == nil || attrs.sticker || format == "webp") {
			if thumb, err = h.cfg.Engine.ReadAll(ctx, ref, maxThumbBytes); err != nil {
				return nil, err
			}
			if art = h.staticSticker(ctx, attrs, format, thumb, m.ForceFile); art != nil || m.Thumb != nil {
				thumb = nil
			}
		}
	} else if h.cfg.Probe.Enabled() && isAV(mimeType) {
		thumb, art = h.probeDocument(ctx, attrs, probe.Source{R: r, Size: rec.Size}, m)
	}
	if m.Thumb != nil && art == nil {
		// The client's own thumbnail wins over one made here.
		if thumb, err = h.clientThumb(ctx, c, m.Thumb); err != nil {
			return nil, err
		}
	}

	d := store.Document{ID: rec.ID, AccessHash: rec.AccessHash, File: rec.ID, FileAccess: rec.AccessHash,
		Mime: mimeType, Date: rec.Created, Size: rec.Size, SHA256: rec.SHA256}
	if d.Attributes, err = encodeAttrs(attrs.list); err != nil {
		return nil, err
	}
	if art != nil {
		if err := h.stickerThumbs(ctx, c, &d, art); err != nil {
			return nil, err
		}
	}
	if thumb != nil {
		if err := h.documentThumb(ctx, c, &d, thumb); err != nil && m.Thumb != nil {
			return nil, err
		} else if err != nil {
			h.cfg.Logger.Debug("no document thumbnail", "file", rec.ID, "err", err)
		}
	}
	owned = true
	return h.putDocument(ctx, rec, d)
}

func isAV(mimeType string) bool {
	return strings.HasPrefix(mimeType, "video/") || strings.HasPrefix(mimeType, "audio/")
}

// probeDocument adds video or audio attributes from ffprobe and returns a
// frame of a video for its thumbnail, if ffmpeg can take one.
func (h *Handler) probeDocument(ctx context.Context, attrs *docAttrs, src probe.Source, m *tg.InputMediaUploadedDocument) ([]byte, *stickerArt) {
	if !h.takeSlot(ctx, h.probeSlots) {
		return nil, nil
	}
	defer func() { <-h.probeSlots }()
	info, err := h.cfg.Probe.Probe(ctx, src)
	if err != nil {
		h.cfg.Logger.Debug("probe", "err", err)
		return nil, nil
	}
	if !attrs.av && !m.ForceFile {
		switch {
		case info.Video != nil:
			v := &tg.DocumentAttributeVideo{
				Duration:          math.Round(info.Duration*1000) / 1000,
				W:                 info.Video.W,
				H:                 info.Video.H,
				SupportsStreaming: strings.HasPrefix(info.Format, "mov,") && probe.MoovFirst(src.R, src.Size),
				Nosound:           info.Audio == nil || m.NosoundVideo,
			}
			v.SetFlags()
			attrs.add(v)
		case info.Audio != nil:
			a := &tg.DocumentAttributeAudio{Duration: int(math.Round(info.Duration)),
				Title: clip(info.Title, maxTagLen), Performer: clip(info.Artist, maxTagLen)}
			a.SetFlags()
			attrs.add(a)
		}
	}
	if info.Video == nil || !h.cfg.Probe.CanFrame() {
		return nil, nil
	}
	if attrs.sticker {
		return nil, h.videoSticker(ctx, src, info)
	}
	if m.Thumb != nil {
		return nil, nil
	}
	frame, err := h.cfg.Probe.Frame(ctx, src, info.Video.W, info.Video.H, 0, media.ThumbBoxes[0].Side)
	if err != nil {
		h.cfg.Logger.Debug("video frame", "err", err)
		return nil, nil
	}
	return frame, nil
}

// clientThumb reads the thumbnail a client uploaded with a document. Its
// upload is consumed: only the sizes made of it are kept.
func (h *Handler) clientThumb(ctx context.Context, c *call, in tg.InputFileClass) ([]byte, error) {
	rec, err := h.finalize(ctx, c, in)
	if err != nil {
		return nil, err
	}
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	defer h.cfg.Engine.DeleteFile(context.WithoutCancel(ctx), ref)
	b, err := h.cfg.Engine.ReadAll(ctx, ref, maxThumbBytes)
	if errors.Is(err, files.ErrTooLarge) {
		return nil, badRequest("PHOTO_SAVE_FILE_INVALID")
	}
	return b, err
}

// documentThumb makes the thumbnail sizes of d from an image: "m" within
// 320×320 as a stored file, and the stripped "i".
func (h *Handler) documentThumb(ctx context.Context, c *call, d *store.Document, img []byte) error {
	made, err := h.photoSizes(ctx, media.ThumbLimits, img)
	if err != nil {
		return err
	}
	d.Stripped = made.Stripped
	for _, s := range made.Sizes {
		f, err := h.cfg.Engine.StoreBytes(ctx, c.user, s.Type+".jpg", s.Bytes)
		if err != nil {
			return err
		}
		d.Thumbs = append(d.Thumbs, store.PhotoSize{Type: s.Type, W: s.W, H: s.H, File: f.ID, FileAccess: f.AccessHash, Size: f.Size})
	}
	return nil
}

// photoSizes decodes and scales an image, a few at a time.
func (h *Handler) photoSizes(ctx context.Context, limits media.Limits, img []byte) (media.Photo, error) {
	if !h.takeSlot(ctx, h.photoSlots) {
		return media.Photo{}, ctx.Err()
	}
	defer func() { <-h.photoSlots }()
	made, err := limits.PhotoSizes(img)
	switch {
	case errors.Is(err, media.ErrDimensions):
		return media.Photo{}, badRequest("PHOTO_INVALID_DIMENSIONS")
	case err != nil:
		return media.Photo{}, badRequest("IMAGE_PROCESS_FAILED")
	}
	return made, nil
}

func (h *Handler) takeSlot(ctx context.Context, slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func encodeAttrs(attrs []tg.DocumentAttributeClass) ([]byte, error) {
	var b bin.Buffer
	b.PutVectorHeader(len(attrs))
	for _, a := range attrs {
		if err := a.Encode(&b); err != nil {
			return nil, err
		}
	}
	return b.Buf, nil
}

func decodeAttrs(raw []byte) ([]tg.DocumentAttributeClass, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	b := &bin.Buffer{Buf: raw}
	n, err := b.VectorHeader()
	if err != nil {
		return nil, err
	}
	var attrs []tg.DocumentAttributeClass
	for i := 0; i < n; i++ {
		a, err := tg.DecodeDocumentAttribute(b)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, a)
	}
	return attrs, nil
}

// sameDocument finds the document of the same content and mime type; the
// new upload is then dropped.
func (h *Handler) sameDocument(ctx context.Context, rec store.FileRecord, mimeType string) (*tg.Document, bool, error) {
	same, err := h.cfg.Documents.DocumentByHash(ctx, rec.SHA256, rec.Size, mimeType)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	h.dropFile(ctx, files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash})
	doc, err := h.tgDocument(same, objectOrigin)
	return doc, true, err
}

// putDocument stores a new document. Content is stored once (M6): when a
// document of the same content and mime type won a race, it is the answer
// and everything made here is dropped; when content is already stored for a
// document of another mime type, the new document points to that file and
// the upload is dropped. The store decides atomically, also across
// processes.
func (h *Handler) putDocument(ctx context.Context, rec store.FileRecord, d store.Document) (*tg.Document, error) {
	stored, err := h.cfg.Documents.PutDocument(ctx, d)
	if err != nil {
		// Kept: the write may have happened before the error.
		return nil, err
	}
	if stored.ID != d.ID {
		h.dropDocumentFiles(ctx, d)
	}
	if stored.File != rec.ID {
		h.dropFile(ctx, files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash})
	}
	return h.tgDocument(stored, objectOrigin)
}

// dropFile deletes a stored file nothing refers to, logging a failure: the
// answer does not depend on it.
func (h *Handler) dropFile(ctx context.Context, ref files.FileRef) {
	if err := h.cfg.Engine.DeleteFile(context.WithoutCancel(ctx), ref); err != nil {
		h.cfg.Logger.Warn("dropping a stored file", "file", ref.ID, "err", err)
	}
}

// dropDocumentFiles deletes a document's thumbnails.
func (h *Handler) dropDocumentFiles(ctx context.Context, d store.Document) {
	for _, t := range d.Thumbs {
		h.dropFile(ctx, files.FileRef{ID: t.File, AccessHash: t.FileAccess})
	}
}

// tgDocument describes a document with a fresh file reference from o (D7).
func (h *Handler) tgDocument(d store.Document, o origin) (*tg.Document, error) {
	attrs, err := decodeAttrs(d.Attributes)
	if err != nil {
		return nil, err
	}
	doc := &tg.Document{
		ID:            d.ID,
		AccessHash:    d.AccessHash,
		FileReference: h.refs.issue(files.FileRef{ID: d.ID, AccessHash: d.AccessHash}, o, h.cfg.Now()),
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

// storedDocument finds a document a client names, checking its access hash
// and file reference.
func (h *Handler) storedDocument(ctx context.Context, id, accessHash int64, ref []byte, missing error) (store.Document, error) {
	d, err := h.cfg.Documents.Document(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.AccessHash != accessHash) {
		return store.Document{}, missing
	}
	if err != nil {
		return store.Document{}, err
	}
	return d, h.checkRef(ctx, files.FileRef{ID: d.ID, AccessHash: d.AccessHash}, ref)
}

// documentFile resolves inputDocumentFileLocation to the document's file
// or, with thumb_size, one of its thumbnails (D1).
func (h *Handler) documentFile(ctx context.Context, l *tg.InputDocumentFileLocation) (files.FileRef, error) {
	d, err := h.storedDocument(ctx, l.ID, l.AccessHash, l.FileReference, files.ErrFileIDInvalid)
	if err != nil {
		return files.FileRef{}, err
	}
	if l.ThumbSize == "" {
		return files.FileRef{ID: d.File, AccessHash: d.FileAccess}, nil
	}
	for _, t := range d.Thumbs {
		if t.Type == l.ThumbSize {
			return files.FileRef{ID: t.File, AccessHash: t.FileAccess}, nil
		}
	}
	return files.FileRef{}, errLocation
}
