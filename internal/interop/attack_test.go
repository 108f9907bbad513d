package interop

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"net"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/proto"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/transport"

	"github.com/filedc/filedc/internal/procstat"
)

// Attacks on a real `filedc serve` over loopback (S7a–S7c). Each is bounded
// in count and time, asserts a bound on what the server holds, and checks
// that a real client still round-trips a file meanwhile.

// raiseFileLimit lets this process (and the server it starts) hold the
// attack's sockets.
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip("no RLIMIT_NOFILE here")
	}
	if lim.Cur < n {
		lim.Cur = min(n, lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < n {
			t.Fatalf("need %d open files, the hard limit is %d", n, lim.Max)
		}
	}
}

// dirUsage is the disk the files under dir hold.
func dirUsage(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			var st syscall.Stat_t
			if syscall.Stat(path, &st) == nil {
				total += st.Blocks * 512
			}
		}
		return nil
	})
	return total
}

// TestS7a_AttackHugeFramesAndIdleConnections: 2,000 connections declare
// 1 MiB frames and send 1,000 bytes of them, and 2,000 more send only the
// transport tag. The frame budget holds what the first ones cost, the idle
// ones are closed at the first-frame deadline, the server's memory stays
// bounded, and a client round-trips a file meanwhile.
func TestS7a_AttackHugeFramesAndIdleConnections(t *testing.T) {
	raiseFileLimit(t, 12000)
	const budget = 64 << 20
	srv := startServer(t, "--max-conns-per-ip", "10000", "--frame-budget", "67108864")
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		if err := roundtrip(ctx, t, api, randomBytes(91, 2<<20), 2, true); err != nil {
			return err
		}
		base := procstat.RSS(srv.pid)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		dial := func(payload []byte) net.Conn {
			c, err := net.Dial("tcp", srv.addr.String())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(payload); err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			return c
		}
		huge := binary.LittleEndian.AppendUint32([]byte{0xee, 0xee, 0xee, 0xee}, 1<<20)
		huge = append(huge, make([]byte, 1000)...)
		for range 2000 {
			dial(huge)
		}
		var idle []net.Conn
		for range 2000 {
			idle = append(idle, dial([]byte{0xef}))
		}
		peak := procstat.RSS(srv.pid)
		if err := roundtrip(ctx, t, api, randomBytes(92, 2<<20), 2, true); err != nil {
			t.Fatalf("a client during the attack: %v", err)
		}
		peak = max(peak, procstat.RSS(srv.pid))
		// The frames' budget, and 32 KiB for each of 4,000 connections:
		// their goroutines and buffers (about 10 KiB measured) with room.
		bound := base + budget + 4000*32<<10
		t.Logf("RSS: %d MiB before, %d MiB under 2,000 huge frames and 2,000 idle connections (bound %d MiB)",
			base>>20, peak>>20, bound>>20)
		if peak > bound {
			t.Errorf("RSS %d MiB under the attack, over the bound of %d MiB", peak>>20, bound>>20)
		}
		// The idle connections are closed at the first-frame deadline (10 s).
		deadline := time.Now().Add(30 * time.Second)
		for i, c := range idle {
			c.SetReadDeadline(deadline)
			if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, syscall.ETIMEDOUT) || isTimeout(err) {
				t.Fatalf("idle connection %d still open after 30 s: %v", i, err)
			}
		}
		return nil
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestS7b_AttackOnePartSaved2000Times: one 512 KiB part saved 2,000 times
// (1,000 MiB) leaves the data directory within a few MiB of one part, and
// the upload still finalizes to the last save.
func TestS7b_AttackOnePartSaved2000Times(t *testing.T) {
	srv := startServer(t)
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		before := dirUsage(t, srv.data)
		var last []byte
		for i := range 2000 {
			last = randomBytes(uint64(1000+i%7), 512<<10)
			ok, err := api.UploadSaveFilePart(ctx, &tg.UploadSaveFilePartRequest{FileID: 42, FilePart: 0, Bytes: last})
			if err != nil || !ok {
				t.Fatalf("save %d: %v", i, err)
			}
		}
		grown := dirUsage(t, srv.data) - before
		t.Logf("data directory grew by %d KiB after 2,000 saves of one 512 KiB part", grown>>10)
		// One part, plus the 4 KiB header block each replaced record keeps.
		if bound := int64(512<<10 + 2000*4<<10 + 4<<20); grown > bound {
			t.Errorf("data directory grew by %d MiB, bound %d MiB", grown>>20, bound>>20)
		}
		doc, err := uploadDoc(ctx, api, &tg.InputFile{ID: 42, Parts: 1, Name: "p.bin"})
		if err != nil {
			return err
		}
		if doc.Size != 512<<10 {
			t.Fatalf("document of %d bytes", doc.Size)
		}
		return roundtrip(ctx, t, api, randomBytes(93, 1<<20), 1, true)
	})
}

// TestS7c_AttackBotTokenGuessing: a loop of wrong bot tokens on one key is
// answered FLOOD_WAIT_X after the burst, and a bot logged in before keeps
// working.
func TestS7c_AttackBotTokenGuessing(t *testing.T) {
	srv := startServer(t)
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		client := srv.client(transport.Intermediate)
		invalid, flood := 0, 0
		err := client.Run(ctx, func(ctx context.Context) error {
			for i := range 200 {
				_, err := client.API().AuthImportBotAuthorization(ctx, &tg.AuthImportBotAuthorizationRequest{
					APIID: 1, APIHash: "x", BotAuthToken: "7000001:guess" + string(rune('a'+i%26))})
				switch {
				case tgerr.Is(err, "ACCESS_TOKEN_INVALID"):
					invalid++
				case tgerr.IsCode(err, 420):
					flood++
				default:
					t.Fatalf("guess %d: %v", i, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		t.Logf("200 guesses: %d ACCESS_TOKEN_INVALID, %d FLOOD_WAIT", invalid, flood)
		if invalid > 20 || flood < 180 {
			t.Errorf("%d guesses were checked, %d waited; want the burst of 10 (and what refilled) checked", invalid, flood)
		}
		return roundtrip(ctx, t, api, randomBytes(94, 1<<20), 1, true)
	})
}

// TestS7c_AttackHandshakeFlood: 200 key exchanges from one address, 20 at
// a time: past the burst (60) they get transport error -429, and a client
// with a key keeps working.
func TestS7c_AttackHandshakeFlood(t *testing.T) {
	srv := startServer(t)
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		var mu sync.Mutex
		refused, answered := 0, 0
		var wg sync.WaitGroup
		sem := make(chan struct{}, 20)
		for range 200 {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				code := reqPQ(t, srv.addr.String())
				mu.Lock()
				defer mu.Unlock()
				if code == -429 {
					refused++
				} else if code == 0 {
					answered++
				}
			}()
		}
		wg.Wait()
		t.Logf("200 key exchanges: %d answered, %d refused with -429", answered, refused)
		if answered > 80 || refused < 120 {
			t.Errorf("%d answered, %d refused; want the burst of 60 (and what refilled) answered", answered, refused)
		}
		return roundtrip(ctx, t, api, randomBytes(95, 1<<20), 1, true)
	})
}

// reqPQ starts a key exchange: 0 when the server answers with resPQ, the
// transport error code when it refuses, 1 on anything else.
func reqPQ(t *testing.T, addr string) int32 {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 1
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	var body bin.Buffer
	(&mt.ReqPqMultiRequest{}).Encode(&body)
	var msg bin.Buffer
	(&proto.UnencryptedMessage{MessageID: time.Now().Unix() << 32, MessageData: body.Buf}).Encode(&msg)
	frame := binary.LittleEndian.AppendUint32([]byte{0xee, 0xee, 0xee, 0xee}, uint32(msg.Len()))
	if _, err := c.Write(append(frame, msg.Buf...)); err != nil {
		return 1
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return 1
	}
	answer := make([]byte, binary.LittleEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(c, answer); err != nil {
		return 1
	}
	if len(answer) == 4 {
		return int32(binary.LittleEndian.Uint32(answer))
	}
	return 0
}
