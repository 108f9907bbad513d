package bench

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
)

// CallCounts are the part and chunk calls one server process answered.
type CallCounts struct{ Saves, Gets int64 }

// Spread is a tg.Invoker that deals the part and chunk calls
// (upload.saveFilePart, upload.saveBigFilePart, upload.getFile)
// round-robin over its clients, one per server process of a DC, and sends
// every other call through the first: one file's parts are then saved and
// downloaded through every process, as a deployment's load balancer would
// spread them.
type Spread struct {
	mu      sync.Mutex
	clients []tg.Invoker
	calls   []CallCounts
	next    atomic.Uint64
}

// Add adds a client; it must come before the first call.
func (s *Spread) Add(client tg.Invoker) {
	s.mu.Lock()
	s.clients = append(s.clients, client)
	s.calls = append(s.calls, CallCounts{})
	s.mu.Unlock()
}

// Invoke implements tg.Invoker.
func (s *Spread) Invoke(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
	var save bool
	switch input.(type) {
	case *tg.UploadSaveFilePartRequest, *tg.UploadSaveBigFilePartRequest:
		save = true
	case *tg.UploadGetFileRequest:
	default:
		return s.clients[0].Invoke(ctx, input, output)
	}
	i := int((s.next.Add(1) - 1) % uint64(len(s.clients)))
	err := s.clients[i].Invoke(ctx, input, output)
	if err == nil {
		s.mu.Lock()
		if save {
			s.calls[i].Saves++
		} else {
			s.calls[i].Gets++
		}
		s.mu.Unlock()
	}
	return err
}

// Counts returns a copy of the calls each client's process answered so
// far, in the order the clients were added.
func (s *Spread) Counts() []CallCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallCounts(nil), s.calls...)
}
