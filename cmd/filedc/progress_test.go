package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/gotd/td/telegram/uploader"
)

// syncBuffer is a bytes.Buffer the bar's goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestO1_ProgressBarCountsBytes: the bar draws its label, the share done
// and the bytes, takes the largest of out-of-order upload callbacks, and a
// nil bar (no terminal) does nothing.
func TestO1_ProgressBarCountsBytes(t *testing.T) {
	var out syncBuffer
	bar := newProgressBar(&out, "upload x.bin", 4<<20)
	bar.Chunk(context.Background(), uploader.ProgressState{Uploaded: 3 << 20})
	bar.Chunk(context.Background(), uploader.ProgressState{Uploaded: 1 << 20}) // late
	bar.add(1 << 20)
	bar.finish(true)
	got := out.String()
	for _, want := range []string{"upload x.bin", "100 %", "4.0 MiB / 4.0 MiB"} {
		if !strings.Contains(got, want) {
			t.Errorf("the bar drew %q, without %q", got, want)
		}
	}
	var none *progressBar
	none.add(5)
	none.Chunk(context.Background(), uploader.ProgressState{Uploaded: 5})
	none.finish(true)
}
