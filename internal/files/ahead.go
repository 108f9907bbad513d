package files

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"hash"
	"sync"

	"github.com/filedc/filedc/internal/store"
)

// maxCatchUp bounds the parts one save reads back to hash the parts that
// arrived before their turn: a save never waits for a whole file.
const maxCatchUp = 16

// ahead holds the hashes of an upload's first parts, computed as the parts
// arrive: a part is hashed as soon as every part before it is there (its
// own save hashes it while its bytes are in cache), so that finalization
// hashes only what is left. Seal checks the versions hashed here like those
// finalization reads (S7e): a part saved again through another process is
// caught there, and one saved again through this one starts the hashes over.
type ahead struct {
	mu       sync.Mutex
	next     int // parts 0..next-1 are hashed
	whole    hash.Hash
	ranges   rangeHasher
	md5      hash.Hash // the small path only: md5_checksum is checked against it
	fileType FileType
	versions []uint64 // of parts 0..next-1
	// waiting marks the parts saved past next, by index, with their
	// versions; it grows to the highest index saved (at most max_parts).
	waiting []waitingPart
}

type waitingPart struct {
	version uint64
	saved   bool
}

func (a *ahead) wait(i int, version uint64) {
	if i >= len(a.waiting) {
		a.waiting = append(a.waiting, make([]waitingPart, i+1-len(a.waiting))...)
	}
	a.waiting[i] = waitingPart{version, true}
}

func (a *ahead) isWaiting(i int) bool { return i < len(a.waiting) && a.waiting[i].saved }

func (a *ahead) unwait(i int) {
	if i < len(a.waiting) {
		a.waiting[i] = waitingPart{}
	}
}

func newAhead(small bool) *ahead {
	a := &ahead{whole: sha256.New(), ranges: rangeHasher{h: sha256.New()}}
	if small {
		a.md5 = md5.New()
	}
	return a
}

// add hashes part next, whose bytes are data; the caller holds a.mu.
func (a *ahead) add(version uint64, data []byte) {
	if a.next == 0 {
		a.fileType = DetectType(data[:min(len(data), sniffLen)])
	}
	a.whole.Write(data)
	a.ranges.Write(data)
	if a.md5 != nil {
		a.md5.Write(data)
	}
	a.versions = append(a.versions, version)
	a.next++
}

// reset starts the hashes over; the caller holds a.mu.
func (a *ahead) reset() {
	a.next = 0
	a.whole.Reset()
	a.ranges.h.Reset()
	a.ranges.n = 0
	a.ranges.out = a.ranges.out[:0]
	if a.md5 != nil {
		a.md5.Reset()
	}
	a.versions = a.versions[:0]
	a.waiting = nil
}

// arrived hashes part index, just saved as version with data, if its turn
// has come, then up to maxCatchUp parts that were waiting for it.
func (e *Engine) arrived(ctx context.Context, u *upload, index int, version uint64, data []byte) {
	a := u.ahead
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case index < a.next:
		a.reset() // saved again after it was hashed
		return
	case index > a.next:
		a.wait(index, version)
	default:
		a.unwait(index)
		a.add(version, data)
	}
	e.catchUp(ctx, u, maxCatchUp)
}

// catchUp reads back and hashes at most limit parts that were saved before
// their turn; the caller holds u.ahead.mu.
func (e *Engine) catchUp(ctx context.Context, u *upload, limit int) {
	a := u.ahead
	if !a.isWaiting(a.next) {
		return
	}
	buf := e.partBufs.Get().(*[]byte)
	defer e.partBufs.Put(buf)
	for range limit {
		if !a.isWaiting(a.next) {
			return
		}
		p, data, err := e.temp.ReadPart(ctx, u.id, a.next, *buf)
		if err != nil {
			return // finalization reads it, and reports it if it is bad
		}
		// Saved again meanwhile: what was read is hashed, and the newer
		// save, once it reaches arrived, starts the hashes over.
		a.unwait(a.next)
		a.add(p.Version, data)
	}
}

// aheadState is a copy of the hashes of an upload's first parts, for
// finalization to go on from.
type aheadState struct {
	next     int
	whole    hash.Hash
	ranges   rangeHasher
	md5      hash.Hash // nil unless asked for
	fileType FileType
	versions []uint64
}

// snapshot copies the hashes of the first parts of an upload of n parts, or
// returns next 0 when there are none to go on from. The caller holds u.rw
// for writing, so no save adds to them meanwhile.
func (a *ahead) snapshot(n int, withMD5 bool) aheadState {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next == 0 || a.next > n || (withMD5 && a.md5 == nil) {
		return aheadState{}
	}
	s := aheadState{next: a.next, fileType: a.fileType, versions: append(make([]uint64, 0, n), a.versions...)}
	var err error
	if s.whole, err = a.whole.(hash.Cloner).Clone(); err != nil {
		return aheadState{}
	}
	rh, err := a.ranges.h.(hash.Cloner).Clone()
	if err != nil {
		return aheadState{}
	}
	s.ranges = rangeHasher{h: rh, n: a.ranges.n, out: append([]store.Hash(nil), a.ranges.out...)}
	if withMD5 {
		if s.md5, err = a.md5.(hash.Cloner).Clone(); err != nil {
			return aheadState{}
		}
	}
	return s
}
