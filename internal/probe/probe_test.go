package probe

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/filedc/filedc/internal/testenv"
)

func tools(t *testing.T) Tools {
	t.Helper()
	return Tools{FFprobe: testenv.Require(t, "FILEDC_TEST_FFPROBE"), FFmpeg: testenv.Require(t, "FILEDC_TEST_FFMPEG")}
}

// sample makes a media file with ffmpeg from lavfi sources.
func sample(t *testing.T, ffmpeg, name string, args ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command(ffmpeg, append(append([]string{"-v", "error", "-y"}, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func src(b []byte) Source { return Source{R: bytes.NewReader(b), Size: int64(len(b))} }

func TestM5_ProbeVideoAndAudio(t *testing.T) {
	tl := tools(t)
	ctx := context.Background()
	video := sample(t, tl.FFmpeg, "v.mp4", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
		"-t", "3", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest")
	info, err := tl.Probe(ctx, src(video))
	if err != nil {
		t.Fatal(err)
	}
	if info.Video == nil || info.Video.W != 320 || info.Video.H != 240 || info.Video.Codec != "h264" || info.Audio == nil {
		t.Errorf("video info %+v (video %+v)", info, info.Video)
	}
	if info.Duration < 2.9 || info.Duration > 3.2 {
		t.Errorf("duration %v, want about 3", info.Duration)
	}
	frame, err := tl.Frame(ctx, src(video), 320, 240, 1.5, 100)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(frame))
	if err != nil || cfg.Width != 100 || cfg.Height != 75 {
		t.Errorf("frame %+v, %v; want 100x75", cfg, err)
	}
	// A start past the end falls back to the first frame.
	if _, err := tl.Frame(ctx, src(video), 320, 240, 60, 100); err != nil {
		t.Errorf("frame past the end: %v", err)
	}

	audio := sample(t, tl.FFmpeg, "a.mp3", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "2",
		"-metadata", "title=Tone", "-metadata", "artist=Generator")
	info, err = tl.Probe(ctx, src(audio))
	if err != nil {
		t.Fatal(err)
	}
	if info.Video != nil || info.Audio == nil || info.Title != "Tone" || info.Artist != "Generator" || info.Duration < 1.9 || info.Duration > 2.2 {
		t.Errorf("audio info %+v", info)
	}
}

func TestM5_ProbeRefusesOtherContent(t *testing.T) {
	tl := tools(t)
	ctx := context.Background()
	for name, b := range map[string][]byte{
		"text":     []byte("just some text, not a video at all"),
		"playlist": []byte("#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n"),
		"empty":    {},
	} {
		if _, err := tl.Probe(ctx, src(b)); !errors.Is(err, ErrNotMedia) {
			t.Errorf("%s: %v, want ErrNotMedia", name, err)
		}
	}
	if _, err := (Tools{}).Probe(ctx, src([]byte("x"))); !errors.Is(err, ErrDisabled) {
		t.Errorf("no ffprobe: %v", err)
	}
	if _, err := tl.Frame(ctx, src([]byte("x")), MaxSide+1, 10, 0, 320); !errors.Is(err, ErrNotMedia) {
		t.Errorf("a frame too large: %v", err)
	}
}

func TestM5_ProbeOutputIsBounded(t *testing.T) {
	c := &capped{max: 10, strict: true}
	if _, err := c.Write(make([]byte, 11)); err == nil || !c.over || c.buf.Len() != 10 {
		t.Errorf("strict cap: %v over=%v len=%d", err, c.over, c.buf.Len())
	}
	c = &capped{max: 10}
	if n, err := c.Write(make([]byte, 11)); err != nil || n != 11 || c.buf.Len() != 10 {
		t.Errorf("lenient cap: %d %v len=%d", n, err, c.buf.Len())
	}
}
