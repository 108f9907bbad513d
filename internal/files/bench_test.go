// Benchmarks of the file engine on the embedded backend (local disk + bbolt).
//
// Run them with:
//
//	go test -run '^$' -bench . -benchmem -benchtime 1x ./internal/files/
//
// BenchmarkFinalize/2GiB and BenchmarkUploadPeakMemory/2GiB need about 5 GB of
// free disk under $TMPDIR (each iteration deletes its data directory).
//
// Speed is measured, not asserted: every benchmark reports throughput (MiB/s),
// latency and memory, and the machine's ceilings (SHA-256, MD5, CRC-32C, disk
// write and read of 512 KiB files) are measured in the same run, so ratios
// such as x-hash-ceiling stay meaningful on a noisy machine. Nothing here
// fails on a wall-clock threshold.
//
// Every benchmark does a meaningful amount of work per op, so -benchtime 1x
// gives usable figures. File content comes from a small pool of random 512 KiB
// blocks, so a 2 GiB upload never holds 2 GiB of test data in memory.
//
// The machine is shared and noisy: compare ratios (x-hash-ceiling,
// of-disk-ceiling, of-read-ceiling) rather than absolute figures across runs,
// and use -count or a larger -benchtime for smaller uploads. GOGC=10 makes
// BenchmarkUploadPeakMemory's peak-heap-MiB follow the retained heap instead of
// the GC's pacing.

package files_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"hash"
	"hash/crc32"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/backend"
	"github.com/filedc/filedc/internal/bench"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/procstat"
	"github.com/filedc/filedc/internal/store"
)

const (
	kib          = 1 << 10
	mib          = 1 << 20
	benchPart    = 512 * kib // the largest part a client may save
	poolBlocks   = 16        // 8 MiB of random content stands for any file
	ceilingBytes = 64 * mib  // work per op of the hashing ceilings
	diskBytes    = 256 * mib // work per op of the disk ceilings
)

// blockPool is a few random blocks of benchPart bytes. Part i of a file is
// block (seed+i) % len, so the content of any file is known without holding
// it, and the same sequence can be hashed for reference.
type blockPool [][]byte

func newBlockPool(b testing.TB) blockPool {
	p := make(blockPool, poolBlocks)
	for i := range p {
		p[i] = make([]byte, benchPart)
		rand.Read(p[i])
	}
	return p
}

// part returns the content of part i of a file of size bytes in parts of
// partSize bytes (the last one may be shorter).
func (p blockPool) part(seed, i, partSize int, size int64) []byte {
	n := int(min(int64(partSize), size-int64(i)*int64(partSize)))
	return p[(seed+i)%len(p)][:n]
}

// sha256Of hashes the content uploadFile saves for (seed, size, partSize)
// and returns the digest and the time it took: the hash ceiling for
// finalizing that file.
func (p blockPool) sha256Of(seed int, size int64, partSize int) ([32]byte, time.Duration) {
	var sum [32]byte
	parts := partsOf(size, partSize)
	t0 := time.Now()
	h := sha256.New()
	for i := range parts {
		h.Write(p.part(seed, i, partSize, size))
	}
	h.Sum(sum[:0])
	return sum, time.Since(t0)
}

func partsOf(size int64, partSize int) int {
	return int((size + int64(partSize) - 1) / int64(partSize))
}

func openBackend(b testing.TB, dir string, cfg files.Config) *backend.Embedded {
	b.Helper()
	be, err := backend.OpenEmbedded(context.Background(), dir, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return be
}

// closeAndRemove closes the backend and deletes its directory, so that large
// benchmarks keep at most one file on disk.
func closeAndRemove(b testing.TB, be *backend.Embedded, dir string) {
	b.Helper()
	if err := be.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
}

// uploadFile saves a file of size bytes with saveBigFilePart semantics
// (Key.Big, TotalParts known) from workers goroutines, in part order, and
// returns the number of parts.
func uploadFile(ctx context.Context, eng *files.Engine, pool blockPool, key store.UploadKey, seed int, size int64, partSize, workers int) (int, error) {
	return uploadFileOrder(ctx, eng, pool, key, seed, size, partSize, workers, false)
}

// uploadFileOrder is uploadFile, with the parts taken last first when
// reverse is set (the worst case of hashing parts as they arrive).
func uploadFileOrder(ctx context.Context, eng *files.Engine, pool blockPool, key store.UploadKey, seed int, size int64, partSize, workers int, reverse bool) (int, error) {
	parts := partsOf(size, partSize)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= parts {
					return
				}
				if reverse {
					i = parts - 1 - i
				}
				err := eng.SavePart(ctx, files.SavePart{
					Key: key, Part: i, TotalParts: int32(parts), Premium: true,
					Data: pool.part(seed, i, partSize, size),
				})
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("part %d: %w", i, err) })
					next.Store(int64(parts))
					return
				}
			}
		})
	}
	wg.Wait()
	return parts, firstErr
}

// uploadAndFinalize uploads a file and finalizes it, checking its hash.
func uploadAndFinalize(b testing.TB, be *backend.Embedded, pool blockPool, key store.UploadKey, size int64, workers int) store.FileRecord {
	b.Helper()
	ctx := context.Background()
	parts, err := uploadFile(ctx, be.Engine, pool, key, 0, size, benchPart, workers)
	if err != nil {
		b.Fatal(err)
	}
	rec, err := be.Engine.Finalize(ctx, files.Finalize{Key: key, Parts: parts, Premium: true})
	if err != nil {
		b.Fatal(err)
	}
	if want, _ := pool.sha256Of(0, size, benchPart); rec.SHA256 != want || rec.Size != size {
		b.Fatalf("finalized %d bytes, sha256 %x; want %d bytes, %x", rec.Size, rec.SHA256, size, want)
	}
	return rec
}

func reportLatency(b *testing.B, ds []time.Duration, unit time.Duration, suffix string) {
	b.ReportMetric(float64(bench.Percentile(ds, 0.50))/float64(unit), "p50-"+suffix)
	b.ReportMetric(float64(bench.Percentile(ds, 0.99))/float64(unit), "p99-"+suffix)
}

// ---------------------------------------------------------------------------
// Ceilings.

// BenchmarkCeiling measures what the machine can do at best, in the same run
// as the engine's benchmarks: hashing 512 KiB buffers (SHA-256 for finalize,
// MD5 for md5_checksum, CRC-32C for the part headers) and writing and reading
// 512 KiB files the way the local store does (write to a temporary name and
// rename, no fsync; open, ReadAt, close). Each op is 64 MiB of hashing or
// 256 MiB of files. The 128 KiB write is the ceiling for 128 KiB parts, whose
// cost is mostly the file system's per-file work.
func BenchmarkCeiling(b *testing.B) {
	pool := newBlockPool(b)
	hashes := []struct {
		name string
		new  func() hash.Hash
	}{
		{"sha256", sha256.New},
		{"md5", md5.New},
		{"crc32c", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
	}
	for _, h := range hashes {
		b.Run(h.name, func(b *testing.B) {
			b.SetBytes(ceilingBytes)
			b.ReportAllocs()
			var sum []byte
			for range b.N {
				d := h.new()
				for i := range ceilingBytes / benchPart {
					d.Write(pool[i%len(pool)])
				}
				sum = d.Sum(sum[:0])
			}
			b.ReportMetric(bench.MiBps(int64(b.N)*ceilingBytes, b.Elapsed()), "MiB/s")
		})
	}
	for _, size := range []int{512 * kib, 128 * kib} {
		b.Run(fmt.Sprintf("disk-write-%dKiB", size/kib), func(b *testing.B) {
			base := b.TempDir()
			b.SetBytes(diskBytes)
			b.ReportAllocs()
			var elapsed time.Duration
			for i := range b.N {
				b.StopTimer()
				dir := filepath.Join(base, strconv.Itoa(i))
				b.StartTimer()
				d, err := writeFiles(dir, pool, size, diskBytes/size)
				if err != nil {
					b.Fatal(err)
				}
				elapsed += d
				b.StopTimer()
				os.RemoveAll(dir)
				b.StartTimer()
			}
			b.ReportMetric(bench.MiBps(int64(b.N)*diskBytes, elapsed), "MiB/s")
		})
	}
	b.Run("disk-read-512KiB", func(b *testing.B) {
		dir := b.TempDir()
		const n = diskBytes / benchPart
		if _, err := writeFiles(dir, pool, benchPart, n); err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, benchPart)
		b.SetBytes(diskBytes)
		b.ReportAllocs()
		b.ResetTimer()
		var elapsed time.Duration
		for range b.N {
			d, err := readFiles(dir, n, buf)
			if err != nil {
				b.Fatal(err)
			}
			elapsed += d
		}
		b.ReportMetric(bench.MiBps(int64(b.N)*diskBytes, elapsed), "MiB/s")
	})
}

// writeFiles writes n files of size bytes (at most 512 KiB) into dir
// (created) with the local store's pattern: a temporary name, write, close,
// rename. No fsync.
func writeFiles(dir string, pool blockPool, size, n int) (time.Duration, error) {
	t0 := time.Now()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	for i := range n {
		name := filepath.Join(dir, strconv.Itoa(i))
		tmp := name + ".tmp"
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return 0, err
		}
		_, err = f.Write(pool[i%len(pool)][:size])
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, name)
		}
		if err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

// readFiles reads the n files writeFiles wrote (from the page cache, as the
// engine mostly does): open, ReadAt, close.
func readFiles(dir string, n int, buf []byte) (time.Duration, error) {
	t0 := time.Now()
	for i := range n {
		f, err := os.Open(filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			return 0, err
		}
		_, err = f.ReadAt(buf, 0)
		f.Close()
		if err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

// diskCeiling measures, for a benchmark that reports its figures as a
// fraction of it, the MiB/s of writing (or reading back) 128 MiB of files of
// size bytes: the best of three runs, a ceiling.
func diskCeiling(b *testing.B, pool blockPool, size int, read bool) float64 {
	b.Helper()
	n := 128 * mib / size
	buf := make([]byte, size)
	best := 0.0
	for i := range 3 {
		dir := filepath.Join(b.TempDir(), "ceiling"+strconv.Itoa(i))
		d, err := writeFiles(dir, pool, size, n)
		if err == nil && read {
			d, err = readFiles(dir, n, buf)
		}
		if err != nil {
			b.Fatal(err)
		}
		os.RemoveAll(dir)
		best = max(best, bench.MiBps(128*mib, d))
	}
	return best
}

// ---------------------------------------------------------------------------
// Saving parts.

// BenchmarkSavePartsParallel saves 256 MiB per op, as 32 big uploads of 8 MiB,
// from g goroutines taking parts of all uploads in a shuffled order. Each op
// starts on a fresh backend (opened and removed outside the timing), so
// temporary parts never reach the eviction budget. Reported: MiB/s, the
// per-SavePart latency, and of-disk-ceiling = MiB/s / (sequential write+rename
// MiB/s of files of the part size, measured just before).
func BenchmarkSavePartsParallel(b *testing.B) {
	ctx := context.Background()
	pool := newBlockPool(b)
	const opBytes = 256 * mib
	const uploads = 32
	for _, partSize := range []int{512 * kib, 128 * kib} {
		ceiling := diskCeiling(b, pool, partSize, false)
		for _, g := range []int{8, 32, 128} {
			b.Run(fmt.Sprintf("part=%dKiB/g=%d", partSize/kib, g), func(b *testing.B) {
				type job struct{ upload, part int }
				partsPer := opBytes / uploads / partSize
				jobs := make([]job, 0, uploads*partsPer)
				for u := range uploads {
					for p := range partsPer {
						jobs = append(jobs, job{u, p})
					}
				}
				r := mrand.New(mrand.NewPCG(1, uint64(g)))
				r.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
				lat := make([]time.Duration, b.N*len(jobs))
				base := b.TempDir()
				b.SetBytes(opBytes)
				b.ReportAllocs()
				b.ResetTimer()
				for it := range b.N {
					b.StopTimer()
					dir := filepath.Join(base, strconv.Itoa(it))
					be := openBackend(b, dir, files.Config{})
					runtime.GC()
					b.StartTimer()
					var next atomic.Int64
					var failed atomic.Pointer[error]
					var wg sync.WaitGroup
					for range g {
						wg.Go(func() {
							for {
								k := int(next.Add(1) - 1)
								if k >= len(jobs) {
									return
								}
								j := jobs[k]
								t0 := time.Now()
								err := be.Engine.SavePart(ctx, files.SavePart{
									Key:        store.UploadKey{Owner: int64(1 + j.upload), FileID: int64(j.upload), Big: true},
									Part:       j.part,
									TotalParts: int32(partsPer),
									Data:       pool[(j.upload+j.part)%len(pool)][:partSize],
								})
								lat[it*len(jobs)+k] = time.Since(t0)
								if err != nil {
									failed.CompareAndSwap(nil, &err)
									return
								}
							}
						})
					}
					wg.Wait()
					b.StopTimer()
					if err := failed.Load(); err != nil {
						b.Fatal(*err)
					}
					if got, want := be.Engine.TempBytes(), int64(opBytes); got != want {
						b.Fatalf("temp bytes %d, want %d", got, want)
					}
					closeAndRemove(b, be, dir)
					b.StartTimer()
				}
				rate := bench.MiBps(int64(b.N)*opBytes, b.Elapsed())
				b.ReportMetric(rate, "MiB/s")
				b.ReportMetric(rate/ceiling, "of-disk-ceiling")
				reportLatency(b, lat, time.Millisecond, "ms")
			})
		}
	}
}

// ---------------------------------------------------------------------------
// Finalizing.

// phases times the steps of one finalization through Config.OnStep. Saves
// call it too, at once, with StepTurn, which it does not time.
type phases struct {
	mu sync.Mutex
	at map[files.Step]time.Time
}

func (p *phases) mark(s files.Step) {
	if s == files.StepTurn {
		return
	}
	p.mu.Lock()
	p.at[s] = time.Now()
	p.mu.Unlock()
}

// BenchmarkFinalize times Finalize alone on a big upload (512 KiB parts,
// uploaded outside the timing, 8 in flight as gotd's uploader sends them).
// Rule F5: finalization links the parts instead of copying them, and the
// parts were hashed as they arrived, so its cost must not grow with size.
// The "reverse" cases save the parts last first, the worst case: only a
// few parts are hashed before finalization, which hashes the rest.
// Reported:
//
//   - ms/op: the time of one Finalize (ns/op is the same figure);
//   - MiB/s: file bytes finalized per second;
//   - x-hash-ceiling: finalize time / time of one plain SHA-256 over the same
//     bytes, measured in this run (1 = as fast as hashing alone; the engine
//     computes two SHA-256 streams and a CRC-32C on two cores);
//   - hash-ms, seal-ms, commit-ms, cleanup-ms: the time per op from the start
//     to StepSeal (checks, reading and hashing the parts), to StepCommit
//     (linking and, on the embedded backend, fdatasync of every part), to
//     StepCleanup (the bbolt commit) and to the end (deleting the upload);
//   - seal-us/part: seal-ms per part, to tell a cost per part (a system call
//     per part) from a cost per byte.
func BenchmarkFinalize(b *testing.B) {
	ctx := context.Background()
	pool := newBlockPool(b)
	for _, tc := range []struct {
		name    string
		size    int64
		reverse bool
	}{{"10MiB", 10 * mib, false}, {"1GiB", 1 << 30, false}, {"2GiB", 2 << 30, false},
		{"10MiB-reverse", 10 * mib, true}, {"2GiB-reverse", 2 << 30, true}} {
		b.Run(tc.name, func(b *testing.B) {
			// The reference hash: best of a few runs for small sizes.
			want, hashTime := pool.sha256Of(0, tc.size, benchPart)
			for range min(20, max(0, int(256*mib/tc.size)-1)) {
				if _, d := pool.sha256Of(0, tc.size, benchPart); d < hashTime {
					hashTime = d
				}
			}
			base := b.TempDir()
			var total, hashing, seal, commit, cleanup time.Duration
			b.SetBytes(tc.size)
			b.ReportAllocs()
			b.ResetTimer()
			for it := range b.N {
				b.StopTimer()
				dir := filepath.Join(base, strconv.Itoa(it))
				ph := &phases{at: make(map[files.Step]time.Time, 3)}
				be := openBackend(b, dir, files.Config{OnStep: ph.mark})
				key := store.UploadKey{Owner: 1, FileID: int64(it), Big: true}
				parts, err := uploadFileOrder(ctx, be.Engine, pool, key, 0, tc.size, benchPart, 8, tc.reverse)
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				b.StartTimer()
				t0 := time.Now()
				rec, err := be.Engine.Finalize(ctx, files.Finalize{Key: key, Parts: parts, Premium: true})
				end := time.Now()
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				if rec.SHA256 != want || rec.Size != tc.size {
					b.Fatalf("finalized %d bytes, sha256 %x; want %d bytes, %x", rec.Size, rec.SHA256, tc.size, want)
				}
				total += end.Sub(t0)
				hashing += ph.at[files.StepSeal].Sub(t0)
				seal += ph.at[files.StepCommit].Sub(ph.at[files.StepSeal])
				commit += ph.at[files.StepCleanup].Sub(ph.at[files.StepCommit])
				cleanup += end.Sub(ph.at[files.StepCleanup])
				closeAndRemove(b, be, dir)
				b.StartTimer()
			}
			n := time.Duration(b.N)
			b.ReportMetric(float64(total/n)/float64(time.Millisecond), "ms/op")
			b.ReportMetric(bench.MiBps(int64(b.N)*tc.size, total), "MiB/s")
			b.ReportMetric(float64(total/n)/float64(hashTime), "x-hash-ceiling")
			b.ReportMetric(float64(hashTime)/float64(time.Millisecond), "sha256-ms")
			b.ReportMetric(float64(hashing/n)/float64(time.Millisecond), "hash-ms")
			b.ReportMetric(float64(seal/n)/float64(time.Millisecond), "seal-ms")
			b.ReportMetric(float64(seal/n)/float64(time.Microsecond)/float64(partsOf(tc.size, benchPart)), "seal-us/part")
			b.ReportMetric(float64(commit/n)/float64(time.Millisecond), "commit-ms")
			b.ReportMetric(float64(cleanup/n)/float64(time.Millisecond), "cleanup-ms")
		})
	}
}

// ---------------------------------------------------------------------------
// Reading.

// BenchmarkReadRange reads a 64 MiB stored file through Engine.Read, whole
// per op, in 512 KiB precise chunks and in 1 MiB non-precise chunks, from one
// goroutine and from 4 taking chunks in turn. The file was just written, so
// it is read from the page cache: this measures the engine and the system
// calls, not the disk. of-read-ceiling compares with opening and reading
// 512 KiB files directly, measured just before.
func BenchmarkReadRange(b *testing.B) {
	ctx := context.Background()
	pool := newBlockPool(b)
	const size = 64 * mib
	ceiling := diskCeiling(b, pool, benchPart, true)
	be := openBackend(b, b.TempDir(), files.Config{})
	defer be.Close()
	rec := uploadAndFinalize(b, be, pool, store.UploadKey{Owner: 1, FileID: 1, Big: true}, size, 2)
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	if c, err := be.Engine.Read(ctx, ref, benchPart, benchPart, true, nil); err != nil || !bytes.Equal(c.Bytes, pool.part(0, 1, benchPart, size)) {
		b.Fatalf("read back part 1: %v", err)
	}
	for _, mode := range []struct {
		name    string
		limit   int
		precise bool
	}{{"precise-512KiB", 512 * kib, true}, {"1MiB", 1 * mib, false}} {
		for _, workers := range []int{1, 4} {
			name := mode.name + "/seq"
			if workers > 1 {
				name = fmt.Sprintf("%s/par%d", mode.name, workers)
			}
			b.Run(name, func(b *testing.B) {
				chunks := size / mode.limit
				lat := make([]time.Duration, b.N*chunks)
				bufs := make([][]byte, workers)
				for i := range bufs {
					bufs[i] = make([]byte, mode.limit)
				}
				b.SetBytes(size)
				b.ReportAllocs()
				b.ResetTimer()
				for it := range b.N {
					var next atomic.Int64
					var failed atomic.Pointer[error]
					var wg sync.WaitGroup
					for w := range workers {
						wg.Go(func() {
							for {
								k := int(next.Add(1) - 1)
								if k >= chunks {
									return
								}
								t0 := time.Now()
								c, err := be.Engine.Read(ctx, ref, int64(k)*int64(mode.limit), mode.limit, mode.precise, bufs[w])
								lat[it*chunks+k] = time.Since(t0)
								if err == nil && len(c.Bytes) != mode.limit {
									err = fmt.Errorf("chunk %d: %d bytes", k, len(c.Bytes))
								}
								if err != nil {
									failed.CompareAndSwap(nil, &err)
									return
								}
							}
						})
					}
					wg.Wait()
					if err := failed.Load(); err != nil {
						b.Fatal(*err)
					}
				}
				rate := bench.MiBps(int64(b.N)*size, b.Elapsed())
				b.ReportMetric(rate, "MiB/s")
				b.ReportMetric(rate/ceiling, "of-read-ceiling")
				reportLatency(b, lat, time.Microsecond, "us")
			})
		}
	}
}

// ---------------------------------------------------------------------------
// Memory.

// memSampler records the peak of the Go heap by reading runtime/metrics every
// few milliseconds: the bytes in heap objects, live ones and garbage not yet
// collected (which the GC lets grow to about GOGC% above the live heap). A
// peak shorter than the interval may be missed; the heap here moves in
// 512 KiB steps that last longer.
type memSampler struct {
	stop, done chan struct{}
	peak       uint64
}

func startMemSampler(every time.Duration) *memSampler {
	s := &memSampler{stop: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			metrics.Read(sample)
			s.peak = max(s.peak, sample[0].Value.Uint64())
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends the sampling and returns the peak heap objects in bytes.
func (s *memSampler) Stop() uint64 {
	close(s.stop)
	<-s.done
	return s.peak
}

func gcCycles() uint64 {
	sample := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

func heapObjects() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// BenchmarkUploadPeakMemory uploads a file (Key.Big, 512 KiB parts, 8
// goroutines in part order) and finalizes it, per op, on a fresh backend. The
// engine holds no part's bytes beyond a save call and finalizes with a fixed
// number of buffers, so peak memory must be bounded by the parts in flight,
// not by the file's size: the 256MiB and 2GiB figures should match. Reported:
//
//   - peak-heap-MiB: peak of the Go heap objects during the op, sampled every
//     2 ms (it includes base-heap-MiB, the heap after a GC just before, which
//     holds the 8 MiB of test content, and garbage the GC has not collected
//     yet, so it follows the GC's heap goal);
//   - gcs/op: GC cycles during the op. With few of them the peak is set by the
//     GC's pacing (about twice the live heap), not by what the engine retains;
//     run with GOGC=10 to make peak-heap-MiB follow the retained heap closely;
//   - peak-rss-MiB: VmHWM of the process after resetting it before the op (see
//     resetPeakRSS; when the reset fails it is the process-wide peak so far,
//     and a log line says so). The page cache is not part of RSS.
func BenchmarkUploadPeakMemory(b *testing.B) {
	pool := newBlockPool(b)
	for _, tc := range []struct {
		name string
		size int64
	}{{"256MiB", 256 * mib}, {"2GiB", 2 << 30}} {
		b.Run(tc.name, func(b *testing.B) {
			base := b.TempDir()
			var peakHeap, baseHeap, gcs uint64
			var peakRSS int64 = -1
			resetFailed := false
			b.SetBytes(tc.size)
			b.ReportAllocs()
			b.ResetTimer()
			for it := range b.N {
				b.StopTimer()
				dir := filepath.Join(base, strconv.Itoa(it))
				be := openBackend(b, dir, files.Config{})
				runtime.GC()
				debug.FreeOSMemory()
				baseHeap = max(baseHeap, heapObjects())
				if !procstat.ResetPeakRSS(os.Getpid()) {
					resetFailed = true
				}
				gc0 := gcCycles()
				s := startMemSampler(2 * time.Millisecond)
				b.StartTimer()
				uploadAndFinalize(b, be, pool, store.UploadKey{Owner: 1, FileID: int64(it), Big: true}, tc.size, 8)
				b.StopTimer()
				peakHeap = max(peakHeap, s.Stop())
				gcs += gcCycles() - gc0
				peakRSS = max(peakRSS, procstat.PeakRSS(os.Getpid()))
				closeAndRemove(b, be, dir)
				b.StartTimer()
			}
			b.ReportMetric(bench.MiBps(int64(b.N)*tc.size, b.Elapsed()), "MiB/s")
			b.ReportMetric(float64(peakHeap)/mib, "peak-heap-MiB")
			b.ReportMetric(float64(gcs)/float64(b.N), "gcs/op")
			b.ReportMetric(float64(baseHeap)/mib, "base-heap-MiB")
			if peakRSS >= 0 {
				b.ReportMetric(float64(peakRSS)/mib, "peak-rss-MiB")
			}
			if resetFailed {
				b.Logf("VmHWM could not be reset: peak-rss-MiB is the process's peak so far")
			}
		})
	}
}
