package admin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"

	"github.com/filedc/filedc/internal/procstat"
)

// profiler takes CPU profiles between a start and a stop request, so that
// `filedc bench --profile` profiles each transfer of a running server
// apart. Go has one CPU profiler a process: a start while a profile is
// taken (also serve's --cpuprofile) is refused.
type profiler struct {
	mu      sync.Mutex
	running *bytes.Buffer
}

func (h *Handler) startCPU(w http.ResponseWriter, r *http.Request) {
	h.prof.mu.Lock()
	defer h.prof.mu.Unlock()
	if h.prof.running != nil {
		reply(w, http.StatusConflict, ErrorAnswer{"a CPU profile is being taken already"})
		return
	}
	buf := new(bytes.Buffer)
	if err := pprof.StartCPUProfile(buf); err != nil {
		reply(w, http.StatusConflict, ErrorAnswer{"starting the CPU profile: " + err.Error()})
		return
	}
	h.prof.running = buf
	reply(w, http.StatusOK, struct{}{})
}

func (h *Handler) stopCPU(w http.ResponseWriter, r *http.Request) {
	h.prof.mu.Lock()
	defer h.prof.mu.Unlock()
	if h.prof.running == nil {
		reply(w, http.StatusConflict, ErrorAnswer{"no CPU profile is being taken"})
		return
	}
	pprof.StopCPUProfile()
	buf := h.prof.running
	h.prof.running = nil
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(buf.Bytes())
}

// allocs answers the allocation profile: every allocation since the start.
func (h *Handler) allocs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	pprof.Lookup("allocs").WriteTo(w, 0)
}

// MemoryAnswer is GET /api/memory: the server's memory after a full garbage
// collection, so that what clients hold can be told from garbage.
type MemoryAnswer struct {
	HeapLive   uint64 `json:"heap_live"`  // bytes of live heap objects
	Stacks     uint64 `json:"stacks"`     // bytes of goroutine stacks
	Goroutines int    `json:"goroutines"` // goroutines running or waiting
	RSS        int64  `json:"rss"`        // resident set size, -1 where /proc has none
}

// memory collects garbage and answers what is left. The second collection
// frees what the first moved to the victim caches of sync.Pools.
func (h *Handler) memory(w http.ResponseWriter, r *http.Request) {
	runtime.GC()
	runtime.GC()
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(samples)
	a := MemoryAnswer{Goroutines: runtime.NumGoroutine(), RSS: procstat.RSS(os.Getpid())}
	if samples[0].Value.Kind() == metrics.KindUint64 {
		a.HeapLive = samples[0].Value.Uint64()
	}
	if samples[1].Value.Kind() == metrics.KindUint64 {
		a.Stacks = samples[1].Value.Uint64()
	}
	reply(w, http.StatusOK, a)
}

// Memory collects the server's garbage and returns its memory.
func (c *Client) Memory(ctx context.Context) (MemoryAnswer, error) {
	var a MemoryAnswer
	err := c.do(ctx, http.MethodGet, "/api/memory", nil, &a)
	return a, err
}

// StartCPUProfile starts a CPU profile of the server.
func (c *Client) StartCPUProfile(ctx context.Context) error {
	var ok struct{}
	return c.do(ctx, http.MethodPost, "/api/profile/cpu/start", nil, &ok)
}

// StopCPUProfile stops the CPU profile and returns it (pprof's format).
func (c *Client) StopCPUProfile(ctx context.Context) ([]byte, error) {
	return c.raw(ctx, http.MethodPost, "/api/profile/cpu/stop")
}

// AllocsProfile returns the server's allocation profile (pprof's format).
func (c *Client) AllocsProfile(ctx context.Context) ([]byte, error) {
	return c.raw(ctx, http.MethodGet, "/api/profile/allocs")
}

// raw calls path and returns the answer's body as it is.
func (c *Client) raw(ctx context.Context, method, path string) ([]byte, error) {
	var body rawBody
	if err := c.do(ctx, method, path, nil, &body); err != nil {
		return nil, err
	}
	return body, nil
}

// rawBody takes an answer that is not JSON.
type rawBody []byte

func (b *rawBody) readFrom(r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	*b = data
	return nil
}
