package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/backend"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// openIn opens the embedded backend in dir and closes it when the test ends.
func openIn(t testing.TB, dir string, cfg files.Config) *backend.Embedded {
	t.Helper()
	b, err := backend.OpenEmbedded(context.Background(), dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// newEngine returns an engine on in-memory stores, for the tests where disk
// is not the point; those about the disk (crash safety, the local log,
// processes sharing a directory) use openIn.
func newEngine(t testing.TB, cfg files.Config) *files.Engine {
	t.Helper()
	b, err := backend.OpenMemory(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b.Engine
}

// content returns n deterministic pseudo-random bytes.
func content(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for k := 0; k < 8; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// split cuts data into parts of partSize bytes (the last one shorter).
func split(data []byte, partSize int) [][]byte {
	var parts [][]byte
	for off := 0; off < len(data); off += partSize {
		parts = append(parts, data[off:min(len(data), off+partSize)])
	}
	return parts
}

// wantErr fails the test unless err is the Telegram error named want ("" for no error).
func wantErr(t testing.TB, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	e, ok := files.AsError(err)
	if !ok {
		t.Fatalf("want %s, got %v", want, err)
	}
	code := 400
	if strings.HasPrefix(want, "FLOOD_WAIT_") {
		code = 420
	}
	if e.Message != want || e.Code != code {
		t.Fatalf("want 400 %s, got %d %s", want, e.Code, e.Message)
	}
}

// saveAll saves every part in order through the small or big path.
func saveAll(t testing.TB, e *files.Engine, key store.UploadKey, parts [][]byte) {
	t.Helper()
	for i, p := range parts {
		req := files.SavePart{Key: key, Part: i, Data: p}
		if key.Big {
			req.TotalParts = int32(len(parts))
		}
		if err := e.SavePart(context.Background(), req); err != nil {
			t.Fatalf("save part %d: %v", i, err)
		}
	}
}

// readAll downloads a stored file the way gotd does: 512 KiB precise chunks.
func readAll(t testing.TB, e *files.Engine, rec store.FileRecord) []byte {
	t.Helper()
	var out []byte
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	for off := int64(0); ; off += 512 << 10 {
		c, err := e.Read(context.Background(), ref, off, 512<<10, true, nil)
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		out = append(out, c.Bytes...)
		if len(c.Bytes) < 512<<10 {
			return out
		}
	}
}

// checkStored verifies that a record describes data and reads back as data.
func checkStored(t testing.TB, e *files.Engine, rec store.FileRecord, data []byte) {
	t.Helper()
	if rec.Size != int64(len(data)) {
		t.Fatalf("size %d, want %d", rec.Size, len(data))
	}
	if rec.SHA256 != sha256.Sum256(data) {
		t.Fatal("record SHA-256 does not match the content")
	}
	if got := readAll(t, e, rec); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes that differ from the %d uploaded", len(got), len(data))
	}
}
