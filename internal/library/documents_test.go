package library

import (
	"bytes"
	"context"
	"crypto/sha256"
	"image/jpeg"
	"image/png"
	"os"
	"reflect"
	"testing"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/probe"
	"github.com/filedc/filedc/internal/randid"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/testenv"
)

// Rule M5: an uploaded image becomes a document with its mime type, file
// name and image size taken from the content and the InputFile, and a
// thumbnail: "m" within 320×320 as a stored JPEG and the stripped "i".
func TestM5_DocumentFromAnUpload(t *testing.T) {
	l := newTestLib(t)
	ctx := context.Background()
	content := picture(t, 640, 480)
	d, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: l.upload(t, 1, `C:\photos/holiday.png`, content)})
	if err != nil {
		t.Fatal(err)
	}
	if d.Mime != "image/png" || d.Size != int64(len(content)) || d.SHA256 != sha256.Sum256(content) {
		t.Errorf("document: mime %q, size %d, sha256 %x", d.Mime, d.Size, d.SHA256)
	}
	if randid.DC(d.ID) != 2 || d.File != d.ID {
		t.Errorf("document id %#x (DC %d), file %#x; want an id of DC 2 naming its own file", d.ID, randid.DC(d.ID), d.File)
	}
	attrs, err := Attributes(d)
	if err != nil {
		t.Fatal(err)
	}
	want := []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: "holiday.png"}, &tg.DocumentAttributeImageSize{W: 640, H: 480}}
	if !reflect.DeepEqual(attrs, want) {
		t.Errorf("attributes %+v, want %+v", attrs, want)
	}
	if len(d.Thumbs) != 1 || d.Thumbs[0].Type != "m" || d.Thumbs[0].W != 320 || d.Thumbs[0].H != 240 {
		t.Fatalf("thumbnails %+v, want one m of 320×240", d.Thumbs)
	}
	if len(d.Stripped) < 3 || d.Stripped[0] != 1 {
		t.Errorf("stripped thumbnail % x", d.Stripped)
	}
	thumb, err := l.eng.ReadAll(ctx, files.FileRef{ID: d.Thumbs[0].File, AccessHash: d.Thumbs[0].FileAccess}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if img, err := jpeg.Decode(bytes.NewReader(thumb)); err != nil || img.Bounds().Dx() != 320 || img.Bounds().Dy() != 240 {
		t.Errorf("thumbnail file: %v, %v", img.Bounds(), err)
	}
	if stored, err := l.meta.Document(ctx, d.ID); err != nil || stored.File != d.File || len(stored.Thumbs) != 1 {
		t.Errorf("stored document %+v, %v", stored, err)
	}

	// Its download locations: the content, the thumbnail by type.
	named := Named{ID: d.ID, AccessHash: d.AccessHash, FileReference: l.Ref(files.FileRef{ID: d.ID, AccessHash: d.AccessHash}, ObjectOrigin)}
	if ref, err := l.DocumentFile(ctx, named, ""); err != nil || ref.ID != d.File {
		t.Errorf("the document's file: %+v, %v", ref, err)
	}
	if ref, err := l.DocumentFile(ctx, named, "m"); err != nil || ref.ID != d.Thumbs[0].File {
		t.Errorf("the m thumbnail: %+v, %v", ref, err)
	}
	_, err = l.DocumentFile(ctx, named, "x")
	wantError(t, "a thumbnail it has not", err, 400, "LOCATION_INVALID")
	wrong := named
	wrong.AccessHash++
	_, err = l.DocumentFile(ctx, wrong, "")
	wantError(t, "a wrong access hash", err, 400, "FILE_ID_INVALID")
}

// Rule M6: content is stored once. The same account uploading the same
// content under the same mime type and name again gets the same document,
// and the second upload is dropped; under another name or mime type it is
// another document on the same stored file. getDocumentByHash finds them.
func TestM6_IdenticalContentIsStoredOnce(t *testing.T) {
	l := newTestLib(t)
	ctx := context.Background()
	content := picture(t, 200, 100)
	first, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: l.upload(t, 1, "a.png", content)})
	if err != nil {
		t.Fatal(err)
	}
	before := l.storedFiles(t)
	again, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: l.upload(t, 2, "a.png", content), MimeType: "image/png"})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID {
		t.Errorf("the same content and name again is document %#x, want %#x", again.ID, first.ID)
	}
	if after := l.storedFiles(t); len(after) != len(before) {
		t.Errorf("%d stored files after the same content again, want %d: the upload is dropped", len(after), len(before))
	}

	for i, up := range []DocumentUpload{
		{File: l.upload(t, 3, "b.png", content), MimeType: "image/png"},
		{File: l.upload(t, 4, "c.png", content), MimeType: "application/x-picture"},
	} {
		other, err := l.UploadDocument(ctx, testOwner, up)
		if err != nil {
			t.Fatal(err)
		}
		if other.ID == first.ID || other.File != first.File || other.FileAccess != first.FileAccess {
			t.Errorf("upload %d: document %#x on file %#x; want a new document on file %#x", i, other.ID, other.File, first.File)
		}
		after := l.storedFiles(t)
		for id := range after {
			if _, ok := before[id]; !ok && (len(other.Thumbs) != 1 || id != other.Thumbs[0].File) {
				t.Errorf("upload %d: a new stored file %#x besides the new document's thumbnail: the upload is not dropped", i, id)
			}
		}
		before = after
	}

	found, ok, err := l.DocumentByHash(ctx, testOwner, first.SHA256[:], first.Size, "image/png")
	if err != nil || !ok || found.Owner != testOwner || found.File != first.File {
		t.Errorf("by hash: %+v %v %v, want a document of %d on file %#x", found, ok, err, testOwner, first.File)
	}
	if _, ok, err := l.DocumentByHash(ctx, testOwner, first.SHA256[:], first.Size, "image/jpeg"); ok || err != nil {
		t.Errorf("by hash under a mime type it was never stored as: %v %v", ok, err)
	}
	_, _, err = l.DocumentByHash(ctx, testOwner, first.SHA256[:31], first.Size, "image/png")
	wantError(t, "a short hash", err, 400, "SHA256_HASH_INVALID")
}

// Rule S7e: two accounts uploading identical bytes under different names
// each get a document with their own name, over one stored file: the second
// upload's file is dropped. getDocumentByHash gives each its own.
func TestS7e_DedupKeepsEachAccountsMetadata(t *testing.T) {
	l := newTestLib(t)
	ctx := context.Background()
	const second = testOwner + 1
	content := picture(t, 120, 80)
	mine, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: l.upload(t, 1, "mine.png", content)})
	if err != nil {
		t.Fatal(err)
	}
	before := l.storedFiles(t)
	theirs, err := l.UploadDocument(ctx, second, DocumentUpload{File: l.uploadAs(t, second, 1, "theirs.png", content)})
	if err != nil {
		t.Fatal(err)
	}
	if theirs.ID == mine.ID || theirs.Owner != second || mine.Owner != testOwner {
		t.Fatalf("documents %#x of %d and %#x of %d: want one of each account's", mine.ID, mine.Owner, theirs.ID, theirs.Owner)
	}
	for _, c := range []struct {
		d    store.Document
		name string
	}{{mine, "mine.png"}, {theirs, "theirs.png"}} {
		attrs, err := Attributes(c.d)
		if err != nil {
			t.Fatal(err)
		}
		if got := fileName(attrs); got != c.name {
			t.Errorf("document %#x is named %q, want its uploader's %q", c.d.ID, got, c.name)
		}
		data, err := l.eng.ReadAll(ctx, files.FileRef{ID: c.d.File, AccessHash: c.d.FileAccess}, 1<<20)
		if err != nil || !bytes.Equal(data, content) {
			t.Errorf("document %#x downloads %d bytes, %v; want the %d uploaded", c.d.ID, len(data), err, len(content))
		}
	}
	// The content is stored once: the second document points to the first's
	// file and only its own thumbnail is new.
	if theirs.File != mine.File || theirs.FileAccess != mine.FileAccess {
		t.Errorf("the second document's file %#x, want the stored %#x", theirs.File, mine.File)
	}
	after := l.storedFiles(t)
	withContent := 0
	for id, rec := range after {
		if rec.SHA256 == mine.SHA256 {
			withContent++
		}
		if _, ok := before[id]; !ok && (len(theirs.Thumbs) != 1 || id != theirs.Thumbs[0].File) {
			t.Errorf("a new stored file %#x besides the second document's thumbnail", id)
		}
	}
	if withContent != 1 {
		t.Errorf("%d stored files hold the content, want 1", withContent)
	}
	for _, d := range []store.Document{mine, theirs} {
		found, ok, err := l.DocumentByHash(ctx, d.Owner, d.SHA256[:], d.Size, d.Mime)
		if err != nil || !ok || found.ID != d.ID {
			t.Errorf("by hash for %d: %#x %v %v, want its own %#x", d.Owner, found.ID, ok, err, d.ID)
		}
	}
}

// fileName returns the file name among attrs, "" for none.
func fileName(attrs []tg.DocumentAttributeClass) string {
	for _, a := range attrs {
		if f, ok := a.(*tg.DocumentAttributeFilename); ok {
			return f.FileName
		}
	}
	return ""
}

// Rule M4: attributes a client declares are kept as declared and checked
// before its upload is consumed; the server adds only the types it left
// out. A thumbnail that cannot be finalized fails the document, whose
// upload is then consumed and dropped.
func TestM4_DeclaredAttributesWinAndAreCheckedFirst(t *testing.T) {
	l := newTestLib(t)
	ctx := context.Background()
	content := picture(t, 64, 48)
	up := l.upload(t, 1, "upload.png", content)
	_, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: up,
		Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: "../etc/passwd"}}})
	wantError(t, "a file name with a separator", err, 400, "FILENAME_INVALID")
	_, err = l.UploadDocument(ctx, testOwner, DocumentUpload{File: up,
		Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeImageSize{W: 0, H: 5}}})
	wantError(t, "an empty image size", err, 400, "MEDIA_INVALID")

	declared := []tg.DocumentAttributeClass{&tg.DocumentAttributeImageSize{W: 10, H: 10}, &tg.DocumentAttributeFilename{FileName: "mine.bin"},
		&tg.DocumentAttributeFilename{FileName: "second.bin"}}
	d, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: up, MimeType: "application/x-mine", Attributes: declared})
	if err != nil {
		t.Fatalf("the same upload after refused attributes: %v", err)
	}
	attrs, err := Attributes(d)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(attrs, declared[:2]) || d.Mime != "application/x-mine" {
		t.Errorf("attributes %+v, mime %q; want the first of each declared type and the declared mime", attrs, d.Mime)
	}

	_, err = l.UploadDocument(ctx, testOwner, DocumentUpload{File: Upload{Invalid: true}})
	wantError(t, "an InputFile of another kind", err, 400, "FILE_ID_INVALID")

	before := l.storedFiles(t)
	main := l.upload(t, 2, "other.png", picture(t, 32, 32))
	_, err = l.UploadDocument(ctx, testOwner, DocumentUpload{File: main, Thumb: &Upload{Invalid: true}})
	wantError(t, "a thumbnail of another kind", err, 400, "FILE_ID_INVALID")
	if after := l.storedFiles(t); len(after) != len(before) {
		t.Errorf("%d stored files after a failed document, want %d", len(after), len(before))
	}
	_, err = l.UploadDocument(ctx, testOwner, DocumentUpload{File: main})
	wantError(t, "the upload of a failed document", err, 400, "FILE_PART_0_MISSING")
}

// Rule M9: a WebP with transparency sent as a file becomes a sticker, with
// its outline "j" and an "m" thumbnail that keeps the transparency (a PNG,
// no stripped "i"); with force_file, or opaque, it stays an image.
func TestM9_TransparentWebPBecomesASticker(t *testing.T) {
	ctx := context.Background()
	rose, err := os.ReadFile("../media/testdata/yellow_rose.lossy-with-alpha.webp")
	if err != nil {
		t.Fatal(err)
	}
	l := newTestLib(t)
	d, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: l.upload(t, 1, "rose.webp", rose)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := Attributes(d)
	if !hasAttr[*tg.DocumentAttributeSticker](attrs) || len(d.Outline) == 0 || len(d.Stripped) != 0 {
		t.Fatalf("sticker attribute %v, outline %d bytes, stripped %d bytes", hasAttr[*tg.DocumentAttributeSticker](attrs), len(d.Outline), len(d.Stripped))
	}
	if len(d.Thumbs) != 1 || d.Thumbs[0].Type != "m" || max(d.Thumbs[0].W, d.Thumbs[0].H) > 128 {
		t.Fatalf("thumbnails %+v, want one m within 128×128", d.Thumbs)
	}
	thumb, err := l.eng.ReadAll(ctx, files.FileRef{ID: d.Thumbs[0].File, AccessHash: d.Thumbs[0].FileAccess}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(thumb)); err != nil {
		t.Errorf("the sticker's thumbnail is no PNG: %v", err)
	}

	l = newTestLib(t)
	d, err = l.UploadDocument(ctx, testOwner, DocumentUpload{File: l.upload(t, 1, "rose.webp", rose), ForceFile: true})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ = Attributes(d)
	if hasAttr[*tg.DocumentAttributeSticker](attrs) || len(d.Outline) != 0 || len(d.Stripped) == 0 {
		t.Errorf("force_file: sticker attribute %v, outline %d bytes, stripped %d bytes; want an image", hasAttr[*tg.DocumentAttributeSticker](attrs), len(d.Outline), len(d.Stripped))
	}

	opaque, err := os.ReadFile("../media/testdata/video-001.lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	d, err = l.UploadDocument(ctx, testOwner, DocumentUpload{File: l.upload(t, 2, "frame.webp", opaque)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ = Attributes(d)
	if hasAttr[*tg.DocumentAttributeSticker](attrs) || len(d.Outline) != 0 {
		t.Errorf("an opaque WebP became a sticker")
	}
}

func hasAttr[T tg.DocumentAttributeClass](attrs []tg.DocumentAttributeClass) bool {
	for _, a := range attrs {
		if _, ok := a.(T); ok {
			return true
		}
	}
	return false
}

// Rule M5: with ffprobe and ffmpeg a video gets its video attribute and a
// thumbnail of its first frame; without them, neither.
func TestM5_VideoDocumentProbed(t *testing.T) {
	tools := probe.Tools{FFprobe: testenv.Require(t, "FILEDC_TEST_FFPROBE"), FFmpeg: testenv.Require(t, "FILEDC_TEST_FFMPEG")}
	ctx := context.Background()
	video := testenv.FFmpegSample(t, tools.FFmpeg, "v.mp4", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart")
	l := newTestLib(t, func(c *Config) { c.Probe = tools })
	d, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: l.upload(t, 1, "clip.mp4", video)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := Attributes(d)
	var v *tg.DocumentAttributeVideo
	for _, a := range attrs {
		if a, ok := a.(*tg.DocumentAttributeVideo); ok {
			v = a
		}
	}
	if d.Mime != "video/mp4" || v == nil || v.W != 320 || v.H != 240 || v.Duration != 2 || !v.Nosound || !v.SupportsStreaming {
		t.Errorf("mime %q, video attribute %+v", d.Mime, v)
	}
	if len(d.Thumbs) != 1 || d.Thumbs[0].Type != "m" || len(d.Stripped) == 0 {
		t.Errorf("thumbnails %+v, stripped %d bytes; want m and i of the first frame", d.Thumbs, len(d.Stripped))
	}

	bare := newTestLib(t)
	d, err = bare.UploadDocument(ctx, testOwner, DocumentUpload{File: bare.upload(t, 1, "clip.mp4", video)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ = Attributes(d)
	if hasAttr[*tg.DocumentAttributeVideo](attrs) || len(d.Thumbs) != 0 {
		t.Errorf("without the tools: attributes %+v, thumbnails %+v", attrs, d.Thumbs)
	}
}
