package rpc

import (
	"context"
	"errors"
	"math"
	"strings"

	"github.com/gotd/td/tg"

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

var errVideoInvalid = badRequest("VIDEO_FILE_INVALID")

// profileVideo makes a profile photo of an uploaded video, its sizes taken
// from still when the client gives one, else from the frame at start.
func (h *Handler) profileVideo(ctx context.Context, c *call, video tg.InputFileClass, start float64, still tg.InputFileClass) (store.Photo, error) {
	if math.IsNaN(start) || start < 0 {
		return store.Photo{}, badRequest("VIDEO_START_TS_INVALID")
	}
	if !h.cfg.Probe.Enabled() || (still == nil && !h.cfg.Probe.CanFrame()) {
		h.cfg.Logger.Warn("a profile video needs ffprobe and ffmpeg (serve --ffprobe, --ffmpeg)")
		return store.Photo{}, errVideoInvalid
	}
	rec, err := h.finalize(ctx, c, video)
	if err != nil {
		return store.Photo{}, err
	}
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	keep := false
	defer func() {
		if !keep {
			h.dropFile(ctx, ref)
		}
	}()
	if rec.Size > maxProfileVideoBytes {
		return store.Photo{}, errVideoInvalid
	}
	r, _, err := h.cfg.Engine.ReaderAt(ctx, ref)
	if err != nil {
		return store.Photo{}, err
	}
	src := probe.Source{R: r, Size: rec.Size}
	if !h.takeSlot(ctx, h.probeSlots) {
		return store.Photo{}, ctx.Err()
	}
	info, err := h.cfg.Probe.Probe(ctx, src)
	<-h.probeSlots
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
		return store.Photo{}, badRequest("VIDEO_START_TS_INVALID")
	}

	var p store.Photo
	if still != nil {
		p, err = h.newPhoto(ctx, c, still, profileLimits)
	} else {
		p, err = h.videoFramePhoto(ctx, c, src, info, start)
	}
	if err != nil {
		return store.Photo{}, err
	}
	p.Video = &store.PhotoSize{Type: profileVideoType, W: info.Video.W, H: info.Video.H, File: rec.ID, FileAccess: rec.AccessHash, Size: rec.Size}
	p.VideoStart = start
	if err := h.cfg.Photos.PutPhoto(ctx, p); err != nil {
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
func (h *Handler) videoFramePhoto(ctx context.Context, c *call, src probe.Source, info probe.Info, start float64) (store.Photo, error) {
	if !h.takeSlot(ctx, h.probeSlots) {
		return store.Photo{}, ctx.Err()
	}
	big := media.ProfileBoxes[len(media.ProfileBoxes)-1].Side
	frame, err := h.cfg.Probe.Frame(ctx, src, info.Video.W, info.Video.H, start, big)
	<-h.probeSlots
	if errors.Is(err, probe.ErrNotMedia) {
		return store.Photo{}, errVideoInvalid
	}
	if err != nil {
		return store.Photo{}, err
	}
	return h.photoOf(ctx, c, frame, profileLimits)
}
