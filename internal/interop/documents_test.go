package interop

import (
	"bytes"
	"context"
	"image/jpeg"
	"image/png"
	"math"
	"strconv"
	"testing"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/testenv"
)

// mediaTools returns the paths of ffprobe and ffmpeg from the test setup.
func mediaTools(t *testing.T) (ffprobe, ffmpeg string) {
	t.Helper()
	return testenv.Require(t, "FILEDC_TEST_FFPROBE"), testenv.Require(t, "FILEDC_TEST_FFMPEG")
}

// testVideo is a w×h H.264 MP4 of secs seconds, with a tone unless silent,
// its index first when faststart.
func testVideo(t *testing.T, ffmpeg string, w, h int, secs string, silent, faststart bool) []byte {
	t.Helper()
	size := "testsrc=size=" + strconv.Itoa(w) + "x" + strconv.Itoa(h) + ":rate=25"
	args := []string{"-f", "lavfi", "-i", size}
	if !silent {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440")
	}
	args = append(args, "-t", secs, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	if silent {
		args = append(args, "-an")
	} else {
		args = append(args, "-c:a", "aac", "-shortest")
	}
	if faststart {
		args = append(args, "-movflags", "+faststart")
	}
	return testenv.FFmpegSample(t, ffmpeg, "v.mp4", args...)
}

// sendDocument uploads data and sends it to Saved Messages as a document.
func sendDocument(ctx context.Context, t *testing.T, api *tg.Client, name string, data []byte, m *tg.InputMediaUploadedDocument) (*tg.Document, error) {
	t.Helper()
	file, err := upload(ctx, api, name, data)
	if err != nil {
		return nil, err
	}
	m.File = file
	res, err := api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{}, Media: m, RandomID: int64(len(data))})
	if err != nil {
		return nil, err
	}
	return docOf(t, sentMessages(t, res, int64(len(data)))[0]), nil
}

// attrsOf indexes a document's attributes by type.
type attrsOf struct {
	name  *tg.DocumentAttributeFilename
	size  *tg.DocumentAttributeImageSize
	video *tg.DocumentAttributeVideo
	audio *tg.DocumentAttributeAudio
	n     int
}

func attributes(d *tg.Document) attrsOf {
	var a attrsOf
	for _, x := range d.Attributes {
		a.n++
		switch x := x.(type) {
		case *tg.DocumentAttributeFilename:
			a.name = x
		case *tg.DocumentAttributeImageSize:
			a.size = x
		case *tg.DocumentAttributeVideo:
			a.video = x
		case *tg.DocumentAttributeAudio:
			a.audio = x
		}
	}
	return a
}

// checkThumb checks a document's thumbnails: the stripped "i" and an "m"
// of w×h that downloads through inputDocumentFileLocation{thumb_size}.
func checkThumb(ctx context.Context, t *testing.T, api *tg.Client, d *tg.Document, w, h int) {
	t.Helper()
	var stripped, m bool
	for _, th := range d.Thumbs {
		switch s := th.(type) {
		case *tg.PhotoStrippedSize:
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(media.ExpandStripped(s.Bytes)))
			if err != nil || cfg.Width > 40 || cfg.Height > 40 {
				t.Errorf("stripped thumb: %+v, %v", cfg, err)
			}
			stripped = true
		case *tg.PhotoSize:
			if s.Type != "m" || s.W != w || s.H != h {
				t.Errorf("thumb %s %dx%d, want m %dx%d", s.Type, s.W, s.H, w, h)
			}
			var out bytes.Buffer
			_, err := downloader.NewDownloader().Download(api, &tg.InputDocumentFileLocation{
				ID: d.ID, AccessHash: d.AccessHash, FileReference: d.FileReference, ThumbSize: "m"}).Stream(ctx, &out)
			if err != nil {
				t.Fatalf("thumb download: %v", err)
			}
			cfg, err := jpeg.DecodeConfig(&out)
			if err != nil || cfg.Width != w || cfg.Height != h {
				t.Errorf("downloaded thumb %+v, %v; want %dx%d", cfg, err, w, h)
			}
			m = true
		}
	}
	if !stripped || !m {
		t.Errorf("document %d thumbs %v: want i and m", d.ID, d.Thumbs)
	}
}

func TestM5_DocumentAttributesFromContent(t *testing.T) {
	ffprobe, ffmpeg := mediaTools(t)
	srv := startServer(t, "--ffprobe", ffprobe, "--ffmpeg", ffmpeg)
	streamable := testVideo(t, ffmpeg, 320, 240, "3", false, true)
	indexLast := testVideo(t, ffmpeg, 480, 270, "2", true, false)
	tone := testenv.FFmpegSample(t, ffmpeg, "a.mp3", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "2",
		"-metadata", "title=Tone", "-metadata", "artist=Generator")
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		// A video without mime type or attributes: all from the content.
		d, err := sendDocument(ctx, t, api, "clips/clip.mp4", streamable, &tg.InputMediaUploadedDocument{})
		if err != nil {
			return err
		}
		a := attributes(d)
		if d.MimeType != "video/mp4" {
			t.Errorf("video mime %q", d.MimeType)
		}
		if a.name == nil || a.name.FileName != "clip.mp4" {
			t.Errorf("file name %+v", a.name)
		}
		if v := a.video; v == nil || v.W != 320 || v.H != 240 || math.Abs(v.Duration-3) > 0.2 || !v.SupportsStreaming || v.Nosound {
			t.Errorf("video attribute %+v", a.video)
		}
		checkThumb(ctx, t, api, d, 320, 240)

		// Index at the end, no sound: not streamable, nosound; the
		// thumbnail fits 320×320.
		d, err = sendDocument(ctx, t, api, "silent.mp4", indexLast, &tg.InputMediaUploadedDocument{MimeType: "application/octet-stream"})
		if err != nil {
			return err
		}
		if v := attributes(d).video; v == nil || v.W != 480 || v.H != 270 || v.SupportsStreaming || !v.Nosound {
			t.Errorf("silent video attribute %+v", v)
		}
		checkThumb(ctx, t, api, d, 320, 180)

		// Audio: duration, title and performer from the tags.
		d, err = sendDocument(ctx, t, api, "tone.mp3", tone, &tg.InputMediaUploadedDocument{})
		if err != nil {
			return err
		}
		if au := attributes(d).audio; d.MimeType != "audio/mpeg" || au == nil || au.Duration != 2 || au.Title != "Tone" || au.Performer != "Generator" {
			t.Errorf("audio %q %+v", d.MimeType, au)
		}
		if len(d.Thumbs) != 0 {
			t.Errorf("audio thumbs %v", d.Thumbs)
		}

		// An image: its size from the header, a thumbnail.
		d, err = sendDocument(ctx, t, api, "wide.jpg", testJPEG(t, 1000, 500), &tg.InputMediaUploadedDocument{})
		if err != nil {
			return err
		}
		if s := attributes(d).size; d.MimeType != "image/jpeg" || s == nil || s.W != 1000 || s.H != 500 {
			t.Errorf("image %q %+v", d.MimeType, s)
		}
		checkThumb(ctx, t, api, d, 320, 160)
		return nil
	})
}

func TestM4_ClientAttributesAndThumbWin(t *testing.T) {
	ffprobe, ffmpeg := mediaTools(t)
	srv := startServer(t, "--ffprobe", ffprobe, "--ffmpeg", ffmpeg)
	video := testVideo(t, ffmpeg, 320, 240, "1", false, true)
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		// The client's video attribute and name are kept as declared; its
		// thumbnail replaces the frame.
		thumb, err := upload(ctx, api, "thumb.jpg", testJPEG(t, 90, 60))
		if err != nil {
			return err
		}
		declared := &tg.DocumentAttributeVideo{Duration: 42, W: 64, H: 48, RoundMessage: true}
		d, err := sendDocument(ctx, t, api, "x.mp4", video, &tg.InputMediaUploadedDocument{MimeType: "video/mp4", Thumb: thumb,
			Attributes: []tg.DocumentAttributeClass{declared, &tg.DocumentAttributeFilename{FileName: "mine.mp4"}}})
		if err != nil {
			return err
		}
		a := attributes(d)
		if a.n != 2 || a.video == nil || a.video.Duration != 42 || a.video.W != 64 || !a.video.RoundMessage || a.name.FileName != "mine.mp4" {
			t.Errorf("attributes %+v", d.Attributes)
		}
		checkThumb(ctx, t, api, d, 90, 60)

		// A client's mime type other than octet-stream is kept.
		d, err = sendDocument(ctx, t, api, "data.bin", randomBytes(4, 5000), &tg.InputMediaUploadedDocument{MimeType: "application/x-custom"})
		if err != nil {
			return err
		}
		if d.MimeType != "application/x-custom" || attributes(d).name.FileName != "data.bin" {
			t.Errorf("custom document %q %+v", d.MimeType, d.Attributes)
		}

		// Names with path separators, control characters or too long are refused.
		for _, bad := range []string{"a/b", `a\b`, "..", "a\x00b", string(make([]byte, 300)), "\xff\xfe"} {
			_, err := sendDocument(ctx, t, api, "x", randomBytes(5, 100), &tg.InputMediaUploadedDocument{
				Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: bad}}})
			if !tgerr.Is(err, "FILENAME_INVALID") {
				t.Errorf("file name %q: %v", bad, err)
			}
		}
		// A thumbnail that is not an image is refused.
		notImage, err := upload(ctx, api, "t.jpg", []byte("not an image"))
		if err != nil {
			return err
		}
		_, err = sendDocument(ctx, t, api, "y.bin", randomBytes(6, 100), &tg.InputMediaUploadedDocument{Thumb: notImage})
		if !tgerr.Is(err, "IMAGE_PROCESS_FAILED") {
			t.Errorf("a thumbnail that is not an image: %v", err)
		}
		return nil
	})
}

func TestM5_DocumentsWithoutProbingTools(t *testing.T) {
	_, ffmpeg := mediaTools(t)
	srv := startServer(t, "--ffprobe", "", "--ffmpeg", "")
	video := testVideo(t, ffmpeg, 320, 240, "1", false, true)
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		d, err := sendDocument(ctx, t, api, "v.mp4", video, &tg.InputMediaUploadedDocument{})
		if err != nil {
			return err
		}
		// The mime type still comes from the content; no video attribute
		// and no thumbnail without the tools.
		if a := attributes(d); d.MimeType != "video/mp4" || a.video != nil || a.name == nil || len(d.Thumbs) != 0 {
			t.Errorf("without tools: %q %+v thumbs %v", d.MimeType, d.Attributes, d.Thumbs)
		}
		back, err := download(ctx, api, d)
		if err != nil || !bytes.Equal(back, video) {
			t.Errorf("download: %v", err)
		}
		// Images need no tools.
		var img bytes.Buffer
		if err := png.Encode(&img, testImage(200, 100)); err != nil {
			return err
		}
		d, err = sendDocument(ctx, t, api, "p.png", img.Bytes(), &tg.InputMediaUploadedDocument{})
		if err != nil {
			return err
		}
		if s := attributes(d).size; d.MimeType != "image/png" || s == nil || s.W != 200 || s.H != 100 {
			t.Errorf("png %q %+v", d.MimeType, d.Attributes)
		}
		checkThumb(ctx, t, api, d, 200, 100)
		return nil
	})
}
