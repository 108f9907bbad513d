package library

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"math"
	"testing"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/probe"
	"github.com/filedc/filedc/internal/randid"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/testenv"
)

type dims struct {
	typ  string
	w, h int
}

func sizesOf(p store.Photo) []dims {
	var out []dims
	for _, s := range p.Sizes {
		out = append(out, dims{s.Type, s.W, s.H})
	}
	return out
}

// Rule M5: an uploaded photo gets the sizes of Telegram's boxes it fills,
// smallest first, each a stored JPEG of its own, and the stripped "i"; the
// upload itself is not kept.
func TestM5_PhotoSizesOfAnUpload(t *testing.T) {
	l := newTestLib(t)
	ctx := context.Background()
	p, err := l.UploadPhoto(ctx, testOwner, l.upload(t, 1, "photo.png", picture(t, 640, 480)))
	if err != nil {
		t.Fatal(err)
	}
	want := []dims{{"s", 100, 75}, {"m", 320, 240}, {"x", 640, 480}}
	if got := sizesOf(p); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("sizes %v, want %v", got, want)
	}
	if len(p.Stripped) < 3 || p.Stripped[0] != 1 || randid.DC(p.ID) != 2 || p.Owner != testOwner || !p.Date.Equal(*l.now) {
		t.Errorf("photo %#x of %d at %v, stripped % x", p.ID, p.Owner, p.Date, p.Stripped)
	}
	stored := l.storedFiles(t)
	if len(stored) != len(p.Sizes) {
		t.Errorf("%d stored files, want one per size: the upload is not kept", len(stored))
	}
	named := Named{ID: p.ID, AccessHash: p.AccessHash, FileReference: l.Ref(files.FileRef{ID: p.ID, AccessHash: p.AccessHash}, ObjectOrigin)}
	for _, s := range p.Sizes {
		ref, err := l.PhotoFile(ctx, named, s.Type)
		if err != nil || ref.ID != s.File {
			t.Fatalf("size %s: %+v, %v", s.Type, ref, err)
		}
		b, err := l.eng.ReadAll(ctx, ref, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() != s.W || img.Bounds().Dy() != s.H {
			t.Errorf("size %s: a JPEG of %v (%v), want %d×%d", s.Type, img.Bounds(), err, s.W, s.H)
		}
	}
	if got, err := l.meta.Photo(ctx, p.ID); err != nil || len(got.Sizes) != 3 {
		t.Errorf("stored photo %+v, %v", got, err)
	}
	_, err = l.PhotoFile(ctx, named, "y")
	wantError(t, "a size it has not", err, 400, "LOCATION_INVALID")

	_, err = l.UploadPhoto(ctx, testOwner, l.upload(t, 2, "strip.png", picture(t, 2100, 100)))
	wantError(t, "a photo 21 times wider than high", err, 400, "PHOTO_INVALID_DIMENSIONS")
	_, err = l.UploadPhoto(ctx, testOwner, l.upload(t, 3, "text.png", []byte("not an image at all")))
	wantError(t, "no image", err, 400, "IMAGE_PROCESS_FAILED")
	_, err = l.UploadPhoto(ctx, testOwner, l.upload(t, 4, "big.bin", make([]byte, 10<<20+1)))
	wantError(t, "over 10 MiB", err, 400, "PHOTO_SAVE_FILE_INVALID")
	if after := l.storedFiles(t); len(after) != len(stored) {
		t.Errorf("%d stored files after refused photos, want %d", len(after), len(stored))
	}
}

// Rule M7: profile photos get the sizes a, b, c; the account keeps them
// current first; choosing, removing and deleting them changes the list,
// and a photo that leaves the profile is collected.
func TestM7_ProfilePhotos(t *testing.T) {
	l := newTestLib(t)
	ctx := context.Background()
	profile := func(fileID int64) store.Photo {
		t.Helper()
		file := l.upload(t, fileID, "me.png", picture(t, 640, 480))
		p, err := l.ProfilePhoto(ctx, testOwner, ProfileUpload{File: &file})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.AddProfilePhoto(ctx, testOwner, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first, second := profile(1), profile(2)
	want := []dims{{"a", 160, 120}, {"b", 320, 240}, {"c", 640, 480}}
	if got := sizesOf(first); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("profile sizes %v, want %v", got, want)
	}
	photos := func() []int64 {
		t.Helper()
		acc, err := l.meta.Account(ctx, testOwner)
		if err != nil {
			t.Fatal(err)
		}
		return acc.Photos
	}
	if got := photos(); len(got) != 2 || got[0] != second.ID || got[1] != first.ID {
		t.Fatalf("profile photos %v, want the newest first", got)
	}

	// The big and small sizes, of photos the caller may see.
	if ref, err := l.PeerPhotoFile(ctx, photos(), first.ID, true); err != nil || ref.ID != first.Sizes[2].File {
		t.Errorf("big: %+v, %v", ref, err)
	}
	if ref, err := l.PeerPhotoFile(ctx, photos(), first.ID, false); err != nil || ref.ID != first.Sizes[0].File {
		t.Errorf("small: %+v, %v", ref, err)
	}
	_, err := l.PeerPhotoFile(ctx, []int64{second.ID}, first.ID, true)
	wantError(t, "a photo not shown", err, 400, "LOCATION_INVALID")

	named := func(p store.Photo) *Named {
		return &Named{ID: p.ID, AccessHash: p.AccessHash, FileReference: l.Ref(files.FileRef{ID: p.ID, AccessHash: p.AccessHash}, ProfileOrigin(testOwner))}
	}
	acc, chosen, err := l.ChooseProfilePhoto(ctx, testOwner, named(first))
	if err != nil || chosen == nil || chosen.ID != first.ID || acc.Photos[0] != first.ID {
		t.Fatalf("choosing the first photo: %v, %+v, %v", acc.Photos, chosen, err)
	}
	bad := named(second)
	bad.AccessHash++
	_, _, err = l.ChooseProfilePhoto(ctx, testOwner, bad)
	wantError(t, "a wrong access hash", err, 400, "PHOTO_ID_INVALID")

	// Removing the current photo makes the previous one current and
	// collects the removed one with its sizes.
	acc, chosen, err = l.ChooseProfilePhoto(ctx, testOwner, nil)
	if err != nil || chosen == nil || chosen.ID != second.ID || len(acc.Photos) != 1 {
		t.Fatalf("removing the current photo: %v, %+v, %v", acc.Photos, chosen, err)
	}
	if _, err := l.meta.Photo(ctx, first.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the removed photo is still stored: %v", err)
	}
	for _, s := range first.Sizes {
		if l.exists(t, s.File, s.FileAccess) {
			t.Errorf("size %s of the removed photo is still stored", s.Type)
		}
	}

	deleted, err := l.DeleteProfilePhotos(ctx, testOwner, []files.FileRef{{ID: second.ID, AccessHash: second.AccessHash + 1}})
	if err != nil || len(deleted) != 0 || len(photos()) != 1 {
		t.Errorf("deleting with a wrong access hash: %v, %v", deleted, err)
	}
	deleted, err = l.DeleteProfilePhotos(ctx, testOwner, []files.FileRef{{ID: second.ID, AccessHash: second.AccessHash}, {ID: first.ID, AccessHash: first.AccessHash}})
	if err != nil || len(deleted) != 1 || deleted[0] != second.ID || len(photos()) != 0 {
		t.Errorf("deleting: %v, %v; profile %v", deleted, err, photos())
	}
	if _, err := l.meta.Photo(ctx, second.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the deleted photo is still stored: %v", err)
	}

	_, err = l.ProfilePhoto(ctx, testOwner, ProfileUpload{})
	wantError(t, "neither image nor video", err, 400, "PHOTO_FILE_MISSING")
}

// Rule M7: a profile video needs ffprobe and ffmpeg, and a valid start.
func TestM7_ProfileVideoNeedsTheTools(t *testing.T) {
	l := newTestLib(t)
	ctx := context.Background()
	video := l.upload(t, 1, "v.mp4", []byte("not looked at"))
	_, err := l.ProfilePhoto(ctx, testOwner, ProfileUpload{Video: &video, VideoStart: math.NaN()})
	wantError(t, "a start that is no number", err, 400, "VIDEO_START_TS_INVALID")
	_, err = l.ProfilePhoto(ctx, testOwner, ProfileUpload{Video: &video})
	wantError(t, "without ffprobe", err, 400, "VIDEO_FILE_INVALID")
	if _, err := l.eng.Finalize(ctx, video.Finalize); err != nil {
		t.Errorf("the upload was consumed: %v", err)
	}
}

// Rule M7: a square H.264 MP4 becomes a profile photo whose sizes come
// from the frame at video_start_ts and whose video is the size "u"; other
// videos are VIDEO_FILE_INVALID and dropped.
func TestM7_ProfileVideo(t *testing.T) {
	tools := probe.Tools{FFprobe: testenv.Require(t, "FILEDC_TEST_FFPROBE"), FFmpeg: testenv.Require(t, "FILEDC_TEST_FFMPEG")}
	l := newTestLib(t, func(c *Config) { c.Probe = tools })
	ctx := context.Background()
	square := testenv.FFmpegSample(t, tools.FFmpeg, "square.mp4", "-f", "lavfi", "-i", "testsrc=size=240x240:rate=25",
		"-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	video := l.upload(t, 1, "square.mp4", square)
	p, err := l.ProfilePhoto(ctx, testOwner, ProfileUpload{Video: &video, VideoStart: 1.5})
	if err != nil {
		t.Fatal(err)
	}
	if p.Video == nil || p.Video.Type != "u" || p.Video.W != 240 || p.Video.H != 240 || p.VideoStart != 1.5 || len(p.Sizes) == 0 {
		t.Fatalf("profile video %+v at %v, sizes %v", p.Video, p.VideoStart, sizesOf(p))
	}
	named := Named{ID: p.ID, AccessHash: p.AccessHash, FileReference: l.Ref(files.FileRef{ID: p.ID, AccessHash: p.AccessHash}, ObjectOrigin)}
	if ref, err := l.PhotoFile(ctx, named, "u"); err != nil || ref.ID != p.Video.File || !l.exists(t, ref.ID, ref.AccessHash) {
		t.Errorf("the video: %+v, %v", ref, err)
	}

	before := l.storedFiles(t)
	wide := testenv.FFmpegSample(t, tools.FFmpeg, "wide.mp4", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	video = l.upload(t, 2, "wide.mp4", wide)
	_, err = l.ProfilePhoto(ctx, testOwner, ProfileUpload{Video: &video})
	wantError(t, "a video that is not square", err, 400, "VIDEO_FILE_INVALID")
	video = l.upload(t, 3, "square.mp4", square)
	_, err = l.ProfilePhoto(ctx, testOwner, ProfileUpload{Video: &video, VideoStart: 5})
	wantError(t, "a start after the end", err, 400, "VIDEO_START_TS_INVALID")
	if after := l.storedFiles(t); len(after) != len(before) {
		t.Errorf("%d stored files after refused videos, want %d", len(after), len(before))
	}
}
