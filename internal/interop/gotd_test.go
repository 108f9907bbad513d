package interop

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/transport"

	"github.com/filedc/filedc/internal/ready"
	"github.com/filedc/filedc/internal/testenv"
)

const botToken = "7000001:interop-secret"

// transports are gotd's four MTProto transports.
var transports = []struct {
	name  string
	proto dcs.Protocol
}{
	{"abridged", transport.Abridged},
	{"intermediate", transport.Intermediate},
	{"padded-intermediate", transport.PaddedIntermediate},
	{"full", transport.Full},
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// filedcBinary builds cmd/filedc once per test run.
func filedcBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "filedc-interop")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "filedc")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/filedc/filedc/cmd/filedc").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// dc is a running filedc process.
type dc struct {
	addr *net.TCPAddr
	http string // the --http address
	key  *rsa.PublicKey
	data string // the server's --data directory
	pid  int    // the server process
}

// startServer runs `filedc serve` with extra arguments.
func startServer(t testing.TB, extra ...string) *dc {
	t.Helper()
	data := t.TempDir()
	args := append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--dc", "2", "--bot-token", botToken}, extra...)
	args = append(args, backendFlags(t, data)...)
	p := launch(t, args...)
	return &dc{addr: p.addr, http: p.http, key: readPublicKey(t, filepath.Join(data, "public.pem")), data: data, pid: p.cmd.Process.Pid}
}

// process is a running filedc command.
type process struct {
	cmd  *exec.Cmd
	addr *net.TCPAddr // where it listens for MTProto
	http string       // its --http address
}

// launch runs `filedc ARGS...` until the test ends (interrupted, then
// killed after 30 s) and waits for the file --ready-file writes.
func launch(t testing.TB, args ...string) *process {
	t.Helper()
	readyPath := filepath.Join(t.TempDir(), "ready.json")
	cmd := exec.Command(filedcBinary(t), append(args, "--ready-file", readyPath)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	testenv.StopAtCleanup(t, cmd)
	// Its standard output ends when it does.
	exited := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdout)
		close(exited)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	info, err := ready.Wait(ctx, readyPath, exited)
	if err != nil {
		t.Fatalf("filedc %s: %v", args[0], err)
	}
	addr, err := net.ResolveTCPAddr("tcp", info.Listen)
	if err != nil {
		t.Fatal(err)
	}
	return &process{cmd: cmd, addr: addr, http: info.HTTP}
}

// readPublicKey reads a public.pem a server published.
func readPublicKey(t testing.TB, path string) *rsa.PublicKey {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	key, err := x509.ParsePKCS1PublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func (d *dc) client(proto dcs.Protocol) *telegram.Client {
	return telegram.NewClient(1, "interop", d.options(proto))
}

// options are a gotd client's for d alone, over proto, with a fresh session.
func (d *dc) options(proto dcs.Protocol) telegram.Options {
	return telegram.Options{
		PublicKeys:     []telegram.PublicKey{{RSA: d.key}},
		DC:             2,
		DCList:         dcs.List{Options: []tg.DCOption{{ID: 2, IPAddress: d.addr.IP.String(), Port: d.addr.Port, Static: true}}},
		Resolver:       dcs.Plain(dcs.PlainOptions{Protocol: proto}),
		SessionStorage: &session.StorageMemory{},
		NoUpdates:      true,
	}
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for k := 0; k < 8; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}

// writerAt collects a parallel download.
type writerAt struct {
	mu  sync.Mutex
	buf []byte
}

func (w *writerAt) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if end := int(off) + len(p); end > len(w.buf) {
		w.buf = append(w.buf, make([]byte, end-len(w.buf))...)
	}
	copy(w.buf[off:], p)
	return len(p), nil
}

// roundtrip uploads data with gotd's uploader, finalizes it with
// messages.uploadMedia, downloads it with gotd's downloader and compares.
func roundtrip(ctx context.Context, t *testing.T, api *tg.Client, data []byte, threads int, verify bool) error {
	t.Helper()
	up := uploader.NewUploader(api).WithThreads(threads)
	file, err := up.Upload(ctx, uploader.NewUpload("data.bin", bytes.NewReader(data), int64(len(data))))
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	media, err := api.MessagesUploadMedia(ctx, &tg.MessagesUploadMediaRequest{
		Peer:  &tg.InputPeerSelf{},
		Media: &tg.InputMediaUploadedDocument{File: file, MimeType: "application/octet-stream"},
	})
	if err != nil {
		return fmt.Errorf("uploadMedia: %w", err)
	}
	doc, ok := media.(*tg.MessageMediaDocument).Document.(*tg.Document)
	if !ok || doc.Size != int64(len(data)) || doc.DCID != 2 {
		return fmt.Errorf("uploadMedia answered %+v", media)
	}
	loc := &tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}
	out := &writerAt{}
	_, err = downloader.NewDownloader().Download(api, loc).WithThreads(threads).WithVerify(verify).Parallel(ctx, out)
	if err != nil {
		return fmt.Errorf("download (verify=%v): %w", verify, err)
	}
	if sha256.Sum256(out.buf) != sha256.Sum256(data) {
		return fmt.Errorf("downloaded %d bytes that differ from the %d uploaded", len(out.buf), len(data))
	}
	return nil
}

func TestInterop_GotdRoundtripOverEveryTransport(t *testing.T) {
	srv := startServer(t)
	data := randomBytes(5, 5<<20+12345)
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			client := srv.client(tc.proto)
			err := client.Run(ctx, func(ctx context.Context) error {
				// Before login the account calls are refused.
				if _, err := client.API().UpdatesGetState(ctx); !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") {
					t.Errorf("updates.getState before login: %v, want AUTH_KEY_UNREGISTERED", err)
				}
				if _, err := client.Auth().Bot(ctx, botToken); err != nil {
					return fmt.Errorf("bot login: %w", err)
				}
				self, err := client.Self(ctx)
				if err != nil || self.ID != 7000001 || !self.Bot {
					return fmt.Errorf("self: %+v, %v", self, err)
				}
				return roundtrips(ctx, t, client.API(), data, 1)
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestInterop_GotdBigFileFourThreads: a 50 MiB file (the big path) with 4
// upload and 4 download threads, with and without verification, over every
// transport.
func TestInterop_GotdBigFileFourThreads(t *testing.T) {
	srv := startServer(t)
	size := 50 << 20
	if s := os.Getenv("FILEDC_INTEROP_MIB"); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			size = n << 20
		}
	}
	data := randomBytes(50, size)
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) {
			withBotOver(t, srv, tc.proto, botToken, func(ctx context.Context, api *tg.Client) error {
				return roundtrips(ctx, t, api, data, 4)
			})
		})
	}
}

// roundtrips runs roundtrip without and with verification.
func roundtrips(ctx context.Context, t *testing.T, api *tg.Client, data []byte, threads int) error {
	t.Helper()
	for _, verify := range []bool{false, true} {
		if err := roundtrip(ctx, t, api, data, threads, verify); err != nil {
			return err
		}
	}
	return nil
}
