package main

import (
	"bytes"
	"context"
	"crypto/aes"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/gotd/ige"
	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"
	"github.com/spf13/cobra"

	"github.com/filedc/filedc/internal/admin"
	"github.com/filedc/filedc/internal/backend"
	"github.com/filedc/filedc/internal/bench"
	"github.com/filedc/filedc/internal/procstat"
	"github.com/filedc/filedc/internal/ready"
)

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
One goroutine encrypts 512 KiB buffers with AES-256-IGE and hashes them with
SHA-256 (msg_key), as a sender does; another decrypts and hashes them, as a
receiver does. Each direction's rate is printed as a ratio of it.

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

// benchResult is what one size measured.
type benchResult struct {
	size            int64
	up, down        time.Duration // all parts saved; all bytes downloaded
	finalize        time.Duration // messages.uploadMedia
	saveLat, getLat []time.Duration
	// CPU time (user+sys) of the client and the servers (summed) while
	// saving the parts and while downloading; -1 where /proc has none.
	upCPU, downCPU    [2]time.Duration
	peakRSS           int64 // bytes, summed over the servers; -1 when unknown
	procs             []procFigures
	peakRSSSinceReset bool
	ceil              ceiling // measured before the transfers
	viaCDN            []cdnFigures
	// The server's CPU by stage (bench --profile), nil without.
	upStages, downStages *bench.Split
	// Round trips to the stores per part saved, finalization, getFile and
	// sendMedia, in that order; nil on the embedded stores.
	trips []tripsPer
}

// ratios are the two directions' rates as fractions of the ceiling.
func (r benchResult) ratios() (up, down float64) {
	return mibps(r.size, r.up) / r.ceil.bothEnds, mibps(r.size, r.down) / r.ceil.bothEnds
}

// minBoundCPU is the least client CPU time a bound is computed from; less
// says more about timer resolution and start-up than about the client.
const minBoundCPU = 50 * time.Millisecond

// clientBound is the most a direction could reach with this client: the
// client's measured CPU per MiB plus a server that does nothing but its
// crypto (serverRate, one core), spread perfectly over every core. It is 0
// when the client's CPU time is unknown or too short to tell.
func clientBound(size int64, clientCPU time.Duration, serverRate float64, cores int) (bound, clientMsPerMiB float64) {
	if clientCPU < minBoundCPU || size <= 0 || serverRate <= 0 {
		return 0, 0
	}
	clientMsPerMiB = msPerMiB(clientCPU, size)
	return float64(cores) * 1000 / (clientMsPerMiB + 1000/serverRate), clientMsPerMiB
}

// msPerMiB is a CPU time spent on size bytes, in ms per MiB.
func msPerMiB(d time.Duration, size int64) float64 {
	return float64(d) / float64(time.Millisecond) / (float64(size) / mib)
}

func runBench(ctx context.Context, stdout io.Writer, o benchOptions) (err error) {
	// The ceiling first, on an idle machine.
	ceil := measureCeiling(time.Second)

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
	var cdnSrv *benchServer
	if err == nil && o.cdn {
		cdnSrv, err = startBenchCDN(ctx, dir, token, cdnAddrs, o.sizes)
	}
	defer func() {
		if cdnSrv != nil {
			if serr := cdnSrv.stop(); err == nil {
				err = serr
			}
		}
		for _, srv := range srvs {
			if serr := srv.stop(); err == nil {
				err = serr
			}
		}
	}()
	if err != nil {
		return err
	}
	key, err := readPublicKey(srvs[0].keyPath)
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
			runtime.NumCPU(), runtime.GOMAXPROCS(0), procstat.LoadAverage(), srvs[0].cmd.Process.Pid, dir)
		fmt.Fprintf(stdout, "client: gotd, %s transport, one connection, %d upload / %d download streams; %s\n",
			o.transport, o.streams, o.streams, gzip)
	} else {
		var pids []string
		for _, srv := range srvs {
			pids = append(pids, strconv.Itoa(srv.cmd.Process.Pid))
		}
		fmt.Fprintf(stdout, "filedc bench: %d CPUs, GOMAXPROCS %d, load average %s; %d server processes of DC %d (pids %s), data in %s\n",
			runtime.NumCPU(), runtime.GOMAXPROCS(0), procstat.LoadAverage(), len(srvs), srvs[0].dc, strings.Join(pids, ", "), dir)
		fmt.Fprintf(stdout, "client: gotd, %s transport, one client and connection per process, %d upload / %d download streams; %s\n",
			o.transport, o.streams, o.streams, gzip)
		fmt.Fprintf(stdout, "spread: calls round-robin over the processes; each file's parts are saved through all %d (finalized through process 1) and its chunks downloaded through all %d\n",
			len(srvs), len(srvs))
	}
	fmt.Fprintf(stdout, "crypto ceiling: %.1f MiB/s (both ends at once: one goroutine encrypts 512 KiB buffers with AES-256-IGE + SHA-256, another decrypts and hashes them; one end alone on one core: send %.1f, receive %.1f MiB/s)\n",
		ceil.bothEnds, ceil.send, ceil.receive)

	var profiles *stageProfiles
	if o.profileDir != "" {
		profiles = &stageProfiles{dir: o.profileDir, srvs: srvs}
	}
	lat := &latencyRecorder{}
	var results []benchResult
	err = asBots(ctx, srvs, key, token, o, lat, func(ctx context.Context, sp *spreadInvoker) error {
		api := tg.NewClient(sp)
		for _, size := range o.sizes {
			r, err := benchSize(ctx, api, sp, srvs, lat, size, o.streams, cdnSrv, profiles)
			if err != nil {
				return fmt.Errorf("%s: %w", formatSize(size), err)
			}
			r.ceil = ceil
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

// benchSize uploads and downloads size random bytes.
func benchSize(ctx context.Context, api *tg.Client, sp *spreadInvoker, srvs []*benchServer, lat *latencyRecorder, size int64, streams int, cdnSrv *benchServer, profiles *stageProfiles) (benchResult, error) {
	r := benchResult{size: size}
	data := make([]byte, size)
	var seed [32]byte
	crand.Read(seed[:])
	rand.NewChaCha8(seed).Read(data)
	sum := sha256.Sum256(data)
	name := "bench-" + formatSize(size) + ".bin"

	lat.reset()
	r.peakRSSSinceReset = true
	for _, srv := range srvs {
		r.peakRSSSinceReset = srv.resetPeakRSS() && r.peakRSSSinceReset
	}
	calls0 := sp.counts()
	counting := len(srvs[0].storeArgs) > 0
	var trips0 tripCounts
	if counting {
		var err error
		if trips0, err = scrapeTrips(ctx, srvs); err != nil {
			return r, err
		}
	}
	// tripsSince adds what the stores did since the last call, per one of
	// n operations, to the result.
	tripsSince := func(what string, n int) error {
		if !counting {
			return nil
		}
		now, err := scrapeTrips(ctx, srvs)
		if err != nil {
			return err
		}
		r.trips = append(r.trips, now.since(trips0, what, n))
		trips0 = now
		return nil
	}

	bar := startProgress("upload "+formatSize(size), size)
	up := uploader.NewUploader(api).WithThreads(streams).WithProgress(bar)
	if err := profiles.start(ctx); err != nil {
		return r, err
	}
	cpu0 := cpuTimes(srvs)
	start := time.Now()
	file, err := up.Upload(ctx, uploader.NewUpload(name, bytes.NewReader(data), size))
	r.up = time.Since(start)
	upCPU := cpuSince(cpu0, cpuTimes(srvs))
	bar.finish(err == nil)
	if err != nil {
		return r, fmt.Errorf("upload: %w", err)
	}
	if r.upStages, err = profiles.stop(ctx, formatSize(size)+"-upload"); err != nil {
		return r, err
	}
	saves, _ := lat.counts()
	if err := tripsSince("part saved", saves); err != nil {
		return r, err
	}
	start = time.Now()
	doc, err := finalizeDocument(ctx, api, file, name)
	r.finalize = time.Since(start)
	if err != nil {
		return r, err
	}
	if err := tripsSince("finalization (messages.uploadMedia)", 1); err != nil {
		return r, err
	}
	if doc.Size != size {
		return r, fmt.Errorf("stored %d bytes, uploaded %d", doc.Size, size)
	}

	out := make([]byte, size)
	bar = startProgress("download "+formatSize(size), size)
	ref := docRef{ID: doc.ID, AccessHash: doc.AccessHash, Size: doc.Size, FileReference: doc.FileReference}
	if err := profiles.start(ctx); err != nil {
		return r, err
	}
	cpu0 = cpuTimes(srvs)
	start = time.Now()
	_, err = downloadBuilder(api, ref, streams, false).Parallel(ctx, countingWriterAt{w: sliceWriterAt(out), p: bar})
	r.down = time.Since(start)
	downCPU := cpuSince(cpu0, cpuTimes(srvs))
	bar.finish(err == nil)
	if err != nil {
		return r, fmt.Errorf("download: %w", err)
	}
	if r.downStages, err = profiles.stop(ctx, formatSize(size)+"-download"); err != nil {
		return r, err
	}
	if _, gets := lat.counts(); counting {
		if err := tripsSince("getFile", gets); err != nil {
			return r, err
		}
		_, err := api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{}, RandomID: rand.Int64(),
			Media: &tg.InputMediaDocument{ID: &tg.InputDocument{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}}})
		if err != nil {
			return r, fmt.Errorf("messages.sendMedia: %w", err)
		}
		if err := tripsSince("sendMedia", 1); err != nil {
			return r, err
		}
	}
	if err := profiles.allocs(ctx, formatSize(size)); err != nil {
		return r, err
	}
	if sha256.Sum256(out) != sum {
		return r, errors.New("the downloaded bytes differ from the uploaded ones (SHA-256)")
	}
	r.saveLat, r.getLat = lat.take()
	r.upCPU, r.downCPU = [2]time.Duration{upCPU[0], sumKnown(upCPU[1:])}, [2]time.Duration{downCPU[0], sumKnown(downCPU[1:])}
	calls := sp.counts()
	var rss []int64
	for i, srv := range srvs {
		p := procFigures{addr: srv.addr, upCPU: upCPU[1+i], downCPU: downCPU[1+i], peakRSS: srv.peakRSS(),
			saves: calls[i].saves - calls0[i].saves, gets: calls[i].gets - calls0[i].gets}
		r.procs = append(r.procs, p)
		rss = append(rss, p.peakRSS>>10)
	}
	r.peakRSS = sumKnown(rss) << 10
	if cdnSrv != nil {
		client := sp.clients[0].(*telegram.Client)
		if r.viaCDN, err = downloadViaCDN(ctx, client, srvs[0], cdnSrv, ref, streams, sum); err != nil {
			return r, err
		}
	}
	return r, nil
}

func printBench(w io.Writer, results []benchResult) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "size\tupload MiB/s\t/ceiling\tdownload MiB/s\t/ceiling\tsave p50\tsave p99\tgetFile p50\tgetFile p99\tfinalize\tserver peak RSS\t")
	for _, r := range results {
		rss := rssText(r.peakRSS)
		up, down := r.ratios()
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t%.1f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", formatSize(r.size),
			mibps(r.size, r.up), up, mibps(r.size, r.down), down,
			ms(percentile(r.saveLat, 0.50)), ms(percentile(r.saveLat, 0.99)),
			ms(percentile(r.getLat, 0.50)), ms(percentile(r.getLat, 0.99)),
			ms(r.finalize), rss)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "size\tupload CPU client\tserver\tcores busy\tdownload CPU client\tserver\tcores busy\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", formatSize(r.size),
			seconds(r.upCPU[0]), seconds(r.upCPU[1]), busy(r.upCPU, r.up),
			seconds(r.downCPU[0]), seconds(r.downCPU[1]), busy(r.downCPU, r.down))
	}
	tw.Flush()
	if len(results) > 0 && len(results[0].procs) > 1 {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "size\tprocess\taddress\tsave calls\tgetFile calls\tupload CPU\tdownload CPU\tpeak RSS\t")
		for _, r := range results {
			for i, p := range r.procs {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t\n", formatSize(r.size), i+1, p.addr,
					p.saves, p.gets, seconds(p.upCPU), seconds(p.downCPU), rssText(p.peakRSS))
			}
		}
		tw.Flush()
	}
	printCDN(w, results)
	fmt.Fprintln(w)
	for _, r := range results {
		up, down := r.ratios()
		fmt.Fprintf(w, "%s: upload %.2f of the ceiling, download %.2f of the ceiling (target >= 0.75)\n",
			formatSize(r.size), up, down)
		printBound(w, "upload", r.size, r.up, r.upCPU, r.ceil.receive, r.ceil.bothEnds)
		printBound(w, "download", r.size, r.down, r.downCPU, r.ceil.send, r.ceil.bothEnds)
	}
	fmt.Fprintln(w, `
upload: all parts saved (finalize not included); download: all bytes received, no hash checks.
Latencies are per call as the client sees them; peak RSS is the server's VmHWM`+peakRSSNote(results)+`.
CPU is user+sys time of each process during the phase; cores busy = (client+server CPU) / wall time.`)
	if len(results) > 0 && len(results[0].procs) > 1 {
		fmt.Fprintf(w, "With %d server processes, the server CPU and peak RSS of the first tables are summed over them.\n", len(results[0].procs))
	}
}

// printBound prints what the client's own CPU leaves for the server: the
// client and the server share the machine's cores.
func printBound(w io.Writer, dir string, size int64, took time.Duration, cpu [2]time.Duration, serverRate, ceil float64) {
	cores := runtime.NumCPU()
	bound, clientMs := clientBound(size, cpu[0], serverRate, cores)
	if bound == 0 {
		return
	}
	bound = min(bound, ceil)
	line := fmt.Sprintf("  %s: the client used %.2f ms of CPU per MiB; with a server doing only its crypto (%.2f ms/MiB), %d cores allow at most %.1f MiB/s (%.2f of the ceiling); reached %.2f of that",
		dir, clientMs, 1000/serverRate, cores, bound, bound/ceil, mibps(size, took)/bound)
	if cpu[1] > 0 {
		line += fmt.Sprintf("; the server used %.2f ms per MiB", msPerMiB(cpu[1], size))
	}
	fmt.Fprintln(w, line)
}

func peakRSSNote(results []benchResult) string {
	for _, r := range results {
		if !r.peakRSSSinceReset {
			return " since it started"
		}
	}
	return " during each size"
}

func mibps(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / mib / d.Seconds()
}

func ms(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

// percentile returns the p-quantile (nearest rank) of ds, or -1 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return -1
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// sliceWriterAt writes a parallel download into memory. Parallel writes go to
// distinct ranges, so no lock is needed.
type sliceWriterAt []byte

func (s sliceWriterAt) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(s)) {
		return 0, fmt.Errorf("write of %d bytes at %d past the file's %d", len(p), off, len(s))
	}
	return copy(s[off:], p), nil
}

// latencyRecorder is a gotd middleware timing the part and chunk calls.
type latencyRecorder struct {
	mu        sync.Mutex
	save, get []time.Duration
}

// Handle implements telegram.Middleware.
func (l *latencyRecorder) Handle(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		var into *[]time.Duration
		switch input.(type) {
		case *tg.UploadSaveFilePartRequest, *tg.UploadSaveBigFilePartRequest:
			into = &l.save
		case *tg.UploadGetFileRequest:
			into = &l.get
		default:
			return next.Invoke(ctx, input, output)
		}
		start := time.Now()
		err := next.Invoke(ctx, input, output)
		d := time.Since(start)
		if err == nil {
			l.mu.Lock()
			*into = append(*into, d)
			l.mu.Unlock()
		}
		return err
	}
}

// counts returns how many save and getFile calls were answered so far.
func (l *latencyRecorder) counts() (saves, gets int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.save), len(l.get)
}

func (l *latencyRecorder) reset() {
	l.mu.Lock()
	l.save, l.get = nil, nil
	l.mu.Unlock()
}

func (l *latencyRecorder) take() (save, get []time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	save, get = l.save, l.get
	l.save, l.get = nil, nil
	return save, get
}

// ceiling is the machine's MTProto crypto rate, in MiB/s.
type ceiling struct {
	// bothEnds: one goroutine sends (AES-256-IGE encrypt + SHA-256 msg_key),
	// another receives the same buffers (decrypt + SHA-256), at once. Every
	// transferred byte costs exactly this on the machine, whatever else the
	// client and the server do.
	bothEnds float64
	// send and receive: one end alone on one core.
	send, receive float64
	// sha256: one SHA-256 pass over content, one core.
	sha256 float64
}

// measureCeiling measures the per-byte crypto of an MTProto transfer over
// 512 KiB buffers (the largest part and chunk). Each figure is the best of
// three rounds.
func measureCeiling(total time.Duration) ceiling {
	const size = 512 << 10
	var key, iv, authKey [32]byte
	for i := range iv {
		key[i], iv[i], authKey[i] = byte(7*i), byte(i), byte(3*i)
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	msgKey := func(b []byte) byte {
		h := sha256.New()
		h.Write(authKey[:]) // substr(auth_key, 88+x, 32)
		h.Write(b)
		return h.Sum(nil)[8]
	}
	plain := make([]byte, size)
	rand.NewChaCha8(key).Read(plain)
	var sink byte
	send := func(dst []byte) { ige.EncryptBlocks(block, iv[:], dst, plain); sink ^= msgKey(plain) }
	receive := func(dst, src []byte) byte { ige.DecryptBlocks(block, iv[:], dst, src); return msgKey(dst) }

	// f runs until the time given; it returns the bytes it moved.
	rate := func(round time.Duration, f func(until time.Time) int) float64 {
		best := 0.0
		for range 3 {
			start := time.Now()
			n := f(start.Add(round))
			best = max(best, float64(n)/mib/time.Since(start).Seconds())
		}
		return best
	}
	sealed := make([]byte, size)
	send(sealed)
	out := make([]byte, size)
	var c ceiling
	c.send = rate(total/8, func(until time.Time) int {
		n := 0
		for ; n == 0 || time.Now().Before(until); n += size {
			send(out)
		}
		return n
	})
	c.receive = rate(total/8, func(until time.Time) int {
		n := 0
		for ; n == 0 || time.Now().Before(until); n += size {
			sink ^= receive(out, sealed)
		}
		return n
	})
	c.sha256 = rate(total/8, func(until time.Time) int {
		n := 0
		for ; n == 0 || time.Now().Before(until); n += size {
			s := sha256.Sum256(plain)
			sink ^= s[0]
		}
		return n
	})
	// Both ends: a sender and a receiver with inFlight buffers between them.
	const inFlight = 8
	c.bothEnds = rate(total/4, func(until time.Time) int {
		full, free := make(chan []byte, inFlight), make(chan []byte, inFlight)
		for range inFlight {
			free <- make([]byte, size)
		}
		done := make(chan int)
		go func() {
			dst, n, s := make([]byte, size), 0, byte(0)
			for b := range full {
				s ^= receive(dst, b)
				n += size
				free <- b
			}
			sink ^= s
			done <- n
		}()
		for first := true; first || time.Now().Before(until); first = false {
			b := <-free
			send(b)
			full <- b
		}
		close(full)
		return <-done
	})
	runtime.KeepAlive(sink)
	return c
}

// parseSizes parses "5MiB,200MiB".
func parseSizes(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := parseSize(f)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--sizes %q: no sizes", s)
	}
	return out, nil
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3},
	{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1},
}

func parseSize(s string) (int64, error) {
	num, mult := s, int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || v*float64(mult) > 1<<40 {
		return 0, fmt.Errorf("size %q: want a positive number of B, KiB, MiB or GiB", s)
	}
	return int64(v * float64(mult)), nil
}

func formatSize(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func randomBotToken() (string, error) {
	var b [16]byte
	if _, err := crand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d:bench-%s", 7_000_000+rand.IntN(1_000_000), hex.EncodeToString(b[:])), nil
}

// benchServer is a "filedc serve" process the bench started.
type benchServer struct {
	cmd     *exec.Cmd
	log     *os.File
	addr    string
	dc      int
	keyPath string
	admin   *admin.Client // its admin API, for profiles; Addr is its --http address
	// storeArgs are its --s3, --postgres and --redis flags: with any, the
	// bench counts the round trips to them.
	storeArgs []string
	exited    chan struct{} // closed once the process was reaped
	waitErr   error
}

// startBenchServer runs this binary's "serve" on loopback and waits for its
// start line.
func startBenchServer(ctx context.Context, data, listen, token, logPath, profile string, extra ...string) (*benchServer, error) {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	readyPath := filepath.Join(data, "ready.json")
	cmd := exec.Command(self, "serve", "--data", data, "--listen", listen,
		"--http", "127.0.0.1:0", "--dc", strconv.Itoa(defaultDC), "--bot-token", token, "--ready-file", readyPath)
	cmd.Args = append(cmd.Args, extra...)
	if profile != "" {
		// serve writes the profile when it shuts down (on SIGINT from stop).
		cmd.Args = append(cmd.Args, "--cpuprofile", profile)
	}
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s serve: %w", self, err)
	}
	s := &benchServer{cmd: cmd, log: logFile, exited: make(chan struct{})}
	read := make(chan struct{})
	go func() {
		defer close(read)
		io.Copy(io.Discard, stdout) // never let the server block on stdout
	}()
	go func() {
		<-read // Wait closes stdout: reads come first
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	fail := func(err error) (*benchServer, error) {
		s.stop()
		tail, _ := os.ReadFile(logPath)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return nil, fmt.Errorf("filedc serve: %w\n%s", err, tail)
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	info, err := ready.Wait(waitCtx, readyPath, s.exited)
	if err != nil {
		return fail(err)
	}
	s.addr, s.keyPath, s.dc = info.Listen, info.PublicKey, info.DC
	s.admin = &admin.Client{Addr: info.HTTP, Token: admin.ReadToken(data)}
	for i, a := range extra {
		if (a == "--s3" || a == "--postgres" || a == "--redis") && i+1 < len(extra) {
			s.storeArgs = append(s.storeArgs, a, extra[i+1])
		}
	}
	return s, nil
}

// stop asks the server to stop (SIGINT: it finishes in-flight calls and
// writes its CPU profile, if it takes one) and kills it when it has not
// stopped after 15 s.
func (s *benchServer) stop() error {
	defer s.log.Close()
	select {
	case <-s.exited:
		return s.exitError()
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
		return s.exitError()
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		return errors.New("filedc serve did not stop within 15 s of SIGINT; killed")
	}
}

func (s *benchServer) exitError() error {
	if s.waitErr != nil {
		return fmt.Errorf("filedc serve: %w", s.waitErr)
	}
	return nil
}

// resetPeakRSS resets the server's VmHWM and reports whether it could.
func (s *benchServer) resetPeakRSS() bool { return procstat.ResetPeakRSS(s.cmd.Process.Pid) }

// peakRSS returns the server's VmHWM in bytes, or -1 where /proc has none.
func (s *benchServer) peakRSS() int64 { return procstat.PeakRSS(s.cmd.Process.Pid) }

// cpuTimes returns the CPU time (user+sys) used so far by this process and
// by each server, or -1 where /proc has none.
func cpuTimes(srvs []*benchServer) []time.Duration {
	t := []time.Duration{selfCPU()}
	for _, srv := range srvs {
		t = append(t, procstat.CPU(srv.cmd.Process.Pid))
	}
	return t
}

func cpuSince(before, after []time.Duration) []time.Duration {
	d := make([]time.Duration, len(before))
	for i := range d {
		d[i] = -1
		if before[i] >= 0 && after[i] >= 0 {
			d[i] = after[i] - before[i]
		}
	}
	return d
}

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
