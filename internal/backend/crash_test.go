package backend_test

// Crash tests for spec rules U9 and F4 with a real process killed by SIGKILL.
//
// The test binary re-executes itself as a child (TestCrashHelperProcess with
// FILEDC_CRASH_HELPER=1): the child opens the embedded backend in a directory
// and saves or finalizes an upload, reporting its progress on stdout; it is
// killed with SIGKILL (by the parent, or by itself from Config.OnStep), and the
// parent re-opens the same directory and checks what survived.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/backend"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

// Environment of the helper process.
const (
	envHelper   = "FILEDC_CRASH_HELPER"   // "1" in the child
	envDir      = "FILEDC_CRASH_DIR"      // data directory of the embedded backend
	envMode     = "FILEDC_CRASH_MODE"     // modeSave or modeFinalize
	envSize     = "FILEDC_CRASH_SIZE"     // bytes of the upload
	envPartSize = "FILEDC_CRASH_PART"     // bytes of every part but the last
	envSeed     = "FILEDC_CRASH_SEED"     // content and key of the upload
	envStep     = "FILEDC_CRASH_STEP"     // modeFinalize: the child kills itself at this step
	envWindow   = "FILEDC_CRASH_WINDOW"   // >0: parts are paced by credits from the parent
	envInOrder  = "FILEDC_CRASH_IN_ORDER" // "true": parts are handed out in order, not shuffled
	envStates   = "FILEDC_CRASH_STATES"   // Config.HashStateEvery of the child
)

const (
	modeSave     = "save"     // save all parts with 8 goroutines, in a shuffled order
	modeFinalize = "finalize" // save all parts, then finalize
)

// helperDeadline bounds one child's life should anything hang.
const helperDeadline = 60 * time.Second

// crashJob describes the work of one child.
type crashJob struct {
	dir      string
	mode     string
	size     int
	partSize int
	seed     uint64
	killStep files.Step // modeFinalize only; empty: the parent kills
	// window, when positive, paces the saves: the child starts a part only
	// with a credit (one byte on its stdin); the parent grants window credits
	// at the start and one per part reported saved. So at most window parts
	// are started and unreported at any moment, and a kill after k reports
	// lands while parts k..k+window are being written, however fast the disk.
	window int
	// inOrder hands the parts to the workers in order, as clients do, so
	// that the child keeps states of its hashes every stateEvery bytes.
	inOrder    bool
	stateEvery int64
}

func (j crashJob) parts() int { return (j.size + j.partSize - 1) / j.partSize }

func (j crashJob) key() store.UploadKey {
	return store.UploadKey{Owner: 7, FileID: int64(j.seed & (1<<62 - 1)), Big: true}
}

func (j crashJob) part(data []byte, i int) []byte {
	return data[i*j.partSize : min(len(data), (i+1)*j.partSize)]
}

// crashContent returns size deterministic pseudo-random bytes for seed.
func crashContent(seed uint64, size int) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	copy(s[8:], "filedc crash test content")
	data := make([]byte, size)
	if _, err := rand.NewChaCha8(s).Read(data); err != nil {
		panic(err)
	}
	return data
}

// ---------------------------------------------------------------------------
// The child.

// TestCrashHelperProcess is not a test: it is the child process of the crash
// tests and does nothing unless FILEDC_CRASH_HELPER=1.
func TestCrashHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "1" {
		return
	}
	if err := runCrashHelper(); err != nil {
		fmt.Fprintf(os.Stdout, "error: %v\n", err)
		os.Exit(3)
	}
	os.Exit(0)
}

func runCrashHelper() error {
	var j crashJob
	var err error
	j.dir, j.mode, j.killStep = os.Getenv(envDir), os.Getenv(envMode), files.Step(os.Getenv(envStep))
	if j.size, err = strconv.Atoi(os.Getenv(envSize)); err != nil {
		return err
	}
	if j.partSize, err = strconv.Atoi(os.Getenv(envPartSize)); err != nil {
		return err
	}
	if j.seed, err = strconv.ParseUint(os.Getenv(envSeed), 10, 64); err != nil {
		return err
	}
	if j.window, err = strconv.Atoi(os.Getenv(envWindow)); err != nil {
		return err
	}
	j.inOrder = os.Getenv(envInOrder) == "true"
	if j.stateEvery, err = strconv.ParseInt(os.Getenv(envStates), 10, 64); err != nil {
		return err
	}
	stdin := bufio.NewReader(os.Stdin)

	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}

	ctx := context.Background()
	cfg := files.Config{
		HashStateEvery: j.stateEvery,
		OnStep: func(s files.Step) {
			say("step %s", s)
			if s == j.killStep {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				for {
					time.Sleep(time.Hour) // the signal is on its way
				}
			}
		},
	}
	b, err := backend.OpenEmbedded(ctx, j.dir, cfg)
	if err != nil {
		return err
	}
	data := crashContent(j.seed, j.size)
	say("opened")

	// Save the parts the way a client of saveBigFilePart does: 8 workers, parts
	// in a shuffled order.
	n := j.parts()
	order := rand.New(rand.NewPCG(j.seed, 1)).Perm(n)
	if j.inOrder {
		slices.Sort(order)
	}
	next := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				err := b.Engine.SavePart(ctx, files.SavePart{
					Key: j.key(), Part: i, TotalParts: int32(n), Data: j.part(data, i),
				})
				if err != nil {
					say("error: save part %d: %v", i, err) // the parent stops at once
					errs <- fmt.Errorf("save part %d: %w", i, err)
					return
				}
				say("saved %d", i)
			}
		}()
	}
	func() {
		defer close(next)
		for _, i := range order {
			if j.window > 0 {
				if _, err = stdin.ReadByte(); err != nil {
					err = fmt.Errorf("waiting for a credit: %w", err)
					return
				}
			}
			select {
			case next <- i:
			case err = <-errs:
				return
			}
		}
	}()
	wg.Wait()
	if err != nil {
		return err
	}
	select {
	case err := <-errs:
		return err
	default:
	}
	say("saved all")

	switch j.mode {
	case modeSave:
	case modeFinalize:
		say("finalizing")
		rec, err := b.Engine.Finalize(ctx, files.Finalize{Key: j.key(), Parts: n})
		if err != nil {
			return fmt.Errorf("finalize: %w", err)
		}
		say("finalized %d", rec.ID)
	default:
		return fmt.Errorf("unknown mode %q", j.mode)
	}
	// Wait to be killed. Stdin is a pipe from the parent: should the parent
	// die first, it closes and the child ends too.
	_, _ = io.Copy(io.Discard, stdin)
	return errors.New("stdin closed before the kill")
}

// ---------------------------------------------------------------------------
// The parent.

// childResult is what a killed child left behind.
type childResult struct {
	lines  []string // everything it printed, in order
	killed bool     // it died of SIGKILL
	status string   // how it ended, for messages
	stderr string   // its standard error, for messages
}

func (r childResult) has(line string) bool {
	for _, l := range r.lines {
		if l == line {
			return true
		}
	}
	return false
}

// savedParts returns the parts the child reported saved.
func (r childResult) savedParts(t *testing.T) map[int]bool {
	t.Helper()
	saved := make(map[int]bool)
	for _, l := range r.lines {
		if s, ok := strings.CutPrefix(l, "saved "); ok && s != "all" {
			i, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("child printed %q", l)
			}
			saved[i] = true
		}
	}
	return saved
}

// runChild starts a child on job j. onLine sees each line the child prints
// and returns true to have the child killed with SIGKILL right away. The
// child's remaining output is read to the end (the lines it printed before
// dying count too) and its end is awaited.
func runChild(t *testing.T, j crashJob, onLine func(line string) (kill bool)) childResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$", "-test.count=1",
		"-test.timeout="+(2*helperDeadline).String())
	cmd.Env = append(os.Environ(),
		envHelper+"=1",
		envDir+"="+j.dir,
		envMode+"="+j.mode,
		envSize+"="+strconv.Itoa(j.size),
		envPartSize+"="+strconv.Itoa(j.partSize),
		envSeed+"="+strconv.FormatUint(j.seed, 10),
		envStep+"="+string(j.killStep),
		envWindow+"="+strconv.Itoa(j.window),
		envInOrder+"="+strconv.FormatBool(j.inOrder),
		envStates+"="+strconv.FormatInt(j.stateEvery, 10),
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil { // leaving early on a failure
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	// grant gives the child n credits; after the kill, writes fail harmlessly.
	grant := func(n int) { _, _ = stdin.Write(bytes.Repeat([]byte{'+'}, n)) }
	if j.window > 0 {
		grant(j.window)
	}
	var watchdogFired bool
	var wdMu sync.Mutex
	watchdog := time.AfterFunc(helperDeadline, func() {
		wdMu.Lock()
		watchdogFired = true
		wdMu.Unlock()
		_ = cmd.Process.Kill()
	})
	defer watchdog.Stop()

	var res childResult
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		line := sc.Text()
		res.lines = append(res.lines, line)
		if killed {
			continue
		}
		if strings.HasPrefix(line, "error: ") || onLine(line) {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatalf("kill: %v", err)
			}
			killed = true
		} else if j.window > 0 && strings.HasPrefix(line, "saved ") && line != "saved all" {
			grant(1)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading the child's output: %v", err)
	}
	if !killed {
		// The child ended (or closed stdout) on its own; make sure it is gone.
		_ = cmd.Process.Kill()
	}
	err = cmd.Wait()
	res.stderr = stderr.String()
	wdMu.Lock()
	fired := watchdogFired
	wdMu.Unlock()
	if fired {
		t.Fatalf("child still running after %v; output %q; stderr:\n%s", helperDeadline, res.lines, res.stderr)
	}
	res.status = fmt.Sprint(err)
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		res.killed = true
	}
	for _, l := range res.lines {
		if strings.HasPrefix(l, "error: ") {
			t.Fatalf("child failed: %s; stderr:\n%s", l, res.stderr)
		}
	}
	return res
}

// reopen opens the embedded backend on dir, as a restarted server does, and
// checks that nothing partial is visible.
func reopen(t *testing.T, dir string) *backend.Embedded {
	t.Helper()
	b, err := backend.OpenEmbedded(context.Background(), dir, files.Config{})
	if err != nil {
		t.Fatalf("re-open after kill: %v", err)
	}
	checkNothingPartial(t, b, dir)
	return b
}

// records returns every stored file record.
func records(t *testing.T, b *backend.Embedded) []store.FileRecord {
	t.Helper()
	var recs []store.FileRecord
	err := b.Meta.Files(context.Background(), func(r store.FileRecord) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// readAll reads a stored file through the engine, 1 MiB per call.
func readAll(t *testing.T, e *files.Engine, rec store.FileRecord) []byte {
	t.Helper()
	const limit = 1 << 20
	ref := files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}
	out := make([]byte, 0, rec.Size)
	for off := int64(0); ; off += limit {
		c, err := e.Read(context.Background(), ref, off, limit, false, nil)
		if err != nil {
			t.Fatalf("read file %d at %d: %v", rec.ID, off, err)
		}
		out = append(out, c.Bytes...)
		if len(c.Bytes) < limit {
			return out
		}
	}
}

// checkNothingPartial checks that every record's content is complete and
// hashes to its SHA-256, and that no content exists without a record.
func checkNothingPartial(t *testing.T, b *backend.Embedded, dir string) {
	t.Helper()
	ids := make(map[string]bool)
	for _, rec := range records(t, b) {
		got := readAll(t, b.Engine, rec)
		if int64(len(got)) != rec.Size {
			t.Fatalf("file %d: read %d bytes, record says %d", rec.ID, len(got), rec.Size)
		}
		if sha256.Sum256(got) != rec.SHA256 {
			t.Fatalf("file %d: content does not hash to the recorded SHA-256", rec.ID)
		}
		ids[fmt.Sprintf("%016x", uint64(rec.ID))] = true
	}
	entries, err := os.ReadDir(filepath.Join(dir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !ids[e.Name()] {
			t.Fatalf("content %q under files/ has no record (orphan left by the crash)", e.Name())
		}
	}
}

// checkFile checks that rec is the upload of job j, complete and intact.
func checkFile(t *testing.T, b *backend.Embedded, j crashJob, data []byte, rec store.FileRecord) {
	t.Helper()
	if rec.Size != int64(len(data)) || rec.Parts != j.parts() || rec.PartSize != j.partSize {
		t.Fatalf("record size %d parts %d part size %d, want %d %d %d",
			rec.Size, rec.Parts, rec.PartSize, len(data), j.parts(), j.partSize)
	}
	if rec.SHA256 != sha256.Sum256(data) {
		t.Fatal("record SHA-256 does not match the uploaded content")
	}
	if got := readAll(t, b.Engine, rec); !bytes.Equal(got, data) {
		t.Fatal("bytes read back differ from the uploaded content")
	}
}

// missingPart returns X of a FILE_PART_X_MISSING error.
func missingPart(err error) (int, bool) {
	fe, ok := files.AsError(err)
	if !ok {
		return 0, false
	}
	s, ok := strings.CutPrefix(fe.Message, "FILE_PART_")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "_MISSING")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	return i, err == nil
}

// checkTempEmpty checks that no temporary part is left, in the engine and on disk.
func checkTempEmpty(t *testing.T, b *backend.Embedded, dir string) {
	t.Helper()
	if n, tb := b.Engine.Uploads(), b.Engine.TempBytes(); n != 0 || tb != 0 {
		t.Fatalf("after finalization: %d uploads, %d temporary bytes; want none", n, tb)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("temporary parts left on disk: %d entries under tmp/", len(entries))
	}
}

// checkConsumed checks that the upload of j cannot be finalized again.
func checkConsumed(t *testing.T, b *backend.Embedded, j crashJob) {
	t.Helper()
	_, err := b.Engine.Finalize(context.Background(), files.Finalize{Key: j.key(), Parts: j.parts()})
	if i, ok := missingPart(err); !ok || i != 0 {
		t.Fatalf("finalizing a consumed upload again: %v, want FILE_PART_0_MISSING", err)
	}
}

// ---------------------------------------------------------------------------
// U9

// TestU9_PartsSurviveKill9MidUpload: parts saved before a kill -9 are still
// there after a restart, and a client that saves the missing ones and
// finalizes gets the whole file.
func TestU9_PartsSurviveKill9MidUpload(t *testing.T) {
	const (
		size   = 24<<20 + 12345 // last part shorter than the others
		window = 16             // parts started ahead of the reports (8 workers)
	)
	cases := []struct {
		partSize int
		fraction float64 // of the parts reported saved before the kill
		// inOrder: parts go out in order and the child keeps the state of
		// its hashes every 2 MiB; the restart goes on from the last one.
		inOrder bool
	}{
		{128 << 10, 0.05, false},
		{512 << 10, 0.40, false},
		{128 << 10, 0.75, false},
		{512 << 10, 0.60, true},
	}
	for n, c := range cases {
		name := fmt.Sprintf("part%dK_kill%.0f%%", c.partSize>>10, 100*c.fraction)
		if c.inOrder {
			name += "_in_order_hash_states"
		}
		t.Run(name, func(t *testing.T) {
			j := crashJob{dir: t.TempDir(), mode: modeSave, size: size, partSize: c.partSize,
				seed: uint64(1000 + n), window: window}
			if c.inOrder {
				j.inOrder, j.stateEvery = true, 2<<20
			}
			total := j.parts()
			threshold := max(1, int(c.fraction*float64(total)))
			count := 0
			res := runChild(t, j, func(line string) bool {
				if strings.HasPrefix(line, "saved ") && line != "saved all" {
					count++
				}
				return count >= threshold
			})
			if !res.killed {
				t.Fatalf("child not killed by SIGKILL (%s); output %q; stderr:\n%s", res.status, res.lines, res.stderr)
			}
			saved := res.savedParts(t)
			if len(saved) < threshold || len(saved) > threshold+window || res.has("saved all") {
				t.Fatalf("child reported %d of %d parts saved before the kill, want %d to %d",
					len(saved), total, threshold, threshold+window)
			}
			t.Logf("killed after %d of %d parts reported saved", len(saved), total)

			data := crashContent(j.seed, j.size)
			b := reopen(t, j.dir)
			defer b.Close()
			if got := b.Engine.Uploads(); got != 1 {
				t.Fatalf("after restart: %d uploads, want 1", got)
			}
			var savedBytes int64
			for i := range saved {
				savedBytes += int64(len(j.part(data, i)))
			}
			if tb := b.Engine.TempBytes(); tb < savedBytes {
				t.Fatalf("after restart: %d temporary bytes, but %d bytes of parts were reported saved", tb, savedBytes)
			}
			wantLoaded := int64(0)
			if c.inOrder {
				wantLoaded = 1
			}
			if loaded := b.Engine.Stats().HashStatesLoaded; loaded != wantLoaded {
				t.Fatalf("after restart: went on from %d hash states (in order: %v)", loaded, c.inOrder)
			}

			// Resume like a client: finalize, save the part reported missing, repeat.
			ctx := context.Background()
			var resaved []int
			var rec store.FileRecord
			for attempt := 0; ; attempt++ {
				if attempt > total+1 {
					t.Fatalf("finalization still failing after %d attempts", attempt)
				}
				r, err := b.Engine.Finalize(ctx, files.Finalize{Key: j.key(), Parts: total})
				if err == nil {
					rec = r
					break
				}
				x, ok := missingPart(err)
				if !ok {
					t.Fatalf("finalize: %v", err)
				}
				if x < 0 || x >= total {
					t.Fatalf("finalize reports part %d missing, out of %d parts", x, total)
				}
				if saved[x] {
					t.Fatalf("part %d was reported saved before the kill but is missing after restart", x)
				}
				if err := b.Engine.SavePart(ctx, files.SavePart{
					Key: j.key(), Part: x, TotalParts: int32(total), Data: j.part(data, x),
				}); err != nil {
					t.Fatalf("re-saving part %d: %v", x, err)
				}
				resaved = append(resaved, x)
			}
			t.Logf("re-saved %d missing parts after the restart", len(resaved))
			checkFile(t, b, j, data, rec)
			checkTempEmpty(t, b, j.dir)
			checkNothingPartial(t, b, j.dir)
		})
	}
}

// ---------------------------------------------------------------------------
// F4

// TestF4_FinalizationAtomicUnderKill9: a kill -9 at each step of finalization
// leaves either the parts (before the commit) or the complete file (after it),
// and the upload is consumed at most once.
func TestF4_FinalizationAtomicUnderKill9(t *testing.T) {
	const size = 6<<20 + 777
	for n, step := range []files.Step{files.StepSeal, files.StepCommit, files.StepCleanup} {
		t.Run(string(step), func(t *testing.T) {
			j := crashJob{dir: t.TempDir(), mode: modeFinalize, size: size, partSize: 256 << 10,
				seed: uint64(2000 + n), killStep: step}
			res := runChild(t, j, func(line string) bool {
				if strings.HasPrefix(line, "finalized ") {
					t.Errorf("finalization ran to the end without reaching step %s", step)
					return true
				}
				return false
			})
			if t.Failed() {
				t.FailNow()
			}
			if !res.killed || !res.has("step "+string(step)) {
				t.Fatalf("child did not die of SIGKILL at step %s (%s); output %q; stderr:\n%s",
					step, res.status, res.lines, res.stderr)
			}

			// Before the restart: what the kill left on disk, to be sure the
			// crash happened where it should.
			contentDirs, err := os.ReadDir(filepath.Join(j.dir, "files"))
			if err != nil {
				t.Fatal(err)
			}
			wantDirs := map[files.Step]int{files.StepSeal: 0, files.StepCommit: 1, files.StepCleanup: 1}[step]
			if len(contentDirs) != wantDirs {
				t.Fatalf("killed at %s: %d entries under files/, want %d", step, len(contentDirs), wantDirs)
			}

			data := crashContent(j.seed, j.size)
			b := reopen(t, j.dir)
			defer b.Close()
			recs := records(t, b)
			ctx := context.Background()
			switch step {
			case files.StepSeal, files.StepCommit:
				if len(recs) != 0 {
					t.Fatalf("killed before the commit: %d records stored, want none", len(recs))
				}
				if left, _ := os.ReadDir(filepath.Join(j.dir, "files")); len(left) != 0 {
					t.Fatalf("killed before the commit: %d entries left under files/ after restart", len(left))
				}
				if got := b.Engine.Uploads(); got != 1 {
					t.Fatalf("killed before the commit: %d uploads after restart, want 1", got)
				}
				if tb := b.Engine.TempBytes(); tb != int64(size) {
					t.Fatalf("killed before the commit: %d temporary bytes after restart, want %d", tb, size)
				}
				finalizeAfterRestart(ctx, t, b, j, data)
				if got := len(records(t, b)); got != 1 {
					t.Fatalf("%d records after finalizing, want 1", got)
				}
			case files.StepCleanup:
				if len(recs) != 1 {
					t.Fatalf("killed after the commit: %d records stored, want 1", len(recs))
				}
				checkFile(t, b, j, data, recs[0])
				checkTempEmpty(t, b, j.dir)
				checkConsumed(t, b, j)
				if got := len(records(t, b)); got != 1 {
					t.Fatalf("%d records after finalizing again, want 1", got)
				}
			}
			checkNothingPartial(t, b, j.dir)
		})
	}
}

// TestF4_RandomKillDuringFinalize: a kill -9 at a random moment of the
// finalization of a large upload leaves exactly one of the two allowed states.
func TestF4_RandomKillDuringFinalize(t *testing.T) {
	const size = 64 << 20
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	for n := range 3 {
		// A random moment in 0–300 ms, one iteration per third of the window
		// so that the late steps (seal, commit, cleanup) get their chance.
		delay := time.Duration(n*100_000+rnd.IntN(100_000)) * time.Microsecond
		t.Run(fmt.Sprintf("iter%d", n), func(t *testing.T) {
			j := crashJob{dir: t.TempDir(), mode: modeFinalize, size: size, partSize: 512 << 10, seed: uint64(3000 + n)}
			res := runChild(t, j, func(line string) bool {
				if line != "finalizing" {
					return false
				}
				// Only picks a random kill moment; correctness does not depend on it.
				time.Sleep(delay)
				return true
			})
			if !res.killed {
				t.Fatalf("child not killed by SIGKILL (%s); output %q; stderr:\n%s", res.status, res.lines, res.stderr)
			}
			var reported int64
			for _, l := range res.lines {
				if s, ok := strings.CutPrefix(l, "finalized "); ok {
					reported, _ = strconv.ParseInt(s, 10, 64)
				}
			}
			var steps []string
			for _, l := range res.lines {
				if s, ok := strings.CutPrefix(l, "step "); ok {
					steps = append(steps, s)
				}
			}

			data := crashContent(j.seed, j.size)
			b := reopen(t, j.dir)
			defer b.Close()
			recs := records(t, b)
			ctx := context.Background()
			switch len(recs) {
			case 0: // (a) the old state: the parts, and they finalize now
				if reported != 0 {
					t.Fatalf("child reported file %d finalized, but no record survived", reported)
				}
				if got, tb := b.Engine.Uploads(), b.Engine.TempBytes(); got != 1 || tb != size {
					t.Fatalf("no record, but %d uploads with %d temporary bytes; want 1 with %d", got, tb, size)
				}
				finalizeAfterRestart(ctx, t, b, j, data)
				t.Logf("killed %v after \"finalizing\" (steps seen %v): parts kept, finalized after restart", delay, steps)
			case 1: // (b) the complete file, parts gone
				if reported != 0 && recs[0].ID != reported {
					t.Fatalf("child reported file %d finalized, the stored record is %d", reported, recs[0].ID)
				}
				checkFile(t, b, j, data, recs[0])
				checkTempEmpty(t, b, j.dir)
				checkConsumed(t, b, j)
				t.Logf("killed %v after \"finalizing\" (steps seen %v, finalize returned: %v): file complete",
					delay, steps, reported != 0)
			default:
				t.Fatalf("%d records after one finalization", len(recs))
			}
			if got := len(records(t, b)); got != 1 {
				t.Fatalf("%d records at the end, want 1", got)
			}
		})
	}
}

// finalizeAfterRestart finalizes an upload whose parts survived a kill and
// checks the stored file and that the upload is consumed.
func finalizeAfterRestart(ctx context.Context, t *testing.T, b *backend.Embedded, j crashJob, data []byte) {
	t.Helper()
	rec, err := b.Engine.Finalize(ctx, files.Finalize{Key: j.key(), Parts: j.parts()})
	if err != nil {
		t.Fatalf("finalizing after restart: %v", err)
	}
	checkFile(t, b, j, data, rec)
	checkTempEmpty(t, b, j.dir)
	checkConsumed(t, b, j)
}
