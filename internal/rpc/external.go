package rpc

import (
	"context"
	"errors"
	"mime"
	"net/url"
	"path"
	"strings"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/webfetch"
)

// Media sent by URL (M10): inputMediaPhotoExternal and
// inputMediaDocumentExternal, what the Bot API's sendPhoto and sendDocument
// with a URL become. The server fetches the URL once, through the safe
// fetcher, and makes an ordinary photo or document of the bytes.

var (
	errCurlFailed = badRequest("WEBPAGE_CURL_FAILED")
	errMediaEmpty = badRequest("WEBPAGE_MEDIA_EMPTY")
)

// maxURLLen bounds a URL a client names.
const maxURLLen = 2048

func (h *Handler) fetch(ctx context.Context, rawURL string) (webfetch.Result, error) {
	if rawURL == "" || len(rawURL) > maxURLLen {
		return webfetch.Result{}, errCurlFailed
	}
	// Each fetch may hold its size cap in memory: a few at a time.
	if !h.takeSlot(ctx, h.webSlots) {
		return webfetch.Result{}, ctx.Err()
	}
	res, err := h.cfg.Web.Get(ctx, rawURL)
	<-h.webSlots
	switch {
	case errors.Is(err, webfetch.ErrEmpty):
		return res, errMediaEmpty
	case err != nil:
		h.cfg.Logger.Info("web: fetch refused or failed", "err", err)
		return res, errCurlFailed
	}
	if strings.HasPrefix(res.ContentType, "text/html") {
		return res, errMediaEmpty // a page, not media
	}
	return res, nil
}

func (h *Handler) externalPhoto(ctx context.Context, c *call, rawURL string) (*tg.Photo, error) {
	res, err := h.fetch(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(res.ContentType, "image/") || int64(len(res.Body)) > maxPhotoBytes {
		return nil, badRequest("MEDIA_INVALID")
	}
	p, err := h.photoOf(ctx, c, res.Body, media.DefaultLimits)
	if err != nil {
		return nil, err
	}
	if err := h.cfg.Photos.PutPhoto(ctx, p); err != nil {
		return nil, err
	}
	return h.tgPhoto(p, objectOrigin), nil
}

func (h *Handler) externalDocument(ctx context.Context, c *call, rawURL string) (*tg.Document, error) {
	res, err := h.fetch(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	name := urlFileName(res.URL)
	rec, err := h.cfg.Engine.StoreBytes(ctx, c.user, name, res.Body)
	if err != nil {
		return nil, err
	}
	mimeType, _, _ := mime.ParseMediaType(res.ContentType)
	if mimeType == "" || mimeType == "application/octet-stream" || strings.HasPrefix(mimeType, "text/plain") {
		mimeType = "" // taken from the content, as for an upload
	}
	if byExt := mime.TypeByExtension(path.Ext(name)); mimeType == "" && byExt != "" {
		mimeType, _, _ = mime.ParseMediaType(byExt)
	}
	attrs := &docAttrs{}
	// documentOf owns the stored file from here, dropping it on an error.
	return h.documentOf(ctx, c, rec, attrs, &tg.InputMediaUploadedDocument{MimeType: mimeType})
}

// urlFileName is the last segment of a URL's path when it makes a valid
// file name, else "file".
func urlFileName(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "file"
	}
	if name := cleanFileName(path.Base(u.Path)); name != "" && name != "." && name != "/" {
		return name
	}
	return "file"
}
