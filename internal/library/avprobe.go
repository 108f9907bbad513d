package library

import (
	"context"
	"math"
	"strings"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/probe"
)

// Video and audio documents (M4, M5): ffprobe says what the content is,
// ffmpeg takes a video's first frame for its thumbnail. Without the tools a
// document gets neither.

// probeDocument adds video or audio attributes from ffprobe and returns a
// frame of a video for its thumbnail, if ffmpeg can take one.
func (s *Service) probeDocument(ctx context.Context, owner int64, attrs *docAttrs, src probe.Source, u DocumentUpload) ([]byte, *stickerArt) {
	if !s.probes.acquire(ctx, owner) {
		return nil, nil
	}
	defer s.probes.release()
	info, err := s.cfg.Probe.Probe(ctx, src)
	if err != nil {
		s.cfg.Logger.Debug("probe", "err", err)
		return nil, nil
	}
	if !attrs.av && !u.ForceFile {
		switch {
		case info.Video != nil:
			v := &tg.DocumentAttributeVideo{
				Duration:          math.Round(info.Duration*1000) / 1000,
				W:                 info.Video.W,
				H:                 info.Video.H,
				SupportsStreaming: strings.HasPrefix(info.Format, "mov,") && probe.MoovFirst(src.R, src.Size),
				Nosound:           info.Audio == nil || u.NosoundVideo,
			}
			v.SetFlags()
			attrs.add(v)
		case info.Audio != nil:
			a := &tg.DocumentAttributeAudio{Duration: int(math.Round(info.Duration)),
				Title: clip(info.Title, maxTagLen), Performer: clip(info.Artist, maxTagLen)}
			a.SetFlags()
			attrs.add(a)
		}
	}
	if info.Video == nil || !s.cfg.Probe.CanFrame() {
		return nil, nil
	}
	if attrs.sticker {
		return nil, s.videoSticker(ctx, src, info)
	}
	if u.Thumb != nil {
		return nil, nil
	}
	frame, err := s.cfg.Probe.Frame(ctx, src, info.Video.W, info.Video.H, 0, media.ThumbBoxes[0].Side)
	if err != nil {
		s.cfg.Logger.Debug("video frame", "err", err)
		return nil, nil
	}
	return frame, nil
}
