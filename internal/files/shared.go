package files

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// Several processes of one DC (O2) share the Temp, Content and Meta stores
// (Config.Shared); each keeps its own in-memory view of the uploads. A client
// may save some parts through one process and the rest, and the
// finalization, through another. So in shared mode:
//
//   - an upload's id is derived from its key and a generation number instead
//     of drawn at random, so every process names the same upload alike; the
//     generation is the first whose id is not consumed yet (a client may
//     reuse a file_id after finalizing);
//   - a process that finalizes, or that sweeps an upload, first reads the
//     upload's parts from the store (store.PartLister), so parts saved
//     elsewhere count and an upload touched elsewhere is not expired;
//   - a process drops its view of an upload another process finalized: at
//     its next sweep, or when the client finalizes through it.
//
// Saving a part needs Meta only for the first part of an upload a process
// sees, to find its generation; when Meta is down it takes generation 0
// (right unless the client reuses a file_id, which finalization then
// detects), so parts are saved during a Meta outage as on one process.
//
// Limits on temporary space and uploads per account apply per process: a
// DC of N processes holds at most N times the temporary budget.

// maxGenerations bounds the search for an upload's current generation.
const maxGenerations = 1 << 10

// sharedUploadID is the id of generation gen of key's upload.
func sharedUploadID(key store.UploadKey, gen int) store.UploadID {
	var b [8 + 8 + 1 + 4]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(key.Owner))
	binary.LittleEndian.PutUint64(b[8:], uint64(key.FileID))
	if key.Big {
		b[16] = 1
	}
	binary.LittleEndian.PutUint32(b[17:], uint32(gen))
	sum := sha256.Sum256(append([]byte("filedc upload "), b[:]...))
	var id store.UploadID
	copy(id[:], sum[:])
	return id
}

// newUploadID returns the id touch gives key's upload if it has to create
// one: zero (touch draws a random one) for a store of one process; in shared
// mode the current generation's. final is set by finalization, which first
// forgets an upload another process finalized.
func (e *Engine) newUploadID(ctx context.Context, key store.UploadKey, final bool) (store.UploadID, error) {
	if !e.cfg.Shared {
		return store.UploadID{}, nil
	}
	e.mu.Lock()
	u := e.uploads[key]
	e.mu.Unlock()
	if u != nil && !final {
		return u.id, nil
	}
	if u != nil {
		consumed, err := e.meta.Consumed(ctx, u.id)
		if err != nil {
			return store.UploadID{}, err
		}
		if !consumed {
			return u.id, nil
		}
		u.rw.Lock()
		if !u.gone {
			e.drop(u) // finalized elsewhere; its parts went with it
		}
		u.rw.Unlock()
	}
	for gen := 0; gen < maxGenerations; gen++ {
		id := sharedUploadID(key, gen)
		consumed, err := e.meta.Consumed(ctx, id)
		if err != nil && gen == 0 && !final {
			e.cfg.Logger.Warn("finding an upload's generation; taking the first", "err", err)
			return id, nil
		}
		if err != nil {
			return store.UploadID{}, err
		}
		if !consumed {
			return id, nil
		}
	}
	return store.UploadID{}, fmt.Errorf("files: file_id %d reused over %d times", key.FileID, maxGenerations)
}

// refresh replaces u's parts with those the store holds, saved through any
// process. The caller holds u.rw for writing, so no save of this process is
// in flight.
func (e *Engine) refresh(ctx context.Context, u *upload) error {
	lister, ok := e.temp.(store.PartLister)
	if !ok {
		return nil
	}
	parts, err := lister.Parts(ctx, u.id)
	if err != nil {
		return err
	}
	ps := newPartSet()
	var touched time.Time
	for _, p := range parts {
		if p.Index < 0 || p.Index >= e.cfg.PremiumMaxParts || p.Size <= 0 || p.Size > maxPartSize {
			continue
		}
		ps.put(p.Index, p.Size, p.Total, p.SavedAt.UnixNano())
		if p.SavedAt.After(touched) {
			touched = p.SavedAt
		}
	}
	u.mu.Lock()
	delta := ps.bytes - u.parts.bytes
	u.parts = ps
	u.mu.Unlock()
	e.addBytes(u, delta)
	e.mu.Lock()
	if touched.After(u.touched) {
		u.touched = touched
		if u.elem != nil {
			e.lru.MoveToFront(u.elem)
		}
	}
	e.mu.Unlock()
	return nil
}

// syncForSweep brings u up to date before a sweep judges it, and reports
// whether u is gone: finalized or emptied by another process. On a store
// error the sweep leaves u alone: nothing is evicted on a guess. The caller
// holds u.rw for writing.
func (e *Engine) syncForSweep(ctx context.Context, u *upload) (bool, error) {
	consumed, err := e.meta.Consumed(ctx, u.id)
	if err == nil && !consumed {
		err = e.refresh(ctx, u)
	}
	if err != nil {
		e.cfg.Logger.Warn("reading a shared upload before sweeping", "upload", u.id, "err", err)
		return false, err
	}
	u.mu.Lock()
	empty := u.parts.count == 0
	u.mu.Unlock()
	if consumed || empty {
		e.drop(u)
		return true, nil
	}
	return false, nil
}
