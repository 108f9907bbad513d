package library

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/probe"
)

// TestS7c_ProbeSlotsTakeTurnsAcrossAccounts: with both slots busy, an
// account that queues ten probes delays another account's single probe by
// one turn, not by its whole queue; a waiter that gives up leaves no slot
// behind.
func TestS7c_ProbeSlotsTakeTurnsAcrossAccounts(t *testing.T) {
	ctx := context.Background()
	f := newFairSlots(2)
	f.acquire(ctx, 1)
	f.acquire(ctx, 1)
	waiting := func() int {
		f.mu.Lock()
		defer f.mu.Unlock()
		n := 0
		for _, q := range f.queues {
			n += len(q)
		}
		return n
	}
	granted := make(chan string, 16)
	wait := func(account int64, name string, n int) {
		go func() {
			f.acquire(ctx, account)
			granted <- name
		}()
		for waiting() < n {
			time.Sleep(time.Millisecond)
		}
	}
	for i := range 10 {
		wait(1, fmt.Sprintf("a%d", i), i+1)
	}
	gaveUp, cancel := context.WithCancel(ctx)
	go f.acquire(gaveUp, 3)
	for waiting() < 11 {
		time.Sleep(time.Millisecond)
	}
	wait(2, "b", 12)
	cancel()
	for waiting() > 11 {
		time.Sleep(time.Millisecond)
	}
	var order []string
	for range 11 {
		f.release()
		order = append(order, <-granted)
	}
	if order[0] != "a0" || order[1] != "b" || order[2] != "a1" || order[10] != "a9" {
		t.Fatalf("slots went %v; want a0, then b, then the rest of a's queue in order", order)
	}
	// Two slots are held (the last two granted): releasing them leaves
	// exactly two free.
	f.release()
	f.release()
	if f.free != 2 || len(f.turns) != 0 {
		t.Fatalf("%d slots free and %d accounts waiting after all went, want 2 and 0", f.free, len(f.turns))
	}
}

// TestS7c_ProbeRatePerAccount: past its burst, an account's upload of a
// video answers FLOOD_WAIT_X before the upload is consumed, so the same
// upload goes through once the wait is over; another account is not held
// back, and documents that are not video or audio are not counted.
func TestS7c_ProbeRatePerAccount(t *testing.T) {
	ctx := context.Background()
	l := newTestLib(t, func(c *Config) {
		c.Probe = probe.Tools{FFprobe: "/nonexistent/ffprobe"} // probes fail: no attributes
		c.ProbeRate, c.ProbeBurst = 0.5, 2
	})
	data := []byte("not really a video, but declared as one")
	doc := func(fileID int64, mime string) error {
		u := l.upload(t, fileID, "v.mp4", append([]byte(fmt.Sprint(fileID)), data...))
		_, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: u, MimeType: mime})
		return err
	}
	for i := range 2 {
		if err := doc(int64(1+i), "video/mp4"); err != nil {
			t.Fatalf("video %d within the burst: %v", i, err)
		}
	}
	if err := doc(3, "text/plain"); err != nil {
		t.Fatalf("a text document past the burst: %v", err)
	}
	u := l.upload(t, 4, "v.mp4", append([]byte("4"), data...))
	_, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: u, MimeType: "video/mp4"})
	wantError(t, "a third video", err, 420, "FLOOD_WAIT_2")
	other := u.Key
	other.Owner = 99 // an upload of account 99's that does not exist
	_, err = l.UploadDocument(ctx, 99, DocumentUpload{File: Upload{Finalize: files.Finalize{Key: other, Parts: u.Parts}},
		MimeType: "video/mp4"})
	wantError(t, "another account's video", err, 400, "FILE_PART_0_MISSING")
	*l.now = l.now.Add(2 * time.Second)
	if _, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: u, MimeType: "video/mp4"}); err != nil {
		t.Fatalf("the same upload after the wait: %v", err)
	}
}
