package interop

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"
)

// mediaSite is a local web server with the media a bot sends by URL.
type mediaSite struct {
	*httptest.Server
	hits atomic.Int32
	png  []byte
	pdf  []byte
}

func newMediaSite(t *testing.T) *mediaSite {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	s := &mediaSite{png: b.Bytes(), pdf: append([]byte("%PDF-1.4\n"), randomBytes(61, 300<<10)...)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		switch r.URL.Path {
		case "/cat.png":
			w.Write(s.png)
		case "/files/report.pdf":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(s.pdf)
		case "/page":
			w.Write([]byte("<!doctype html><html><body>hello</body></html>"))
		case "/empty":
		case "/moved":
			http.Redirect(w, r, "/cat.png", http.StatusFound)
		case "/to-metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// Rule M10 over the wire: media sent by URL. With loopback allowed by
// --web-allow, gotd's inputMediaPhotoExternal becomes a photo with every
// size, inputMediaDocumentExternal a document named after the URL, in
// sendMedia, sendMultiMedia and uploadMedia; the same file twice is one
// document. Pages, empty bodies, missing files and redirects to addresses
// not allowed answer Telegram's errors. Without the allow list, loopback is
// never contacted.
func TestM10_MediaSentByURL(t *testing.T) {
	site := newMediaSite(t)
	srv := startServer(t, "--web-allow", "127.0.0.1/32")
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		res, err := api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{},
			Media: &tg.InputMediaPhotoExternal{URL: site.URL + "/moved"}, RandomID: 1})
		if err != nil {
			return fmt.Errorf("sendMedia(photo by URL): %w", err)
		}
		msgs := sentMessages(t, res, 1)
		photo, ok := msgs[0].Media.(*tg.MessageMediaPhoto).Photo.(*tg.Photo)
		if !ok {
			return fmt.Errorf("sent %+v", msgs[0].Media)
		}
		var types string
		for _, s := range photo.Sizes {
			if ps, ok := s.(*tg.PhotoSize); ok {
				types += ps.Type
				if ps.Type == "x" && (ps.W != 640 || ps.H != 480) {
					return fmt.Errorf("size x is %dx%d", ps.W, ps.H)
				}
			}
		}
		if types != "smx" {
			return fmt.Errorf("photo sizes %q, want smx", types)
		}
		got, err := api.UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: &tg.InputPhotoFileLocation{ID: photo.ID,
			AccessHash: photo.AccessHash, FileReference: photo.FileReference, ThumbSize: "x"}, Limit: 1 << 20})
		if err != nil {
			return err
		}
		if img, err := jpeg.Decode(bytes.NewReader(got.(*tg.UploadFile).Bytes)); err != nil || img.Bounds().Dx() != 640 {
			return fmt.Errorf("size x does not decode to 640 wide: %v", err)
		}

		media, err := api.MessagesUploadMedia(ctx, &tg.MessagesUploadMediaRequest{Peer: &tg.InputPeerSelf{},
			Media: &tg.InputMediaDocumentExternal{URL: site.URL + "/files/report.pdf"}})
		if err != nil {
			return fmt.Errorf("uploadMedia(document by URL): %w", err)
		}
		doc := media.(*tg.MessageMediaDocument).Document.(*tg.Document)
		name, _ := attrOf[*tg.DocumentAttributeFilename](doc)
		if doc.MimeType != "application/pdf" || doc.Size != int64(len(site.pdf)) || name == nil || name.FileName != "report.pdf" {
			return fmt.Errorf("document %s %d %+v", doc.MimeType, doc.Size, doc.Attributes)
		}
		out := &writerAt{}
		if err := downloadDoc(ctx, api, doc, out); err != nil || !bytes.Equal(out.buf, site.pdf) {
			return fmt.Errorf("download of the document by URL: %v", err)
		}
		again, err := api.MessagesUploadMedia(ctx, &tg.MessagesUploadMediaRequest{Peer: &tg.InputPeerSelf{},
			Media: &tg.InputMediaDocumentExternal{URL: site.URL + "/files/report.pdf"}})
		if err != nil || again.(*tg.MessageMediaDocument).Document.(*tg.Document).ID != doc.ID {
			return fmt.Errorf("the same file by URL again is another document: %v", err)
		}

		album, err := api.MessagesSendMultiMedia(ctx, &tg.MessagesSendMultiMediaRequest{Peer: &tg.InputPeerSelf{},
			MultiMedia: []tg.InputSingleMedia{
				{Media: &tg.InputMediaPhotoExternal{URL: site.URL + "/cat.png"}, RandomID: 11, Message: "one"},
				{Media: &tg.InputMediaPhotoExternal{URL: site.URL + "/cat.png"}, RandomID: 12, Message: "two"},
			}})
		if err != nil {
			return fmt.Errorf("sendMultiMedia by URL: %w", err)
		}
		if ms := sentMessages(t, album, 11, 12); ms[0].GroupedID == 0 || ms[0].GroupedID != ms[1].GroupedID {
			return fmt.Errorf("album by URL: %+v", ms)
		}

		for _, c := range []struct {
			media tg.InputMediaClass
			want  string
		}{
			{&tg.InputMediaPhotoExternal{URL: site.URL + "/page"}, "400 WEBPAGE_MEDIA_EMPTY"},
			{&tg.InputMediaDocumentExternal{URL: site.URL + "/empty"}, "400 WEBPAGE_MEDIA_EMPTY"},
			{&tg.InputMediaPhotoExternal{URL: site.URL + "/missing.png"}, "400 WEBPAGE_CURL_FAILED"},
			{&tg.InputMediaPhotoExternal{URL: site.URL + "/files/report.pdf"}, "400 MEDIA_INVALID"},
			{&tg.InputMediaPhotoExternal{URL: site.URL + "/to-metadata"}, "400 WEBPAGE_CURL_FAILED"},
			{&tg.InputMediaDocumentExternal{URL: "file:///etc/passwd"}, "400 WEBPAGE_CURL_FAILED"},
			{&tg.InputMediaDocumentExternal{URL: ""}, "400 WEBPAGE_CURL_FAILED"},
		} {
			_, err := api.MessagesUploadMedia(ctx, &tg.MessagesUploadMediaRequest{Peer: &tg.InputPeerSelf{}, Media: c.media})
			if rpcErr(err) != c.want {
				return fmt.Errorf("%+v: %s, want %s", c.media, rpcErr(err), c.want)
			}
		}
		return nil
	})

	// Without --web-allow, the loopback site is never contacted.
	closed := startServer(t)
	before := site.hits.Load()
	withBot(t, closed, botToken, func(ctx context.Context, api *tg.Client) error {
		_, err := api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{},
			Media: &tg.InputMediaPhotoExternal{URL: site.URL + "/cat.png"}, RandomID: 2})
		if rpcErr(err) != "400 WEBPAGE_CURL_FAILED" {
			return fmt.Errorf("loopback without --web-allow: %s", rpcErr(err))
		}
		return nil
	})
	if site.hits.Load() != before {
		t.Fatal("a server without --web-allow contacted a loopback address")
	}
}

// downloadDoc downloads a document with gotd's downloader.
func downloadDoc(ctx context.Context, api *tg.Client, d *tg.Document, out *writerAt) error {
	_, err := downloader.NewDownloader().Download(api, docLocation(d)).Parallel(ctx, out)
	return err
}

// Rule M10 with GramJS (layer 198): sendFile with an http URL sends
// inputMediaPhotoExternal (an image) or inputMediaDocumentExternal; both
// arrive as ordinary media that GramJS downloads.
func TestM10_GramJSMediaByURL(t *testing.T) {
	site := newMediaSite(t)
	srv := startServer(t, "--web-allow", "127.0.0.1/32")
	urls := site.URL + "/cat.png\n" + site.URL + "/files/report.pdf\n"
	res, _ := runGramJS(t, srv, "external", map[string][]byte{"urls.txt": []byte(urls)})
	if len(res.Sent) != 2 || res.ID != res.Sent[0] || res.Message != "a photo by URL" || res.DCID != 2 {
		t.Fatalf("photo by URL: message %d (sent %v), caption %q, DC %d", res.ID, res.Sent, res.Message, res.DCID)
	}
	var types string
	for _, s := range res.Sizes {
		types += s.Type
	}
	if types != "smx" || res.Full.Downloaded == 0 {
		t.Errorf("photo by URL: sizes %q, largest downloaded %d bytes", types, res.Full.Downloaded)
	}
	if len(res.Messages) != 1 {
		t.Fatalf("document by URL: %+v", res.Messages)
	}
	d := res.Messages[0]
	if d.MimeType != "application/pdf" || d.FileName != "report.pdf" || d.Size != len(site.pdf) || d.SHA256 != sha256Hex(site.pdf) {
		t.Errorf("document by URL: %s %q %d bytes, SHA-256 %s", d.MimeType, d.FileName, d.Size, d.SHA256)
	}
}
