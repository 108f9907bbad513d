package files_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/memstore"
)

// countingTemp counts the parts read back from temporary storage.
type countingTemp struct {
	store.Temp
	reads atomic.Int64
}

func (c *countingTemp) ReadPart(ctx context.Context, id store.UploadID, index int, buf []byte) (store.Part, []byte, error) {
	c.reads.Add(1)
	return c.Temp.ReadPart(ctx, id, index, buf)
}

// countedEngine returns an engine on memory stores whose part reads are
// counted, and the store, for starting another engine on it.
func countedEngine(t *testing.T, mem *memstore.Store) (*files.Engine, *countingTemp) {
	t.Helper()
	temp := &countingTemp{Temp: mem}
	e, err := files.New(context.Background(), files.Config{}, temp, mem, mem)
	if err != nil {
		t.Fatal(err)
	}
	return e, temp
}

// saveInOrder saves parts as a client with `workers` saves in flight does:
// each worker takes the next index, so parts arrive nearly in order.
func saveInOrder(t *testing.T, e *files.Engine, key store.UploadKey, parts [][]byte, workers int) {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(parts) {
					return
				}
				req := files.SavePart{Key: key, Part: i, Data: parts[i]}
				if key.Big {
					req.TotalParts = int32(len(parts))
				}
				if err := e.SavePart(context.Background(), req); err != nil {
					t.Errorf("save part %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
}

// TestF5_FinalizeOfAnInOrderUploadReadsNoPart: parts are hashed as they
// arrive, so finalizing an upload whose parts came in order, 8 in flight,
// reads none of them back; the file is what its hashes say. The same on the
// small path with md5_checksum (F3): right, and wrong.
func TestF5_FinalizeOfAnInOrderUploadReadsNoPart(t *testing.T) {
	ctx := context.Background()
	e, temp := countedEngine(t, memstore.New())

	data := content(51, 40*512<<10+777)
	big := store.UploadKey{Owner: 1, FileID: 1, Big: true}
	parts := split(data, 512<<10)
	saveInOrder(t, e, big, parts, 8)
	before := temp.reads.Load()
	rec, err := e.Finalize(ctx, files.Finalize{Key: big, Parts: len(parts), Name: "big.bin"})
	wantErr(t, err, "")
	if n := temp.reads.Load() - before; n != 0 {
		t.Errorf("finalizing %d parts that came in order read %d back, want 0", len(parts), n)
	}
	checkAsHashed(t, e, rec)
	checkStored(t, e, rec, data)

	small := content(52, 3*128<<10+5)
	sum := md5.Sum(small)
	for _, tc := range []struct {
		md5, err string
	}{{hex.EncodeToString(sum[:]), ""}, {"00112233445566778899aabbccddeeff", "MD5_CHECKSUM_INVALID"}} {
		key := store.UploadKey{Owner: 1, FileID: 2}
		parts := split(small, 128<<10)
		saveInOrder(t, e, key, parts, 2)
		before := temp.reads.Load()
		rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: len(parts), MD5: tc.md5, Name: "small.bin"})
		wantErr(t, err, tc.err)
		if n := temp.reads.Load() - before; n != 0 {
			t.Errorf("finalizing a small upload (md5 %s) read %d parts back, want 0", tc.md5, n)
		}
		if err == nil {
			checkStored(t, e, rec, small)
		} else {
			// The upload stays: a wrong checksum consumes nothing.
			_, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: len(parts), Name: "small.bin"})
			wantErr(t, err, "")
		}
	}
}

// TestF5_PartsOutOfOrderAreReadBackOnce: parts that arrive before their
// turn are read back once, some by later saves (a bounded number each) and
// the rest by finalization, whatever the order.
func TestF5_PartsOutOfOrderAreReadBackOnce(t *testing.T) {
	ctx := context.Background()
	const n = 40
	for name, order := range map[string][]int{
		"reverse":  backward(n),
		"shuffled": shuffled(n, 7),
		"lastFirst": append([]int{n - 1}, func() []int {
			s := make([]int, n-1)
			for i := range s {
				s[i] = i
			}
			return s
		}()...),
	} {
		t.Run(name, func(t *testing.T) {
			e, temp := countedEngine(t, memstore.New())
			data := content(53, n*64<<10)
			parts := split(data, 64<<10)
			key := store.UploadKey{Owner: 1, FileID: 1, Big: true}
			// Count which parts came before their turn.
			early, hashedTo := 0, 0
			arrived := make([]bool, n)
			for _, i := range order {
				wantErr(t, e.SavePart(ctx, files.SavePart{Key: key, Part: i, TotalParts: n, Data: parts[i]}), "")
				arrived[i] = true
				if i != hashedTo {
					early++
				}
				for hashedTo < n && arrived[hashedTo] {
					hashedTo++
				}
			}
			rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: n})
			wantErr(t, err, "")
			if got := temp.reads.Load(); got != int64(early) {
				t.Errorf("%d parts came before their turn, %d were read back", early, got)
			}
			checkAsHashed(t, e, rec)
			checkStored(t, e, rec, data)
		})
	}
}

// TestF5_PartSavedAgainAfterItWasHashed: saving a part again after it was
// hashed starts the hashes over, and the file is the new bytes.
func TestF5_PartSavedAgainAfterItWasHashed(t *testing.T) {
	ctx := context.Background()
	e, _ := countedEngine(t, memstore.New())
	data := content(54, 10*1024)
	parts := split(data, 1024)
	key := store.UploadKey{Owner: 1, FileID: 1}
	saveAll(t, e, key, parts)
	parts[3] = content(55, 1024)
	copy(data[3*1024:], parts[3])
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: key, Part: 3, Data: parts[3]}), "")
	sum := md5.Sum(data)
	rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: len(parts), MD5: hex.EncodeToString(sum[:])})
	wantErr(t, err, "")
	checkAsHashed(t, e, rec)
	checkStored(t, e, rec, data)
}

// TestF5_HashesTakenAgainAfterARestart: after a restart the hashes taken
// as parts arrived are gone; the next saves read the parts saved before it
// back (a bounded number each), and finalization is correct either way.
func TestF5_HashesTakenAgainAfterARestart(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	first, _ := countedEngine(t, mem)
	data := content(56, 30*1024)
	parts := split(data, 1024)
	key := store.UploadKey{Owner: 1, FileID: 1, Big: true}
	for i := range 10 {
		wantErr(t, first.SavePart(ctx, files.SavePart{Key: key, Part: i, TotalParts: 30, Data: parts[i]}), "")
	}
	// The process is gone; another starts on the same stores.
	e, temp := countedEngine(t, mem)
	for i := 10; i < 30; i++ {
		wantErr(t, e.SavePart(ctx, files.SavePart{Key: key, Part: i, TotalParts: 30, Data: parts[i]}), "")
	}
	if got := temp.reads.Load(); got != 10 {
		t.Errorf("after the restart the saves read %d parts back, want the 10 saved before it", got)
	}
	before := temp.reads.Load()
	rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 30})
	wantErr(t, err, "")
	if n := temp.reads.Load() - before; n != 0 {
		t.Errorf("finalization read %d parts back, want 0", n)
	}
	checkStored(t, e, rec, data)

	// A restart right before finalization: it reads every part.
	key.FileID = 2
	for i := range 30 {
		wantErr(t, e.SavePart(ctx, files.SavePart{Key: key, Part: i, TotalParts: 30, Data: parts[i]}), "")
	}
	again, temp := countedEngine(t, mem)
	rec, err = again.Finalize(ctx, files.Finalize{Key: key, Parts: 30})
	wantErr(t, err, "")
	if got := temp.reads.Load(); got != 30 {
		t.Errorf("finalization after a restart read %d parts, want 30", got)
	}
	checkAsHashed(t, again, rec)
	checkStored(t, again, rec, data)
}

// shuffled returns 0..n-1 in a random order of seed.
func shuffled(n int, seed uint64) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	r := rand.New(rand.NewPCG(seed, 1))
	r.Shuffle(n, func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

// backward returns n-1 down to 0.
func backward(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = n - 1 - i
	}
	return s
}

// gatedTemp holds the saves of one part until released, and can fail them.
type gatedTemp struct {
	countingTemp
	part    int
	entered chan struct{} // a save of part has reached the store
	release chan error    // what that save returns (nil: it goes through)
}

func (g *gatedTemp) PutPart(ctx context.Context, id store.UploadID, key store.UploadKey, p store.Part, data []byte) (uint64, error) {
	if p.Index == g.part {
		g.entered <- struct{}{}
		if err := <-g.release; err != nil {
			return 0, err
		}
	}
	return g.countingTemp.PutPart(ctx, id, key, p, data)
}

// TestF5_APartFinishingEarlyWaitsForTheOneBeforeIt: parallel saves finish
// a little out of order; a part whose predecessors are being saved waits
// for its turn and is hashed from its own bytes, so nothing is read back.
// When the save it waits for fails, it stops waiting, and is read back
// once the part before it is saved again.
func TestF5_APartFinishingEarlyWaitsForTheOneBeforeIt(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	g := &gatedTemp{countingTemp: countingTemp{Temp: mem}, part: 0, entered: make(chan struct{}), release: make(chan error)}
	waiting := make(chan struct{}, 8)
	e, err := files.New(ctx, files.Config{OnStep: func(s files.Step) {
		if s == files.StepTurn {
			waiting <- struct{}{}
		}
	}}, g, mem, mem)
	if err != nil {
		t.Fatal(err)
	}
	data := content(57, 3*1024)
	parts := split(data, 1024)
	save := func(key store.UploadKey, i int) chan error {
		done := make(chan error, 1)
		go func() { done <- e.SavePart(ctx, files.SavePart{Key: key, Part: i, TotalParts: 3, Data: parts[i]}) }()
		return done
	}

	key := store.UploadKey{Owner: 1, FileID: 1, Big: true}
	first := save(key, 0)
	<-g.entered // part 0 is being saved
	second := save(key, 1)
	<-waiting // part 1 waits for part 0
	third := save(key, 2)
	<-waiting // part 2 waits for parts 0 and 1
	g.release <- nil
	for _, done := range []chan error{first, second, third} {
		wantErr(t, <-done, "")
	}
	rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 3})
	wantErr(t, err, "")
	if n := g.reads.Load(); n != 0 {
		t.Errorf("%d parts read back, want 0: the early ones waited for their turn", n)
	}
	checkStored(t, e, rec, data)

	key.FileID = 2
	first = save(key, 0)
	<-g.entered
	later := save(key, 1)
	<-waiting
	g.release <- errors.New("the disk is full")
	if err := <-first; err == nil {
		t.Fatal("the failed save of part 0 succeeded")
	}
	wantErr(t, <-later, "") // no longer waits for part 0: put aside
	again := save(key, 0)
	<-g.entered
	g.release <- nil
	wantErr(t, <-again, "")
	wantErr(t, <-save(key, 2), "")
	rec, err = e.Finalize(ctx, files.Finalize{Key: key, Parts: 3})
	wantErr(t, err, "")
	if n := g.reads.Load(); n != 1 {
		t.Errorf("%d parts read back, want part 1, saved while part 0 failed", n)
	}
	checkStored(t, e, rec, data)
}

// keepingTemp is a countingTemp that also keeps hash states, counting them.
type keepingTemp struct {
	*countingTemp
	keeper      store.HashStateKeeper
	statesKept  atomic.Int64
	statesReads atomic.Int64
}

func (k *keepingTemp) PutHashState(ctx context.Context, id store.UploadID, state []byte) error {
	k.statesKept.Add(1)
	return k.keeper.PutHashState(ctx, id, state)
}

func (k *keepingTemp) HashState(ctx context.Context, id store.UploadID) ([]byte, error) {
	k.statesReads.Add(1)
	return k.keeper.HashState(ctx, id)
}

// TestF5_HashStateSurvivesARestart: the hashes taken as parts arrive are
// kept every HashStateEvery bytes, so an engine started again on the same
// stores (a restart in the middle of an upload) goes on from the last state
// and reads back only the parts saved after it; the file is right, its
// range hashes and MD5 too. A state that no longer matches the parts (one
// saved again since) is not used, and the file is still right.
func TestF5_HashStateSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	const part = 128 << 10
	start := func(mem *memstore.Store) (*files.Engine, *keepingTemp) {
		k := &keepingTemp{countingTemp: &countingTemp{Temp: mem}, keeper: mem}
		e, err := files.New(ctx, files.Config{HashStateEvery: 4 * part}, k, mem, mem)
		if err != nil {
			t.Fatal(err)
		}
		return e, k
	}
	for _, tc := range []struct {
		name      string
		big       bool
		resave    int // a part saved again, with other bytes, before the restart; -1 none
		wantReads int64
		wantState int64 // states loaded at the restart
	}{
		// 22 parts before the restart, states at 4, 8, ..., 20: parts 20
		// and 21 are read back, by the saves after the restart.
		{"big", true, -1, 2, 1},
		{"small with MD5", false, -1, 2, 1},
		// Part 5 saved again: the hashes start over in memory, and the
		// state kept before names its old version, so all 22 are read back.
		{"part saved again", true, 5, 22, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memstore.New()
			e, k := start(mem)
			data := content(60, 30*part-99)
			parts := split(data, part)
			key := store.UploadKey{Owner: 1, FileID: 1, Big: tc.big}
			save := func(e *files.Engine, i int, b []byte) {
				req := files.SavePart{Key: key, Part: i, Data: b}
				if tc.big {
					req.TotalParts = int32(len(parts))
				}
				wantErr(t, e.SavePart(ctx, req), "")
			}
			for i := range 22 {
				save(e, i, parts[i])
			}
			if tc.resave >= 0 {
				save(e, tc.resave, content(61, part))
				copy(data[tc.resave*part:], content(61, part))
			}
			if n := k.statesKept.Load(); n != 5 {
				t.Fatalf("kept %d states over 22 parts, want 5 (one every 4)", n)
			}

			e, k = start(mem) // the restart
			if got := e.Stats().HashStatesLoaded; got != tc.wantState {
				t.Fatalf("went on from %d states, want %d", got, tc.wantState)
			}
			if n := k.statesReads.Load(); n != 1 {
				t.Fatalf("the start read %d kept states of its one upload, want 1", n)
			}
			for i := 22; i < len(parts); i++ {
				save(e, i, parts[i])
			}
			sum := md5.Sum(data)
			f := files.Finalize{Key: key, Parts: len(parts)}
			if !tc.big {
				f.MD5 = hex.EncodeToString(sum[:])
			}
			rec, err := e.Finalize(ctx, f)
			wantErr(t, err, "")
			if n := k.reads.Load(); n != tc.wantReads {
				t.Errorf("after the restart, %d parts read back, want %d", n, tc.wantReads)
			}
			checkAsHashed(t, e, rec)
			checkStored(t, e, rec, data)
			if _, err := mem.HashState(ctx, rec.Upload); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the finalized upload's hash state is still kept: %v", err)
			}
		})
	}
}
