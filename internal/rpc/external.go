package rpc

import (
	"context"
	"errors"
	"mime"
	"net/url"
	"path"
	"strings"

	"github.com/gotd/td/tg"
	"golang.org/x/sync/errgroup"

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

// prefetch fetches the URLs of media sent by URL, at once, before the call
// takes the media lock: a slow remote server must not hold it (a deletion
// waiting for it would stall every send).
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
	if len(urls) == 0 {
		return nil
	}
	results := make([]webfetch.Result, len(urls))
	var g errgroup.Group
	for i, u := range urls {
		g.Go(func() (err error) {
			results[i], err = h.fetch(ctx, u)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	c.fetched = make(map[string]webfetch.Result, len(urls))
	for i, u := range urls {
		c.fetched[u] = results[i]
	}
	return nil
}

// fetched returns what prefetch brought for rawURL, or fetches it now.
func (h *Handler) fetched(ctx context.Context, c *call, rawURL string) (webfetch.Result, error) {
	if res, ok := c.fetched[rawURL]; ok {
		return res, nil
	}
	return h.fetch(ctx, rawURL)
}

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
	res, err := h.fetched(ctx, c, rawURL)
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
	res, err := h.fetched(ctx, c, rawURL)
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
