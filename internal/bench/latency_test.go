package bench

import (
	"errors"
	"testing"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
)

// TestLatenciesTimeThePartCalls: the middleware times saves and chunk
// downloads that succeed, and nothing else.
func TestLatenciesTimeThePartCalls(t *testing.T) {
	var l Latencies
	next := &fakeInvoker{}
	h := l.Handle(next)
	ctx := t.Context()
	h(ctx, &tg.UploadSaveFilePartRequest{}, nil)
	h(ctx, &tg.UploadSaveBigFilePartRequest{}, nil)
	h(ctx, &tg.UploadGetFileRequest{}, nil)
	h(ctx, &tg.HelpGetConfigRequest{}, nil)
	next.fail = errors.New("FILE_PART_INVALID")
	h(ctx, &tg.UploadSaveBigFilePartRequest{}, nil)
	if saves, gets := l.Counts(); saves != 2 || gets != 1 || next.calls != 5 {
		t.Errorf("%d saves and %d gets timed of %d calls; want 2 and 1 of 5", saves, gets, next.calls)
	}
	save, get := l.Take()
	if len(save) != 2 || len(get) != 1 || save[0] < 0 || get[0] < 0 {
		t.Errorf("Take = %v, %v", save, get)
	}
	if saves, gets := l.Counts(); saves != 0 || gets != 0 {
		t.Errorf("after Take: %d saves, %d gets", saves, gets)
	}
	l.record(true, time.Millisecond)
	l.Reset()
	if saves, _ := l.Counts(); saves != 0 {
		t.Errorf("after Reset: %d saves", saves)
	}
	var _ telegram.Middleware = &l
}
