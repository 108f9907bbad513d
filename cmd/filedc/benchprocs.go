package main

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gotd/td/telegram"

	"github.com/filedc/filedc/internal/bench"
	"github.com/filedc/filedc/internal/cluster"
)

// startBenchServers starts o.processes servers of DC defaultDC. One process
// runs alone as before; several share a cluster directory and list each
// other with --dc-option, as a deployment's processes of one DC do. It
// returns the servers it started even on error, for the caller to stop.
func startBenchServers(ctx context.Context, dir, token string, o benchOptions) ([]*bench.Server, error) {
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
	config := func(i int, data, listen string, args []string) bench.ServerConfig {
		return bench.ServerConfig{Exe: self(), Data: data, Listen: listen, DC: defaultDC, Token: token,
			Log: logPath(i), CPUProfile: profile(i), Args: args}
	}
	if o.processes <= 1 {
		srv, err := bench.StartServer(ctx, config(0, filepath.Join(dir, "data"), "127.0.0.1:0", o.serverArgs))
		if err != nil {
			return nil, err
		}
		return []*bench.Server{srv}, nil
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
	var srvs []*bench.Server
	for i, a := range addrs {
		data := filepath.Join(dir, fmt.Sprintf("data%d", i+1))
		srv, err := bench.StartServer(ctx, config(i, data, a, extra))
		if err != nil {
			return srvs, fmt.Errorf("process %d: %w", i+1, err)
		}
		srvs = append(srvs, srv)
	}
	return srvs, nil
}

// self is this binary, which the bench runs as its servers.
func self() string {
	exe, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return exe
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
// address and logged in with the bot token, and runs f with a Spread of the
// calls over them and the first client (whose downloads follow CDN
// redirects).
func asBots(ctx context.Context, srvs []*bench.Server, key *rsa.PublicKey, token string, o benchOptions, lat *bench.Latencies,
	f func(ctx context.Context, sp *bench.Spread, first *telegram.Client) error) error {
	sp := &bench.Spread{}
	var first *telegram.Client
	var run func(ctx context.Context, i int) error
	run = func(ctx context.Context, i int) error {
		if i == len(srvs) {
			return f(ctx, sp, first)
		}
		target := dcTarget{addr: srvs[i].Addr, dc: srvs[i].DC, key: key, transport: o.transport, compress: o.compress}
		client, err := target.client(lat)
		if err != nil {
			return err
		}
		return client.Run(ctx, func(ctx context.Context) error {
			if _, err := client.Auth().Bot(ctx, token); err != nil {
				return fmt.Errorf("bot login through %s: %w", srvs[i].Addr, err)
			}
			if i == 0 {
				first = client
			}
			sp.Add(client)
			return run(ctx, i+1)
		})
	}
	return run(ctx, 0)
}

// rssText prints a size of memory; "n/a" where it is unknown.
func rssText(n int64) string {
	if n < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fMiB", float64(n)/bench.MiB)
}
