package files_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

// model is the reference the fuzzer checks the engine against: the parts the
// engine accepted, and a plain restatement of the rules.
type model struct {
	big   bool
	parts map[int][]byte
	total map[int]int32
}

func validSize(n int) bool { return n > 0 && n%1024 == 0 && (512<<10)%n == 0 }

// consistent says whether the parts can still be (a prefix of) a valid upload
// whose last part is `last`, or, with last < 0, whose last part is the highest
// one present.
func (m *model) consistent(last int) bool {
	declared := int32(0)
	high := -1
	for i, t := range m.total {
		if t > 0 {
			if declared != 0 && declared != t {
				return false
			}
			declared = t
		}
		high = max(high, i)
	}
	if last < 0 {
		last = high
		if declared > 0 {
			last = int(declared) - 1
		}
	}
	if high > last || (declared > 0 && int(declared) != last+1) {
		return false
	}
	partSize := -1
	for i, p := range m.parts {
		if i == last {
			continue
		}
		if !validSize(len(p)) || (partSize >= 0 && len(p) != partSize) {
			return false
		}
		partSize = len(p)
	}
	return partSize < 0 || len(m.parts[last]) <= partSize
}

var fuzzFileIDs atomic.Int64

// FuzzUploadSequence throws sequences of saves (any size, order, duplicates,
// gaps, totals) and finalizations at the engine. Every save must be accepted
// exactly when the parts can still form a valid upload; every finalization
// must succeed exactly when the parts form a valid upload, and then yield
// exactly the uploaded bytes.
func FuzzUploadSequence(f *testing.F) {
	clock := newFakeClock()
	e := newEngine(f, files.Config{MaxParts: 16, Clock: clock})
	f.Add([]byte{0, 0, 0, 1, 1, 0, 2, 1, 0x80, 3})
	f.Add([]byte{1, 2, 0, 0, 0, 1, 0, 0, 5, 2, 0x81, 3})
	f.Add([]byte{1, 0, 3, 2, 2, 0, 1, 2, 0, 0, 2, 0x80, 3, 0x80, 4})
	f.Add([]byte{0, 3, 0, 7, 0, 1, 0, 0, 9, 0x82, 2})
	f.Fuzz(func(t *testing.T, prog []byte) {
		ctx := context.Background()
		if len(prog) < 1 || len(prog) > 256 {
			return
		}
		// Every execution leaves its upload to expire, so that executions
		// never add up to the per-account limits.
		defer func() {
			clock.Advance(7 * time.Hour)
			if err := e.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			if n := e.Uploads(); n != 0 {
				t.Fatalf("%d uploads left after their TTL", n)
			}
		}()
		m := &model{big: prog[0]&1 == 1, parts: map[int][]byte{}, total: map[int]int32{}}
		key := store.UploadKey{Owner: 1, FileID: fuzzFileIDs.Add(1), Big: m.big}
		sizes := []int{1024, 2048, 4096, 1000, 1, 3072, 8192, 0}
		prog = prog[1:]
		for len(prog) >= 3 {
			op, a, b := prog[0], int(prog[1]), int(prog[2])
			prog = prog[3:]
			if op&0x80 == 0 {
				// Save part a%12 with a size from the table and a total from b.
				part := a % 12
				data := bytes.Repeat([]byte{byte(b), byte(part)}, 8192)[:sizes[int(op)%len(sizes)]]
				total := int32(0)
				if m.big {
					total = []int32{-1, -1, int32(b%6) + 1, int32(part + 1), 0, 17}[b%6]
				}
				err := e.SavePart(ctx, files.SavePart{Key: key, Part: part, TotalParts: total, Data: data})
				alone := len(data) > 0 && (!m.big || (total == -1 || (total >= 1 && total <= 16 && part < int(total))))
				after := &model{big: m.big, parts: map[int][]byte{part: data}, total: map[int]int32{part: total}}
				for i, p := range m.parts {
					if i != part {
						after.parts[i], after.total[i] = p, m.total[i]
					}
				}
				want := alone && after.consistent(-1)
				if (err == nil) != want {
					t.Fatalf("save part %d (%d bytes, total %d) over %d parts: err %v, want accepted=%v", part, len(data), total, len(m.parts), err, want)
				}
				if err != nil {
					if _, ok := files.AsError(err); !ok {
						t.Fatalf("save failed with a non-client error: %v", err)
					}
					continue
				}
				m = after
				continue
			}
			// Finalize with a parts count near the saved ones.
			n := a % 14
			var whole []byte
			complete := n >= 1
			for i := 0; i < n && complete; i++ {
				p, ok := m.parts[i]
				complete = ok
				whole = append(whole, p...)
			}
			sum := md5.Sum(whole)
			md := []string{"", hex.EncodeToString(sum[:]), strings.Repeat("0", 32)}[b%3]
			rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: n, MD5: md})
			want := complete && len(m.parts) == n && m.consistent(n-1) && (m.big || md != strings.Repeat("0", 32))
			if (err == nil) != want {
				t.Fatalf("finalize %d parts over %d saved: err %v, want success=%v", n, len(m.parts), err, want)
			}
			if err != nil {
				fe, ok := files.AsError(err)
				if !ok {
					t.Fatalf("finalize failed with a non-client error: %v", err)
				}
				if strings.HasSuffix(fe.Message, "_MISSING") && len(m.parts) > 0 {
					lowest := 0
					for m.parts[lowest] != nil {
						lowest++
					}
					if fe.Message != files.ErrFilePartMissing(lowest).Message {
						t.Fatalf("finalize said %s, lowest missing part is %d", fe.Message, lowest)
					}
				}
				continue
			}
			if got := readAll(t, e, rec); !bytes.Equal(got, whole) {
				t.Fatalf("stored file of %d bytes differs from the %d uploaded", len(got), len(whole))
			}
			m = &model{big: m.big, parts: map[int][]byte{}, total: map[int]int32{}}
		}
	})
}
