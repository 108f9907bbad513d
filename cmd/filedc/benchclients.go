package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"

	"github.com/filedc/filedc/internal/admin"
	"github.com/filedc/filedc/internal/bench"
	"github.com/filedc/filedc/internal/procstat"
)

// crowdOptions are bench --clients.
type crowdOptions struct {
	levels    []int         // clients at once, one run each
	traffic   time.Duration // how long each run's active clients transfer
	pingEvery time.Duration
	fileParts int
}

// crowdLimitArgs raise the server's per-address and per-account limits for
// a crowd: its clients share one loopback address and one bot, where a real
// DC's thousands of clients come from as many addresses and accounts.
var crowdLimitArgs = []string{
	"--max-conns-per-ip", "1000000",
	"--key-exchange-rate", "1e6", "--key-exchange-burst", "1000000",
	"--new-keys-per-hour", "1e9", "--new-keys-burst", "1000000",
	"--request-rate", "1e9", "--request-burst", "1000000000",
	"--max-uploads-per-account", "-1",
}

// crowdLevel is what one run of a crowd measured.
type crowdLevel struct {
	clients, active int
	streams         int // calls each active client runs at once
	res             bench.CrowdResult
	before, ready   admin.MemoryAnswer // the server's, after a collection
	peakRSS         int64
	// CPU time during the traffic: the server's, and the load generator's
	// (this process, which runs every client).
	serverCPU, clientCPU time.Duration
	stages               *bench.Split // the server's CPU by stage, with --profile
}

// cpuText is CPU time per MiB moved, in ms.
func (l crowdLevel) cpuText(cpu time.Duration) string {
	if cpu < 0 || l.res.Bytes == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", bench.MsPerMiB(cpu, l.res.Bytes))
}

// perConnText is perConn for a table, "-" where too few clients make it noise.
func (l crowdLevel) perConnText() string {
	if l.clients < 64 {
		return "-"
	}
	return fmt.Sprintf("%.1fKiB", l.perConn()/1024)
}

// perConn is the server memory (live heap and stacks) each connected,
// logged-in client added.
func (l crowdLevel) perConn() float64 {
	grew := int64(l.ready.HeapLive+l.ready.Stacks) - int64(l.before.HeapLive+l.before.Stacks)
	return float64(grew) / float64(l.clients)
}

func parseLevels(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 100000 {
			return nil, fmt.Errorf("--clients %q: want client counts from 1 to 100000, separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// runCrowdBench starts a server and runs a crowd of each size against it.
func runCrowdBench(ctx context.Context, stdout io.Writer, o benchOptions) (err error) {
	dir, token, err := benchScratch()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	o.serverArgs = append(o.serverArgs, crowdLimitArgs...)
	srvs, err := startBenchServers(ctx, dir, token, o)
	defer func() {
		for _, srv := range srvs {
			if serr := srv.Stop(); err == nil {
				err = serr
			}
		}
	}()
	if err != nil {
		return err
	}
	srv := srvs[0]
	key, err := readPublicKey(srv.KeyPath)
	if err != nil {
		return err
	}
	target := dcTarget{addr: srv.Addr, dc: srv.DC, key: key, transport: o.transport, compress: o.compress}
	keys := &bench.KeyMaker{Addr: srv.Addr, DC: srv.DC, Key: key}
	var profiles *bench.Profiles
	if o.profileDir != "" {
		profiles = &bench.Profiles{Dir: o.profileDir, Servers: srvs}
	}
	c := o.crowd
	fmt.Fprintf(stdout, "filedc bench --clients: %d CPUs, GOMAXPROCS %d, load average %s; server pid %d, data in %s\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), procstat.LoadAverage(), srv.Pid(), dir)
	fmt.Fprintf(stdout, "each client: gotd, %s transport, its own connection, logged in as the bot, with an auth key of its own made on a connection before\n", o.transport)
	fmt.Fprintln(stdout, "  (by internal/bench's key exchange: gotd's costs the client half a second of CPU a key, in big.Int factoring and a dh_prime check TDLib makes once).")
	fmt.Fprintf(stdout, "a tenth of them (at least 1) loop for %v: upload a %d MiB file in 512 KiB parts (saveBigFilePart, %d at a time), finalize it (messages.uploadMedia), download it (getFile, 512 KiB, %d at a time); the rest are idle and ping every %v.\n",
		c.traffic, c.fileParts*bench.PartSize>>20, o.streams, o.streams, c.pingEvery)
	fmt.Fprintln(stdout, "the server's per-address and per-account limits are raised: every client comes from 127.0.0.1 and logs in as one bot.")

	idle, err := srv.Admin.Memory(ctx)
	if err != nil {
		return fmt.Errorf("the server's memory: %w", err)
	}
	var levels []crowdLevel
	for _, n := range c.levels {
		l := crowdLevel{clients: n, active: max(1, n/10), streams: o.streams}
		if l.before, err = settledMemory(ctx, srv.Admin, idle.Goroutines); err != nil {
			return err
		}
		srv.ResetPeakRSS()
		crowd := bench.Crowd{
			Clients: n, Active: l.active, Traffic: c.traffic, PingEvery: c.pingEvery,
			FileParts: c.fileParts, Streams: o.streams, Dialers: 16, Token: token,
			NewClient: func(ctx context.Context) (*telegram.Client, error) {
				data, err := keys.Make(ctx)
				if err != nil {
					return nil, fmt.Errorf("auth key: %w", err)
				}
				storage := &session.StorageMemory{}
				if err := (&session.Loader{Storage: storage}).Save(ctx, data); err != nil {
					return nil, err
				}
				return target.clientWith(storage)
			},
			Ready: func(ctx context.Context) (err error) {
				if l.ready, err = srv.Admin.Memory(ctx); err != nil {
					return err
				}
				l.serverCPU, l.clientCPU = -srv.CPU(), -procstat.SelfCPU()
				return profiles.Start(ctx)
			},
			TrafficDone: func(ctx context.Context) (err error) {
				l.serverCPU += srv.CPU()
				l.clientCPU += procstat.SelfCPU()
				l.stages, err = profiles.Stop(ctx, fmt.Sprintf("clients-%d", n))
				return err
			},
		}
		fmt.Fprintf(os.Stderr, "bench: %d clients\n", n)
		if l.res, err = crowd.Run(ctx); err != nil {
			return fmt.Errorf("%d clients: %w", n, err)
		}
		l.peakRSS = srv.PeakRSS()
		levels = append(levels, l)
	}
	printCrowd(stdout, levels)
	printCrowdStages(stdout, o.profileDir, levels)
	return nil
}

// printCrowdStages prints, with --profile, the server's CPU during each
// crowd's traffic by stage, per MiB moved.
func printCrowdStages(w io.Writer, dir string, levels []crowdLevel) {
	if len(levels) == 0 || levels[0].stages == nil {
		return
	}
	fmt.Fprintf(w, "\nserver CPU during the traffic by stage, ms per MiB moved (profiles clients-N.cpu.pprof in %s):\n", dir)
	var rows []stageRow
	for _, l := range levels {
		rows = append(rows, stageRow{labels: []string{strconv.Itoa(l.clients)}, split: l.stages, cpu: l.serverCPU, bytes: l.res.Bytes})
	}
	writeStageTable(w, []string{"clients"}, rows)
}

// settledMemory waits until the server has seen the last crowd's clients
// leave, as far as its goroutines tell (at most 10 s), and returns its memory.
func settledMemory(ctx context.Context, a *admin.Client, idleGoroutines int) (admin.MemoryAnswer, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := a.Memory(ctx)
		if err != nil {
			return m, fmt.Errorf("the server's memory: %w", err)
		}
		if m.Goroutines <= idleGoroutines+4 || time.Now().After(deadline) {
			return m, nil
		}
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func printCrowd(w io.Writer, levels []crowdLevel) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "clients\tactive\tlogged in after\tMiB/s\tsave p50\tsave p99\tgetFile p50\tgetFile p99\tfiles\tpings\tCPU ms/MiB server\tclients\tserver peak RSS\tgoroutines\tper connection\t")
	best := 0.0
	for _, l := range levels {
		best = max(best, bench.MiBps(l.res.Bytes, l.res.Traffic))
	}
	for _, l := range levels {
		r := l.res
		fmt.Fprintf(tw, "%d\t%d\t%s\t%.1f\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%d\t%s\t\n", l.clients, l.active, seconds(r.LoggedIn),
			bench.MiBps(r.Bytes, r.Traffic), ms(bench.Percentile(r.Save, 0.50)), ms(bench.Percentile(r.Save, 0.99)),
			ms(bench.Percentile(r.Get, 0.50)), ms(bench.Percentile(r.Get, 0.99)), r.Files, r.Pings,
			l.cpuText(l.serverCPU), l.cpuText(l.clientCPU), rssText(l.peakRSS), l.ready.Goroutines, l.perConnText())
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, l := range levels {
		rate := bench.MiBps(l.res.Bytes, l.res.Traffic)
		// Little's law: calls in flight over the rate bound the mean latency.
		floor := time.Duration(float64(l.active*max(1, l.streams)) * bench.PartSize / bench.MiB / max(rate, 1e-9) * float64(time.Second))
		fmt.Fprintf(w, "%d clients: %.2f of the best aggregate rate (goal >= 0.85 from 16 clients on); p99 save %s, getFile %s (goal < 100ms; %d calls in flight at %.1f MiB/s make the mean at least %s); server memory per logged-in connection %s (goal <= 32 KiB)\n",
			l.clients, rate/best, ms(bench.Percentile(l.res.Save, 0.99)), ms(bench.Percentile(l.res.Get, 0.99)),
			l.active*max(1, l.streams), rate, ms(floor), l.perConnText())
	}
	fmt.Fprintln(w, `
MiB/s: bytes saved plus bytes downloaded by the active clients over the traffic time.
CPU ms/MiB: CPU time during the traffic over the MiB moved, of the server and of this process (every client).
per connection: the server's live heap and goroutine stacks (after a collection) once every client
was logged in, less the same just before they connected, over the clients ("-" under 64 clients,
where it is within the noise of the server's own state).
peak RSS is the server's VmHWM during the run.`)
}
