package interop

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/filedc/filedc/internal/media"
)

// testImage is a w×h gradient.
func testImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return img
}

// testJPEG is a w×h gradient photo.
func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(w, h), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestM5_PhotoSizesOverTheWire(t *testing.T) {
	srv := startServer(t)
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		file, err := upload(ctx, api, "photo.jpg", testJPEG(t, 1000, 600))
		if err != nil {
			return err
		}
		res, err := api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{
			Peer: &tg.InputPeerSelf{}, Media: &tg.InputMediaUploadedPhoto{File: file}, RandomID: 1, Message: "a photo"})
		if err != nil {
			return err
		}
		msg := sentMessages(t, res, 1)[0]
		photo := msg.Media.(*tg.MessageMediaPhoto).Photo.(*tg.Photo)
		want := map[string][2]int{"s": {100, 60}, "m": {320, 192}, "x": {800, 480}, "y": {1000, 600}}
		seen := map[string]bool{}
		for _, size := range photo.Sizes {
			switch s := size.(type) {
			case *tg.PhotoStrippedSize:
				cfg, err := jpeg.DecodeConfig(bytes.NewReader(media.ExpandStripped(s.Bytes)))
				if err != nil || cfg.Width > 40 || cfg.Height > 40 || cfg.Width < cfg.Height {
					t.Errorf("stripped size: %+v, %v", cfg, err)
				}
				seen["i"] = true
			case *tg.PhotoSize:
				dims, ok := want[s.Type]
				if !ok || s.W != dims[0] || s.H != dims[1] {
					t.Errorf("size %s is %dx%d", s.Type, s.W, s.H)
					continue
				}
				// Each size downloads through inputPhotoFileLocation and decodes.
				var out bytes.Buffer
				_, err := downloader.NewDownloader().Download(api, &tg.InputPhotoFileLocation{
					ID: photo.ID, AccessHash: photo.AccessHash, FileReference: photo.FileReference, ThumbSize: s.Type,
				}).Stream(ctx, &out)
				if err != nil {
					return err
				}
				cfg, err := jpeg.DecodeConfig(&out)
				if err != nil || cfg.Width != s.W || cfg.Height != s.H {
					t.Errorf("downloaded size %s: %+v, %v", s.Type, cfg, err)
				}
				seen[s.Type] = true
			}
		}
		for _, typ := range []string{"i", "s", "m", "x", "y"} {
			if !seen[typ] {
				t.Errorf("no %s size", typ)
			}
		}
		// An unknown size is refused; the photo is sent again without re-upload.
		_, err = api.UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: &tg.InputPhotoFileLocation{
			ID: photo.ID, AccessHash: photo.AccessHash, FileReference: photo.FileReference, ThumbSize: "w"}, Limit: 4096})
		if !tgerr.Is(err, "LOCATION_INVALID") {
			t.Errorf("a size the photo lacks: %v", err)
		}
		res, err = api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{}, RandomID: 2,
			Media: &tg.InputMediaPhoto{ID: &tg.InputPhoto{ID: photo.ID, AccessHash: photo.AccessHash, FileReference: photo.FileReference}}})
		if err != nil {
			return err
		}
		if again := sentMessages(t, res, 2)[0].Media.(*tg.MessageMediaPhoto).Photo.(*tg.Photo); again.ID != photo.ID {
			t.Error("the re-sent photo is another photo")
		}
		// Something that is not an image is refused.
		bad, err := upload(ctx, api, "not.jpg", []byte("this is not an image at all"))
		if err != nil {
			return err
		}
		_, err = api.MessagesUploadMedia(ctx, &tg.MessagesUploadMediaRequest{Peer: &tg.InputPeerSelf{}, Media: &tg.InputMediaUploadedPhoto{File: bad}})
		if !tgerr.Is(err, "IMAGE_PROCESS_FAILED") {
			t.Errorf("a non-image photo: %v", err)
		}
		return nil
	})
}
