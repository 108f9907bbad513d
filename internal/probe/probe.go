// Package probe asks ffprobe what a stored video or audio file holds, and
// ffmpeg for one video frame, without copying the file: the content is
// served to them over a loopback HTTP address that lives for one call, from
// which they read (and seek) what they need.
//
// Both tools are optional. A zero Tools probes nothing: documents then get
// no video or audio attributes and videos no thumbnails.
//
// The tools parse untrusted bytes, so every call is bounded: a deadline, a
// cap on what they may print, one thread, a cap on any single allocation,
// demuxers limited to common audio and video containers, and protocols
// limited to the one HTTP address (no playlists that reach for local files
// or other hosts).
package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Tools names the ffprobe and ffmpeg executables; an empty path disables one.
type Tools struct {
	FFprobe string
	FFmpeg  string
	// Timeout bounds each run (default 20 s).
	Timeout time.Duration
}

// Find returns the tools found on PATH.
func Find() Tools {
	var t Tools
	if p, err := exec.LookPath("ffprobe"); err == nil {
		t.FFprobe = p
	}
	if p, err := exec.LookPath("ffmpeg"); err == nil {
		t.FFmpeg = p
	}
	return t
}

// Source is content to probe.
type Source struct {
	R    io.ReaderAt
	Size int64
}

// Info is what ffprobe found.
type Info struct {
	Format   string  // demuxer name, such as "mov,mp4,m4a,3gp,3g2,mj2" or "mp3"
	Duration float64 // seconds; 0 when unknown
	Video    *Video  // the first video stream that is not cover art
	Audio    *Audio  // the first audio stream
	Title    string  // tags of the container
	Artist   string
}

// Video is a video stream.
type Video struct {
	Codec string // ffmpeg's codec name: h264, hevc, vp9, ...
	W, H  int    // as displayed (rotation applied)
}

// Audio is an audio stream.
type Audio struct {
	Codec string
}

var (
	// ErrDisabled: the tool is not configured.
	ErrDisabled = errors.New("probe: tool not configured")
	// ErrNotMedia: the tool could not read the content as audio or video.
	ErrNotMedia = errors.New("probe: not a readable audio or video file")
)

const (
	// demuxers the tools may use: common audio and video containers only.
	demuxers = "mov,matroska,webm,mp3,ogg,wav,flac,aac,avi,flv,mpegts,asf,aiff,amr,caf,m4v"
	// maxOutput bounds what a tool may print; ffprobe's JSON for a real file
	// is a few kilobytes, a frame at most a few hundred.
	maxOutput = 4 << 20
	// maxAlloc bounds any single allocation inside the tools.
	maxAlloc = "268435456"
	// MaxSide bounds the frames ffmpeg decodes for a thumbnail: 8K video.
	MaxSide = 8192
)

func (t Tools) timeout() time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	return 20 * time.Second
}

// Enabled reports whether ffprobe is configured.
func (t Tools) Enabled() bool { return t.FFprobe != "" }

// CanFrame reports whether ffmpeg is configured.
func (t Tools) CanFrame() bool { return t.FFmpeg != "" }

// run serves src, runs tool with args (the URL replaces "{url}") and
// returns its output.
func (t Tools) run(ctx context.Context, tool string, src Source, args []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout())
	defer cancel()
	url, stop, err := serve(src)
	if err != nil {
		return nil, err
	}
	defer stop()
	full := make([]string, len(args))
	for i, a := range args {
		full[i] = strings.ReplaceAll(a, "{url}", url)
	}
	cmd := exec.CommandContext(ctx, tool, full...)
	out := &capped{max: maxOutput, strict: true}
	stderr := &capped{max: 4096}
	cmd.Stdout = out
	cmd.Stderr = stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("probe: %s: %w", tool, err)
	}
	if err := limitTool(cmd.Process.Pid, t.timeout()); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("probe: limiting %s: %w", tool, err)
	}
	err = cmd.Wait()
	if out.over {
		return nil, fmt.Errorf("probe: %s printed more than %d bytes", tool, maxOutput)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("probe: %s: %w", tool, ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v: %s", ErrNotMedia, tool, err, strings.TrimSpace(stderr.buf.String()))
	}
	return out.buf.Bytes(), nil
}

// input are the options that guard every input the tools open.
func input() []string {
	return []string{"-v", "error", "-hide_banner", "-threads", "1", "-max_alloc", maxAlloc,
		"-protocol_whitelist", "http,tcp", "-format_whitelist", demuxers}
}

// Probe reads the container and streams of src.
func (t Tools) Probe(ctx context.Context, src Source) (Info, error) {
	if t.FFprobe == "" {
		return Info{}, ErrDisabled
	}
	args := append(input(), "-of", "json", "-show_format", "-show_streams", "-i", "{url}")
	out, err := t.run(ctx, t.FFprobe, src, args)
	if err != nil {
		return Info{}, err
	}
	return parse(out)
}

// ffprobe's JSON, the fields used.
type probed struct {
	Format struct {
		Name     string            `json:"format_name"`
		Duration string            `json:"duration"`
		Tags     map[string]string `json:"tags"`
	} `json:"format"`
	Streams []struct {
		Type        string            `json:"codec_type"`
		Codec       string            `json:"codec_name"`
		Width       int               `json:"width"`
		Height      int               `json:"height"`
		Duration    string            `json:"duration"`
		Disposition map[string]int    `json:"disposition"`
		Tags        map[string]string `json:"tags"`
		SideData    []struct {
			Rotation float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
}

func parse(out []byte) (Info, error) {
	var p probed
	if err := json.Unmarshal(out, &p); err != nil {
		return Info{}, fmt.Errorf("%w: ffprobe output: %v", ErrNotMedia, err)
	}
	info := Info{Format: p.Format.Name, Duration: seconds(p.Format.Duration)}
	for k, v := range p.Format.Tags {
		switch strings.ToLower(k) {
		case "title":
			info.Title = v
		case "artist":
			info.Artist = v
		}
	}
	for _, s := range p.Streams {
		switch s.Type {
		case "video":
			// Cover art in audio files is a video stream of one picture.
			if info.Video != nil || s.Disposition["attached_pic"] == 1 || s.Width <= 0 || s.Height <= 0 {
				continue
			}
			v := &Video{Codec: s.Codec, W: s.Width, H: s.Height}
			if rotated(s.Tags["rotate"], s.SideData) {
				v.W, v.H = v.H, v.W
			}
			info.Video = v
			if info.Duration == 0 {
				info.Duration = seconds(s.Duration)
			}
		case "audio":
			if info.Audio == nil {
				info.Audio = &Audio{Codec: s.Codec}
				if info.Duration == 0 {
					info.Duration = seconds(s.Duration)
				}
			}
		}
	}
	if info.Video == nil && info.Audio == nil {
		return Info{}, fmt.Errorf("%w: no audio or video stream", ErrNotMedia)
	}
	return info, nil
}

// rotated reports a quarter turn, from the old rotate tag or the display
// matrix side data.
func rotated(tag string, side []struct {
	Rotation float64 `json:"rotation"`
}) bool {
	quarter := func(deg float64) bool {
		d := int(deg) % 180
		return d == 90 || d == -90
	}
	if deg, err := strconv.ParseFloat(tag, 64); err == nil && quarter(deg) {
		return true
	}
	for _, s := range side {
		if quarter(s.Rotation) {
			return true
		}
	}
	return false
}

func seconds(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1e9 {
		return 0
	}
	return v
}

// Frame returns the frame of src's video at `at` seconds (the first frame
// when at is 0 or past the end), scaled to fit a box×box square keeping its
// aspect ratio, as a PNG. w and h are the video's size as probed: frames
// larger than MaxSide are refused before anything is decoded.
func (t Tools) Frame(ctx context.Context, src Source, w, h int, at float64, box int) ([]byte, error) {
	if t.FFmpeg == "" {
		return nil, ErrDisabled
	}
	if w <= 0 || h <= 0 || w > MaxSide || h > MaxSide || box <= 0 {
		return nil, fmt.Errorf("%w: frame of %dx%d", ErrNotMedia, w, h)
	}
	args := input()
	if at > 0 {
		args = append(args, "-ss", strconv.FormatFloat(at, 'f', 3, 64))
	}
	scale := fmt.Sprintf("scale=w='min(%d,iw)':h='min(%d,ih)':force_original_aspect_ratio=decrease", box, box)
	args = append(args, "-i", "{url}", "-an", "-sn", "-dn", "-frames:v", "1", "-vf", scale,
		"-f", "image2pipe", "-c:v", "png", "-")
	out, err := t.run(ctx, t.FFmpeg, src, args)
	if err == nil && len(out) == 0 && at > 0 {
		// Past the end: the first frame instead.
		return t.Frame(ctx, src, w, h, 0, box)
	}
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%w: no video frame", ErrNotMedia)
	}
	return out, err
}

// AlphaFrame returns the first frame of a video sticker as a PNG that keeps
// its transparency, scaled to fit box×box. VP9 carries alpha in a side
// channel that only libvpx's decoder reads, so a VP9 stream is decoded with
// it.
func (t Tools) AlphaFrame(ctx context.Context, src Source, info Info, box int) ([]byte, error) {
	if t.FFmpeg == "" {
		return nil, ErrDisabled
	}
	v := info.Video
	if v == nil || v.W <= 0 || v.H <= 0 || v.W > MaxSide || v.H > MaxSide || box <= 0 {
		return nil, fmt.Errorf("%w: no video to take a frame of", ErrNotMedia)
	}
	args := input()
	if v.Codec == "vp9" {
		args = append(args, "-c:v", "libvpx-vp9")
	}
	scale := fmt.Sprintf("scale=w='min(%d,iw)':h='min(%d,ih)':force_original_aspect_ratio=decrease,format=rgba", box, box)
	args = append(args, "-i", "{url}", "-an", "-sn", "-dn", "-frames:v", "1", "-vf", scale,
		"-f", "image2pipe", "-c:v", "png", "-")
	out, err := t.run(ctx, t.FFmpeg, src, args)
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%w: no video frame", ErrNotMedia)
	}
	return out, err
}

// capped keeps at most max bytes. Past that, a strict one fails the write
// (and so the tool) and notes it; another drops the rest.
type capped struct {
	buf    bytes.Buffer
	max    int
	strict bool
	over   bool
}

func (c *capped) Write(p []byte) (int, error) {
	n := len(p)
	if room := c.max - c.buf.Len(); n > room {
		c.buf.Write(p[:max(0, room)])
		if c.strict {
			c.over = true
			return 0, errors.New("probe: output over its bound")
		}
		return n, nil
	}
	c.buf.Write(p)
	return n, nil
}
