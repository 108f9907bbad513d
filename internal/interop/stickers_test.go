package interop

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"math"
	"testing"
	"time"

	"github.com/gotd/td/telegram/thumbnail"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/testenv"
)

// discWithAlpha is an ffmpeg filter drawing an opaque disc of radius r in
// the middle of a size×size transparent picture.
func discWithAlpha(size, r int, rate string) string {
	return fmt.Sprintf("color=c=red:s=%dx%d%s,format=rgba,geq=r='255':g='0':b='0':a='if(lt(hypot(X-%d\\,Y-%d)\\,%d)\\,255\\,0)'",
		size, size, rate, size/2, size/2, r)
}

// insidePath tells whether (x, y) is inside the polygons (even-odd rule).
func insidePath(polys [][]media.Point, x, y float64) bool {
	in := false
	for _, p := range polys {
		for i, j := 0, len(p)-1; i < len(p); j, i = i, i+1 {
			a, b := p[i], p[j]
			if (a.Y > y) != (b.Y > y) && x < (b.X-a.X)*(y-a.Y)/(b.Y-a.Y)+a.X {
				in = !in
			}
		}
	}
	return in
}

// checkOutline decodes a document's "j" outline with gotd's decoder and
// checks that it covers a centred disc of radius r in a 512 viewBox:
// points well inside are in, points well outside are out.
func checkOutline(t *testing.T, d *tg.Document, r float64) {
	t.Helper()
	var path *tg.PhotoPathSize
	for _, th := range d.Thumbs {
		if p, ok := th.(*tg.PhotoPathSize); ok && p.Type == "j" {
			path = p
		}
	}
	if path == nil {
		t.Fatalf("no photoPathSize j in %+v", d.Thumbs)
	}
	if len(path.Bytes) == 0 || len(path.Bytes) >= 300 {
		t.Fatalf("outline of %d bytes; Telegram's stay under 300", len(path.Bytes))
	}
	polys, err := media.ParsePath(string(thumbnail.DecodePath(path.Bytes)))
	if err != nil {
		t.Fatalf("gotd's decoded path does not parse: %v", err)
	}
	for a := 0.0; a < 2*math.Pi; a += math.Pi / 12 {
		for _, c := range []struct {
			rr   float64
			want bool
		}{{0, true}, {r * 0.85, true}, {r*1.15 + 8, false}} {
			x, y := 256+c.rr*math.Cos(a), 256+c.rr*math.Sin(a)
			if insidePath(polys, x, y) != c.want {
				t.Fatalf("(%.0f, %.0f) at radius %.0f: inside %v, want %v", x, y, c.rr, !c.want, c.want)
			}
		}
	}
}

func attrOf[T tg.DocumentAttributeClass](d *tg.Document) (T, bool) {
	for _, a := range d.Attributes {
		if x, ok := a.(T); ok {
			return x, true
		}
	}
	var zero T
	return zero, false
}

// Rule M9 over the wire: a static sticker (a WebP with transparency, with
// documentAttributeSticker or sent as a plain file) gets a photoPathSize
// "j" that gotd decodes into a path covering the opaque disc, and an "m"
// PNG of 128×128 that keeps the transparency; force_file keeps a WebP a
// file. A video sticker (WebM VP9 with alpha) gets its outline from its
// first frame.
func TestM9_StickerOutlinesOverTheWire(t *testing.T) {
	ffprobe, ffmpeg := mediaTools(t)
	srv := startServer(t, "--ffprobe", ffprobe, "--ffmpeg", ffmpeg)
	webp := testenv.FFmpegSample(t, ffmpeg, "s.webp", "-f", "lavfi", "-i", discWithAlpha(512, 200, ""),
		"-frames:v", "1", "-c:v", "libwebp", "-lossless", "1")
	webm := testenv.FFmpegSample(t, ffmpeg, "s.webm", "-f", "lavfi", "-i", discWithAlpha(512, 150, ":r=10:d=1"),
		"-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", "-auto-alt-ref", "0", "-b:v", "200k")
	sticker := &tg.DocumentAttributeSticker{Alt: "🙂", Stickerset: &tg.InputStickerSetEmpty{}}
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		// Declared a sticker.
		d, err := sendDocument(ctx, t, api, "s.webp", webp, &tg.InputMediaUploadedDocument{MimeType: "image/webp",
			Attributes: []tg.DocumentAttributeClass{sticker}})
		if err != nil {
			return err
		}
		checkOutline(t, d, 200)
		if s, ok := attrOf[*tg.DocumentAttributeSticker](d); !ok || s.Alt != "🙂" {
			return fmt.Errorf("sticker attribute: %+v", d.Attributes)
		}
		var m *tg.PhotoSize
		for _, th := range d.Thumbs {
			switch th := th.(type) {
			case *tg.PhotoSize:
				m = th
			case *tg.PhotoStrippedSize:
				return fmt.Errorf("a sticker with a stripped thumbnail")
			}
		}
		if m == nil || m.Type != "m" || m.W != 128 || m.H != 128 {
			return fmt.Errorf("sticker thumbnail: %+v", d.Thumbs)
		}
		res, err := api.UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: &tg.InputDocumentFileLocation{ID: d.ID,
			AccessHash: d.AccessHash, FileReference: d.FileReference, ThumbSize: "m"}, Limit: 1 << 20})
		if err != nil {
			return err
		}
		img, err := png.Decode(bytes.NewReader(res.(*tg.UploadFile).Bytes))
		if err != nil {
			return fmt.Errorf("the m thumbnail is not a PNG: %w", err)
		}
		if _, _, _, a := img.At(2, 2).RGBA(); a != 0 {
			return fmt.Errorf("the m thumbnail's corner is not transparent (alpha %d)", a)
		}
		if _, _, _, a := img.At(64, 64).RGBA(); a != 0xffff {
			return fmt.Errorf("the m thumbnail's middle is not opaque (alpha %d)", a)
		}

		// A WebP with transparency sent as a file becomes a sticker...
		d, err = sendDocument(ctx, t, api, "plain.webp", append(bytes.Clone(webp), 0), &tg.InputMediaUploadedDocument{MimeType: "image/webp"})
		if err != nil {
			return err
		}
		if _, ok := attrOf[*tg.DocumentAttributeSticker](d); !ok {
			return fmt.Errorf("a WebP with alpha did not become a sticker: %+v", d.Attributes)
		}
		checkOutline(t, d, 200)
		// ...unless force_file.
		d, err = sendDocument(ctx, t, api, "file.webp", append(bytes.Clone(webp), 0, 0), &tg.InputMediaUploadedDocument{MimeType: "image/webp", ForceFile: true})
		if err != nil {
			return err
		}
		if _, ok := attrOf[*tg.DocumentAttributeSticker](d); ok {
			return fmt.Errorf("force_file WebP became a sticker")
		}
		for _, th := range d.Thumbs {
			if _, ok := th.(*tg.PhotoPathSize); ok {
				return fmt.Errorf("force_file WebP got an outline")
			}
		}

		// A video sticker.
		d, err = sendDocument(ctx, t, api, "s.webm", webm, &tg.InputMediaUploadedDocument{MimeType: "video/webm",
			Attributes: []tg.DocumentAttributeClass{sticker}})
		if err != nil {
			return err
		}
		checkOutline(t, d, 150)
		if v, ok := attrOf[*tg.DocumentAttributeVideo](d); !ok || v.W != 512 || v.H != 512 {
			return fmt.Errorf("video sticker attributes: %+v", d.Attributes)
		}
		return nil
	})
}
