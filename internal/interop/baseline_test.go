package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/crypto"
	"github.com/gotd/td/exchange"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgtest"
	"github.com/gotd/td/tgtest/services/config"
	"github.com/gotd/td/tgtest/services/file"
	"github.com/gotd/td/transport"

	"github.com/filedc/filedc/internal/bench"
	"github.com/filedc/filedc/internal/procstat"
	"github.com/filedc/filedc/internal/testenv"
	"github.com/filedc/filedc/internal/tgtestmem"
)

// tgtestServerEnv makes the test binary serve as the baseline: an in-memory
// DC built on gotd's tgtest, the reference the speed target is set against.
// Its value is where the server writes its public key.
const tgtestServerEnv = "FILEDC_TGTEST_BASELINE_KEY"

func TestMain(m *testing.M) {
	if path := os.Getenv(tgtestServerEnv); path != "" {
		if err := serveTgtest(path); err != nil {
			fmt.Fprintln(os.Stderr, "tgtest baseline:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// serveTgtest runs tgtest's server with its config and file services on a
// loopback port until interrupted. It prints "listening ADDR" when ready.
func serveTgtest(keyPath string) error {
	key, err := rsa.GenerateKey(rand.Reader, crypto.RSAKeyBits)
	if err != nil {
		return err
	}
	pub := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)})
	if err := os.WriteFile(keyPath, pub, 0o600); err != nil {
		return err
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().(*net.TCPAddr)
	cfg := tg.Config{ThisDC: 2, DCOptions: []tg.DCOption{{ID: 2, IPAddress: addr.IP.String(), Port: addr.Port, Static: true}}}
	d := tgtest.NewDispatcher()
	config.NewService(&cfg, &tg.CDNConfig{}).Register(d)
	file.NewService(file.Config{Storage: tgtestmem.New()}).Register(d)
	srv := tgtest.NewServer(exchange.PrivateKey{RSA: key}, tgtest.UnpackInvoke(d), tgtest.ServerOptions{DC: 2})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Printf("listening %s\n", addr)
	return srv.Serve(ctx, transport.ListenCodec(transport.Intermediate.Codec, l))
}

// startTgtest runs the baseline in a child process of the test binary.
func startTgtest(b testing.TB) *dc {
	b.Helper()
	keyPath := filepath.Join(b.TempDir(), "public.pem")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), tgtestServerEnv+"="+keyPath)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	testenv.StopAtCleanup(b, cmd)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("tgtest baseline start line: %v", err)
	}
	addr, err := net.ResolveTCPAddr("tcp", strings.TrimSpace(strings.TrimPrefix(line, "listening ")))
	if err != nil {
		b.Fatalf("tgtest baseline start line %q: %v", line, err)
	}
	return &dc{addr: addr, key: readPublicKey(b, keyPath), pid: cmd.Process.Pid}
}

// transferFigures are one upload and one download of the same bytes.
type transferFigures struct {
	up, down             time.Duration
	upCPU, downCPU       time.Duration // the client's, this process (getrusage)
	srvUpCPU, srvDownCPU time.Duration // the server process's (/proc, 10 ms ticks)
}

// transfer uploads data with threads parallel calls, then downloads it from
// locate(file) with threads parallel calls, and compares.
func transfer(ctx context.Context, api *tg.Client, srv *dc, data []byte, threads int, locate func(context.Context, tg.InputFileClass) (tg.InputFileLocationClass, error)) (transferFigures, error) {
	var f transferFigures
	cpu0, srv0, start := procstat.SelfCPU(), procstat.CPU(srv.pid), time.Now()
	file, err := uploader.NewUploader(api).WithThreads(threads).
		Upload(ctx, uploader.NewUpload("bench.bin", bytes.NewReader(data), int64(len(data))))
	f.up, f.upCPU, f.srvUpCPU = time.Since(start), procstat.SelfCPU()-cpu0, procstat.CPU(srv.pid)-srv0
	if err != nil {
		return f, fmt.Errorf("upload: %w", err)
	}
	loc, err := locate(ctx, file)
	if err != nil {
		return f, err
	}
	out := &writerAt{buf: make([]byte, 0, len(data))}
	cpu0, srv0, start = procstat.SelfCPU(), procstat.CPU(srv.pid), time.Now()
	_, err = downloader.NewDownloader().Download(api, loc).WithThreads(threads).Parallel(ctx, out)
	f.down, f.downCPU, f.srvDownCPU = time.Since(start), procstat.SelfCPU()-cpu0, procstat.CPU(srv.pid)-srv0
	if err != nil {
		return f, fmt.Errorf("download: %w", err)
	}
	if !bytes.Equal(out.buf, data) {
		return f, fmt.Errorf("downloaded %d bytes differ from the %d uploaded", len(out.buf), len(data))
	}
	return f, nil
}

// plainClient is a gotd client of d over intermediate that never gzips: file
// parts are random bytes (TDLib sends them plain too).
func plainClient(d *dc) *telegram.Client {
	o := d.options(transport.Intermediate)
	o.CompressThreshold = -1
	return telegram.NewClient(1, "bench", o)
}

// versus moves data through filedc and then through the baseline.
func versus(tb testing.TB, fdc, base *dc, data []byte, threads int) (f, g transferFigures) {
	tb.Helper()
	fdcClient := plainClient(fdc)
	err := fdcClient.Run(context.Background(), func(ctx context.Context) error {
		if _, err := fdcClient.Auth().Bot(ctx, botToken); err != nil {
			return fmt.Errorf("bot login: %w", err)
		}
		api := fdcClient.API()
		var err error
		f, err = transfer(ctx, api, fdc, data, threads, func(ctx context.Context, file tg.InputFileClass) (tg.InputFileLocationClass, error) {
			doc, err := uploadDoc(ctx, api, file)
			if err != nil {
				return nil, err
			}
			return doc.AsInputDocumentFileLocation(""), nil
		})
		return err
	})
	if err != nil {
		tb.Fatalf("filedc: %v", err)
	}
	// tgtest keeps a file under "USER_FILEID" and serves
	// inputFileLocation{local_id: USER, volume_id: FILEID}; without
	// accounts, USER is 10.
	baseClient := plainClient(base)
	err = baseClient.Run(context.Background(), func(ctx context.Context) error {
		var err error
		g, err = transfer(ctx, baseClient.API(), base, data, threads, func(_ context.Context, file tg.InputFileClass) (tg.InputFileLocationClass, error) {
			big, ok := file.(*tg.InputFileBig)
			if !ok {
				return nil, fmt.Errorf("uploaded %T, want a big file", file)
			}
			return &tg.InputFileLocation{VolumeID: big.ID, LocalID: 10}, nil
		})
		return err
	})
	if err != nil {
		tb.Fatalf("tgtest baseline: %v", err)
	}
	return f, g
}

// TestBaselineTgtestRoundtrip: the baseline of BenchmarkVersusTgtest stores
// and serves a big file exactly, and so does filedc under the same client.
func TestBaselineTgtestRoundtrip(t *testing.T) {
	data := randomBytes(6, 12<<20) // over 10 MiB: saveBigFilePart
	f, g := versus(t, startServer(t), startTgtest(t), data, 4)
	for _, d := range []time.Duration{f.up, f.down, g.up, g.down} {
		if d <= 0 {
			t.Errorf("a transfer took %v", d)
		}
	}
}

// BenchmarkVersusTgtest moves the same bytes with the same gotd client
// (4 upload and 4 download threads, intermediate, no gzip) through a filedc
// process writing to disk and through an in-memory server built on tgtest,
// also in its own process, one after the other in the same run. It reports
// both rates and filedc's ratio to the baseline, which the speed target asks
// to be at least 1.5 downloading and 1.2 uploading; and each server's CPU
// per MiB beside the crypto floors of internal/bench, measured first in the
// same run, with filedc's CPU as a ratio to tgtest's, which the target asks
// to be at most 2/3 both ways. The servers' CPU comes from /proc in 10 ms
// ticks: small sizes make it coarse. FILEDC_BENCH_SIZE sets the size
// (default 200MiB).
//
//	go test ./internal/interop -run '^$' -bench VersusTgtest -benchtime 3x
func BenchmarkVersusTgtest(b *testing.B) {
	size := 200 << 20
	if s := os.Getenv("FILEDC_BENCH_SIZE"); s != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "MiB"))
		if err != nil || n <= 0 {
			b.Fatalf("FILEDC_BENCH_SIZE=%q: want a number of MiB", s)
		}
		size = n << 20
	}
	data := randomBytes(5, size)
	const threads = 4
	// The floors first, before any server has work.
	floors := bench.MeasureFloors(time.Second)
	fdc, base := startServer(b), startTgtest(b)
	mibps := func(d time.Duration) float64 { return bench.MiBps(int64(size), d) }
	msPerMiB := func(d time.Duration) float64 { return bench.MsPerMiB(d, int64(size)) }
	// leastCPU keeps the least server CPU per MiB of the rounds.
	leastCPU := func(best *float64, d time.Duration) {
		if ms := msPerMiB(d); d > 0 && (*best == 0 || ms < *best) {
			*best = ms
		}
	}

	var fdcUp, fdcDown, baseUp, baseDown float64
	var fdcUpCPU, fdcDownCPU, baseUpCPU, baseDownCPU float64
	for b.Loop() {
		f, g := versus(b, fdc, base, data, threads)
		fdcUp, fdcDown = max(fdcUp, mibps(f.up)), max(fdcDown, mibps(f.down))
		baseUp, baseDown = max(baseUp, mibps(g.up)), max(baseDown, mibps(g.down))
		leastCPU(&fdcUpCPU, f.srvUpCPU)
		leastCPU(&fdcDownCPU, f.srvDownCPU)
		leastCPU(&baseUpCPU, g.srvUpCPU)
		leastCPU(&baseDownCPU, g.srvDownCPU)
		b.Logf("filedc: up %.1f, down %.1f MiB/s; tgtest in memory: up %.1f, down %.1f MiB/s; CPU ms per MiB, client/server: filedc up %.2f/%.2f, down %.2f/%.2f; tgtest up %.2f/%.2f, down %.2f/%.2f",
			mibps(f.up), mibps(f.down), mibps(g.up), mibps(g.down),
			msPerMiB(f.upCPU), msPerMiB(f.srvUpCPU), msPerMiB(f.downCPU), msPerMiB(f.srvDownCPU),
			msPerMiB(g.upCPU), msPerMiB(g.srvUpCPU), msPerMiB(g.downCPU), msPerMiB(g.srvDownCPU))
	}
	b.Logf("floors, ms per MiB of one core: upload %.2f (AES-256-IGE decrypt and SHA-256 msg_key in one pass, one SHA-256 pass over the content), download %.2f (encryption while the next message is hashed for msg_key)",
		floors.UploadFloor(), floors.DownloadFloor())
	// Best of the rounds: the machine is shared, the noise only slows.
	b.ReportMetric(fdcUp, "filedc-up-MiB/s")
	b.ReportMetric(fdcDown, "filedc-down-MiB/s")
	b.ReportMetric(baseUp, "tgtest-up-MiB/s")
	b.ReportMetric(baseDown, "tgtest-down-MiB/s")
	b.ReportMetric(fdcUp/baseUp, "up-x-tgtest")
	b.ReportMetric(fdcDown/baseDown, "down-x-tgtest")
	b.ReportMetric(floors.UploadFloor(), "floor-up-ms/MiB")
	b.ReportMetric(floors.DownloadFloor(), "floor-down-ms/MiB")
	b.ReportMetric(fdcUpCPU, "filedc-up-cpu-ms/MiB")
	b.ReportMetric(fdcDownCPU, "filedc-down-cpu-ms/MiB")
	b.ReportMetric(baseUpCPU, "tgtest-up-cpu-ms/MiB")
	b.ReportMetric(baseDownCPU, "tgtest-down-cpu-ms/MiB")
	// The goal: at most 2/3 both ways; 0 where a server's CPU was unknown.
	b.ReportMetric(ratio(fdcUpCPU, baseUpCPU), "up-cpu-x-tgtest")
	b.ReportMetric(ratio(fdcDownCPU, baseDownCPU), "down-cpu-x-tgtest")
}

// ratio is a/b, or 0 when b is not positive.
func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}
