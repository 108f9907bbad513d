package interop

import (
	"bytes"
	"context"
	"image/jpeg"
	"testing"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/filedc/filedc/internal/testenv"
)

func TestM7_ProfileVideos(t *testing.T) {
	ffprobe, ffmpeg := mediaTools(t)
	srv := startServer(t, "--ffprobe", ffprobe, "--ffmpeg", ffmpeg)
	square := testVideo(t, ffmpeg, 320, 320, "2", true, true)
	bad := map[string][]byte{
		"not square":   testVideo(t, ffmpeg, 320, 240, "1", true, true),
		"over 1080":    testVideo(t, ffmpeg, 1088, 1088, "0.2", true, true),
		"over 10 s":    testVideo(t, ffmpeg, 64, 64, "11", true, true),
		"not H.264":    testenv.FFmpegSample(t, ffmpeg, "m.mp4", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=25", "-t", "1", "-c:v", "mpeg4"),
		"not MPEG-4":   testenv.FFmpegSample(t, ffmpeg, "m.mkv", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=25", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast"),
		"audio only":   testenv.FFmpegSample(t, ffmpeg, "a.m4a", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-c:a", "aac"),
		"not a video":  []byte("this is not a video"),
		"a JPEG image": testJPEG(t, 64, 64),
	}
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		file, err := upload(ctx, api, "me.mp4", square)
		if err != nil {
			return err
		}
		res, err := api.PhotosUploadProfilePhoto(ctx, &tg.PhotosUploadProfilePhotoRequest{Video: file, VideoStartTs: 1.2})
		if err != nil {
			return err
		}
		p := res.Photo.(*tg.Photo)
		types := ""
		for _, s := range p.Sizes {
			types += s.GetType()
		}
		if types != "iab" {
			t.Errorf("sizes of a 320x320 video's frame %q, want iab", types)
		}
		if len(p.VideoSizes) != 1 {
			t.Fatalf("video sizes %v", p.VideoSizes)
		}
		vs := p.VideoSizes[0].(*tg.VideoSize)
		if vs.Type != "u" || vs.W != 320 || vs.H != 320 || vs.Size != len(square) || vs.VideoStartTs != 1.2 {
			t.Errorf("video size %+v", vs)
		}
		// The video downloads as uploaded; the still sizes are JPEGs.
		var out bytes.Buffer
		_, err = downloader.NewDownloader().Download(api, &tg.InputPhotoFileLocation{
			ID: p.ID, AccessHash: p.AccessHash, FileReference: p.FileReference, ThumbSize: "u"}).Stream(ctx, &out)
		if err != nil || !bytes.Equal(out.Bytes(), square) {
			t.Errorf("video download: %d bytes, %v", out.Len(), err)
		}
		out.Reset()
		_, err = downloader.NewDownloader().Download(api, &tg.InputPeerPhotoFileLocation{
			Peer: &tg.InputPeerSelf{}, Big: true, PhotoID: p.ID}).Stream(ctx, &out)
		if cfg, derr := jpeg.DecodeConfig(&out); err != nil || derr != nil || cfg.Width != 320 {
			t.Errorf("big still: %+v, %v, %v", cfg, err, derr)
		}
		users, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
		if err != nil {
			return err
		}
		if up, ok := users[0].(*tg.User).Photo.(*tg.UserProfilePhoto); !ok || !up.HasVideo || up.PhotoID != p.ID {
			t.Errorf("user photo %+v", users[0].(*tg.User).Photo)
		}

		// With an image beside it, the sizes come from the image.
		file, err = upload(ctx, api, "me.mp4", square)
		if err != nil {
			return err
		}
		still, err := upload(ctx, api, "still.jpg", testJPEG(t, 700, 700))
		if err != nil {
			return err
		}
		res, err = api.PhotosUploadProfilePhoto(ctx, &tg.PhotosUploadProfilePhotoRequest{Video: file, File: still})
		if err != nil {
			return err
		}
		p = res.Photo.(*tg.Photo)
		if last := p.Sizes[len(p.Sizes)-1].(*tg.PhotoSize); last.Type != "c" || last.W != 640 || len(p.VideoSizes) != 1 {
			t.Errorf("a video with an image: sizes %v, video sizes %v", p.Sizes, p.VideoSizes)
		}

		// Bad videos and start times are refused.
		for name, data := range bad {
			file, err := upload(ctx, api, "bad.mp4", data)
			if err != nil {
				return err
			}
			_, err = api.PhotosUploadProfilePhoto(ctx, &tg.PhotosUploadProfilePhotoRequest{Video: file})
			if !tgerr.Is(err, "VIDEO_FILE_INVALID") {
				t.Errorf("%s: %v, want VIDEO_FILE_INVALID", name, err)
			}
		}
		for _, ts := range []float64{-1, 5} {
			file, err := upload(ctx, api, "me.mp4", square)
			if err != nil {
				return err
			}
			_, err = api.PhotosUploadProfilePhoto(ctx, &tg.PhotosUploadProfilePhotoRequest{Video: file, VideoStartTs: ts})
			if !tgerr.Is(err, "VIDEO_START_TS_INVALID") {
				t.Errorf("video_start_ts %v: %v", ts, err)
			}
		}
		return nil
	})
}

func TestM7_ProfileVideosNeedTheTools(t *testing.T) {
	_, ffmpeg := mediaTools(t)
	srv := startServer(t, "--ffprobe", "", "--ffmpeg", "")
	square := testVideo(t, ffmpeg, 64, 64, "1", true, true)
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		file, err := upload(ctx, api, "me.mp4", square)
		if err != nil {
			return err
		}
		_, err = api.PhotosUploadProfilePhoto(ctx, &tg.PhotosUploadProfilePhotoRequest{Video: file})
		if !tgerr.Is(err, "VIDEO_FILE_INVALID") {
			t.Errorf("a profile video without ffprobe: %v", err)
		}
		return nil
	})
}
