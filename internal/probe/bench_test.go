package probe

import (
	"context"
	"testing"

	"github.com/filedc/filedc/internal/media"
	"github.com/filedc/filedc/internal/testenv"
)

// BenchmarkVideoDocument is what a short video document costs the server:
// ffprobe for its attributes, ffmpeg for its first frame, and the thumbnail
// sizes m and i made of that frame.
func BenchmarkVideoDocument(b *testing.B) {
	tl := Tools{FFprobe: requireB(b, "FILEDC_TEST_FFPROBE"), FFmpeg: requireB(b, "FILEDC_TEST_FFMPEG")}
	video := testenv.FFmpegSample(b, tl.FFmpeg, "v.mp4", "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440",
		"-t", "5", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-movflags", "+faststart")
	ctx := context.Background()
	b.SetBytes(int64(len(video)))
	for b.Loop() {
		info, err := tl.Probe(ctx, src(video))
		if err != nil {
			b.Fatal(err)
		}
		frame, err := tl.Frame(ctx, src(video), info.Video.W, info.Video.H, 0, 320)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := media.ThumbLimits.PhotoSizes(frame); err != nil {
			b.Fatal(err)
		}
	}
}
