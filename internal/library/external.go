package library

import (
	"context"
	"errors"
	"mime"
	"net/url"
	"path"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/store"
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

// Fetched holds what Prefetch brought, by URL.
type Fetched map[string]webfetch.Result

// Prefetch fetches URLs of media sent by URL, at once. Callers fetch
// before Hold: a slow remote server must not hold up collection (a
// deletion waiting for it would stall every send). With no URLs it
// fetches nothing and returns nil.
func (s *Service) Prefetch(ctx context.Context, urls ...string) (Fetched, error) {
	if len(urls) == 0 {
		return nil, nil
	}
	results := make([]webfetch.Result, len(urls))
	var g errgroup.Group
	for i, u := range urls {
		g.Go(func() (err error) {
			results[i], err = s.fetch(ctx, u)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make(Fetched, len(urls))
	for i, u := range urls {
		out[u] = results[i]
	}
	return out, nil
}

// fetched returns what Prefetch brought for rawURL, or fetches it now.
func (s *Service) fetched(ctx context.Context, pre Fetched, rawURL string) (webfetch.Result, error) {
	if res, ok := pre[rawURL]; ok {
		return res, nil
	}
	return s.fetch(ctx, rawURL)
}

func (s *Service) fetch(ctx context.Context, rawURL string) (webfetch.Result, error) {
	if rawURL == "" || len(rawURL) > maxURLLen {
		return webfetch.Result{}, errCurlFailed
	}
	// Each fetch may hold its size cap in memory: a few at a time.
	if !takeSlot(ctx, s.webSlots) {
		return webfetch.Result{}, ctx.Err()
	}
	res, err := s.cfg.Web.Get(ctx, rawURL)
	<-s.webSlots
	switch {
	case errors.Is(err, webfetch.ErrEmpty):
		return res, errMediaEmpty
	case err != nil:
		s.cfg.Logger.Info("web: fetch refused or failed", "err", err)
		return res, errCurlFailed
	}
	if strings.HasPrefix(res.ContentType, "text/html") {
		return res, errMediaEmpty // a page, not media
	}
	return res, nil
}

// PhotoFromURL makes and stores a photo of the image at rawURL.
func (s *Service) PhotoFromURL(ctx context.Context, owner int64, rawURL string, pre Fetched) (store.Photo, error) {
	res, err := s.fetched(ctx, pre, rawURL)
	if err != nil {
		return store.Photo{}, err
	}
	if !strings.HasPrefix(res.ContentType, "image/") || int64(len(res.Body)) > maxPhotoBytes {
		return store.Photo{}, ErrMediaInvalid
	}
	p, err := s.photoOf(ctx, owner, res.Body, media.DefaultLimits)
	if err != nil {
		return store.Photo{}, err
	}
	if err := s.cfg.Photos.PutPhoto(ctx, p); err != nil {
		return store.Photo{}, err
	}
	return p, nil
}

// DocumentFromURL makes a document of the content at rawURL, named after
// the URL, or finds the stored document of the same content.
func (s *Service) DocumentFromURL(ctx context.Context, owner int64, rawURL string, pre Fetched) (store.Document, error) {
	res, err := s.fetched(ctx, pre, rawURL)
	if err != nil {
		return store.Document{}, err
	}
	name := urlFileName(res.URL)
	rec, err := s.cfg.Engine.StoreBytes(ctx, owner, name, res.Body)
	if err != nil {
		return store.Document{}, err
	}
	mimeType, _, _ := mime.ParseMediaType(res.ContentType)
	if mimeType == "" || mimeType == "application/octet-stream" || strings.HasPrefix(mimeType, "text/plain") {
		mimeType = "" // taken from the content, as for an upload
	}
	if byExt := mime.TypeByExtension(path.Ext(name)); mimeType == "" && byExt != "" {
		mimeType, _, _ = mime.ParseMediaType(byExt)
	}
	// documentOf owns the stored file from here, dropping it on an error.
	return s.documentOf(ctx, owner, rec, &docAttrs{}, DocumentUpload{MimeType: mimeType})
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
