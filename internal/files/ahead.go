package files

import (
	"context"
	"crypto/md5"
	"hash"
	"sync"
	"time"

	"github.com/filedc/filedc/internal/filehash"
)

const (
	// maxCatchUp bounds the parts one save reads back to hash the parts
	// that arrived before their turn: a save never waits for a whole file.
	maxCatchUp = 16
	// A part that arrives at most maxWaitAhead parts early, every part
	// before it being saved right now, waits up to maxTurnWait for its turn
	// and is hashed from its own bytes, instead of being read back later:
	// parallel saves finish a little out of order all the time.
	maxWaitAhead = 8
	maxTurnWait  = 2 * time.Second
	// A part at most maxWaitAhead early whose predecessors are not all
	// being saved yet waits at most maxGraceWait for them to start: a
	// client's parallel saves reach the engine a little out of order too,
	// by as much as a busy scheduler delays a goroutine. Parts further
	// ahead (a client sending in reverse, say) do not wait.
	maxGraceWait = 50 * time.Millisecond
)

// ahead holds the hashes of an upload's first parts, computed as the parts
// arrive: a part is hashed as soon as every part before it is there (its
// own save hashes it while its bytes are in cache), so that finalization
// hashes only what is left. Seal checks the versions hashed here like those
// finalization reads (S7e): a part saved again through another process is
// caught there, and one saved again through this one starts the hashes over.
type ahead struct {
	mu       sync.Mutex
	next     int              // parts 0..next-1 are hashed
	sums     *filehash.Hasher // SHA-256 of the whole and of each range
	md5      hash.Hash        // the small path only: md5_checksum is checked against it
	fileType FileType
	versions []uint64 // of parts 0..next-1
	// waiting marks the parts saved past next, by index, with their
	// versions; it grows to the highest index saved (at most max_parts).
	waiting []waitingPart
	// turn is closed when next moves (or the hashes start over), for the
	// saves waiting for their turn; nil when none waits.
	turn chan struct{}

	hashed int64 // bytes of parts 0..next-1
	kept   int64 // hashed when the last state was taken (hashstate.go)
	gen    int   // counts the times the hashes started over

	keepMu            sync.Mutex // orders the writes of states; never held with mu
	keptGen, keptNext int        // of the last state written
}

// moved wakes the saves waiting for their turn; the caller holds a.mu.
func (a *ahead) moved() {
	if a.turn != nil {
		close(a.turn)
		a.turn = nil
	}
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
	a := &ahead{sums: filehash.New(0)}
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
	a.sums.Write(data)
	if a.md5 != nil {
		a.md5.Write(data)
	}
	a.versions = append(a.versions, version)
	a.next++
	a.hashed += int64(len(data))
	a.moved()
}

// reset starts the hashes over; the caller holds a.mu.
func (a *ahead) reset() {
	a.next = 0
	a.sums.Reset()
	if a.md5 != nil {
		a.md5.Reset()
	}
	a.versions = a.versions[:0]
	a.waiting = nil
	a.hashed, a.kept = 0, 0
	a.gen++
	a.moved()
}

// arrived hashes part index, just saved as version with data, if its turn
// has come (waiting a little for it when the parts before it are being
// saved), then up to maxCatchUp parts that were waiting for it, and keeps
// the state of the hashes when it is due.
func (e *Engine) arrived(ctx context.Context, u *upload, index int, version uint64, data []byte) {
	if s := e.hashArrived(ctx, u, index, version, data); s != nil {
		e.keepState(ctx, u, s)
	}
}

// hashArrived is arrived's hashing, under u.ahead.mu; it returns the state
// to keep, if one is due.
func (e *Engine) hashArrived(ctx context.Context, u *upload, index int, version uint64, data []byte) (due *pendingState) {
	a := u.ahead
	a.mu.Lock()
	defer func() {
		due = e.takeState(a)
		a.mu.Unlock()
	}()
	var turnDeadline time.Time // when the wait for the turn started, plus maxTurnWait
	gaveUp, graced := false, false
	for {
		switch {
		case index < a.next:
			a.reset() // saved again after it was hashed
			return
		case index == a.next:
			a.unwait(index)
			a.add(version, data)
			e.catchUp(ctx, u, maxCatchUp)
			return
		}
		e.catchUp(ctx, u, maxCatchUp)
		var wait time.Duration
		if !gaveUp && a.next < index && index-a.next <= maxWaitAhead {
			if e.worthWaiting(u, index) {
				if turnDeadline.IsZero() {
					turnDeadline = time.Now().Add(maxTurnWait)
				}
				wait = max(time.Until(turnDeadline), time.Nanosecond)
			} else if !graced {
				// A part before it may have been sent but not reached
				// the engine yet: a short grace, then a second look.
				graced = true
				wait = maxGraceWait
			}
		}
		if wait > 0 {
			if a.turn == nil {
				a.turn = make(chan struct{})
			}
			turn := a.turn
			a.mu.Unlock()
			if !turnDeadline.IsZero() {
				e.step(StepTurn)
			}
			t := time.NewTimer(wait)
			select {
			case <-turn:
			case <-t.C:
				gaveUp = !turnDeadline.IsZero()
			case <-ctx.Done():
				gaveUp = true
			}
			t.Stop()
			a.mu.Lock()
			continue
		}
		if index < a.next {
			a.reset()
			return
		}
		if index > a.next {
			a.wait(index, version) // read back once its turn comes
			return
		}
	}
}

// worthWaiting reports whether part index, ahead of a.next by at most
// maxWaitAhead (the caller checks), may wait for its turn: every part before
// it is being saved through this process right now (or waits to be read
// back, which the save of the part before it does). A backlog left at
// a.next after this save's catch-up (after a restart, say) is not worth
// waiting for: no save may come to read it. The caller holds u.ahead.mu.
func (e *Engine) worthWaiting(u *upload, index int) bool {
	a := u.ahead
	if a.isWaiting(a.next) {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for j := a.next; j < index; j++ {
		if !a.isWaiting(j) && (j >= len(u.saving) || u.saving[j] == 0) {
			return false
		}
	}
	return true
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
	sums     *filehash.Hasher
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
	s.sums = a.sums.Clone()
	if withMD5 {
		var err error
		if s.md5, err = a.md5.(hash.Cloner).Clone(); err != nil {
			return aheadState{}
		}
	}
	return s
}
