package local_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/local"
	"github.com/filedc/filedc/internal/store/storetest"
)

// headerSize is the size of the header in front of every record of a log;
// records start at multiples of align.
const (
	headerSize = 64
	align      = 4096
)

var syncModes = []struct {
	name string
	opt  local.Options
}{
	{"Sync", local.Options{Sync: true}},
	{"NoSync", local.Options{Sync: false}},
}

func openAt(t *testing.T, dir string, opt local.Options) *local.Store {
	t.Helper()
	s, err := local.Open(dir, opt)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

func TestTemp(t *testing.T) {
	for _, m := range syncModes {
		t.Run(m.name, func(t *testing.T) {
			storetest.TestTemp(t, func(t *testing.T) store.Temp { return openAt(t, t.TempDir(), m.opt) })
		})
	}
}

func TestContent(t *testing.T) {
	for _, m := range syncModes {
		t.Run(m.name, func(t *testing.T) {
			storetest.TestContent(t, func(t *testing.T) (store.Temp, store.Content) {
				s := openAt(t, t.TempDir(), m.opt)
				return s, s
			})
		})
	}
}

var testKey = store.UploadKey{Owner: 5, FileID: -77, Big: true}

// logPath returns the one log of an upload saved through one Store.
func logPath(t *testing.T, dir string, id store.UploadID) string {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "tmp", id.String(), "*.log"))
	if err != nil || len(logs) != 1 {
		t.Fatalf("logs of %s: %v, %v; want one", id, logs, err)
	}
	return logs[0]
}

// recordOffset is where putParts saved part i of parts of size bytes.
func recordOffset(i, size int) int64 {
	return int64(i) * ((headerSize + int64(size) + align - 1) / align * align)
}

// damage flips bits of the log at off.
func damage(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

func savedAt(i int) time.Time {
	return time.Unix(1_700_000_000, 123456789).Add(time.Duration(i) * time.Second)
}

// putParts saves n parts of size bytes (seeded by their index) as upload id.
func putParts(t *testing.T, s *local.Store, id store.UploadID, n, size int) [][]byte {
	t.Helper()
	var parts [][]byte
	for i := range n {
		data := storetest.Data(uint64(i), size)
		p := store.Part{Index: i, Size: size, Total: int32(n), SavedAt: savedAt(i)}
		if _, err := s.PutPart(t.Context(), id, testKey, p, data); err != nil {
			t.Fatalf("PutPart %d: %v", i, err)
		}
		parts = append(parts, data)
	}
	return parts
}

func readPart(t *testing.T, s *local.Store, id store.UploadID, index int) ([]byte, error) {
	t.Helper()
	_, data, err := s.ReadPart(t.Context(), id, index, make([]byte, store.MaxPartSize))
	return data, err
}

// scanIndexes returns the part indexes Scan reports for each upload.
func scanIndexes(t *testing.T, s *local.Store) map[store.UploadID][]int {
	t.Helper()
	got := make(map[store.UploadID][]int)
	err := s.Scan(t.Context(), func(u store.Upload) error {
		var idx []int
		for _, p := range u.Parts {
			idx = append(idx, p.Index)
		}
		got[u.ID] = idx
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return got
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s still exists (stat: %v)", path, err)
	}
}

func mustExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestTornPart simulates a record cut short by a crash or a power loss: the
// log ends inside the last record, or a page of a record never reached the
// disk and reads as zeros.
func TestTornPart(t *testing.T) {
	const size = 6000
	rec := recordOffset(1, size)
	type tornCase struct {
		name       string
		tear       func(t *testing.T, path string)
		keptByScan bool // the header survived; the content check fails on read
	}
	var tests []tornCase
	for _, n := range []int64{0, 1, headerSize - 1, headerSize, headerSize + 100, headerSize + size - 1} {
		tests = append(tests, tornCase{fmt.Sprintf("log ends %d bytes into the last record", n), func(t *testing.T, path string) {
			if err := os.Truncate(path, 2*rec+n); err != nil {
				t.Fatal(err)
			}
		}, false})
	}
	zero := func(from, to int64) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(make([]byte, to-from), 2*rec+from); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests = append(tests,
		tornCase{"header page lost", zero(0, align), false},
		tornCase{"content page lost", zero(align, 2*align), true},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openAt(t, dir, local.Options{Sync: true})
			id := storetest.UploadID(1)
			parts := putParts(t, s, id, 3, size)
			tt.tear(t, logPath(t, dir, id))
			if _, err := readPart(t, s, id, 2); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("ReadPart of a torn part: %v, want store.ErrCorrupt", err)
			}
			for _, i := range []int{0, 1} {
				if data, err := readPart(t, s, id, i); err != nil || !bytes.Equal(data, parts[i]) {
					t.Fatalf("ReadPart %d beside a torn part: %v", i, err)
				}
			}
			want := []int{0, 1}
			if tt.keptByScan {
				want = []int{0, 1, 2}
			}
			if got := scanIndexes(t, s)[id]; !slices.Equal(got, want) {
				t.Fatalf("Scan reports parts %v, want %v", got, want)
			}
			if !tt.keptByScan {
				if _, err := readPart(t, s, id, 2); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("ReadPart of a torn part after Scan: %v, want store.ErrNotFound", err)
				}
			}
			// Saving it again after a restart repairs it.
			s = openAt(t, dir, local.Options{Sync: true})
			p := store.Part{Index: 2, Size: size, Total: 3, SavedAt: savedAt(9)}
			if _, err := s.PutPart(t.Context(), id, testKey, p, parts[2]); err != nil {
				t.Fatal(err)
			}
			if got := scanIndexes(t, s)[id]; !slices.Equal(got, []int{0, 1, 2}) {
				t.Fatalf("Scan after saving the part again: %v", got)
			}
			if data, err := readPart(t, s, id, 2); err != nil || !bytes.Equal(data, parts[2]) {
				t.Fatalf("ReadPart of the part saved again: %v", err)
			}
		})
	}
}

// TestTornUpload: an upload whose only parts are torn is removed by Scan.
func TestTornUpload(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, local.Options{})
	torn, whole := storetest.UploadID(1), storetest.UploadID(2)
	putParts(t, s, torn, 2, 1000)
	putParts(t, s, whole, 1, 1000)
	if err := os.Truncate(logPath(t, dir, torn), headerSize+10); err != nil {
		t.Fatal(err)
	}
	got := scanIndexes(t, s)
	if _, ok := got[torn]; ok || len(got) != 1 || !slices.Equal(got[whole], []int{0}) {
		t.Fatalf("Scan = %v, want only upload %s with part 0", got, whole)
	}
	mustNotExist(t, filepath.Join(dir, "tmp", torn.String()))
}

// TestDamagedPart flips one byte of a record.
func TestDamagedPart(t *testing.T) {
	const size = 2000
	tests := []struct {
		name   string
		offset int64
		// keptByScan: Scan checks headers only; content is verified on read.
		keptByScan bool
	}{
		{"content first byte", headerSize, true},
		{"content middle", headerSize + size/2, true},
		{"content last byte", headerSize + size - 1, true},
		{"magic", 0, false},
		{"version", 4, false},
		{"index", 8, false},
		{"size", 12, false},
		{"content crc", 16, false},
		{"header crc", 60, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openAt(t, dir, local.Options{})
			id := storetest.UploadID(1)
			putParts(t, s, id, 2, size)
			damage(t, logPath(t, dir, id), recordOffset(1, size)+tt.offset)
			if _, err := readPart(t, s, id, 1); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("ReadPart of a damaged part: %v, want store.ErrCorrupt", err)
			}
			want := []int{0}
			if tt.keptByScan {
				want = []int{0, 1}
			}
			if got := scanIndexes(t, s)[id]; !slices.Equal(got, want) {
				t.Fatalf("Scan reports parts %v, want %v", got, want)
			}
		})
	}
}

// TestScanRemovesStrays: files left by interrupted writes and names that are
// not uploads are removed by Scan; the parts around them are kept.
func TestScanRemovesStrays(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, local.Options{Sync: true})
	id := storetest.UploadID(1)
	parts := putParts(t, s, id, 2, 100)
	updir := filepath.Join(dir, "tmp", id.String())
	emptyUpload := filepath.Join(dir, "tmp", storetest.UploadID(2).String())
	strays := []string{
		filepath.Join(updir, "0.17.tmp"),
		filepath.Join(updir, "junk"),
		filepath.Join(updir, "-1"),
		filepath.Join(dir, "tmp", "x.tmp"),
		filepath.Join(dir, "tmp", "not-an-upload", "0"),
	}
	for _, p := range strays {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("half a part"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(emptyUpload, 0o700); err != nil {
		t.Fatal(err)
	}
	got := scanIndexes(t, s)
	if len(got) != 1 || !slices.Equal(got[id], []int{0, 1}) {
		t.Fatalf("Scan = %v, want upload %s with parts [0 1]", got, id)
	}
	for _, p := range strays {
		mustNotExist(t, p)
	}
	mustNotExist(t, filepath.Join(dir, "tmp", "not-an-upload"))
	mustNotExist(t, emptyUpload)
	for i, want := range parts {
		if data, err := readPart(t, s, id, i); err != nil || !bytes.Equal(data, want) {
			t.Fatalf("ReadPart %d after Scan: %v", i, err)
		}
	}
}

// TestScanDropsForeignKey: a part whose header names another upload key than
// the rest of its upload directory is not reported.
func TestScanDropsForeignKey(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, local.Options{})
	id := storetest.UploadID(1)
	putParts(t, s, id, 2, 100)
	other := testKey
	other.Owner++
	if _, err := s.PutPart(t.Context(), id, other, store.Part{Index: 2, Size: 5, SavedAt: savedAt(2)}, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	var ups []store.Upload
	if err := s.Scan(t.Context(), func(u store.Upload) error { ups = append(ups, u); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || ups[0].Key != testKey || len(ups[0].Parts) != 2 {
		t.Fatalf("Scan = %+v, want one upload of key %+v with 2 parts", ups, testKey)
	}
}

// TestOpenRemovesSealing: a seal interrupted by a crash leaves
// files/<id>.sealing, which the next Open removes; sealed files stay.
func TestOpenRemovesSealing(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, local.Options{Sync: true})
	id := storetest.UploadID(1)
	parts := putParts(t, s, id, 2, 1000)
	if err := s.Seal(t.Context(), id, 42, storetest.Versions(t, s, id, 2)); err != nil {
		t.Fatal(err)
	}
	leftovers := []string{
		filepath.Join(dir, "files", fmt.Sprintf("%016x.sealing", 43)),
		filepath.Join(dir, "files", fmt.Sprintf("%016x.sealing", 42)),
	}
	for _, l := range leftovers {
		if err := os.MkdirAll(l, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(logPath(t, dir, id), filepath.Join(l, filepath.Base(logPath(t, dir, id)))); err != nil {
			t.Fatal(err)
		}
	}
	if got := list(t, s); !slices.Equal(got, []int64{42}) {
		t.Fatalf("List with a seal in progress = %v, want [42]", got)
	}
	s = openAt(t, dir, local.Options{Sync: true})
	for _, l := range leftovers {
		mustNotExist(t, l)
	}
	if got := list(t, s); !slices.Equal(got, []int64{42}) {
		t.Fatalf("List after reopening = %v, want [42]", got)
	}
	want := slices.Concat(parts...)
	got := make([]byte, len(want))
	if err := s.ReadAt(t.Context(), 42, store.Layout{Size: int64(len(want)), PartSize: 1000, Parts: 2}, got, 0); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadAt of the sealed file after reopening: %v", err)
	}
}

func list(t *testing.T, s *local.Store) []int64 {
	t.Helper()
	var ids []int64
	if err := s.List(t.Context(), func(id int64) error { ids = append(ids, id); return nil }); err != nil {
		t.Fatalf("List: %v", err)
	}
	slices.Sort(ids)
	return ids
}

// TestReopen: a second Open of the same directory sees the same uploads,
// parts and sealed files.
func TestReopen(t *testing.T) {
	for _, m := range syncModes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openAt(t, dir, m.opt)
			a, b := storetest.UploadID(1), storetest.UploadID(2)
			partsA := putParts(t, s, a, 3, 1024)
			partsB := putParts(t, s, b, 1, 77)
			if err := s.Seal(t.Context(), a, 9, storetest.Versions(t, s, a, 3)); err != nil {
				t.Fatal(err)
			}
			var before []store.Upload
			if err := s.Scan(t.Context(), func(u store.Upload) error { before = append(before, u); return nil }); err != nil {
				t.Fatal(err)
			}

			s2 := openAt(t, dir, m.opt)
			var after []store.Upload
			if err := s2.Scan(t.Context(), func(u store.Upload) error { after = append(after, u); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(after) != 2 || len(before) != 2 {
				t.Fatalf("Scan after reopening: %d uploads, before %d; want 2", len(after), len(before))
			}
			for i := range after {
				x, y := before[i], after[i]
				if x.ID != y.ID || x.Key != y.Key || len(x.Parts) != len(y.Parts) {
					t.Fatalf("upload %d: %+v before reopening, %+v after", i, x, y)
				}
				for j := range x.Parts {
					if p, q := x.Parts[j], y.Parts[j]; p.Index != q.Index || p.Size != q.Size || p.Total != q.Total || !p.SavedAt.Equal(q.SavedAt) {
						t.Fatalf("upload %d part %d: %+v before reopening, %+v after", i, j, p, q)
					}
				}
			}
			for id, parts := range map[store.UploadID][][]byte{a: partsA, b: partsB} {
				for i, want := range parts {
					if data, err := readPart(t, s2, id, i); err != nil || !bytes.Equal(data, want) {
						t.Fatalf("ReadPart(%s, %d) after reopening: %v", id, i, err)
					}
				}
			}
			if got := list(t, s2); !slices.Equal(got, []int64{9}) {
				t.Fatalf("List after reopening = %v, want [9]", got)
			}
			want := slices.Concat(partsA...)
			got := make([]byte, len(want))
			if err := s2.ReadAt(t.Context(), 9, store.Layout{Size: int64(len(want)), PartSize: 1024, Parts: 3}, got, 0); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("ReadAt after reopening: %v", err)
			}
		})
	}
}

// TestSealMissingPart: sealing an upload with a part missing reports
// store.ErrNotFound and leaves nothing behind.
func TestSealMissingPart(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, local.Options{Sync: true})
	id := storetest.UploadID(1)
	putParts(t, s, id, 3, 100)
	if err := s.DeletePart(t.Context(), id, 1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id    store.UploadID
		parts int
	}{{id, 3}, {id, 4}, {storetest.UploadID(2), 1}} {
		if err := s.Seal(t.Context(), c.id, 42, storetest.Versions(t, s, c.id, c.parts)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Seal(%s, %d parts): %v, want store.ErrNotFound", c.id, c.parts, err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("failed seals left %d entries under files/, e.g. %s", len(entries), entries[0].Name())
	}
	if got := list(t, s); len(got) != 0 {
		t.Fatalf("List after failed seals = %v", got)
	}
}

// TestSealLinksParts: sealing links the log instead of copying the parts (F5).
func TestSealLinksParts(t *testing.T) {
	for _, m := range syncModes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openAt(t, dir, m.opt)
			id := storetest.UploadID(1)
			putParts(t, s, id, 3, 1000)
			if err := s.Seal(t.Context(), id, 42, storetest.Versions(t, s, id, 3)); err != nil {
				t.Fatal(err)
			}
			log := logPath(t, dir, id)
			a, err := os.Stat(log)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.Stat(filepath.Join(dir, "files", fmt.Sprintf("%016x", 42), filepath.Base(log)))
			if err != nil {
				t.Fatal(err)
			}
			if !os.SameFile(a, b) {
				t.Fatal("the sealed log is a copy, not a link")
			}
		})
	}
}

// TestPutPartRejectsBadParts: a part whose description does not match its
// bytes or the limits is refused and nothing is stored.
func TestPutPartRejectsBadParts(t *testing.T) {
	s := openAt(t, t.TempDir(), local.Options{})
	id := storetest.UploadID(1)
	tests := []struct {
		name string
		part store.Part
		data []byte
	}{
		{"size larger than data", store.Part{Index: 0, Size: 11}, make([]byte, 10)},
		{"size smaller than data", store.Part{Index: 0, Size: 9}, make([]byte, 10)},
		{"empty", store.Part{Index: 0, Size: 0}, nil},
		{"too large", store.Part{Index: 0, Size: store.MaxPartSize + 1}, make([]byte, store.MaxPartSize+1)},
		{"negative index", store.Part{Index: -1, Size: 10}, make([]byte, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.part.SavedAt = savedAt(0)
			if _, err := s.PutPart(t.Context(), id, testKey, tt.part, tt.data); err == nil {
				t.Fatal("PutPart succeeded")
			}
			if _, err := readPart(t, s, id, tt.part.Index); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("ReadPart after a refused PutPart: %v, want store.ErrNotFound", err)
			}
		})
	}
	if got := scanIndexes(t, s); len(got) != 0 {
		t.Fatalf("Scan after refused parts = %v", got)
	}
}

func TestPartLister(t *testing.T) {
	storetest.TestPartLister(t, func(t *testing.T) store.Temp { return openAt(t, t.TempDir(), local.Options{}) })
}

// TestHashStateKeeper: the state survives a restart, and the Scan of that
// restart, which removes every other file that is not a log.
func TestHashStateKeeper(t *testing.T) {
	dir := t.TempDir()
	storetest.TestHashStateKeeper(t,
		func(t *testing.T) store.Temp { return openAt(t, dir, local.Options{}) },
		func(t *testing.T, _ store.Temp) store.Temp {
			s := openAt(t, dir, local.Options{})
			if err := s.Scan(context.Background(), func(store.Upload) error { return nil }); err != nil {
				t.Fatal(err)
			}
			return s
		})
}

// TestSealedBytesNeverChange: saving or deleting parts of an upload after it
// was sealed does not touch the sealed file, which shares the upload's log.
func TestSealedBytesNeverChange(t *testing.T) {
	s := openAt(t, t.TempDir(), local.Options{Sync: true})
	id := storetest.UploadID(1)
	parts := putParts(t, s, id, 3, 1000)
	if err := s.Seal(t.Context(), id, 42, storetest.Versions(t, s, id, 3)); err != nil {
		t.Fatal(err)
	}
	l := store.Layout{Size: 3000, PartSize: 1000, Parts: 3}
	want := slices.Concat(parts...)
	p := store.Part{Index: 1, Size: 1000, Total: 3, SavedAt: savedAt(7)}
	if _, err := s.PutPart(t.Context(), id, testKey, p, bytes.Repeat([]byte{9}, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePart(t.Context(), id, 2); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if err := s.ReadAt(t.Context(), 42, l, got, 0); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("sealed file after changing its upload: %v, equal %v", err, bytes.Equal(got, want))
	}
	if data, err := readPart(t, s, id, 1); err != nil || !bytes.Equal(data, bytes.Repeat([]byte{9}, 1000)) {
		t.Fatalf("ReadPart of the part saved again: %v", err)
	}
	if _, err := readPart(t, s, id, 2); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ReadPart of a deleted part: %v, want store.ErrNotFound", err)
	}
}

// TestS7e_ResaveAfterAnotherProcessFinalizedKeepsTheFile: process b saved
// a part, process a sealed the upload into a file and removed the upload;
// b, not knowing yet, saves the part again into its open log, which is now
// the sealed file's only name. The record it replaces is the file's and is
// not punched out: the file reads back whole.
func TestS7e_ResaveAfterAnotherProcessFinalizedKeepsTheFile(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	a, b := openAt(t, dir, local.Options{}), openAt(t, dir, local.Options{})
	id := storetest.UploadID(1)
	const size = 64 << 10 // past the first 4 KiB block, which is never punched
	first := storetest.Data(1, size)
	p := store.Part{Index: 0, Size: size, Total: 1, SavedAt: savedAt(1)}
	if _, err := b.PutPart(ctx, id, testKey, p, first); err != nil {
		t.Fatal(err)
	}
	if err := a.Seal(ctx, id, 42, storetest.Versions(t, a, id, 1)); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteUpload(ctx, id); err != nil {
		t.Fatal(err)
	}
	p.SavedAt = savedAt(2)
	if _, err := b.PutPart(ctx, id, testKey, p, storetest.Data(2, size)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, size)
	if err := a.ReadAt(ctx, 42, store.Layout{Size: size, PartSize: size, Parts: 1}, got, 0); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("the sealed file after a save of its upload's part elsewhere: %v, intact %v (%d zero bytes)",
			err, bytes.Equal(got, first), bytes.Count(got, []byte{0}))
	}
}

// TestTwoWriters: two Stores on one directory (two processes of one DC) save
// parts of the same upload into logs of their own; each reads, lists and
// seals all of them, and the newest save of a part wins.
func TestTwoWriters(t *testing.T) {
	dir := t.TempDir()
	a, b := openAt(t, dir, local.Options{}), openAt(t, dir, local.Options{})
	id := storetest.UploadID(1)
	data := storetest.Data(1, 4*1000)
	for i := range 4 {
		s := a
		if i%2 == 1 {
			s = b
		}
		p := store.Part{Index: i, Size: 1000, Total: 4, SavedAt: savedAt(i)}
		if _, err := s.PutPart(t.Context(), id, testKey, p, data[i*1000:(i+1)*1000]); err != nil {
			t.Fatal(err)
		}
	}
	// b saves part 0 again, later.
	newer := bytes.Repeat([]byte{1}, 1000)
	if _, err := b.PutPart(t.Context(), id, testKey, store.Part{Index: 0, Size: 1000, Total: 4, SavedAt: savedAt(10)}, newer); err != nil {
		t.Fatal(err)
	}
	copy(data, newer)
	for _, s := range []*local.Store{a, b} {
		parts, err := s.Parts(t.Context(), id)
		if err != nil || len(parts) != 4 {
			t.Fatalf("Parts = %v, %v; want 4", parts, err)
		}
		for i := range 4 {
			if got, err := readPart(t, s, id, i); err != nil || !bytes.Equal(got, data[i*1000:(i+1)*1000]) {
				t.Fatalf("ReadPart %d: %v", i, err)
			}
		}
	}
	if err := a.Seal(t.Context(), id, 42, storetest.Versions(t, a, id, 4)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if err := b.ReadAt(t.Context(), 42, store.Layout{Size: 4000, PartSize: 1000, Parts: 4}, got, 0); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAt of the file sealed from two logs: %v", err)
	}
}

// diskUsage is the bytes of disk blocks a file holds.
func diskUsage(t *testing.T, path string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

// TestS7b_ResavedPartFreesItsSpace: saving one 512 KiB part 300 times
// leaves the log holding about one part of disk, the part reads as the
// last save, and the upload seals and reads back exactly that.
func TestS7b_ResavedPartFreesItsSpace(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, local.Options{})
	id := storetest.UploadID(7)
	const size = store.MaxPartSize
	var last []byte
	for i := range 300 {
		last = storetest.Data(uint64(i), size)
		p := store.Part{Index: 0, Size: size, Total: 1, SavedAt: savedAt(i)}
		if _, err := s.PutPart(t.Context(), id, testKey, p, last); err != nil {
			t.Fatal(err)
		}
	}
	// Each punched record keeps its first 4 KiB block: 300 × 4 KiB, plus
	// the current part.
	if used := diskUsage(t, logPath(t, dir, id)); used > size+300*align+64<<10 {
		t.Fatalf("the log holds %d bytes of disk after 300 saves of a %d-byte part", used, size)
	}
	got, err := readPart(t, s, id, 0)
	if err != nil || !bytes.Equal(got, last) {
		t.Fatalf("the part reads %d bytes, %v; want the last save", len(got), err)
	}
	if err := s.Seal(t.Context(), id, 99, storetest.Versions(t, s, id, 1)); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, size)
	if err := s.ReadAt(t.Context(), 99, store.Layout{Size: size, PartSize: size, Parts: 1}, out, 0); err != nil || !bytes.Equal(out, last) {
		t.Fatalf("the sealed file: %v", err)
	}
	// A new Store over the same directory (a restart) finds the last save.
	s2 := openAt(t, dir, local.Options{})
	got, err = readPart(t, s2, id, 0)
	if err != nil || !bytes.Equal(got, last) {
		t.Fatalf("after a restart the part reads %d bytes, %v", len(got), err)
	}
}

// TestF5_SealFindsAtMostTheDirtyLimitToFlush: with Sync, saves keep an
// upload's log handed to the disk up to DirtyLimit bytes behind its end, so
// the flush at Seal has a bounded amount to write however large the file;
// without Sync nothing waits. The file seals and reads back either way.
func TestF5_SealFindsAtMostTheDirtyLimitToFlush(t *testing.T) {
	const (
		limit = 4 << 20
		size  = 512 << 10
		n     = 40 // 20 MiB, five times the limit
	)
	record := int64(headerSize+size+align-1) &^ (align - 1)
	for _, tc := range []struct {
		opt     local.Options
		atMost  int64
		atLeast int64
	}{
		{local.Options{Sync: true, DirtyLimit: limit}, limit + record, 0},
		{local.Options{Sync: false, DirtyLimit: limit}, n * record, n * record},
	} {
		t.Run(fmt.Sprint("Sync=", tc.opt.Sync), func(t *testing.T) {
			s := openAt(t, t.TempDir(), tc.opt)
			id := storetest.UploadID(1)
			parts := putParts(t, s, id, n, size)
			got := s.Unflushed(id)
			if got > tc.atMost || got < tc.atLeast {
				t.Fatalf("after %d parts of %d bytes, %d bytes unflushed; want %d to %d", n, size, got, tc.atLeast, tc.atMost)
			}
			if err := s.Seal(t.Context(), id, 7, storetest.Versions(t, s, id, n)); err != nil {
				t.Fatal(err)
			}
			for i, want := range parts {
				got := make([]byte, size)
				if err := s.ReadAt(t.Context(), 7, store.Layout{PartSize: size, Parts: n, Size: int64(n * size)}, got, int64(i*size)); err != nil {
					t.Fatalf("part %d: %v", i, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("part %d reads back other bytes", i)
				}
			}
		})
	}
}
