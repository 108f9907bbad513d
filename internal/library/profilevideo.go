package library

import (
	"context"
	"errors"
	"math"
	"strings"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/probe"
	"github.com/filedc/filedc/internal/store"
)

// Profile videos (M7): a square H.264 MPEG-4 of at most 1080×1080 and 10
// seconds, checked with ffprobe. The photo's sizes a, b, c come from the
// still frame at video_start_ts (taken with ffmpeg), or from the image the
// client uploads with it; the video itself is the size "u" in video_sizes,
// downloaded through inputPhotoFileLocation{thumb_size: "u"}.
const (
	maxProfileVideoSide     = 1080
	maxProfileVideoSeconds  = 10
	maxProfileVideoBytes    = 10 << 20
	profileVideoType        = "u"
	profileVideoGraceMillis = 50 // containers round durations up a little
)

var (
	errVideoInvalid = badRequest("VIDEO_FILE_INVALID")
	errVideoStart   = badRequest("VIDEO_START_TS_INVALID")
)

// profileVideo makes a profile photo of an uploaded video, its sizes taken
// from still when the client gives one, else from the frame at start.
func (s *Service) profileVideo(ctx context.Context, owner int64, video Upload, start float64, still *Upload) (store.Photo, error) {
	if math.IsNaN(start) || start < 0 {
		return store.Photo{}, errVideoStart
	}
	if !s.cfg.Probe.Enabled() || (still == nil && !s.cfg.Probe.CanFrame()) {
		s.cfg.Logger.Warn("a profile video needs ffprobe and ffmpeg (serve --ffprobe, --ffmpeg)")
		return store.Photo{}, errVideoInvalid
	}
	if err := s.admitProbe(owner, "video/mp4"); err != nil {
		return store.Photo{}, err
	}
	rec, err := s.finalize(ctx, video)
	if err != nil {
		return store.Photo{}, err
	}
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	keep := false
	defer func() {
		if !keep {
			s.dropFile(ctx, ref)
		}
	}()
	if rec.Size > maxProfileVideoBytes {
		return store.Photo{}, errVideoInvalid
	}
	r, _, err := s.cfg.Engine.ReaderAt(ctx, ref)
	if err != nil {
		return store.Photo{}, err
	}
	src := probe.Source{R: r, Size: rec.Size}
	if !s.probes.acquire(ctx, owner) {
		return store.Photo{}, ctx.Err()
	}
	info, err := s.cfg.Probe.Probe(ctx, src)
	s.probes.release()
	if errors.Is(err, probe.ErrNotMedia) {
		return store.Photo{}, errVideoInvalid
	}
	if err != nil {
		return store.Photo{}, err
	}
	if err := checkProfileVideo(info); err != nil {
		return store.Photo{}, err
	}
	if start > info.Duration {
		return store.Photo{}, errVideoStart
	}

	var p store.Photo
	if still != nil {
		p, err = s.newPhoto(ctx, owner, *still, profileLimits)
	} else {
		p, err = s.videoFramePhoto(ctx, owner, src, info, start)
	}
	if err != nil {
		return store.Photo{}, err
	}
	p.Video = &store.PhotoSize{Type: profileVideoType, W: info.Video.W, H: info.Video.H, File: rec.ID, FileAccess: rec.AccessHash, Size: rec.Size}
	p.VideoStart = start
	if err := s.cfg.Photos.PutPhoto(ctx, p); err != nil {
		return store.Photo{}, err
	}
	keep = true
	return p, nil
}

// checkProfileVideo applies Telegram's rules for profile videos.
func checkProfileVideo(info probe.Info) error {
	v := info.Video
	switch {
	case v == nil:
		return errVideoInvalid // audio only
	case !strings.HasPrefix(info.Format, "mov,"):
		return errVideoInvalid // not MPEG-4 or QuickTime
	case v.Codec != "h264":
		return errVideoInvalid
	case v.W != v.H || v.W > maxProfileVideoSide:
		return errVideoInvalid
	case info.Duration <= 0 || info.Duration*1000 > maxProfileVideoSeconds*1000+profileVideoGraceMillis:
		return errVideoInvalid
	}
	return nil
}

// videoFramePhoto makes the profile sizes of the frame at start.
func (s *Service) videoFramePhoto(ctx context.Context, owner int64, src probe.Source, info probe.Info, start float64) (store.Photo, error) {
	if !s.probes.acquire(ctx, owner) {
		return store.Photo{}, ctx.Err()
	}
	big := media.ProfileBoxes[len(media.ProfileBoxes)-1].Side
	frame, err := s.cfg.Probe.Frame(ctx, src, info.Video.W, info.Video.H, start, big)
	s.probes.release()
	if errors.Is(err, probe.ErrNotMedia) {
		return store.Photo{}, errVideoInvalid
	}
	if err != nil {
		return store.Photo{}, err
	}
	return s.photoOf(ctx, owner, frame, profileLimits)
}
