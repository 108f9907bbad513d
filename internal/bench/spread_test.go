package bench

import (
	"context"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
)

// fakeInvoker counts the calls it gets and fails those it is told to.
type fakeInvoker struct {
	calls int
	fail  error
}

func (f *fakeInvoker) Invoke(context.Context, bin.Encoder, bin.Decoder) error {
	f.calls++
	return f.fail
}

// TestSpreadDealsPartsRoundRobin: part and chunk calls go round-robin
// over the clients and are counted per client; every other call goes
// through the first.
func TestSpreadDealsPartsRoundRobin(t *testing.T) {
	a, b := &fakeInvoker{}, &fakeInvoker{}
	var s Spread
	s.Add(a)
	s.Add(b)
	ctx := t.Context()
	for range 2 {
		s.Invoke(ctx, &tg.UploadSaveBigFilePartRequest{}, nil)
		s.Invoke(ctx, &tg.UploadGetFileRequest{}, nil)
	}
	s.Invoke(ctx, &tg.MessagesUploadMediaRequest{}, nil)
	if a.calls != 3 || b.calls != 2 {
		t.Errorf("clients got %d and %d calls, want 3 and 2", a.calls, b.calls)
	}
	got := s.Counts()
	if len(got) != 2 || got[0] != (CallCounts{Saves: 2}) || got[1] != (CallCounts{Gets: 2}) {
		t.Errorf("Counts = %+v, want the saves on the first and the chunks on the second", got)
	}
}
