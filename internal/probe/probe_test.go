package probe

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"regexp"
	"runtime"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/testenv"
)

func tools(t *testing.T) Tools {
	t.Helper()
	return Tools{FFprobe: testenv.Require(t, "FILEDC_TEST_FFPROBE"), FFmpeg: testenv.Require(t, "FILEDC_TEST_FFMPEG")}
}

func requireB(b *testing.B, name string) string { return testenv.Require(b, name) }

func src(b []byte) Source { return Source{R: bytes.NewReader(b), Size: int64(len(b))} }

func TestM5_ProbeVideoAndAudio(t *testing.T) {
	tl := tools(t)
	ctx := context.Background()
	video := testenv.FFmpegSample(t, tl.FFmpeg, "v.mp4", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
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

	audio := testenv.FFmpegSample(t, tl.FFmpeg, "a.mp3", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "2",
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

func TestM5_MoovFirst(t *testing.T) {
	box := func(typ string, n int) []byte {
		b := make([]byte, max(n, 8)) // the size field says n
		b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		copy(b[4:], typ)
		return b
	}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	big := box("mdat", 16)
	big[3] = 1 // a 64-bit size: 16
	big[15] = 16
	for name, tc := range map[string]struct {
		b    []byte
		want bool
	}{
		"moov first":            {cat(box("ftyp", 16), box("moov", 40), box("mdat", 100)), true},
		"mdat first":            {cat(box("ftyp", 16), box("mdat", 100), box("moov", 40)), false},
		"64-bit mdat first":     {cat(box("ftyp", 16), big, box("moov", 8)), false},
		"no moov":               {cat(box("ftyp", 16), box("free", 8)), false},
		"box past the end":      {cat(box("ftyp", 16), box("free", 1000)[:8], box("moov", 8)), false},
		"box shorter than 8":    {cat(box("ftyp", 4), box("moov", 8)), false},
		"empty":                 {nil, false},
		"size zero runs to end": {cat(box("ftyp", 16), box("moov", 0)), true},
	} {
		if got := MoovFirst(bytes.NewReader(tc.b), int64(len(tc.b))); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}

func FuzzMoovFirst(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x10ftypisom\x00\x00\x00\x00\x00\x00\x00\x08moov"))
	f.Add([]byte("\x00\x00\x00\x01mdat\x00\x00\x00\x00\x00\x00\x00\x10"))
	f.Fuzz(func(t *testing.T, b []byte) {
		MoovFirst(bytes.NewReader(b), int64(len(b)))
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"format":{"format_name":"mp3","duration":"2.0","tags":{"title":"x"}},"streams":[{"codec_type":"audio","codec_name":"mp3"}]}`))
	f.Add([]byte(`{"streams":[{"codec_type":"video","width":10,"height":20,"tags":{"rotate":"90"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := parse(b)
		if err == nil && info.Video == nil && info.Audio == nil {
			t.Fatal("parsed without a stream")
		}
		if info.Duration < 0 {
			t.Fatal("negative duration")
		}
	})
}

// TestS7c_ToolsRunUnderLimits: the tools run with a CPU limit from their
// timeout, a bounded address space and descriptors, and cannot write a
// file.
func TestS7c_ToolsRunUnderLimits(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("resource limits are set with prlimit, on Linux")
	}
	tools := Tools{Timeout: 5 * time.Second}
	out, err := tools.run(context.Background(), "/bin/sh", Source{R: bytes.NewReader([]byte("x")), Size: 1},
		[]string{"-c", "sleep 0.3; cat /proc/self/limits"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`Max cpu time\s+6\s+6\s+seconds`,
		`Max file size\s+0\s+0\s+bytes`,
		`Max open files\s+64\s+64\s+files`,
		`Max address space\s+2147483648\s+2147483648\s+bytes`,
	} {
		if !regexp.MustCompile(want).Match(out) {
			t.Errorf("limits lack %q:\n%s", want, out)
		}
	}
}
