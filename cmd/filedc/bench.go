package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/spf13/cobra"

	"github.com/filedc/filedc/internal/backend"
	"github.com/filedc/filedc/internal/bench"
	"github.com/filedc/filedc/internal/procstat"
)

// benchCmd is filedc bench. It only wires internal/bench up: it parses the
// flags, starts the servers and the clients, runs the load generators and
// prints their figures.
func benchCmd() *cobra.Command {
	var (
		sizes, transportName, serverLog, serverProfile, cpuProfile, profileDir string
		streams, compress, processes                                           int
		stores                                                                 backend.Options
		viaCDN                                                                 bool
		clients                                                                string
		crowd                                                                  crowdOptions
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure upload and download throughput against a real server",
		Long: `Start a real "filedc serve" process (a temporary data directory, loopback
addresses, a generated bot token), then for each size upload random bytes with
--streams parallel calls through gotd's uploader, finalize them with
messages.uploadMedia and download them with --streams parallel calls through
gotd's downloader (into memory, without hash checks), and compare SHA-256.

It prints, per size: upload and download MiB/s, p50/p99 latency of
upload.saveBigFilePart/saveFilePart and upload.getFile as the client sees
them, the finalization time and the server's peak RSS.

In the same run it measures the machine's MTProto crypto ceiling: the
per-byte work of both ends at once, as client and server share the machine.
One goroutine encrypts 512 KiB buffers with AES-256-IGE while it hashes the
next with SHA-256 (msg_key), as filedc's server sends; another decrypts and
hashes them in one pass, as filedc's server receives. Both run filedc's own
AES-IGE, the fastest code there is here for that work (gotd's client, with
gotd/ige and hashing apart, reaches a third to a half of its rate). Each direction's rate is printed as a ratio of it.

It also prints, per direction, what the client's own CPU leaves: the client's
CPU time per MiB plus a server that does nothing but its crypto, spread
perfectly over every core, bound the rate any server could reach with this
client on this machine; the line gives the fraction of that bound reached and
the server's CPU time per MiB.

The client never gzips by default (--gzip-threshold -1): the parts are random
bytes, and gotd's default (1024) compresses every request over 1 KiB in vain.
TDLib sends a large request gzipped only when a 1 KiB sample of it
compresses, so it sends such parts plain too. Pass 0 for gotd's default.

Files of 10 MiB or less go through upload.saveFilePart, one part at a time
(gotd's uploader runs parallel calls for big files only).

With --processes N (N > 1) it starts N processes of one DC sharing --s3,
--postgres and --redis (a cluster directory made as "filedc cluster init"
makes it, one --dc-option per process) and runs one gotd client per process,
each knowing only its process. The calls are dealt out round-robin over the
clients: the parts of each file are saved through every process (finalized
through the first) and its chunks downloaded through every process. The
table's server figures are summed over the processes; a second table gives
each process's calls, CPU and peak RSS.

With --cdn it also starts a CDN DC process (serve --cdn) that the server
sends downloads to, and downloads each file twice more with gotd's
downloader following the redirect (Options.AllowCDN): cold, when every block
is pushed to the CDN on upload.reuploadCdnFile, and warm, from the CDN's
cache. A table prints the three rates side by side with the CPU per MiB of
the master and of the CDN.

With --clients N,M,... it measures many clients at once instead of the
sizes: for each count, that many gotd clients connect, each with its own
auth key and connection, and log in as the bot. A tenth of them (at least
one) loop for --clients-traffic: upload a 4 MiB file in 512 KiB parts,
finalize it and download it, --streams calls at a time; the rest stay idle and ping every --clients-ping. It
prints the aggregate MiB/s, p50 and p99 latency of saveBigFilePart and
getFile, the server's peak RSS and its memory per logged-in connection
(live heap and goroutine stacks after a collection, before and after the
clients connected). The server's per-address and per-account limits are
raised, since every client comes from one address and logs in as one bot.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := parseSizes(sizes)
			if err != nil {
				return err
			}
			if streams < 1 {
				return fmt.Errorf("--streams %d: want at least 1", streams)
			}
			if _, err := protocol(transportName); err != nil {
				return err
			}
			if processes < 1 {
				return fmt.Errorf("--processes %d: want at least 1", processes)
			}
			if profileDir != "" && serverProfile != "" {
				return errors.New("--profile and --server-cpuprofile both profile the server's CPU: pass one")
			}
			if profileDir != "" {
				if err := os.MkdirAll(profileDir, 0o755); err != nil {
					return err
				}
			}
			if viaCDN && processes > 1 {
				return errors.New("--cdn runs with one server process")
			}
			if processes > 1 && (stores.S3 == "" || stores.Postgres == "" || stores.Redis == "") {
				// Without all three, each process would keep some state in its own --data.
				return fmt.Errorf("--processes %d: several processes of one DC share their state: pass --s3, --postgres and --redis", processes)
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			if clients != "" {
				if crowd.levels, err = parseLevels(clients); err != nil {
					return err
				}
				if processes > 1 || viaCDN {
					return errors.New("--clients runs with one server process, without --cdn")
				}
				if crowd.traffic <= 0 || crowd.pingEvery <= 0 {
					return errors.New("--clients-traffic and --clients-ping must be positive")
				}
				crowd.fileParts = 8
				return runCrowdBench(ctx, cmd.OutOrStdout(), benchOptions{
					transport: transportName, compress: compress, serverLog: serverLog, serverProfile: serverProfile,
					serverArgs: stores.Args(), processes: 1, crowd: crowd, streams: streams, profileDir: profileDir,
				})
			}
			return runBench(ctx, cmd.OutOrStdout(), benchOptions{
				sizes: list, streams: streams, transport: transportName, compress: compress,
				serverLog: serverLog, serverProfile: serverProfile, profileDir: profileDir,
				serverArgs: stores.Args(), processes: processes, cdn: viaCDN,
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&sizes, "sizes", "5MiB,200MiB", "comma-separated sizes to transfer (B, KiB, MiB, GiB)")
	f.IntVar(&streams, "streams", 4, "parallel upload calls and parallel download calls")
	f.StringVar(&transportName, "transport", "intermediate", "MTProto transport: abridged, intermediate, padded-intermediate or full")
	f.IntVar(&compress, "gzip-threshold", -1, "the client sends requests larger than this many bytes gzip_packed (gotd's CompressThreshold; 0: gotd's default of 1024, -1: never)")
	f.StringVar(&serverLog, "server-log", "", "write the server's log to this file (default: discarded)")
	f.StringVar(&serverProfile, "server-cpuprofile", "", "write a CPU profile of the server process to this file")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the client (this process) to this file")
	f.StringVar(&profileDir, "profile", "", "profile the server during each upload and each download apart (CPU), and after each size (allocations), keep the profiles in this directory, and print the server's CPU per MiB by stage beside the floors")
	f.StringVar(&stores.S3, "s3", "", "run the server with --s3 URL (content in S3; see serve --help)")
	f.StringVar(&stores.Postgres, "postgres", "", "run the server with --postgres URL (records in PostgreSQL)")
	f.StringVar(&stores.Redis, "redis", "", "run the server with --redis URL (part state in Redis)")
	f.BoolVar(&viaCDN, "cdn", false, "also start a CDN DC (serve --cdn) and download each file through it, cold (every block pushed) and warm, beside the direct download")
	f.StringVar(&clients, "clients", "", "measure many clients at once instead of the sizes: comma-separated client counts, e.g. 1,16,256,2000")
	f.DurationVar(&crowd.traffic, "clients-traffic", 10*time.Second, "with --clients: how long the active clients transfer at each count")
	f.DurationVar(&crowd.pingEvery, "clients-ping", 5*time.Second, "with --clients: how often an idle client pings")
	f.IntVar(&processes, "processes", 1, "server processes of one DC (more than 1 needs --s3, --postgres and --redis); the calls are spread round-robin over them")
	return cmd
}

type benchOptions struct {
	sizes                               []int64
	streams, compress, processes        int
	transport, serverLog, serverProfile string
	profileDir                          string   // bench --profile
	serverArgs                          []string // backend flags for serve
	cdn                                 bool     // download through a CDN DC too
	crowd                               crowdOptions
}

// benchResult is what one size measured, with the floors of the run.
type benchResult struct {
	bench.Result
	floors bench.Floors       // measured before the transfers
	viaCDN []bench.CDNFigures // with --cdn
}

// ratios are the two directions' rates as fractions of the ceiling.
func (r benchResult) ratios() (up, down float64) { return r.Ratios(r.floors) }

func runBench(ctx context.Context, stdout io.Writer, o benchOptions) (err error) {
	// The floors first, on an idle machine.
	floors := bench.MeasureFloors(time.Second)

	dir, token, err := benchScratch()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var cdnAddrs []string
	if o.cdn {
		if cdnAddrs, err = freeLoopbackAddrs(2); err != nil {
			return err
		}
		o.serverArgs = append(o.serverArgs, "--cdn-dc", fmt.Sprintf("%d=%s@%s", benchCDNDC, cdnAddrs[0], cdnAddrs[1]))
	}
	srvs, err := startBenchServers(ctx, dir, token, o)
	var cdnSrv *bench.Server
	if err == nil && o.cdn {
		cdnSrv, err = startBenchCDN(ctx, dir, token, cdnAddrs, o.sizes)
	}
	defer func() {
		if cdnSrv != nil {
			if serr := cdnSrv.Stop(); err == nil {
				err = serr
			}
		}
		for _, srv := range srvs {
			if serr := srv.Stop(); err == nil {
				err = serr
			}
		}
	}()
	if err != nil {
		return err
	}
	key, err := readPublicKey(srvs[0].KeyPath)
	if err != nil {
		return err
	}

	gzip := "client sends requests over 1024 bytes gzip_packed (gotd's default)"
	switch {
	case o.compress < 0:
		gzip = "client never gzips"
	case o.compress > 0:
		gzip = fmt.Sprintf("client sends requests over %d bytes gzip_packed", o.compress)
	}
	if len(srvs) == 1 {
		fmt.Fprintf(stdout, "filedc bench: %d CPUs, GOMAXPROCS %d, load average %s; server pid %d, data in %s\n",
			runtime.NumCPU(), runtime.GOMAXPROCS(0), procstat.LoadAverage(), srvs[0].Pid(), dir)
		fmt.Fprintf(stdout, "client: gotd, %s transport, one connection, %d upload / %d download streams; %s\n",
			o.transport, o.streams, o.streams, gzip)
	} else {
		var pids []string
		for _, srv := range srvs {
			pids = append(pids, strconv.Itoa(srv.Pid()))
		}
		fmt.Fprintf(stdout, "filedc bench: %d CPUs, GOMAXPROCS %d, load average %s; %d server processes of DC %d (pids %s), data in %s\n",
			runtime.NumCPU(), runtime.GOMAXPROCS(0), procstat.LoadAverage(), len(srvs), srvs[0].DC, strings.Join(pids, ", "), dir)
		fmt.Fprintf(stdout, "client: gotd, %s transport, one client and connection per process, %d upload / %d download streams; %s\n",
			o.transport, o.streams, o.streams, gzip)
		fmt.Fprintf(stdout, "spread: calls round-robin over the processes; each file's parts are saved through all %d (finalized through process 1) and its chunks downloaded through all %d\n",
			len(srvs), len(srvs))
	}
	fmt.Fprintf(stdout, "crypto ceiling: %.1f MiB/s (both ends at once: one goroutine encrypts 512 KiB buffers with AES-256-IGE while it hashes the next with SHA-256, another decrypts and hashes them in one pass; one end alone on one core: send %.1f, receive %.1f MiB/s)\n",
		floors.BothEnds, floors.Send, floors.Receive)

	var profiles *bench.Profiles
	if o.profileDir != "" {
		profiles = &bench.Profiles{Dir: o.profileDir, Servers: srvs}
	}
	lat := &bench.Latencies{}
	var results []benchResult
	err = asBots(ctx, srvs, key, token, o, lat, func(ctx context.Context, sp *bench.Spread, first *telegram.Client) error {
		t := bench.Transfer{Spread: sp, Servers: srvs, Latencies: lat, Streams: o.streams, Profiles: profiles, Progress: benchProgress}
		for _, size := range o.sizes {
			r := benchResult{floors: floors}
			var err error
			r.Result, err = t.Run(ctx, size, formatSize(size))
			if err == nil && cdnSrv != nil {
				r.viaCDN, err = t.ViaCDN(ctx, first, cdnSrv, r.Result, formatSize(size))
			}
			if err != nil {
				return fmt.Errorf("%s: %w", formatSize(size), err)
			}
			results = append(results, r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	printBench(stdout, results)
	printStages(stdout, o.profileDir, results)
	printTrips(stdout, results)
	return nil
}

// benchScratch makes the bench's temporary directory and the bot token its
// server starts with; the caller removes the directory.
func benchScratch() (dir, token string, err error) {
	if token, err = randomBotToken(); err != nil {
		return "", "", err
	}
	dir, err = os.MkdirTemp("", "filedc-bench-")
	return dir, token, err
}

// randomBotToken is the token the bench's servers start with and its
// clients log in with.
func randomBotToken() (string, error) {
	var b [16]byte
	if _, err := crand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d:bench-%s", 7_000_000+rand.IntN(1_000_000), hex.EncodeToString(b[:])), nil
}

// printBench prints the sizes' tables, the ratio lines and what the
// client's CPU leaves.
func printBench(w io.Writer, results []benchResult) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "size\tupload MiB/s\t/ceiling\tdownload MiB/s\t/ceiling\tsave p50\tsave p99\tgetFile p50\tgetFile p99\tfinalize\tserver peak RSS\t")
	for _, r := range results {
		rss := rssText(r.PeakRSS)
		up, down := r.ratios()
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t%.1f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", formatSize(r.Size),
			bench.MiBps(r.Size, r.Up), up, bench.MiBps(r.Size, r.Down), down,
			ms(bench.Percentile(r.Save, 0.50)), ms(bench.Percentile(r.Save, 0.99)),
			ms(bench.Percentile(r.Get, 0.50)), ms(bench.Percentile(r.Get, 0.99)),
			ms(r.Finalize), rss)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "size\tupload CPU client\tserver\tcores busy\tdownload CPU client\tserver\tcores busy\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", formatSize(r.Size),
			seconds(r.UpCPU[0]), seconds(r.UpCPU[1]), busy(r.UpCPU, r.Up),
			seconds(r.DownCPU[0]), seconds(r.DownCPU[1]), busy(r.DownCPU, r.Down))
	}
	tw.Flush()
	if len(results) > 0 && len(results[0].Procs) > 1 {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "size\tprocess\taddress\tsave calls\tgetFile calls\tupload CPU\tdownload CPU\tpeak RSS\t")
		for _, r := range results {
			for i, p := range r.Procs {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t\n", formatSize(r.Size), i+1, p.Addr,
					p.Saves, p.Gets, seconds(p.UpCPU), seconds(p.DownCPU), rssText(p.PeakRSS))
			}
		}
		tw.Flush()
	}
	printCDN(w, results)
	fmt.Fprintln(w)
	for _, r := range results {
		up, down := r.ratios()
		fmt.Fprintf(w, "%s: upload %.2f of the ceiling, download %.2f of the ceiling (target >= 0.75)\n",
			formatSize(r.Size), up, down)
		printBound(w, "upload", r.Size, r.Up, r.UpCPU, r.floors.Receive, r.floors.BothEnds)
		printBound(w, "download", r.Size, r.Down, r.DownCPU, r.floors.Send, r.floors.BothEnds)
	}
	fmt.Fprintln(w, `
upload: all parts saved (finalize not included); download: all bytes received, no hash checks.
Latencies are per call as the client sees them; peak RSS is the server's VmHWM`+peakRSSNote(results)+`.
CPU is user+sys time of each process during the phase; cores busy = (client+server CPU) / wall time.`)
	if len(results) > 0 && len(results[0].Procs) > 1 {
		fmt.Fprintf(w, "With %d server processes, the server CPU and peak RSS of the first tables are summed over them.\n", len(results[0].Procs))
	}
}

// printBound prints what the client's own CPU leaves for the server: the
// client and the server share the machine's cores.
func printBound(w io.Writer, dir string, size int64, took time.Duration, cpu [2]time.Duration, serverRate, ceil float64) {
	cores := runtime.NumCPU()
	bound, clientMs := bench.ClientBound(size, cpu[0], serverRate, cores)
	if bound == 0 {
		return
	}
	bound = min(bound, ceil)
	line := fmt.Sprintf("  %s: the client used %.2f ms of CPU per MiB; with a server doing only its crypto (%.2f ms/MiB), %d cores allow at most %.1f MiB/s (%.2f of the ceiling); reached %.2f of that",
		dir, clientMs, 1000/serverRate, cores, bound, bound/ceil, bench.MiBps(size, took)/bound)
	if cpu[1] > 0 {
		line += fmt.Sprintf("; the server used %.2f ms per MiB", bench.MsPerMiB(cpu[1], size))
	}
	fmt.Fprintln(w, line)
}

// peakRSSNote says since when the peak RSS of the table counts.
func peakRSSNote(results []benchResult) string {
	for _, r := range results {
		if !r.PeakRSSSinceReset {
			return " since it started"
		}
	}
	return " during each size"
}

// ms prints a latency; "-" for none.
func ms(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

// seconds prints a CPU time; "n/a" where it is unknown.
func seconds(d time.Duration) string {
	if d < 0 {
		return "n/a"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}

// busy is how many cores the two processes kept busy on average.
func busy(cpu [2]time.Duration, wall time.Duration) string {
	if cpu[0] < 0 || cpu[1] < 0 || wall <= 0 {
		return "n/a"
	}
	return strconv.FormatFloat((cpu[0]+cpu[1]).Seconds()/wall.Seconds(), 'f', 2, 64)
}

// benchProgress shows a transfer of the bench on stderr, when it is a
// terminal.
func benchProgress(label string, total int64) bench.Progress {
	return shownProgress{startProgress(label, total)}
}

// shownProgress is a progress bar as internal/bench takes one; a nil bar
// shows nothing.
type shownProgress struct{ *progressBar }

func (p shownProgress) Add(n int64)    { p.add(n) }
func (p shownProgress) Finish(ok bool) { p.finish(ok) }
