package server_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/transport"

	"github.com/filedc/filedc/internal/layer"
	"github.com/filedc/filedc/internal/mtproto/server"
)

// chunk is a 512 KiB upload.file, pooled as internal/rpc's getFile answers
// are.
type chunk struct{ tg.UploadFile }

func (*chunk) Release() {}

type rawCall []byte

func (r rawCall) Encode(b *bin.Buffer) error { b.Put(r); return nil }

type countAnswer struct{ n int }

func (c *countAnswer) Decode(b *bin.Buffer) error { c.n = len(b.Buf); return nil }

// BenchmarkS5_GetFile: upload.getFile of 512 KiB through the whole server
// path (gotd's client over TCP, encryption both ways, the bridge, a handler
// answering from memory), four calls in flight. "229" is the server's
// layer, "198" a GramJS-layer client whose upload.file passes untranslated,
// "translated" a layer where upload.file differs (a copy of 198 with
// another id for storage.filePartial), to show what decoding and
// re-encoding would cost. Client and server run in this process: cpu-ms/MiB
// counts both.
func BenchmarkS5_GetFile(b *testing.B) {
	data, err := os.ReadFile("../../layer/schema/198.tl")
	if err != nil {
		b.Fatal(err)
	}
	files := map[string][]byte{"198": data}
	for _, l := range []string{"227", "229"} {
		if files[l], err = os.ReadFile("../../layer/schema/" + l + ".tl"); err != nil {
			b.Fatal(err)
		}
	}
	altered := strings.Replace(string(data), "storage.filePartial#40bc6f52", "storage.filePartial#40bc6f53", 1)
	files["150"] = []byte(strings.Replace(altered, "// LAYER 198", "// LAYER 150", 1))
	reg, err := layer.NewRegistry(files)
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 512<<10)
	for _, tc := range []struct {
		name  string
		layer int
	}{{"229", 229}, {"198", 198}, {"translated", 150}} {
		b.Run(tc.name, func(b *testing.B) {
			benchGetFile(b, reg, tc.layer, payload)
		})
	}
}

func benchGetFile(b *testing.B, reg *layer.Registry, l int, payload []byte) {
	addr, _ := serveTest(b, b.TempDir(), "127.0.0.1:0", server.Config{
		Layers: reg,
		Handler: server.HandlerFunc(func(ctx context.Context, r *server.Request) (bin.Encoder, error) {
			id, err := r.Body.PeekID()
			if err != nil {
				return nil, err
			}
			switch id {
			case tg.HelpGetConfigRequestTypeID:
				return &tg.Config{ThisDC: 2}, nil
			case tg.UploadGetFileRequestTypeID:
				var req tg.UploadGetFileRequest
				if err := req.Decode(r.Body); err != nil {
					return nil, err
				}
				return &chunk{tg.UploadFile{Type: &tg.StorageFilePartial{}, Mtime: 1, Bytes: payload[:req.Limit]}}, nil
			}
			return nil, &server.RPCError{Code: 400, Message: "METHOD_INVALID"}
		}),
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := telegram.NewClient(1, "bench", telegram.Options{
		PublicKeys:     []telegram.PublicKey{{RSA: &rsaKey.PublicKey}},
		DC:             2,
		DCList:         dcs.List{Options: []tg.DCOption{{ID: 2, IPAddress: "127.0.0.1", Port: addr.Port, Static: true}}},
		Resolver:       dcs.Plain(dcs.PlainOptions{Protocol: transport.Intermediate}),
		SessionStorage: &session.StorageMemory{},
		NoUpdates:      true,
		Layer:          l,
	})
	var req bin.Buffer
	(&tg.UploadGetFileRequest{Location: &tg.InputDocumentFileLocation{ID: 1}, Limit: len(payload)}).Encode(&req)
	var cpu0, cpu1 syscall.Rusage
	err := client.Run(ctx, func(ctx context.Context) error {
		b.SetBytes(int64(len(payload)))
		b.ResetTimer()
		syscall.Getrusage(syscall.RUSAGE_SELF, &cpu0)
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(b.N) {
					var ans countAnswer
					if err := client.Invoke(ctx, rawCall(req.Buf), &ans); err != nil {
						errs <- err
						return
					}
					if ans.n < len(payload) {
						errs <- fmt.Errorf("answer of %d bytes", ans.n)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		syscall.Getrusage(syscall.RUSAGE_SELF, &cpu1)
		close(errs)
		return <-errs
	})
	if err != nil {
		b.Fatal(err)
	}
	mib := float64(b.N) * float64(len(payload)) / (1 << 20)
	b.ReportMetric(mib/b.Elapsed().Seconds(), "MiB/s")
	// CPU time of client and server together: steadier than wall time on a
	// busy machine.
	cpu := time.Duration(cpu1.Utime.Nano() + cpu1.Stime.Nano() - cpu0.Utime.Nano() - cpu0.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/1000/mib, "cpu-ms/MiB")
}
