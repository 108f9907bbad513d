package library

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/webfetch"
)

// Rule M10: media sent by URL is fetched once, through the fetcher, and
// becomes an ordinary photo or document: named after the URL, its mime
// type from the content, stored once.
func TestM10_MediaByURL(t *testing.T) {
	pdf := []byte("%PDF-1.4 a document\n")
	image := picture(t, 400, 300)
	var hits atomic.Int32
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/docs/report.pdf", "/download":
			w.Write(pdf)
		case "/photo":
			w.Write(image)
		case "/page":
			w.Write([]byte("<!DOCTYPE html><html><body>a page</body></html>"))
		case "/empty":
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()
	web, err := webfetch.New(webfetch.Config{Allow: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	l := newTestLib(t, func(c *Config) { c.Web = web })
	ctx := context.Background()

	pre, err := l.Prefetch(ctx, site.URL+"/docs/report.pdf", site.URL+"/photo")
	if err != nil || len(pre) != 2 || hits.Load() != 2 {
		t.Fatalf("prefetch: %d results, %d fetches, %v", len(pre), hits.Load(), err)
	}
	d, err := l.DocumentFromURL(ctx, testOwner, site.URL+"/docs/report.pdf", pre)
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := Attributes(d)
	if d.Mime != "application/pdf" || len(attrs) != 1 || attrs[0].(*tg.DocumentAttributeFilename).FileName != "report.pdf" {
		t.Errorf("document by URL: mime %q, attributes %+v", d.Mime, attrs)
	}
	p, err := l.PhotoFromURL(ctx, testOwner, site.URL+"/photo", pre)
	if err != nil || len(p.Sizes) != 3 {
		t.Errorf("photo by URL: sizes %v, %v", sizesOf(p), err)
	}
	if hits.Load() != 2 {
		t.Errorf("%d fetches: what was prefetched is fetched again", hits.Load())
	}
	// Without a prefetch it is fetched now; the same content is the same
	// document, and a URL without a name gives "file".
	again, err := l.DocumentFromURL(ctx, testOwner, site.URL+"/docs/report.pdf", nil)
	if err != nil || again.ID != d.ID {
		t.Errorf("the same URL again: document %#x, %v; want %#x", again.ID, err, d.ID)
	}
	if got := urlFileName(site.URL + "/"); got != "file" {
		t.Errorf("the name of a URL without one: %q", got)
	}

	for _, c := range []struct {
		what, url, msg string
		photo          bool
	}{
		{"a page", site.URL + "/page", "WEBPAGE_MEDIA_EMPTY", false},
		{"an empty body", site.URL + "/empty", "WEBPAGE_MEDIA_EMPTY", false},
		{"not found", site.URL + "/missing", "WEBPAGE_CURL_FAILED", false},
		{"no URL", "", "WEBPAGE_CURL_FAILED", false},
		{"a photo that is a PDF", site.URL + "/download", "MEDIA_INVALID", true},
	} {
		var err error
		if c.photo {
			_, err = l.PhotoFromURL(ctx, testOwner, c.url, nil)
		} else {
			_, err = l.DocumentFromURL(ctx, testOwner, c.url, nil)
		}
		wantError(t, c.what, err, 400, c.msg)
	}
	if _, err := l.Prefetch(ctx, site.URL+"/photo", site.URL+"/page"); err == nil {
		t.Error("a prefetch with a page among its URLs succeeded")
	}
	if pre, err := l.Prefetch(ctx); pre != nil || err != nil {
		t.Errorf("a prefetch of nothing: %v, %v", pre, err)
	}
}
