package filedctest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tgerr"

	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/rpc"
)

// Fault is a fault injected into the calls of one method. It applies to
// every call until Remove, or to the next n with Times(n).
type Fault struct {
	method string
	err    error         // answered instead of the call; nil for a delay
	delay  time.Duration // waited before serving the call

	mu   sync.Mutex
	left int // calls still to fault; negative: every call
	hits int
	srv  *Server
}

// Fail makes calls of method answer err instead of running. An error made
// with tgerr.New (tgerr.New(420, "FLOOD_WAIT_3"), tgerr.New(303,
// "FILE_MIGRATE_4")) reaches the client as that rpc_error; any other as
// 500 INTERNAL. method is the name MTProto gives it, "upload.saveFilePart".
func (s *Server) Fail(method string, err error) *Fault {
	if err == nil {
		panic("filedctest: Fail with a nil error")
	}
	var te *tgerr.Error
	if errors.As(err, &te) {
		err = &server.RPCError{Code: te.Code, Message: te.Message}
	}
	return s.add(&Fault{method: method, err: err})
}

// Delay makes calls of method wait d before they run (or until the client
// gives up on them).
func (s *Server) Delay(method string, d time.Duration) *Fault {
	return s.add(&Fault{method: method, delay: d})
}

// Drop makes calls of method close the client's connection instead of
// running, as a network failure would: the call is neither acknowledged
// nor answered, so the client reconnects and sends it again.
func (s *Server) Drop(method string) *Fault {
	return s.add(&Fault{method: method, err: server.ErrDropConnection})
}

func (s *Server) add(f *Fault) *Fault {
	if !rpc.IsMethod(f.method) {
		panic("filedctest: no method is named " + f.method)
	}
	f.left, f.srv = -1, s
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
	return f
}

// Times limits the fault to the next n calls of its method; the calls
// after them run normally.
func (f *Fault) Times(n int) *Fault {
	f.mu.Lock()
	f.left = max(n, 0)
	f.mu.Unlock()
	return f
}

// Hits returns how many calls the fault has hit.
func (f *Fault) Hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

// Remove ends the fault.
func (f *Fault) Remove() {
	s := f.srv
	s.mu.Lock()
	s.faults = slices.DeleteFunc(s.faults, func(g *Fault) bool { return g == f })
	s.mu.Unlock()
}

// take reports whether the fault hits this call of method, counting it.
func (f *Fault) take(method string) bool {
	if f.method != method {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left == 0 {
		return false
	}
	if f.left > 0 {
		f.left--
	}
	f.hits++
	return true
}

// Calls returns how many calls of method the DC has received, faulted or not.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// intercept counts each call and applies the faults of its method in the
// order they were added: a delay waits and goes on, a failure answers.
func (s *Server) intercept(ctx context.Context, method string, next func(context.Context) (bin.Encoder, error)) (bin.Encoder, error) {
	s.mu.Lock()
	s.calls[method]++
	faults := slices.Clone(s.faults)
	s.mu.Unlock()
	for _, f := range faults {
		if !f.take(method) {
			continue
		}
		if f.err != nil {
			return nil, f.err
		}
		t := time.NewTimer(f.delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	return next(ctx)
}
