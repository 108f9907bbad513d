package library

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/probe"
	"github.com/filedc/filedc/internal/store"
)

// Documents (M4, M5, M6): a finalized file becomes a document with
// attributes from its content where the client gave none, a mime type from
// its content where the client's says nothing, and a thumbnail for images
// and videos. Content is stored once, whoever uploads it (M6), but a
// document's metadata is its uploader's (S7e): one account uploading the same
// content with the same mime type and attributes again gets the same
// document; anyone else gets a document of their own over the same file.

const headLen = 1 << 20 // bytes read for the mime type and an image's header

// DocumentUpload is what a client sends to make a document of an upload
// (inputMediaUploadedDocument): the file, perhaps its own thumbnail, and
// what it declares.
type DocumentUpload struct {
	File         Upload
	Thumb        *Upload // the client's thumbnail; nil: none
	MimeType     string
	Attributes   []tg.DocumentAttributeClass
	ForceFile    bool // a file as it is: no sticker, no video or audio attributes
	NosoundVideo bool
}

// UploadDocument finalizes an upload into a document, or finds the owner's
// stored document of the same content, mime type and attributes.
func (s *Service) UploadDocument(ctx context.Context, owner int64, u DocumentUpload) (store.Document, error) {
	// Declared attributes are checked before the upload is consumed.
	attrs, err := clientAttrs(u.Attributes)
	if err != nil {
		return store.Document{}, err
	}
	if err := s.admitProbe(owner, u.MimeType); err != nil {
		return store.Document{}, err
	}
	rec, err := s.finalize(ctx, u.File)
	if err != nil {
		return store.Document{}, err
	}
	return s.documentOf(ctx, owner, rec, attrs, u)
}

// documentOf makes a document of a stored file: u says what the client
// declared (its File is already rec).
func (s *Service) documentOf(ctx context.Context, owner int64, rec store.FileRecord, attrs *docAttrs, u DocumentUpload) (store.Document, error) {
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	// On an error, or when the owner has this document already, the upload
	// is consumed and its file dropped; once it is a document's, the
	// document code owns it.
	owned := false
	defer func() {
		if !owned {
			s.dropFile(ctx, ref)
		}
	}()
	r, _, err := s.cfg.Engine.ReaderAt(ctx, ref)
	if err != nil {
		return store.Document{}, err
	}
	head := make([]byte, min(rec.Size, headLen))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return store.Document{}, err
	}
	mimeType := strings.TrimSpace(u.MimeType)
	if mimeType == "" || mimeType == "application/octet-stream" {
		mimeType = contentMime(files.FileType(rec.Type), head)
	}
	if len(mimeType) > maxMimeLen {
		return store.Document{}, errMime
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
		if rec.Size <= maxThumbBytes && (u.Thumb == nil || attrs.sticker || format == "webp") {
			if thumb, err = s.cfg.Engine.ReadAll(ctx, ref, maxThumbBytes); err != nil {
				return store.Document{}, err
			}
			if art = s.staticSticker(ctx, attrs, format, thumb, u.ForceFile); art != nil || u.Thumb != nil {
				thumb = nil
			}
		}
	} else if s.cfg.Probe.Enabled() && isAV(mimeType) {
		thumb, art = s.probeDocument(ctx, owner, attrs, probe.Source{R: r, Size: rec.Size}, u)
	}
	if u.Thumb != nil && art == nil {
		// The client's own thumbnail wins over one made here.
		if thumb, err = s.clientThumb(ctx, *u.Thumb); err != nil {
			return store.Document{}, err
		}
	}

	d := store.Document{ID: rec.ID, AccessHash: rec.AccessHash, Owner: owner, File: rec.ID, FileAccess: rec.AccessHash,
		Mime: mimeType, Date: rec.Created, Size: rec.Size, SHA256: rec.SHA256}
	if d.Attributes, err = encodeAttrs(attrs.list); err != nil {
		return store.Document{}, err
	}
	// Before thumbnails are stored: the owner's same document is the answer.
	if same, ok, err := s.ownDocument(ctx, d); err != nil || ok {
		return same, err
	}
	if art != nil {
		if err := s.stickerThumbs(ctx, owner, &d, art); err != nil {
			return store.Document{}, err
		}
	}
	if thumb != nil {
		if err := s.documentThumb(ctx, owner, &d, thumb); err != nil && u.Thumb != nil {
			return store.Document{}, err
		} else if err != nil {
			s.cfg.Logger.Debug("no document thumbnail", "file", rec.ID, "err", err)
		}
	}
	owned = true
	return s.putDocument(ctx, rec, d)
}

// ownDocument finds the document d's owner has of the same content, mime
// type and attributes.
func (s *Service) ownDocument(ctx context.Context, d store.Document) (store.Document, bool, error) {
	same, err := s.cfg.Documents.DocumentsByContent(ctx, d.SHA256, d.Size)
	if err != nil {
		return store.Document{}, false, err
	}
	for _, x := range same {
		if x.Owner == d.Owner && x.Mime == d.Mime && bytes.Equal(x.Attributes, d.Attributes) {
			return x, true, nil
		}
	}
	return store.Document{}, false, nil
}

// putDocument stores a new document. Content is stored once (M6): when the
// owner's same document won a race, it is the answer and everything made
// here is dropped; when the content is already stored for another
// document, the new document points to that file and the upload is
// dropped. The store decides atomically, also across processes.
func (s *Service) putDocument(ctx context.Context, rec store.FileRecord, d store.Document) (store.Document, error) {
	stored, err := s.cfg.Documents.PutDocument(ctx, d)
	if err != nil {
		// Kept: the write may have happened before the error.
		return store.Document{}, err
	}
	if stored.ID != d.ID {
		s.dropDocumentFiles(ctx, d)
	}
	if stored.File != rec.ID {
		s.dropFile(ctx, files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash})
	}
	return stored, nil
}

// dropDocumentFiles deletes a document's thumbnails.
func (s *Service) dropDocumentFiles(ctx context.Context, d store.Document) {
	for _, t := range d.Thumbs {
		s.dropFile(ctx, files.FileRef{ID: t.File, AccessHash: t.FileAccess})
	}
}

// Document finds a document a client names, checking its access hash and
// file reference; missing is the answer when there is no such document.
func (s *Service) Document(ctx context.Context, in Named, missing error) (store.Document, error) {
	d, err := s.cfg.Documents.Document(ctx, in.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.AccessHash != in.AccessHash) {
		return store.Document{}, missing
	}
	if err != nil {
		return store.Document{}, err
	}
	return d, s.CheckRef(ctx, files.FileRef{ID: d.ID, AccessHash: d.AccessHash}, in.FileReference)
}

// DocumentFile resolves a document's download location to its file or,
// with a thumbnail type, one of its thumbnails (D1).
func (s *Service) DocumentFile(ctx context.Context, in Named, thumb string) (files.FileRef, error) {
	d, err := s.docFiles(ctx, in.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.accessHash != in.AccessHash) {
		return files.FileRef{}, files.ErrFileIDInvalid
	}
	if err != nil {
		return files.FileRef{}, err
	}
	if err := s.CheckRef(ctx, files.FileRef{ID: in.ID, AccessHash: d.accessHash}, in.FileReference); err != nil {
		return files.FileRef{}, err
	}
	if thumb == "" {
		return d.file, nil
	}
	for _, t := range d.thumbs {
		if t.typ == thumb {
			return t.file, nil
		}
	}
	return files.FileRef{}, errLocation
}

// DocumentByHash finds a stored document by content (M6), the caller's
// own when there is one; ok is false when there is none.
func (s *Service) DocumentByHash(ctx context.Context, caller int64, sha256 []byte, size int64, mimeType string) (d store.Document, ok bool, err error) {
	if len(sha256) != 32 {
		return store.Document{}, false, badRequest("SHA256_HASH_INVALID")
	}
	d, err = s.cfg.Documents.DocumentByHash(ctx, [32]byte(sha256), size, mimeType, caller)
	if errors.Is(err, store.ErrNotFound) {
		return store.Document{}, false, nil
	}
	if err != nil {
		return store.Document{}, false, err
	}
	return d, true, nil
}
