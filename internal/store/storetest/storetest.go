// Package storetest is the conformance suite for implementations of the
// interfaces of package store. Every backend runs it from its own tests:
//
//	func TestTemp(t *testing.T) {
//		storetest.TestTemp(t, func(t *testing.T) store.Temp { return open(t) })
//	}
//
// Each exported function runs one subtest per documented behaviour of an
// interface. The constructor is called once per subtest with that subtest's
// *testing.T and must return an empty store; it releases what it opened with
// t.Cleanup.
package storetest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// errStop is returned by iteration callbacks to check that an error stops the
// iteration and is passed back to the caller.
var errStop = errors.New("storetest: stop")

// Data returns n deterministic pseudo-random bytes.
func Data(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		copy(b[i:], w[:])
	}
	return b
}

// UploadID returns a deterministic upload id for n.
func UploadID(n uint64) store.UploadID {
	var id store.UploadID
	copy(id[:], "storetst")
	binary.BigEndian.PutUint64(id[8:], n)
	return id
}

// savedAt is a time with nanoseconds and a non-UTC zone, to check that times
// survive a round trip to the nanosecond.
func savedAt(n int) time.Time {
	zone := time.FixedZone("UTC+3", 3*3600)
	return time.Date(2026, 3, 14, 15, 9, 26, 535897932, zone).Add(time.Duration(n) * time.Millisecond)
}

// split cuts data into parts of partSize bytes (the last one shorter).
func split(data []byte, partSize int) [][]byte {
	var parts [][]byte
	for off := 0; off < len(data); off += partSize {
		parts = append(parts, data[off:min(len(data), off+partSize)])
	}
	return parts
}

func buf() []byte { return make([]byte, store.MaxPartSize) }

func samePart(a, b store.Part) bool {
	return a.Index == b.Index && a.Size == b.Size && a.Total == b.Total && a.SavedAt.Equal(b.SavedAt)
}

func fmtPart(p store.Part) string {
	return fmt.Sprintf("{Index:%d Size:%d Total:%d SavedAt:%s}", p.Index, p.Size, p.Total, p.SavedAt.Format(time.RFC3339Nano))
}

// putParts saves data cut into parts of partSize bytes as upload id and
// returns the parts.
func putParts(t *testing.T, tmp store.Temp, id store.UploadID, key store.UploadKey, data []byte, partSize int) [][]byte {
	t.Helper()
	parts := split(data, partSize)
	for i, p := range parts {
		part := store.Part{Index: i, Size: len(p), Total: int32(len(parts)), SavedAt: savedAt(i)}
		v, err := tmp.PutPart(t.Context(), id, key, part, p)
		if err != nil {
			t.Fatalf("PutPart(%s, %d): %v", id, i, err)
		}
		// The version a save returns is the one reads report: the engine
		// seals parts it hashed as they arrived by it.
		if got, _, err := tmp.ReadPart(t.Context(), id, i, buf()); err != nil || got.Version != v {
			t.Fatalf("ReadPart(%s, %d) after PutPart gave version %d: version %d, %v", id, i, v, got.Version, err)
		}
	}
	return parts
}

// checkPart reads part want.Index of id and compares it with want and data.
func checkPart(t *testing.T, tmp store.Temp, id store.UploadID, want store.Part, data []byte) {
	t.Helper()
	got, b, err := tmp.ReadPart(t.Context(), id, want.Index, buf())
	if err != nil {
		t.Fatalf("ReadPart(%s, %d): %v", id, want.Index, err)
	}
	if !samePart(got, want) {
		t.Fatalf("ReadPart(%s, %d) = %s, want %s", id, want.Index, fmtPart(got), fmtPart(want))
	}
	if !bytes.Equal(b, data) {
		t.Fatalf("ReadPart(%s, %d): %d bytes differ from the %d saved", id, want.Index, len(b), len(data))
	}
}

// scan collects the uploads reported by Scan, by id.
func scan(t *testing.T, tmp store.Temp) map[store.UploadID]store.Upload {
	t.Helper()
	ups := make(map[store.UploadID]store.Upload)
	err := tmp.Scan(t.Context(), func(u store.Upload) error {
		if _, dup := ups[u.ID]; dup {
			t.Errorf("Scan reported upload %s twice", u.ID)
		}
		ups[u.ID] = u
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return ups
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s: error %v, want store.ErrNotFound", what, err)
	}
}

// TestTemp runs the conformance suite for store.Temp.
func TestTemp(t *testing.T, open func(t *testing.T) store.Temp) {
	t.Run("PutReadRoundTrip", func(t *testing.T) { testPutRead(t, open(t)) })
	t.Run("ReplacePart", func(t *testing.T) { testReplacePart(t, open(t)) })
	t.Run("ReadMissing", func(t *testing.T) { testReadMissing(t, open(t)) })
	t.Run("DeletePart", func(t *testing.T) { testDeletePart(t, open(t)) })
	t.Run("DeleteUpload", func(t *testing.T) { testDeleteUpload(t, open(t)) })
	t.Run("ScanEmpty", func(t *testing.T) { testScanEmpty(t, open(t)) })
	t.Run("Scan", func(t *testing.T) { testScan(t, open(t)) })
	t.Run("ScanStopsOnError", func(t *testing.T) { testScanStops(t, open(t)) })
	t.Run("ConcurrentPut", func(t *testing.T) { testConcurrentPut(t, open(t)) })
	t.Run("ConcurrentReplaceNeverMixes", func(t *testing.T) { testReplaceNoMix(t, open(t)) })
}

func testPutRead(t *testing.T, tmp store.Temp) {
	id := UploadID(1)
	tests := []struct {
		name string
		key  store.UploadKey
		part store.Part
	}{
		{"small path total 0", store.UploadKey{Owner: 1, FileID: 2}, store.Part{Index: 0, Size: 1, Total: 0}},
		{"big total unknown", store.UploadKey{Owner: 1, FileID: 2, Big: true}, store.Part{Index: 1, Size: 1000, Total: -1}},
		{"big total known", store.UploadKey{Owner: 1, FileID: 2, Big: true}, store.Part{Index: 2, Size: 4096, Total: 3}},
		{"max size", store.UploadKey{Owner: 7, FileID: -4156887774564}, store.Part{Index: 3, Size: store.MaxPartSize, Total: 4000}},
		{"large index", store.UploadKey{Owner: -1, FileID: -1 << 63}, store.Part{Index: 7999, Size: 3, Total: 8000}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := id
			id[0] = byte(i)
			tt.part.SavedAt = savedAt(i)
			data := Data(uint64(i), tt.part.Size)
			if _, err := tmp.PutPart(t.Context(), id, tt.key, tt.part, data); err != nil {
				t.Fatalf("PutPart: %v", err)
			}
			checkPart(t, tmp, id, tt.part, data)
			up, ok := scan(t, tmp)[id]
			if !ok {
				t.Fatalf("Scan did not report upload %s", id)
			}
			if up.Key != tt.key {
				t.Fatalf("Scan: key %+v, want %+v", up.Key, tt.key)
			}
			if len(up.Parts) != 1 || !samePart(up.Parts[0], tt.part) {
				t.Fatalf("Scan: parts %v, want [%s]", up.Parts, fmtPart(tt.part))
			}
		})
	}
}

func testReplacePart(t *testing.T, tmp store.Temp) {
	id, key := UploadID(1), store.UploadKey{Owner: 1, FileID: 2, Big: true}
	first := store.Part{Index: 3, Size: 5000, Total: -1, SavedAt: savedAt(0)}
	second := store.Part{Index: 3, Size: 700, Total: 10, SavedAt: savedAt(1)}
	other := store.Part{Index: 4, Size: 10, Total: -1, SavedAt: savedAt(2)}
	for _, p := range []store.Part{first, other, second} {
		if _, err := tmp.PutPart(t.Context(), id, key, p, Data(uint64(p.SavedAt.UnixNano()), p.Size)); err != nil {
			t.Fatalf("PutPart %d: %v", p.Index, err)
		}
	}
	checkPart(t, tmp, id, second, Data(uint64(second.SavedAt.UnixNano()), second.Size))
	checkPart(t, tmp, id, other, Data(uint64(other.SavedAt.UnixNano()), other.Size))
	up := scan(t, tmp)[id]
	if len(up.Parts) != 2 || !samePart(up.Parts[0], second) || !samePart(up.Parts[1], other) {
		t.Fatalf("Scan after replacing: parts %v, want [%s %s]", up.Parts, fmtPart(second), fmtPart(other))
	}
}

func testReadMissing(t *testing.T, tmp store.Temp) {
	id, key := UploadID(1), store.UploadKey{Owner: 1, FileID: 2}
	_, _, err := tmp.ReadPart(t.Context(), id, 0, buf())
	wantNotFound(t, "ReadPart of an unknown upload", err)
	if _, err := tmp.PutPart(t.Context(), id, key, store.Part{Index: 1, Size: 10, SavedAt: savedAt(0)}, Data(1, 10)); err != nil {
		t.Fatal(err)
	}
	for _, index := range []int{0, 2, 1000} {
		_, _, err := tmp.ReadPart(t.Context(), id, index, buf())
		wantNotFound(t, fmt.Sprintf("ReadPart of missing part %d", index), err)
	}
}

func testDeletePart(t *testing.T, tmp store.Temp) {
	id, key := UploadID(1), store.UploadKey{Owner: 1, FileID: 2}
	data := putParts(t, tmp, id, key, Data(1, 3000), 1000)
	if err := tmp.DeletePart(t.Context(), id, 1); err != nil {
		t.Fatalf("DeletePart: %v", err)
	}
	_, _, err := tmp.ReadPart(t.Context(), id, 1, buf())
	wantNotFound(t, "ReadPart of a deleted part", err)
	for _, i := range []int{0, 2} {
		checkPart(t, tmp, id, store.Part{Index: i, Size: 1000, Total: 3, SavedAt: savedAt(i)}, data[i])
	}
	up := scan(t, tmp)[id]
	if len(up.Parts) != 2 || up.Parts[0].Index != 0 || up.Parts[1].Index != 2 {
		t.Fatalf("Scan after DeletePart: parts %v, want indexes 0 and 2", up.Parts)
	}
	// Idempotent: deleting again, a part never saved, or in an unknown upload.
	for _, c := range []struct {
		id    store.UploadID
		index int
	}{{id, 1}, {id, 99}, {UploadID(99), 0}} {
		if err := tmp.DeletePart(t.Context(), c.id, c.index); err != nil {
			t.Fatalf("DeletePart(%s, %d) of a missing part: %v", c.id, c.index, err)
		}
	}
	// Deleting every part leaves no part to report.
	for _, i := range []int{0, 2} {
		if err := tmp.DeletePart(t.Context(), id, i); err != nil {
			t.Fatal(err)
		}
	}
	if up, ok := scan(t, tmp)[id]; ok && len(up.Parts) != 0 {
		t.Fatalf("Scan after deleting every part: parts %v", up.Parts)
	}
}

func testDeleteUpload(t *testing.T, tmp store.Temp) {
	key := store.UploadKey{Owner: 1, FileID: 2}
	gone, kept := UploadID(1), UploadID(2)
	putParts(t, tmp, gone, key, Data(1, 3000), 1000)
	keptData := putParts(t, tmp, kept, key, Data(2, 2500), 1000)
	if err := tmp.DeleteUpload(t.Context(), gone); err != nil {
		t.Fatalf("DeleteUpload: %v", err)
	}
	for i := range 3 {
		_, _, err := tmp.ReadPart(t.Context(), gone, i, buf())
		wantNotFound(t, "ReadPart of a deleted upload", err)
	}
	ups := scan(t, tmp)
	if _, ok := ups[gone]; ok {
		t.Fatalf("Scan reports deleted upload %s", gone)
	}
	if len(ups[kept].Parts) != 3 {
		t.Fatalf("Scan: the other upload has parts %v, want 3", ups[kept].Parts)
	}
	checkPart(t, tmp, kept, store.Part{Index: 2, Size: 500, Total: 3, SavedAt: savedAt(2)}, keptData[2])
	for _, id := range []store.UploadID{gone, UploadID(99)} {
		if err := tmp.DeleteUpload(t.Context(), id); err != nil {
			t.Fatalf("DeleteUpload(%s) of a missing upload: %v", id, err)
		}
	}
	// The id can be used again after deletion.
	putParts(t, tmp, gone, key, Data(3, 10), 1000)
	checkPart(t, tmp, gone, store.Part{Index: 0, Size: 10, Total: 1, SavedAt: savedAt(0)}, Data(3, 10))
}

func testScanEmpty(t *testing.T, tmp store.Temp) {
	if ups := scan(t, tmp); len(ups) != 0 {
		t.Fatalf("Scan of an empty store reported %d uploads", len(ups))
	}
}

func testScan(t *testing.T, tmp store.Temp) {
	type want struct {
		key   store.UploadKey
		parts []store.Part
	}
	wants := make(map[store.UploadID]want)
	r := rand.New(rand.NewPCG(1, 2))
	for u := range 12 {
		id := UploadID(uint64(u))
		key := store.UploadKey{Owner: int64(u % 3), FileID: int64(u) - 6, Big: u%2 == 1}
		n := 1 + u%5
		var parts []store.Part
		for i := range n {
			parts = append(parts, store.Part{Index: i * (1 + u%3) * 7, Size: 1 + r.IntN(3000), Total: int32(u%3) - 1, SavedAt: savedAt(u*100 + i)})
		}
		// Save out of order: Scan must sort by index.
		for _, i := range r.Perm(n) {
			p := parts[i]
			if _, err := tmp.PutPart(t.Context(), id, key, p, Data(uint64(u*1000+p.Index), p.Size)); err != nil {
				t.Fatal(err)
			}
		}
		wants[id] = want{key, parts}
	}
	ups := scan(t, tmp)
	if len(ups) != len(wants) {
		t.Fatalf("Scan reported %d uploads, want %d", len(ups), len(wants))
	}
	for id, w := range wants {
		up, ok := ups[id]
		if !ok {
			t.Fatalf("Scan did not report upload %s", id)
		}
		if up.Key != w.key {
			t.Fatalf("Scan: upload %s key %+v, want %+v", id, up.Key, w.key)
		}
		if len(up.Parts) != len(w.parts) {
			t.Fatalf("Scan: upload %s has %d parts, want %d", id, len(up.Parts), len(w.parts))
		}
		for i := range up.Parts {
			if !samePart(up.Parts[i], w.parts[i]) {
				t.Fatalf("Scan: upload %s part %d = %s, want %s", id, i, fmtPart(up.Parts[i]), fmtPart(w.parts[i]))
			}
		}
	}
}

func testScanStops(t *testing.T, tmp store.Temp) {
	for u := range 3 {
		putParts(t, tmp, UploadID(uint64(u)), store.UploadKey{Owner: 1, FileID: int64(u)}, Data(1, 10), 10)
	}
	calls := 0
	err := tmp.Scan(t.Context(), func(store.Upload) error { calls++; return errStop })
	if !errors.Is(err, errStop) {
		t.Fatalf("Scan returned %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Fatalf("Scan called fn %d times after it failed, want 1", calls)
	}
}

func testConcurrentPut(t *testing.T, tmp store.Temp) {
	const (
		workers   = 64
		bigParts  = 256 // parts of the one shared upload
		uploads   = 64  // small uploads, one per worker
		perUpload = 4
	)
	shared := UploadID(1 << 40)
	sharedKey := store.UploadKey{Owner: 1, FileID: 1 << 40, Big: true}
	size := func(u, i int) int { return 1 + ((u+1)*131+i*977)%8192 }
	seed := func(u, i int) uint64 { return uint64(u+1)<<20 | uint64(i) }

	type job struct {
		id  store.UploadID
		key store.UploadKey
		u   int
		p   store.Part
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if _, err := tmp.PutPart(t.Context(), j.id, j.key, j.p, Data(seed(j.u, j.p.Index), j.p.Size)); err != nil {
					t.Errorf("PutPart(%s, %d): %v", j.id, j.p.Index, err)
				}
			}
		}()
	}
	keyOf := func(u int) store.UploadKey { return store.UploadKey{Owner: int64(u), FileID: int64(u) * 3} }
	// Interleave the parts of the shared upload with those of the others.
	var all []job
	for i := range bigParts {
		all = append(all, job{shared, sharedKey, -1, store.Part{Index: i, Size: size(-1, i), Total: -1, SavedAt: savedAt(i)}})
	}
	for u := range uploads {
		for k := range perUpload {
			all = append(all, job{UploadID(uint64(u)), keyOf(u), u, store.Part{Index: k, Size: size(u, k), Total: perUpload, SavedAt: savedAt(k)}})
		}
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for _, j := range all {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	ups := scan(t, tmp)
	if len(ups) != uploads+1 {
		t.Fatalf("Scan reported %d uploads, want %d", len(ups), uploads+1)
	}
	check := func(id store.UploadID, key store.UploadKey, u, n int, total int32) {
		t.Helper()
		up := ups[id]
		if up.Key != key || len(up.Parts) != n {
			t.Fatalf("upload %s: key %+v with %d parts, want %+v with %d", id, up.Key, len(up.Parts), key, n)
		}
		for i, p := range up.Parts {
			want := store.Part{Index: i, Size: size(u, i), Total: total, SavedAt: savedAt(i)}
			if !samePart(p, want) {
				t.Fatalf("upload %s: Scan part %s, want %s", id, fmtPart(p), fmtPart(want))
			}
			checkPart(t, tmp, id, want, Data(seed(u, i), want.Size))
		}
	}
	check(shared, sharedKey, -1, bigParts, -1)
	for u := range uploads {
		check(UploadID(uint64(u)), keyOf(u), u, perUpload, perUpload)
	}
}

// testReplaceNoMix saves one part over and over from several goroutines while
// others read it: every read must return one whole version.
func testReplaceNoMix(t *testing.T, tmp store.Temp) {
	const (
		writers = 8
		puts    = 40
		readers = 8
		reads   = 100
	)
	id, key := UploadID(1), store.UploadKey{Owner: 1, FileID: 1}
	version := func(w int) (store.Part, []byte) {
		size := 1000 + 997*w
		return store.Part{Index: 5, Size: size, Total: int32(w), SavedAt: savedAt(w)}, bytes.Repeat([]byte{byte(w)}, size)
	}
	p, data := version(0)
	if _, err := tmp.PutPart(t.Context(), id, key, p, data); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 1; w <= writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, data := version(w)
			for range puts {
				if _, err := tmp.PutPart(t.Context(), id, key, p, data); err != nil {
					t.Errorf("PutPart: %v", err)
					return
				}
			}
		}()
	}
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := buf()
			for range reads {
				got, data, err := tmp.ReadPart(t.Context(), id, 5, b)
				if err != nil {
					t.Errorf("ReadPart while the part is replaced: %v", err)
					return
				}
				if got.Total < 0 || got.Total > writers {
					t.Errorf("ReadPart returned total %d, never saved", got.Total)
					return
				}
				want, wantData := version(int(got.Total))
				if !samePart(got, want) || !bytes.Equal(data, wantData) {
					t.Errorf("ReadPart returned a mix: %s with %d bytes starting %d, want %s",
						fmtPart(got), len(data), data[0], fmtPart(want))
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestContent runs the conformance suite for store.Content. open returns the
// Temp and Content of one backend: Seal takes parts saved through that Temp.
func TestContent(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	t.Run("SealReadAt", func(t *testing.T) { testSealReadAt(t, open) })
	t.Run("SealFirstParts", func(t *testing.T) { testSealFirstParts(t, open) })
	t.Run("SealAgain", func(t *testing.T) { testSealAgain(t, open) })
	t.Run("SealMissingPart", func(t *testing.T) { testSealMissing(t, open) })
	t.Run("SealChangedPart", func(t *testing.T) { testSealChanged(t, open) })
	t.Run("SealedOutlivesUpload", func(t *testing.T) { testSealedOutlivesUpload(t, open) })
	t.Run("DeleteKeepsUpload", func(t *testing.T) { testDeleteKeepsUpload(t, open) })
	t.Run("ReadAtOutOfRange", func(t *testing.T) { testReadAtOutOfRange(t, open) })
	t.Run("ReadAtMissingFile", func(t *testing.T) { testReadAtMissingFile(t, open) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open) })
	t.Run("List", func(t *testing.T) { testList(t, open) })
	t.Run("ListStopsOnError", func(t *testing.T) { testListStops(t, open) })
	t.Run("ConcurrentSealAndRead", func(t *testing.T) { testConcurrentSealRead(t, open) })
}

// Versions returns the versions of parts 0 to n-1 of upload id as ReadPart
// reports them, for Seal; a missing part gets version 0.
func Versions(t *testing.T, tmp store.Temp, id store.UploadID, n int) []uint64 {
	t.Helper()
	vs := make([]uint64, n)
	for i := range vs {
		p, _, err := tmp.ReadPart(t.Context(), id, i, buf())
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("ReadPart(%s, %d): %v", id, i, err)
		}
		vs[i] = p.Version
	}
	return vs
}

// seal saves data as upload id in parts of partSize bytes, seals them into
// file and returns the file's layout.
func seal(t *testing.T, tmp store.Temp, c store.Content, id store.UploadID, file int64, data []byte, partSize int) store.Layout {
	t.Helper()
	parts := putParts(t, tmp, id, store.UploadKey{Owner: 1, FileID: int64(file)}, data, partSize)
	if err := c.Seal(t.Context(), id, file, Versions(t, tmp, id, len(parts))); err != nil {
		t.Fatalf("Seal(%s, %d, %d): %v", id, file, len(parts), err)
	}
	return store.Layout{Size: int64(len(data)), PartSize: len(parts[0]), Parts: len(parts)}
}

// readAt reads [off, off+n) of file and compares it with data.
func readAt(t *testing.T, c store.Content, file int64, l store.Layout, data []byte, off int64, n int) {
	t.Helper()
	p := make([]byte, n)
	if err := c.ReadAt(t.Context(), file, l, p, off); err != nil {
		t.Fatalf("ReadAt(%d, [%d, %d)) of %d bytes: %v", file, off, off+int64(n), l.Size, err)
	}
	if want := data[off : off+int64(n)]; !bytes.Equal(p, want) {
		i := 0
		for i < n && p[i] == want[i] {
			i++
		}
		t.Fatalf("ReadAt(%d, [%d, %d)): byte %d differs", file, off, off+int64(n), off+int64(i))
	}
}

// checkContent reads file in windows around every part boundary, whole, and
// at pseudo-random offsets and lengths.
func checkContent(t *testing.T, c store.Content, file int64, l store.Layout, data []byte) {
	t.Helper()
	size, ps := l.Size, int64(l.PartSize)
	readAt(t, c, file, l, data, 0, int(size))
	readAt(t, c, file, l, data, 0, 0)
	readAt(t, c, file, l, data, size, 0)
	readAt(t, c, file, l, data, 0, 1)
	readAt(t, c, file, l, data, size-1, 1)
	for b := ps; b < size; b += ps {
		for _, w := range [][2]int64{{b - 1, b + 1}, {b, b + 1}, {b - 1, b}, {b - 17, b + ps + 5}, {b - ps, b + ps}, {b - ps/2, b + ps/2}} {
			lo, hi := max(0, w[0]), min(size, w[1])
			readAt(t, c, file, l, data, lo, int(hi-lo))
		}
	}
	r := rand.New(rand.NewPCG(uint64(size), uint64(ps)))
	for range 64 {
		off := r.Int64N(size)
		n := r.Int64N(min(size-off, 3*ps) + 1)
		readAt(t, c, file, l, data, off, int(n))
	}
}

func testSealReadAt(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	tests := []struct {
		name     string
		partSize int
		size     int
	}{
		{"1KiB", 1 << 10, 7<<10 + 300},
		{"1KiB exact", 1 << 10, 5 << 10},
		{"4KiB", 4 << 10, 9<<10 + 1},
		{"128KiB", 128 << 10, 3<<17 + 77},
		{"512KiB", 512 << 10, 3<<19 + 1234},
		{"512KiB exact", 512 << 10, 2 << 19},
		{"single short part", 1000, 1000},
		{"single byte", 1, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp, c := open(t)
			id, file := UploadID(uint64(i)), int64(1000+i)
			data := Data(uint64(i), tt.size)
			l := seal(t, tmp, c, id, file, data, tt.partSize)
			if l.PartSize != min(tt.partSize, tt.size) {
				t.Fatalf("layout part size %d", l.PartSize)
			}
			checkContent(t, c, file, l, data)
			// Sealing leaves the parts readable in Temp.
			for i, p := range split(data, tt.partSize) {
				checkPart(t, tmp, id, store.Part{Index: i, Size: len(p), Total: int32(l.Parts), SavedAt: savedAt(i)}, p)
			}
			if up := scan(t, tmp)[id]; len(up.Parts) != l.Parts {
				t.Fatalf("Scan after Seal: %d parts, want %d", len(up.Parts), l.Parts)
			}
		})
	}
}

func testSealFirstParts(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	tmp, c := open(t)
	id, file := UploadID(1), int64(42)
	data := Data(1, 5*4096)
	putParts(t, tmp, id, store.UploadKey{Owner: 1, FileID: 2}, data, 4096)
	if err := c.Seal(t.Context(), id, file, Versions(t, tmp, id, 3)); err != nil {
		t.Fatalf("Seal of the first 3 of 5 parts: %v", err)
	}
	l := store.Layout{Size: 3 * 4096, PartSize: 4096, Parts: 3}
	checkContent(t, c, file, l, data[:l.Size])
}

func testSealAgain(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	tmp, c := open(t)
	id, file := UploadID(1), int64(42)
	data := Data(1, 3*4096+5)
	l := seal(t, tmp, c, id, file, data, 4096)
	if err := c.Seal(t.Context(), id, file, Versions(t, tmp, id, l.Parts)); err != nil {
		t.Fatalf("sealing the same pair again: %v", err)
	}
	checkContent(t, c, file, l, data)
	if files := list(t, c); !slices.Equal(files, []int64{file}) {
		t.Fatalf("List after sealing twice: %v, want [%d]", files, file)
	}
}

func testSealMissing(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	tmp, c := open(t)
	id := UploadID(1)
	putParts(t, tmp, id, store.UploadKey{Owner: 1, FileID: 2}, Data(1, 4*1024), 1024)
	if err := tmp.DeletePart(t.Context(), id, 2); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		id    store.UploadID
		parts int
	}{
		{"gap", id, 4},
		{"past the last part", id, 5},
		{"unknown upload", UploadID(2), 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Seal(t.Context(), tt.id, int64(100+i), Versions(t, tmp, tt.id, tt.parts)); err == nil {
				t.Fatalf("Seal(%s, %d parts) of an incomplete upload succeeded", tt.id, tt.parts)
			}
		})
	}
	// The parts that are there can still be sealed.
	if err := c.Seal(t.Context(), id, 7, Versions(t, tmp, id, 2)); err != nil {
		t.Fatalf("Seal of the 2 parts present: %v", err)
	}
	checkContent(t, c, 7, store.Layout{Size: 2048, PartSize: 1024, Parts: 2}, Data(1, 2048))
}

// testSealChanged checks S7e at the store: a part saved again after its
// version was read is not sealed in its new version under the old one's name.
func testSealChanged(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	tmp, c := open(t)
	id, key := UploadID(1), store.UploadKey{Owner: 1, FileID: 2}
	data := Data(1, 3*1024)
	putParts(t, tmp, id, key, data, 1024)
	read := Versions(t, tmp, id, 3)
	if again := Versions(t, tmp, id, 3); !slices.Equal(again, read) {
		t.Fatalf("versions read twice differ: %v, then %v", read, again)
	}
	if lister, ok := tmp.(store.PartLister); ok {
		parts, err := lister.Parts(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			if p.Version != read[p.Index] {
				t.Fatalf("Parts reports part %d in version %x, ReadPart in %x", p.Index, p.Version, read[p.Index])
			}
		}
	}
	resaved := Data(2, 1024)
	if _, err := tmp.PutPart(t.Context(), id, key, store.Part{Index: 1, Size: 1024, Total: 3, SavedAt: savedAt(10)}, resaved); err != nil {
		t.Fatal(err)
	}
	now := Versions(t, tmp, id, 3)
	if now[1] == read[1] || now[0] != read[0] || now[2] != read[2] {
		t.Fatalf("versions after saving part 1 again: %v, before %v", now, read)
	}
	if err := c.Seal(t.Context(), id, 42, read); !errors.Is(err, store.ErrPartChanged) {
		t.Fatalf("Seal of versions read before a part was saved again: %v, want store.ErrPartChanged", err)
	}
	if files := list(t, c); len(files) != 0 {
		t.Fatalf("a failed Seal left files %v", files)
	}
	// The parts as they are now seal as such.
	if err := c.Seal(t.Context(), id, 42, now); err != nil {
		t.Fatal(err)
	}
	want := slices.Concat(data[:1024], resaved, data[2048:])
	checkContent(t, c, 42, store.Layout{Size: 3 * 1024, PartSize: 1024, Parts: 3}, want)
	if err := tmp.DeletePart(t.Context(), id, 2); err != nil {
		t.Fatal(err)
	}
	if err := c.Seal(t.Context(), id, 43, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Seal of a deleted part: %v, want store.ErrNotFound", err)
	}
}

func testSealedOutlivesUpload(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	tmp, c := open(t)
	id, file := UploadID(1), int64(42)
	data := Data(1, 4*4096+100)
	l := seal(t, tmp, c, id, file, data, 4096)
	if err := tmp.DeleteUpload(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	checkContent(t, c, file, l, data)
	// A new generation under the same upload id does not change the file.
	putParts(t, tmp, id, store.UploadKey{Owner: 1, FileID: 2}, Data(2, len(data)), 4096)
	checkContent(t, c, file, l, data)
}

func testDeleteKeepsUpload(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	tmp, c := open(t)
	id := UploadID(1)
	data := Data(1, 3*4096+1)
	l := seal(t, tmp, c, id, 42, data, 4096)
	if err := c.Delete(t.Context(), 42); err != nil {
		t.Fatal(err)
	}
	// The engine deletes the content when its commit fails and the client may
	// finalize the same parts again.
	for i, p := range split(data, 4096) {
		checkPart(t, tmp, id, store.Part{Index: i, Size: len(p), Total: int32(l.Parts), SavedAt: savedAt(i)}, p)
	}
	if err := c.Seal(t.Context(), id, 43, Versions(t, tmp, id, l.Parts)); err != nil {
		t.Fatalf("Seal after deleting an earlier seal: %v", err)
	}
	checkContent(t, c, 43, l, data)
}

func testReadAtOutOfRange(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	tmp, c := open(t)
	data := Data(1, 2*1024+10)
	l := seal(t, tmp, c, UploadID(1), 42, data, 1024)
	tests := []struct {
		name string
		off  int64
		n    int
	}{
		{"one byte past the end", 0, len(data) + 1},
		{"at the end", l.Size, 1},
		{"after the end", l.Size + 100, 1},
		{"straddling the end", l.Size - 5, 10},
		{"far beyond", 1 << 40, 10},
		{"negative offset", -1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.ReadAt(t.Context(), 42, l, make([]byte, tt.n), tt.off); err == nil {
				t.Fatalf("ReadAt([%d, %d)) of %d bytes succeeded", tt.off, tt.off+int64(tt.n), l.Size)
			}
		})
	}
}

func testReadAtMissingFile(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	_, c := open(t)
	l := store.Layout{Size: 100, PartSize: 100, Parts: 1}
	if err := c.ReadAt(t.Context(), 42, l, make([]byte, 10), 0); err == nil {
		t.Fatal("ReadAt of a file never sealed succeeded")
	}
}

func testDelete(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	tmp, c := open(t)
	data := Data(1, 3000)
	l := seal(t, tmp, c, UploadID(1), 42, data, 1024)
	l2 := seal(t, tmp, c, UploadID(2), 43, data, 1000)
	if err := c.Delete(t.Context(), 42); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := c.ReadAt(t.Context(), 42, l, make([]byte, 10), 0); err == nil {
		t.Fatal("ReadAt of a deleted file succeeded")
	}
	for _, id := range []int64{42, 99} {
		if err := c.Delete(t.Context(), id); err != nil {
			t.Fatalf("Delete(%d) of a missing file: %v", id, err)
		}
	}
	checkContent(t, c, 43, l2, data)
}

func list(t *testing.T, c store.Content) []int64 {
	t.Helper()
	var ids []int64
	if err := c.List(t.Context(), func(id int64) error { ids = append(ids, id); return nil }); err != nil {
		t.Fatalf("List: %v", err)
	}
	slices.Sort(ids)
	return ids
}

func testList(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	tmp, c := open(t)
	if ids := list(t, c); len(ids) != 0 {
		t.Fatalf("List of an empty store: %v", ids)
	}
	ids := []int64{1, 42, 1 << 40, 1<<63 - 1, 0x0123456789abcdef}
	for i, id := range ids {
		seal(t, tmp, c, UploadID(uint64(i)), id, Data(uint64(i), 100), 100)
	}
	slices.Sort(ids)
	if got := list(t, c); !slices.Equal(got, ids) {
		t.Fatalf("List = %v, want %v", got, ids)
	}
	if err := c.Delete(t.Context(), 42); err != nil {
		t.Fatal(err)
	}
	ids = slices.DeleteFunc(ids, func(id int64) bool { return id == 42 })
	if got := list(t, c); !slices.Equal(got, ids) {
		t.Fatalf("List after Delete = %v, want %v", got, ids)
	}
	// Deleting the upload a file was sealed from leaves the file listed.
	if err := tmp.DeleteUpload(t.Context(), UploadID(0)); err != nil {
		t.Fatal(err)
	}
	if got := list(t, c); !slices.Equal(got, ids) {
		t.Fatalf("List after DeleteUpload = %v, want %v", got, ids)
	}
}

func testListStops(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	tmp, c := open(t)
	for i := range 3 {
		seal(t, tmp, c, UploadID(uint64(i)), int64(i+1), Data(1, 10), 10)
	}
	calls := 0
	err := c.List(t.Context(), func(int64) error { calls++; return errStop })
	if !errors.Is(err, errStop) {
		t.Fatalf("List returned %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Fatalf("List called fn %d times after it failed, want 1", calls)
	}
}

func testConcurrentSealRead(t *testing.T, open func(t *testing.T) (store.Temp, store.Content)) {
	tmp, c := open(t)
	const files = 16
	const partSize = 1024
	datas := make([][]byte, files)
	for i := range files {
		datas[i] = Data(uint64(i), partSize*(1+i%4)+i*37+1)
		putParts(t, tmp, UploadID(uint64(i)), store.UploadKey{Owner: 1, FileID: int64(i)}, datas[i], partSize)
	}
	versions := make([][]uint64, files)
	for i := range files {
		versions[i] = Versions(t, tmp, UploadID(uint64(i)), (len(datas[i])+partSize-1)/partSize)
	}
	layout := func(i int) store.Layout {
		n := len(datas[i])
		return store.Layout{Size: int64(n), PartSize: partSize, Parts: (n + partSize - 1) / partSize}
	}
	var wg sync.WaitGroup
	for i := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Seal(t.Context(), UploadID(uint64(i)), int64(100+i), versions[i]); err != nil {
				t.Errorf("Seal %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i := range files * 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := i % files
			l := layout(f)
			r := rand.New(rand.NewPCG(uint64(i), 9))
			for range 16 {
				off := r.Int64N(l.Size)
				p := make([]byte, r.Int64N(l.Size-off)+1)
				if err := c.ReadAt(t.Context(), int64(100+f), l, p, off); err != nil {
					t.Errorf("ReadAt %d: %v", f, err)
					return
				}
				if !bytes.Equal(p, datas[f][off:off+int64(len(p))]) {
					t.Errorf("ReadAt %d [%d, %d): wrong bytes", f, off, off+int64(len(p)))
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestMeta runs the conformance suite for store.Meta. A consumed marker is
// recorded at the record's Created time (the engine's clock at the commit), so
// ForgetConsumed(before) drops the markers of records created before it.
func TestMeta(t *testing.T, open func(t *testing.T) store.Meta) {
	t.Run("CommitFileRoundTrip", func(t *testing.T) { testCommitRoundTrip(t, open(t)) })
	t.Run("FileNotFound", func(t *testing.T) { testFileNotFound(t, open(t)) })
	t.Run("RangeHashes", func(t *testing.T) { testRangeHashes(t, open(t)) })
	t.Run("RangeHashesNone", func(t *testing.T) { testRangeHashesNone(t, open(t)) })
	t.Run("Consumed", func(t *testing.T) { testConsumed(t, open(t)) })
	t.Run("CommitConsumedUpload", func(t *testing.T) { testCommitConsumed(t, open(t)) })
	t.Run("ConcurrentCommitOneUpload", func(t *testing.T) { testConcurrentCommitOne(t, open(t)) })
	t.Run("ConcurrentCommit", func(t *testing.T) { testConcurrentCommit(t, open(t)) })
	t.Run("ForgetConsumed", func(t *testing.T) { testForgetConsumed(t, open(t)) })
	t.Run("DeleteFile", func(t *testing.T) { testDeleteFile(t, open(t)) })
	t.Run("Files", func(t *testing.T) { testFiles(t, open(t)) })
	t.Run("FilesStopsOnError", func(t *testing.T) { testFilesStops(t, open(t)) })
}

// Record returns a record with every field set, distinct for n.
func Record(n int) store.FileRecord {
	var sum [32]byte
	copy(sum[:], Data(uint64(n), 32))
	return store.FileRecord{
		ID:         int64(n)<<32 | 0x5eed,
		AccessHash: -int64(n)*7919 - 1,
		Owner:      int64(n%5) + 1,
		Name:       fmt.Sprintf("файл %d 🗂 <&>\".jpg", n),
		Size:       int64(n)*1000 + 1,
		PartSize:   1 << 19,
		Parts:      n + 1,
		SHA256:     sum,
		Type:       "jpeg",
		Created:    savedAt(n),
		Upload:     UploadID(uint64(n) + 1<<32),
	}
}

// Hashes returns n distinct hashes for record seed.
func Hashes(seed, n int) []store.Hash {
	hs := make([]store.Hash, n)
	for i := range hs {
		copy(hs[i][:], Data(uint64(seed)<<16|uint64(i), 32))
	}
	return hs
}

func sameRecord(a, b store.FileRecord) bool {
	if !a.Created.Equal(b.Created) {
		return false
	}
	a.Created, b.Created = time.Time{}, time.Time{}
	return a == b
}

func commit(t *testing.T, m store.Meta, rec store.FileRecord, hs []store.Hash) {
	t.Helper()
	if err := m.CommitFile(t.Context(), rec, hs); err != nil {
		t.Fatalf("CommitFile(%d): %v", rec.ID, err)
	}
}

func checkRecord(t *testing.T, m store.Meta, want store.FileRecord) {
	t.Helper()
	got, err := m.File(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("File(%d): %v", want.ID, err)
	}
	if !sameRecord(got, want) {
		t.Fatalf("File(%d) = %+v, want %+v", want.ID, got, want)
	}
}

func testCommitRoundTrip(t *testing.T, m store.Meta) {
	full := Record(1)
	extreme := Record(2)
	extreme.ID, extreme.AccessHash, extreme.Owner = 1<<63-1, -1<<63, 1<<63-1
	extreme.Size, extreme.PartSize, extreme.Parts = 8000<<19, 1<<19, 8000
	extreme.SHA256 = [32]byte{0: 0xff, 31: 0xff}
	extreme.Created = time.Date(2262, 1, 1, 0, 0, 0, 1, time.UTC)
	extreme.Upload = store.UploadID{0: 0xff, 15: 0x01}
	empty := store.FileRecord{ID: 3, Size: 1, PartSize: 1, Parts: 1, Type: "unknown", Created: time.Unix(0, 1), Upload: UploadID(3)}
	tests := []struct {
		name string
		rec  store.FileRecord
	}{
		{"every field", full},
		{"extreme values", extreme},
		{"empty name and zero hash", empty},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := Hashes(i, 3)
			commit(t, m, tt.rec, hs)
			checkRecord(t, m, tt.rec)
			got, err := m.RangeHashes(t.Context(), tt.rec.ID, 0, 3)
			if err != nil {
				t.Fatalf("RangeHashes: %v", err)
			}
			if !slices.Equal(got, hs) {
				t.Fatalf("RangeHashes = %x, want %x", got, hs)
			}
		})
	}
}

func testFileNotFound(t *testing.T, m store.Meta) {
	_, err := m.File(t.Context(), 42)
	wantNotFound(t, "File of an empty store", err)
	commit(t, m, Record(1), Hashes(1, 1))
	_, err = m.File(t.Context(), Record(1).ID+1)
	wantNotFound(t, "File of an unknown id", err)
}

func testRangeHashes(t *testing.T, m store.Meta) {
	rec := Record(1)
	hs := Hashes(1, 5)
	commit(t, m, rec, hs)
	other := Record(2)
	commit(t, m, other, Hashes(2, 2))
	tests := []struct {
		first, n int
		want     []store.Hash
	}{
		{0, 5, hs},
		{0, 1, hs[:1]},
		{1, 2, hs[1:3]},
		{4, 1, hs[4:]},
		{3, 10, hs[3:]},
		{0, 100, hs},
		{0, 0, nil},
		{5, 1, nil},
		{100, 8, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("first %d n %d", tt.first, tt.n), func(t *testing.T) {
			got, err := m.RangeHashes(t.Context(), rec.ID, tt.first, tt.n)
			if err != nil {
				t.Fatalf("RangeHashes: %v", err)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && !slices.Equal(got, tt.want)) {
				t.Fatalf("RangeHashes = %x, want %x", got, tt.want)
			}
		})
	}
}

// testRangeHashesNone: a record without hashes has none, and an unknown file
// has none either (reported as no hashes or ErrNotFound).
func testRangeHashesNone(t *testing.T, m store.Meta) {
	rec := Record(1)
	commit(t, m, rec, nil)
	got, err := m.RangeHashes(t.Context(), rec.ID, 0, 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("RangeHashes of a record without hashes = %x, %v; want none", got, err)
	}
	got, err = m.RangeHashes(t.Context(), rec.ID+1, 0, 10)
	if len(got) != 0 || (err != nil && !errors.Is(err, store.ErrNotFound)) {
		t.Fatalf("RangeHashes of an unknown file = %x, %v; want none", got, err)
	}
}

func consumed(t *testing.T, m store.Meta, id store.UploadID) bool {
	t.Helper()
	ok, err := m.Consumed(t.Context(), id)
	if err != nil {
		t.Fatalf("Consumed(%s): %v", id, err)
	}
	return ok
}

func testConsumed(t *testing.T, m store.Meta) {
	rec := Record(1)
	if consumed(t, m, rec.Upload) {
		t.Fatal("upload consumed before its commit")
	}
	commit(t, m, rec, Hashes(1, 1))
	if !consumed(t, m, rec.Upload) {
		t.Fatal("upload not consumed after its commit")
	}
	if consumed(t, m, Record(2).Upload) {
		t.Fatal("another upload consumed by the commit")
	}
}

func testCommitConsumed(t *testing.T, m store.Meta) {
	first := Record(1)
	commit(t, m, first, Hashes(1, 2))
	again := Record(2)
	again.Upload = first.Upload
	err := m.CommitFile(t.Context(), again, Hashes(2, 3))
	if !errors.Is(err, store.ErrConsumed) {
		t.Fatalf("CommitFile of a consumed upload: %v, want store.ErrConsumed", err)
	}
	// Nothing of the failed commit is stored; the first record is intact.
	_, err = m.File(t.Context(), again.ID)
	wantNotFound(t, "File of a record whose commit failed", err)
	if hs, err := m.RangeHashes(t.Context(), again.ID, 0, 10); len(hs) != 0 {
		t.Fatalf("RangeHashes of a record whose commit failed = %x, %v", hs, err)
	}
	checkRecord(t, m, first)
	if hs, err := m.RangeHashes(t.Context(), first.ID, 0, 10); err != nil || !slices.Equal(hs, Hashes(1, 2)) {
		t.Fatalf("RangeHashes of the first record = %x, %v", hs, err)
	}
}

func testConcurrentCommitOne(t *testing.T, m store.Meta) {
	const n = 50
	upload := UploadID(7)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := Record(i)
			rec.Upload = upload
			errs[i] = m.CommitFile(t.Context(), rec, Hashes(i, 1))
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("commits %d and %d of one upload both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConsumed):
			t.Fatalf("commit %d: %v, want store.ErrConsumed", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no commit of the upload succeeded")
	}
	want := Record(winner)
	want.Upload = upload
	checkRecord(t, m, want)
	n2 := 0
	if err := m.Files(t.Context(), func(store.FileRecord) error { n2++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n2 != 1 {
		t.Fatalf("Files reports %d records, want 1", n2)
	}
}

func testConcurrentCommit(t *testing.T, m store.Meta) {
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.CommitFile(t.Context(), Record(i), Hashes(i, i%4+1)); err != nil {
				t.Errorf("CommitFile %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i := range n {
		checkRecord(t, m, Record(i))
		if hs, err := m.RangeHashes(t.Context(), Record(i).ID, 0, 8); err != nil || !slices.Equal(hs, Hashes(i, i%4+1)) {
			t.Fatalf("RangeHashes %d = %x, %v", i, hs, err)
		}
		if !consumed(t, m, Record(i).Upload) {
			t.Fatalf("upload of record %d not consumed", i)
		}
	}
}

func testForgetConsumed(t *testing.T, m store.Meta) {
	before := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	created := []time.Time{
		before.Add(-48 * time.Hour),
		before.Add(-time.Nanosecond),
		before, // not before itself: kept
		before.Add(time.Nanosecond),
		before.Add(time.Hour),
	}
	// Many more, old and new interleaved in key order, so that removing
	// markers while iterating over them is exercised.
	for k := range 40 {
		d := time.Duration(k+1) * time.Minute
		if k%3 != 0 {
			d = -d
		}
		created = append(created, before.Add(d))
	}
	recs := make([]store.FileRecord, len(created))
	// Commit in an order unrelated to time.
	for _, i := range rand.New(rand.NewPCG(5, 6)).Perm(len(created)) {
		recs[i] = Record(i)
		recs[i].Created = created[i]
		commit(t, m, recs[i], Hashes(i, 1))
	}
	if err := m.ForgetConsumed(t.Context(), before); err != nil {
		t.Fatalf("ForgetConsumed: %v", err)
	}
	check := func(what string) {
		t.Helper()
		for i, rec := range recs {
			if got, want := consumed(t, m, rec.Upload), !rec.Created.Before(before); got != want {
				t.Fatalf("%s: record %d created %s: consumed %v after ForgetConsumed(%s), want %v",
					what, i, rec.Created.Format(time.RFC3339Nano), got, before.Format(time.RFC3339Nano), want)
			}
			// The records themselves stay.
			checkRecord(t, m, rec)
		}
	}
	check("first ForgetConsumed")
	if err := m.ForgetConsumed(t.Context(), before); err != nil {
		t.Fatalf("ForgetConsumed again: %v", err)
	}
	check("second ForgetConsumed")
	if err := m.ForgetConsumed(t.Context(), before.Add(365*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs {
		if consumed(t, m, rec.Upload) {
			t.Fatalf("record %d still consumed after forgetting everything", i)
		}
	}
}

func testDeleteFile(t *testing.T, m store.Meta) {
	gone, kept := Record(1), Record(2)
	commit(t, m, gone, Hashes(1, 3))
	commit(t, m, kept, Hashes(2, 3))
	if err := m.DeleteFile(t.Context(), gone.ID); err != nil {
		t.Fatalf("DeleteFile: %v", err)
	}
	_, err := m.File(t.Context(), gone.ID)
	wantNotFound(t, "File of a deleted record", err)
	if hs, err := m.RangeHashes(t.Context(), gone.ID, 0, 10); len(hs) != 0 || (err != nil && !errors.Is(err, store.ErrNotFound)) {
		t.Fatalf("RangeHashes of a deleted record = %x, %v", hs, err)
	}
	if ids := fileIDs(t, m); !slices.Equal(ids, []int64{kept.ID}) {
		t.Fatalf("Files after DeleteFile = %v, want [%d]", ids, kept.ID)
	}
	checkRecord(t, m, kept)
	if hs, err := m.RangeHashes(t.Context(), kept.ID, 0, 10); err != nil || !slices.Equal(hs, Hashes(2, 3)) {
		t.Fatalf("RangeHashes of the other record = %x, %v", hs, err)
	}
	// Deleting a record does not make its upload finalizable again.
	if !consumed(t, m, gone.Upload) {
		t.Fatal("upload of a deleted record is no longer consumed")
	}
}

func fileIDs(t *testing.T, m store.Meta) []int64 {
	t.Helper()
	var ids []int64
	if err := m.Files(t.Context(), func(r store.FileRecord) error { ids = append(ids, r.ID); return nil }); err != nil {
		t.Fatalf("Files: %v", err)
	}
	slices.Sort(ids)
	return ids
}

func testFiles(t *testing.T, m store.Meta) {
	if ids := fileIDs(t, m); len(ids) != 0 {
		t.Fatalf("Files of an empty store: %v", ids)
	}
	want := make(map[int64]store.FileRecord)
	for i := range 20 {
		rec := Record(i)
		commit(t, m, rec, Hashes(i, 1))
		want[rec.ID] = rec
	}
	seen := make(map[int64]bool)
	err := m.Files(t.Context(), func(r store.FileRecord) error {
		w, ok := want[r.ID]
		if !ok || seen[r.ID] || !sameRecord(r, w) {
			return fmt.Errorf("unexpected or repeated record %+v", r)
		}
		seen[r.ID] = true
		return nil
	})
	if err != nil {
		t.Fatalf("Files: %v", err)
	}
	if len(seen) != len(want) {
		t.Fatalf("Files reported %d records, want %d", len(seen), len(want))
	}
}

func testFilesStops(t *testing.T, m store.Meta) {
	for i := range 3 {
		commit(t, m, Record(i), Hashes(i, 1))
	}
	calls := 0
	err := m.Files(t.Context(), func(store.FileRecord) error { calls++; return errStop })
	if !errors.Is(err, errStop) {
		t.Fatalf("Files returned %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Fatalf("Files called fn %d times after it failed, want 1", calls)
	}
}
