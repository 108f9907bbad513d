package files_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

func TestU1_SavePartStoresAndRetryReplaces(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	for _, big := range []bool{false, true} {
		key := store.UploadKey{Owner: 1, FileID: -4156887774564, Big: big}
		first := content(1, 2048)
		second := content(2, 2048)
		last := content(3, 100)
		req := func(part int, data []byte) files.SavePart {
			return files.SavePart{Key: key, Part: part, TotalParts: 2, Data: data}
		}
		wantErr(t, e.SavePart(ctx, req(0, first)), "")
		wantErr(t, e.SavePart(ctx, req(1, last)), "")
		wantErr(t, e.SavePart(ctx, req(0, second)), "") // a retry replaces the part
		if got := e.TempBytes(); got != 2048+100 {
			t.Fatalf("temp bytes %d after a retry, want %d", got, 2048+100)
		}
		rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 2})
		wantErr(t, err, "")
		checkStored(t, e, rec, append(append([]byte{}, second...), last...))
	}
}

func TestU2_PartsScopedToOwner(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	alice := store.UploadKey{Owner: 1, FileID: 77}
	bob := store.UploadKey{Owner: 2, FileID: 77}
	data := content(1, 3000)
	saveAll(t, e, alice, [][]byte{data})

	// Bob cannot finalize Alice's parts under the same file_id.
	_, err := e.Finalize(ctx, files.Finalize{Key: bob, Parts: 1})
	wantErr(t, err, "FILE_PART_0_MISSING")
	// Bob's parts with the same file_id neither overwrite nor mix with Alice's.
	saveAll(t, e, bob, [][]byte{content(2, 5000)})
	rec, err := e.Finalize(ctx, files.Finalize{Key: alice, Parts: 1})
	wantErr(t, err, "")
	checkStored(t, e, rec, data)
	if rec.Owner != alice.Owner {
		t.Fatalf("owner %d, want %d", rec.Owner, alice.Owner)
	}
	rec, err = e.Finalize(ctx, files.Finalize{Key: bob, Parts: 1})
	wantErr(t, err, "")
	checkStored(t, e, rec, content(2, 5000))
}

func TestU3_PartSizeRules(t *testing.T) {
	const K = 1024
	type save struct {
		part  int
		size  int
		total int32 // big path when non-zero
		want  string
	}
	cases := []struct {
		name  string
		saves []save
		parts int    // finalize with this many parts when non-zero
		final string // expected finalization error
	}{
		{"empty part", []save{{0, 0, 0, "FILE_PART_EMPTY"}}, 0, ""},
		{"too big", []save{{0, 512*K + 1, 0, "FILE_PART_TOO_BIG"}}, 0, ""},
		{"512 KiB is allowed", []save{{0, 512 * K, 2, ""}, {1, 1, 2, ""}}, 2, ""},
		{"all valid sizes", []save{{0, 1 * K, 3, ""}, {1, 1 * K, 3, ""}, {2, 10, 3, ""}}, 3, ""},
		{"non-last not a multiple of 1 KiB", []save{{0, 1000, 3, "FILE_PART_SIZE_INVALID"}}, 0, ""},
		{"non-last does not divide 512 KiB", []save{{0, 3 * K, 3, "FILE_PART_SIZE_INVALID"}}, 0, ""},
		{"last part may be any smaller size", []save{{2, 1000, 3, ""}, {0, 4 * K, 3, ""}, {1, 4 * K, 3, ""}}, 3, ""},
		{"changed size", []save{{0, 128 * K, 3, ""}, {1, 64 * K, 3, "FILE_PART_SIZE_CHANGED"}}, 0, ""},
		{"last larger than part_size", []save{{0, 64 * K, 2, ""}, {1, 128 * K, 2, "FILE_PART_SIZE_CHANGED"}}, 0, ""},
		{"single part of any size", []save{{0, 12345, 1, ""}}, 1, ""},
		// Small path: the count is unknown until finalization, so a short part
		// is accepted until a higher part proves it was not the last one.
		{"small: short part then a higher one", []save{{0, 3000, 0, ""}, {1, 3000, 0, "FILE_PART_SIZE_INVALID"}}, 0, ""},
		{"small: short part proven non-last at finalization", []save{{1, 3000, 0, ""}, {0, 3000, 0, "FILE_PART_SIZE_INVALID"}}, 0, ""},
		{"small: sizes differ", []save{{0, 8 * K, 0, ""}, {1, 8 * K, 0, ""}, {3, 16 * K, 0, "FILE_PART_SIZE_CHANGED"}}, 0, ""},
		{"small: last smaller", []save{{0, 8 * K, 0, ""}, {1, 8 * K, 0, ""}, {2, 5, 0, ""}}, 3, ""},
		{"small: finalized short of its saved parts", []save{{0, 8 * K, 0, ""}, {1, 2 * K, 0, ""}}, 1, "FILE_PARTS_INVALID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEngine(t, files.Config{})
			big := tc.saves[0].total != 0
			key := store.UploadKey{Owner: 1, FileID: 5, Big: big}
			for i, s := range tc.saves {
				err := e.SavePart(ctx, files.SavePart{Key: key, Part: s.part, TotalParts: s.total, Data: content(uint64(i), s.size)})
				wantErr(t, err, s.want)
			}
			if tc.parts > 0 {
				_, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: tc.parts})
				wantErr(t, err, tc.final)
			}
		})
	}
}

func TestU3_RejectedPartLeavesUploadIntact(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	key := store.UploadKey{Owner: 1, FileID: 9, Big: true}
	data := content(1, 3*8192+100)
	parts := split(data, 8192)
	saveAll(t, e, key, parts)
	// A retry of part 1 with a different size is refused; the stored part stays.
	err := e.SavePart(ctx, files.SavePart{Key: key, Part: 1, TotalParts: 4, Data: make([]byte, 4096)})
	wantErr(t, err, "FILE_PART_SIZE_CHANGED")
	rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 4})
	wantErr(t, err, "")
	checkStored(t, e, rec, data)
}

// TestU4_AnyOrderInParallel saves valid uploads in random orders from many
// goroutines, with retries, and expects every one to finalize to its bytes.
func TestU4_AnyOrderInParallel(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	const uploads = 40
	const workers = 200
	type job struct {
		key  store.UploadKey
		part int
		data []byte
		n    int
	}
	var all []job
	want := make(map[store.UploadKey][]byte)
	count := make(map[store.UploadKey]int)
	rng := rand.New(rand.NewPCG(4, 4))
	sizes := []int{1024, 4096, 32 << 10, 128 << 10}
	for u := 0; u < uploads; u++ {
		ps := sizes[u%len(sizes)]
		key := store.UploadKey{Owner: int64(u % 3), FileID: rng.Int64(), Big: u%2 == 0}
		data := content(uint64(u), ps*(1+rng.IntN(12))+rng.IntN(ps))
		want[key] = data
		parts := split(data, ps)
		count[key] = len(parts)
		for i, p := range parts {
			all = append(all, job{key, i, p, len(parts)})
			if rng.IntN(4) == 0 {
				all = append(all, job{key, i, p, len(parts)}) // a retry
			}
		}
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	jobs := make(chan job)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				req := files.SavePart{Key: j.key, Part: j.part, Data: j.data}
				if j.key.Big {
					req.TotalParts = -1 // streamed: only the last part tells the total
					if j.part == j.n-1 {
						req.TotalParts = int32(j.n)
					}
				}
				if err := e.SavePart(ctx, req); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for _, j := range all {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a valid upload was rejected: %v", err)
	}
	var fwg sync.WaitGroup
	for key, data := range want {
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			n := count[key]
			rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: n})
			if err != nil {
				t.Errorf("finalize %v: %v", key, err)
				return
			}
			checkStored(t, e, rec, data)
		}()
	}
	fwg.Wait()
	if e.TempBytes() != 0 || e.Uploads() != 0 {
		t.Fatalf("after finalizing everything: %d temp bytes in %d uploads", e.TempBytes(), e.Uploads())
	}
}

func TestU4_ConcurrentRetriesOfOnePart(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	key := store.UploadKey{Owner: 1, FileID: 1, Big: true}
	data := content(9, 64<<10)
	parts := split(data, 16<<10)
	var wg sync.WaitGroup
	for r := 0; r < 20; r++ {
		for i, p := range parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := e.SavePart(ctx, files.SavePart{Key: key, Part: i, TotalParts: 4, Data: p}); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	if e.TempBytes() != int64(len(data)) {
		t.Fatalf("temp bytes %d, want %d", e.TempBytes(), len(data))
	}
	rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: 4})
	wantErr(t, err, "")
	checkStored(t, e, rec, data)
}

func TestU5_PartIndexRange(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		cfg     files.Config
		premium bool
		part    int
		want    string
	}{
		{files.Config{}, false, -1, "FILE_PART_INVALID"},
		{files.Config{}, false, 0, ""},
		{files.Config{}, false, 3999, ""},
		{files.Config{}, false, 4000, "FILE_PART_INVALID"},
		{files.Config{}, true, 7999, ""},
		{files.Config{}, true, 8000, "FILE_PART_INVALID"},
		{files.Config{MaxParts: 3000}, false, 2999, ""},
		{files.Config{MaxParts: 3000}, false, 3000, "FILE_PART_INVALID"},
	}
	for _, tc := range cases {
		e := newEngine(t, tc.cfg)
		for _, big := range []bool{false, true} {
			req := files.SavePart{Key: store.UploadKey{Owner: 1, FileID: 1, Big: big}, Part: tc.part, Premium: tc.premium, Data: make([]byte, 1024)}
			if big {
				req.TotalParts = -1
			}
			wantErr(t, e.SavePart(ctx, req), tc.want)
		}
	}
}

func TestU6_TotalParts(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	key := store.UploadKey{Owner: 1, FileID: 1, Big: true}
	kb := make([]byte, 1024)
	for _, total := range []int32{0, -2, 4001} {
		wantErr(t, e.SavePart(ctx, files.SavePart{Key: key, Part: 0, TotalParts: total, Data: kb}), "FILE_PARTS_INVALID")
	}
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: key, Part: 0, TotalParts: 8000, Premium: true, Data: kb}), "")
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: key, Part: 0, TotalParts: 8001, Premium: true, Data: kb}), "FILE_PARTS_INVALID")

	// A part beyond the total it carries.
	other := store.UploadKey{Owner: 1, FileID: 2, Big: true}
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: other, Part: 3, TotalParts: 3, Data: kb}), "FILE_PART_INVALID")
	// Parts that disagree on the total.
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: other, Part: 0, TotalParts: 3, Data: kb}), "")
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: other, Part: 1, TotalParts: 4, Data: kb}), "FILE_PARTS_INVALID")

	// Streamed upload: -1 until the last part, which carries the real total.
	stream := store.UploadKey{Owner: 1, FileID: 3, Big: true}
	data := content(3, 5*4096+17)
	parts := split(data, 4096)
	for i, p := range parts {
		total := int32(-1)
		if i == len(parts)-1 {
			total = int32(len(parts))
		}
		wantErr(t, e.SavePart(ctx, files.SavePart{Key: stream, Part: i, TotalParts: total, Data: p}), "")
	}
	rec, err := e.Finalize(ctx, files.Finalize{Key: stream, Parts: len(parts)})
	wantErr(t, err, "")
	checkStored(t, e, rec, data)

	// The declared total must match the finalization's parts.
	decl := store.UploadKey{Owner: 1, FileID: 4, Big: true}
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: decl, Part: 0, TotalParts: 2, Data: kb}), "")
	wantErr(t, e.SavePart(ctx, files.SavePart{Key: decl, Part: 1, TotalParts: 2, Data: kb}), "")
	_, err = e.Finalize(ctx, files.Finalize{Key: decl, Parts: 3})
	wantErr(t, err, "FILE_PARTS_INVALID")
}

func TestU7_SmallAndBigPaths(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	const ps = 512 << 10
	// Exactly 10 MiB on the small path is fine; one byte more is not.
	for _, tc := range []struct {
		size int
		want string
	}{{10 << 20, ""}, {10<<20 + 1, "FILE_PARTS_INVALID"}} {
		key := store.UploadKey{Owner: 1, FileID: int64(tc.size)}
		parts := split(content(1, tc.size), ps)
		saveAll(t, e, key, parts)
		_, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: len(parts)})
		wantErr(t, err, tc.want)
	}
	// The big path takes any size, small ones included.
	for _, size := range []int{1, 5000, 10<<20 + 1} {
		key := store.UploadKey{Owner: 1, FileID: int64(size), Big: true}
		data := content(2, size)
		parts := split(data, ps)
		saveAll(t, e, key, parts)
		rec, err := e.Finalize(ctx, files.Finalize{Key: key, Parts: len(parts)})
		wantErr(t, err, "")
		checkStored(t, e, rec, data)
	}
	// Parts saved through one path are not an upload of the other path.
	key := store.UploadKey{Owner: 1, FileID: 99}
	saveAll(t, e, key, [][]byte{content(3, 100)})
	_, err := e.Finalize(ctx, files.Finalize{Key: store.UploadKey{Owner: 1, FileID: 99, Big: true}, Parts: 1})
	wantErr(t, err, "FILE_PART_0_MISSING")
}

func TestU4_RefusedSavesLeaveNoState(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, files.Config{})
	for i := 0; i < 100; i++ {
		// Part 0 of 3 with a size that cannot be a non-last part.
		key := store.UploadKey{Owner: 1, FileID: int64(i), Big: true}
		err := e.SavePart(ctx, files.SavePart{Key: key, Part: 0, TotalParts: 3, Data: make([]byte, 1000)})
		wantErr(t, err, "FILE_PART_SIZE_INVALID")
	}
	if n := e.Uploads(); n != 0 {
		t.Fatalf("%d uploads remain from refused saves", n)
	}
}
