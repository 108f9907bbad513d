package admin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/pprof"
	"sync"
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
