package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync/atomic"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// Stats are the engine's counters since it started, for monitoring. The
// engine fills them with atomics; package metrics reads them, so that the
// engine stays free of any metrics library.
type Stats struct {
	PartsSaved   int64 // parts saved, saves of a part again included
	BytesSaved   int64 // bytes of those parts
	SavesRunning int64 // SavePart calls in progress: parts in flight
	BytesServed  int64 // bytes Read returned
	Finalized    int64 // uploads finalized into stored files
	FinalizeErrs int64 // finalizations that failed, the client's mistakes included
	Evicted      int64 // uploads evicted to keep within the temporary budget
	Expired      int64 // uploads removed whole past MaxTTL
	// HashStatesKept counts the states of uploads' hashes written to the
	// Temp store; HashStatesLoaded those a start went on from.
	HashStatesKept, HashStatesLoaded int64
	// StoreErrors counts the failures of each store the engine uses that
	// are not answers such as "not found".
	StoreErrors StoreErrors
}

// StoreErrors counts store failures by store.
type StoreErrors struct{ Temp, Content, Records int64 }

// counters are what Stats reads.
type counters struct {
	partsSaved, bytesSaved, savesRunning, bytesServed atomic.Int64
	finalized, finalizeErrs, evicted, expired         atomic.Int64
	tempErrs, contentErrs, recordErrs                 atomic.Int64
	hashStatesKept, hashStatesLoaded                  atomic.Int64
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	c := &e.stats
	return Stats{
		PartsSaved: c.partsSaved.Load(), BytesSaved: c.bytesSaved.Load(), SavesRunning: c.savesRunning.Load(),
		BytesServed: c.bytesServed.Load(), Finalized: c.finalized.Load(), FinalizeErrs: c.finalizeErrs.Load(),
		Evicted: c.evicted.Load(), Expired: c.expired.Load(),
		HashStatesKept: c.hashStatesKept.Load(), HashStatesLoaded: c.hashStatesLoaded.Load(),
		StoreErrors: StoreErrors{Temp: c.tempErrs.Load(), Content: c.contentErrs.Load(), Records: c.recordErrs.Load()},
	}
}

// TempBudget returns the bytes of temporary parts the engine keeps to.
func (e *Engine) TempBudget() int64 { return e.cfg.TempBudget }

// storeErr counts err against a store unless it is an expected answer or
// the caller gave up; it returns err.
func storeErr(n *atomic.Int64, err error) error {
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConsumed) &&
		!errors.Is(err, store.ErrPartChanged) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		n.Add(1)
	}
	return err
}

// UploadState is an upload in temporary storage as the status page shows
// it: no owner or file id, only a hash of the upload's own random id.
type UploadState struct {
	ID      string    // the first 12 hex digits of SHA-256 of the upload id
	Big     bool      // saved with saveBigFilePart
	Total   int       // the parts the client declared (big files), else 0
	Parts   int       // parts present
	Bytes   int64     // bytes of those parts
	Touched time.Time // last save
	// Map holds one byte per part index up to the highest present (or the
	// declared total), 1 where the part is present, at most maxParts.
	Map []byte
}

// InFlight returns the temporary uploads, the most recently touched first,
// at most maxUploads of them, each with its part map cut at maxParts.
func (e *Engine) InFlight(maxUploads, maxParts int) []UploadState {
	e.mu.Lock()
	us := make([]*upload, 0, min(maxUploads, e.lru.Len()))
	for el := e.lru.Front(); el != nil && len(us) < maxUploads; el = el.Next() {
		us = append(us, el.Value.(*upload))
	}
	touched := make([]time.Time, len(us))
	for i, u := range us {
		touched[i] = u.touched
	}
	e.mu.Unlock()
	out := make([]UploadState, 0, len(us))
	for i, u := range us {
		sum := sha256.Sum256(u.id[:])
		st := UploadState{ID: hex.EncodeToString(sum[:6]), Big: u.key.Big, Touched: touched[i]}
		u.mu.Lock()
		ps := u.parts
		st.Parts, st.Bytes = ps.count, ps.bytes
		for t := range ps.byTotal {
			st.Total = max(st.Total, int(t))
		}
		n := min(max(ps.max+1, st.Total), maxParts)
		st.Map = make([]byte, n)
		for j := range st.Map {
			if ps.has(j) {
				st.Map[j] = 1
			}
		}
		u.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// TempParts returns how many parts the temporary uploads hold.
func (e *Engine) TempParts() int {
	e.mu.Lock()
	us := make([]*upload, 0, len(e.uploads))
	for _, u := range e.uploads {
		us = append(us, u)
	}
	e.mu.Unlock()
	n := 0
	for _, u := range us {
		u.mu.Lock()
		n += u.parts.count
		u.mu.Unlock()
	}
	return n
}
