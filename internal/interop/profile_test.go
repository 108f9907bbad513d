package interop

import (
	"bytes"
	"context"
	"image/jpeg"
	"testing"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

func TestM7_ProfilePhotos(t *testing.T) {
	srv := startServer(t)
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		setPhoto := func(w int) *tg.Photo {
			t.Helper()
			file, err := upload(ctx, api, "me.jpg", testJPEG(t, w, w))
			if err != nil {
				t.Fatal(err)
			}
			res, err := api.PhotosUploadProfilePhoto(ctx, &tg.PhotosUploadProfilePhotoRequest{File: file})
			if err != nil {
				t.Fatal(err)
			}
			return res.Photo.(*tg.Photo)
		}
		first := setPhoto(800)
		types := ""
		for _, s := range first.Sizes {
			types += s.GetType()
		}
		if types != "iabc" {
			t.Errorf("profile photo sizes %q, want iabc", types)
		}
		second := setPhoto(700)

		// The user carries the current photo with its stripped thumbnail.
		self := func() *tg.User {
			users, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
			if err != nil {
				t.Fatal(err)
			}
			return users[0].(*tg.User)
		}
		photo, ok := self().Photo.(*tg.UserProfilePhoto)
		if !ok || photo.PhotoID != second.ID || len(photo.StrippedThumb) == 0 || photo.DCID != 2 {
			t.Fatalf("user photo %+v", self().Photo)
		}
		// Small and big download through inputPeerPhotoFileLocation.
		for _, big := range []bool{false, true} {
			var out bytes.Buffer
			_, err := downloader.NewDownloader().Download(api, &tg.InputPeerPhotoFileLocation{
				Peer: &tg.InputPeerSelf{}, Big: big, PhotoID: photo.PhotoID}).Stream(ctx, &out)
			if err != nil {
				return err
			}
			cfg, err := jpeg.DecodeConfig(&out)
			want := 160
			if big {
				want = 640
			}
			if err != nil || cfg.Width != want || cfg.Height != want {
				t.Errorf("big=%v: %+v, %v; want %dx%d", big, cfg, err, want, want)
			}
		}
		// Both photos are listed, newest first; the older one can come back.
		photos, err := api.PhotosGetUserPhotos(ctx, &tg.PhotosGetUserPhotosRequest{UserID: &tg.InputUserSelf{}, Limit: 10})
		if err != nil {
			return err
		}
		list := photos.(*tg.PhotosPhotos).Photos
		if len(list) != 2 || list[0].(*tg.Photo).ID != second.ID || list[1].(*tg.Photo).ID != first.ID {
			t.Fatalf("user photos %v", list)
		}
		old := list[1].(*tg.Photo)
		if _, err := api.PhotosUpdateProfilePhoto(ctx, &tg.PhotosUpdateProfilePhotoRequest{
			ID: &tg.InputPhoto{ID: old.ID, AccessHash: old.AccessHash, FileReference: old.FileReference}}); err != nil {
			return err
		}
		if p := self().Photo.(*tg.UserProfilePhoto); p.PhotoID != first.ID {
			t.Errorf("current photo %d after updateProfilePhoto, want %d", p.PhotoID, first.ID)
		}
		deleted, err := api.PhotosDeletePhotos(ctx, []tg.InputPhotoClass{&tg.InputPhoto{ID: second.ID, AccessHash: second.AccessHash}})
		if err != nil || len(deleted) != 1 || deleted[0] != second.ID {
			t.Errorf("deletePhotos: %v, %v", deleted, err)
		}
		_, err = api.UploadGetFile(ctx, &tg.UploadGetFileRequest{Limit: 4096, Location: &tg.InputPeerPhotoFileLocation{
			Peer: &tg.InputPeerSelf{}, PhotoID: second.ID}})
		if !tgerr.Is(err, "LOCATION_INVALID") {
			t.Errorf("a deleted profile photo: %v", err)
		}
		// Profile videos are refused clearly for now.
		file, err := upload(ctx, api, "v.mp4", []byte("not really a video"))
		if err != nil {
			return err
		}
		_, err = api.PhotosUploadProfilePhoto(ctx, &tg.PhotosUploadProfilePhotoRequest{Video: file})
		if !tgerr.Is(err, "VIDEO_FILE_INVALID") {
			t.Errorf("a profile video: %v", err)
		}
		return nil
	})
}
