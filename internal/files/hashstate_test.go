package files

import (
	"bytes"
	"testing"

	"github.com/filedc/filedc/internal/store"
)

// partsFor returns parts 0..next-1 in the given versions, holding hashed
// bytes between them, as a store would list them.
func partsFor(next int, hashed int64, versions []uint64) []store.Part {
	parts := make([]store.Part, next)
	for i := range parts {
		size := hashed / int64(next)
		if int64(i) < hashed%int64(next) {
			size++
		}
		parts[i] = store.Part{Index: i, Size: int(size), Version: versions[i]}
	}
	return parts
}

// FuzzHashState: a kept state is disk or Redis bytes. Decoding any bytes
// never panics nor allocates past their size; a state that decodes and
// matches its parts restores hashes that encode to the same state again.
func FuzzHashState(f *testing.F) {
	for _, tc := range []struct {
		small bool
		sizes []int
	}{
		{false, []int{512 << 10, 512 << 10, 512 << 10}},
		{true, []int{1024, 1024, 1024, 1024, 1024}},
		{false, []int{128<<10 + 17}},
	} {
		a := newAhead(tc.small)
		for i, n := range tc.sizes {
			a.add(uint64(100+i), bytes.Repeat([]byte{byte(i + 1)}, n))
		}
		b, err := a.encodeState()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte("FDH1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeHashState(b, 8000)
		if err != nil {
			return
		}
		if len(s.versions) != s.next || int64(len(s.done)) != s.hashed/rangeHashSize {
			t.Fatalf("decoded %d versions and %d ranges for %d parts of %d bytes", len(s.versions), len(s.done), s.next, s.hashed)
		}
		a := newAhead(len(s.md5) > 0)
		if err := a.restore(s, partsFor(s.next, s.hashed, s.versions)); err != nil {
			return // hash states the hash packages refuse
		}
		again, err := a.encodeState()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := decodeHashState(again, 8000)
		if err != nil {
			t.Fatalf("a restored state does not decode again: %v", err)
		}
		if s2.next != s.next || s2.hashed != s.hashed || s2.fileType != s.fileType ||
			!equalSlices(s2.versions, s.versions) || !equalSlices(s2.done, s.done) {
			t.Fatalf("state changed through restore: %+v, then %+v", s, s2)
		}
	})
}

func equalSlices[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHashStateRefusesWhatDoesNotMatch: a state is used only for the very
// parts it names, in the versions it names.
func TestHashStateRefusesWhatDoesNotMatch(t *testing.T) {
	a := newAhead(false)
	for i := range 4 {
		a.add(uint64(10+i), bytes.Repeat([]byte{byte(i)}, 1000))
	}
	b, err := a.encodeState()
	if err != nil {
		t.Fatal(err)
	}
	s, err := decodeHashState(b, 8000)
	if err != nil {
		t.Fatal(err)
	}
	good := partsFor(4, 4000, []uint64{10, 11, 12, 13})
	for name, parts := range map[string][]store.Part{
		"a part saved again": partsFor(4, 4000, []uint64{10, 11, 99, 13}),
		"a part missing":     append(append([]store.Part(nil), good[:2]...), good[3]),
		"other sizes":        partsFor(4, 4004, []uint64{10, 11, 12, 13}),
		"fewer parts":        good[:3],
	} {
		if err := newAhead(false).restore(s, parts); err == nil {
			t.Errorf("%s: restored", name)
		}
	}
	if err := newAhead(true).restore(s, good); err == nil {
		t.Error("a big upload's state restored for a small one (no MD5)")
	}
	if _, err := decodeHashState(b, 3); err == nil {
		t.Error("a state of 4 parts decoded for an upload of at most 3")
	}
	flipped := bytes.Clone(b)
	flipped[10] ^= 1
	if _, err := decodeHashState(flipped, 8000); err == nil {
		t.Error("a damaged state decoded")
	}
	r := newAhead(false)
	if err := r.restore(s, good); err != nil {
		t.Fatal(err)
	}
	if r.next != 4 || r.hashed != 4000 || !equalSlices(r.versions, a.versions) {
		t.Fatalf("restored next %d, %d bytes, versions %v", r.next, r.hashed, r.versions)
	}
}
