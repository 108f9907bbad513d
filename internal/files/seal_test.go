package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/local"
	"github.com/filedc/filedc/internal/store/objstore"
)

// twoLocalStores returns two engines as two processes sharing one directory
// see it: each with its own local.Store, so its own log and view of the parts.
func twoLocalStores(t *testing.T, cfg files.Config) (*files.Engine, *files.Engine) {
	t.Helper()
	cfg.Shared = true
	dir := t.TempDir()
	b := openIn(t, dir, cfg)
	disk, err := local.Open(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := files.New(context.Background(), cfg, disk, disk, b.Meta)
	if err != nil {
		t.Fatal(err)
	}
	return b.Engine, other
}

// twoObjectStores returns two engines on one bucket and one part index, each
// with its own objstore.Store, as two processes over S3 and Redis.
func twoObjectStores(t *testing.T, cfg files.Config) (*files.Engine, *files.Engine) {
	t.Helper()
	cfg.Shared = true
	meta := openIn(t, t.TempDir(), cfg).Meta
	bucket, err := objstore.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	index, err := objstore.OpenBoltIndex(filepath.Join(t.TempDir(), "parts.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { index.Close() })
	var engines [2]*files.Engine
	for i := range engines {
		s := objstore.New(bucket, index, objstore.GC{})
		t.Cleanup(func() { s.Close() })
		if engines[i], err = files.New(context.Background(), cfg, s, s, meta); err != nil {
			t.Fatal(err)
		}
	}
	return engines[0], engines[1]
}

// sharedBackends are the ways two processes of one DC share their stores.
var sharedBackends = []struct {
	name string
	open func(t *testing.T, cfg files.Config) (*files.Engine, *files.Engine)
}{
	{"LocalOneStore", twoProcesses},
	{"LocalTwoStores", twoLocalStores},
	{"Objects", twoObjectStores},
}

// checkAsHashed reads a stored file back and fails unless its bytes are
// those its record's SHA-256 and range hashes describe, and returns them.
func checkAsHashed(t *testing.T, e *files.Engine, rec store.FileRecord) []byte {
	t.Helper()
	data := readAll(t, e, rec)
	if int64(len(data)) != rec.Size || sha256.Sum256(data) != rec.SHA256 {
		t.Fatalf("the stored file's %d bytes are not the %d bytes that were hashed", len(data), rec.Size)
	}
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	for off := int64(0); off < rec.Size; {
		hs, err := e.Hashes(context.Background(), ref, off)
		if err != nil || len(hs) == 0 {
			t.Fatalf("Hashes at %d: %d, %v", off, len(hs), err)
		}
		for _, h := range hs {
			end := min(h.Offset+int64(h.Limit), rec.Size)
			if sha256.Sum256(data[h.Offset:end]) != h.Hash {
				t.Fatalf("the range hash at %d does not match the stored bytes", h.Offset)
			}
			off = end
		}
	}
	return data
}

// TestS7e_PartSavedAgainWhileFinalizingIsHashedAgain: a part saved again
// through another process after finalization hashed it, before the seal,
// is not sealed under the old hash: finalization hashes again and the file
// is the new content, as its hashes say.
func TestS7e_PartSavedAgainWhileFinalizingIsHashedAgain(t *testing.T) {
	for _, sb := range sharedBackends {
		t.Run(sb.name, func(t *testing.T) {
			ctx := context.Background()
			key := store.UploadKey{Owner: 8, FileID: 1}
			parts := split(content(31, 3*64<<10), 64<<10)
			resaved := content(32, 64<<10)
			var other *files.Engine
			var seals atomic.Int32
			a, b := sb.open(t, files.Config{OnStep: func(s files.Step) {
				if s == files.StepSeal && seals.Add(1) == 1 {
					if err := other.SavePart(ctx, files.SavePart{Key: key, Part: 1, Data: resaved}); err != nil {
						t.Error(err)
					}
				}
			}})
			other = b
			saveAll(t, a, key, parts)
			rec, err := a.Finalize(ctx, files.Finalize{Key: key, Parts: 3})
			if err != nil {
				t.Fatal(err)
			}
			if n := seals.Load(); n != 2 {
				t.Fatalf("finalization reached the seal %d times, want 2 (hashed again once)", n)
			}
			want := bytes.Join([][]byte{parts[0], resaved, parts[2]}, nil)
			if got := checkAsHashed(t, a, rec); !bytes.Equal(got, want) {
				t.Fatal("the file is not the parts as saved last")
			}
			checkAsHashed(t, b, rec)
		})
	}
}

// TestS7e_PartSavedAgainAfterTheSealLeavesTheFileAsHashed: a part saved
// again through another process once the parts are sealed changes neither
// the file nor its bytes on disk (the local store punches replaced parts).
func TestS7e_PartSavedAgainAfterTheSealLeavesTheFileAsHashed(t *testing.T) {
	for _, sb := range sharedBackends {
		t.Run(sb.name, func(t *testing.T) {
			ctx := context.Background()
			key := store.UploadKey{Owner: 8, FileID: 2}
			data := content(33, 3*store.MaxPartSize)
			parts := split(data, store.MaxPartSize)
			var other *files.Engine
			a, b := sb.open(t, files.Config{OnStep: func(s files.Step) {
				if s != files.StepCommit {
					return
				}
				for i := range parts {
					if err := other.SavePart(ctx, files.SavePart{Key: key, Part: i, Data: content(34, store.MaxPartSize)}); err != nil {
						t.Error(err)
					}
				}
			}})
			other = b
			saveAll(t, b, key, parts) // b's own log: the one it would punch
			rec, err := a.Finalize(ctx, files.Finalize{Key: key, Parts: len(parts)})
			if err != nil {
				t.Fatal(err)
			}
			if got := checkAsHashed(t, a, rec); !bytes.Equal(got, data) {
				t.Fatal("the file is not the parts that were hashed")
			}
			checkAsHashed(t, b, rec)
		})
	}
}

// TestS7e_ResavesRacingFinalizeNeverMixVersions: while one process
// finalizes, another saves parts of the same upload again, at random moments.
// Finalization may fail, but a file it makes is always exactly the bytes its
// hashes describe, each part one whole version of it.
func TestS7e_ResavesRacingFinalizeNeverMixVersions(t *testing.T) {
	const (
		iterations = 40
		nParts     = 4
		partSize   = 64 << 10
	)
	for _, sb := range sharedBackends {
		t.Run(sb.name, func(t *testing.T) {
			ctx := context.Background()
			a, b := sb.open(t, files.Config{})
			r := rand.New(rand.NewPCG(35, 36))
			finalized := 0
			for it := range iterations {
				key := store.UploadKey{Owner: int64(100 + it), FileID: int64(it)}
				versions := make([][][]byte, nParts) // every content each part was saved with
				for i := range versions {
					versions[i] = [][]byte{content(uint64(1000*it+i), partSize)}
				}
				parts := make([][]byte, nParts)
				for i := range parts {
					parts[i] = versions[i][0]
				}
				saveAll(t, a, key, parts)
				resaves := make([][2]int, 1+r.IntN(4)) // part, delay in µs
				for k := range resaves {
					resaves[k] = [2]int{r.IntN(nParts), r.IntN(3000)}
					i := resaves[k][0]
					versions[i] = append(versions[i], content(uint64(1000*it+100*(k+1)+i), partSize))
				}
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					seen := make([]int, nParts)
					for _, rs := range resaves {
						time.Sleep(time.Duration(rs[1]) * time.Microsecond)
						i := rs[0]
						seen[i]++
						err := b.SavePart(ctx, files.SavePart{Key: key, Part: i, Data: versions[i][seen[i]]})
						if err != nil {
							t.Error(err)
						}
					}
				}()
				rec, err := a.Finalize(ctx, files.Finalize{Key: key, Parts: nParts})
				wg.Wait() // later saves must not change the file either
				if err != nil {
					continue // a failure is allowed, a mix is not
				}
				finalized++
				got := checkAsHashed(t, a, rec)
				for i := range nParts {
					piece := got[i*partSize : (i+1)*partSize]
					if !containsBytes(versions[i], piece) {
						t.Fatalf("iteration %d: part %d of the file is none of the versions saved", it, i)
					}
				}
			}
			if finalized < iterations/2 {
				t.Fatalf("only %d of %d finalizations succeeded", finalized, iterations)
			}
		})
	}
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}
