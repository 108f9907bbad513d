package main

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/cluster"
)

// procFigures is what one server process did during one size.
type procFigures struct {
	addr           string
	saves, gets    int64         // part and chunk calls it answered
	upCPU, downCPU time.Duration // -1 where /proc has none
	peakRSS        int64         // bytes, -1 when unknown
}

// startBenchServers starts o.processes servers of DC defaultDC. One process
// runs alone as before; several share a cluster directory and list each
// other with --dc-option, as a deployment's processes of one DC do. It
// returns the servers it started even on error, for the caller to stop.
func startBenchServers(ctx context.Context, dir, token string, o benchOptions) ([]*benchServer, error) {
	logPath := func(i int) string {
		if o.serverLog == "" {
			return filepath.Join(dir, fmt.Sprintf("server%d.log", i+1))
		}
		return numbered(o.serverLog, i, o.processes)
	}
	profile := func(i int) string {
		if o.serverProfile == "" {
			return ""
		}
		return numbered(o.serverProfile, i, o.processes)
	}
	if o.processes <= 1 {
		srv, err := startBenchServer(ctx, filepath.Join(dir, "data"), "127.0.0.1:0", token, logPath(0), profile(0), o.serverArgs...)
		if err != nil {
			return nil, err
		}
		return []*benchServer{srv}, nil
	}
	clusterDir := filepath.Join(dir, "cluster")
	if _, err := cluster.Init(clusterDir); err != nil {
		return nil, err
	}
	// The addresses go into every process's --dc-option, so they are chosen
	// before the processes start.
	addrs, err := freeLoopbackAddrs(o.processes)
	if err != nil {
		return nil, err
	}
	extra := append([]string{"--cluster", clusterDir}, o.serverArgs...)
	for _, a := range addrs {
		extra = append(extra, "--dc-option", strconv.Itoa(defaultDC)+"="+a)
	}
	var srvs []*benchServer
	for i, a := range addrs {
		data := filepath.Join(dir, fmt.Sprintf("data%d", i+1))
		srv, err := startBenchServer(ctx, data, a, token, logPath(i), profile(i), extra...)
		if err != nil {
			return srvs, fmt.Errorf("process %d: %w", i+1, err)
		}
		srvs = append(srvs, srv)
	}
	return srvs, nil
}

// numbered is path for one process, path.N for process N of several.
func numbered(path string, i, n int) string {
	if n <= 1 {
		return path
	}
	return path + "." + strconv.Itoa(i+1)
}

// freeLoopbackAddrs returns n loopback addresses whose ports were free a
// moment ago.
func freeLoopbackAddrs(n int) ([]string, error) {
	var addrs []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// asBots runs one gotd client per server, each knowing only its server's
// address and logged in with the bot token, and runs f with an invoker
// spreading the calls over them.
func asBots(ctx context.Context, srvs []*benchServer, key *rsa.PublicKey, token string, o benchOptions, lat *latencyRecorder, f func(ctx context.Context, sp *spreadInvoker) error) error {
	sp := &spreadInvoker{calls: make([]callCounts, len(srvs))}
	var run func(ctx context.Context, i int) error
	run = func(ctx context.Context, i int) error {
		if i == len(srvs) {
			return f(ctx, sp)
		}
		target := dcTarget{addr: srvs[i].addr, dc: srvs[i].dc, key: key, transport: o.transport, compress: o.compress}
		client, err := target.client(lat)
		if err != nil {
			return err
		}
		return client.Run(ctx, func(ctx context.Context) error {
			if _, err := client.Auth().Bot(ctx, token); err != nil {
				return fmt.Errorf("bot login through %s: %w", srvs[i].addr, err)
			}
			sp.clients = append(sp.clients, client)
			return run(ctx, i+1)
		})
	}
	return run(ctx, 0)
}

// callCounts are the part and chunk calls one process answered.
type callCounts struct{ saves, gets int64 }

// spreadInvoker deals the part and chunk calls (upload.saveFilePart,
// upload.saveBigFilePart, upload.getFile) round-robin over its clients, one
// per server process, and sends every other call through the first.
type spreadInvoker struct {
	clients []tg.Invoker
	next    atomic.Uint64
	mu      sync.Mutex
	calls   []callCounts
}

// Invoke implements tg.Invoker.
func (s *spreadInvoker) Invoke(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
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
			s.calls[i].saves++
		} else {
			s.calls[i].gets++
		}
		s.mu.Unlock()
	}
	return err
}

// counts returns a copy of the calls each process answered so far.
func (s *spreadInvoker) counts() []callCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]callCounts(nil), s.calls...)
}

// sumKnown sums vs, or returns -1 when one of them is unknown (negative).
func sumKnown[T int64 | time.Duration](vs []T) T {
	var sum T
	for _, v := range vs {
		if v < 0 {
			return -1
		}
		sum += v
	}
	return sum
}

func rssText(n int64) string {
	if n < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fMiB", float64(n)/mib)
}
