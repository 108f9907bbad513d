package files

import (
	"context"

	"github.com/filedc/filedc/internal/store"
)

// SavePart is one upload.saveFilePart or upload.saveBigFilePart call.
type SavePart struct {
	Key  store.UploadKey // Key.Big selects saveBigFilePart
	Part int             // file_part
	// TotalParts is file_total_parts of saveBigFilePart: 1..max_parts, or -1
	// while the size is not known yet. Ignored on the small path.
	TotalParts int32
	Premium    bool // the account may save up to PremiumMaxParts parts
	Data       []byte
}

// checkAlone applies the rules a part proves or breaks on its own (U3, U5, U6).
func (e *Engine) checkAlone(r *SavePart) error {
	limit := e.maxParts(r.Premium)
	if r.Part < 0 || r.Part >= limit {
		return ErrFilePartInvalid
	}
	if r.Key.Big {
		if r.TotalParts != -1 && (r.TotalParts < 1 || int(r.TotalParts) > limit) {
			return ErrFilePartsInvalid
		}
		if r.TotalParts > 0 && r.Part >= int(r.TotalParts) {
			return ErrFilePartInvalid
		}
	}
	switch {
	case len(r.Data) == 0:
		return ErrFilePartEmpty
	case len(r.Data) > maxPartSize:
		return ErrFilePartTooBig
	}
	return nil
}

// SavePart stores one part of an upload (U1). Saving a part again replaces
// it. Parts of one upload may be saved concurrently and in any order (U4).
// The data is not retained after SavePart returns.
func (e *Engine) SavePart(ctx context.Context, r SavePart) error {
	if err := e.checkAlone(&r); err != nil {
		return err
	}
	e.stats.savesRunning.Add(1)
	defer e.stats.savesRunning.Add(-1)
	total := int32(0)
	if r.Key.Big {
		total = r.TotalParts
	}
	for {
		id, err := e.newUploadID(ctx, r.Key, false)
		if err != nil {
			return err
		}
		u, err := e.touch(r.Key, id)
		if err != nil {
			return err
		}
		u.rw.RLock()
		if u.gone {
			u.rw.RUnlock()
			continue // finalized or evicted meanwhile: start a new upload
		}
		err = e.savePart(ctx, u, r.Part, total, r.Data)
		u.rw.RUnlock()
		if err != nil {
			e.dropIfEmpty(ctx, u)
			return err
		}
		e.stats.partsSaved.Add(1)
		e.stats.bytesSaved.Add(int64(len(r.Data)))
		if e.tempBytes.Load() > e.cfg.TempBudget {
			e.evictOverBudget(ctx)
		}
		return nil
	}
}

// touch returns the upload for key, creating it with id (a random one when
// zero) if the owner may start one, and marks it the most recently used.
func (e *Engine) touch(key store.UploadKey, id store.UploadID) (*upload, error) {
	now := e.cfg.Clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.uploads[key]
	if u == nil {
		o := e.ownerLocked(key.Owner)
		if limit := e.cfg.MaxUploadsPerOwner; limit > 0 && o.uploads >= limit {
			return nil, e.floodWait(LimitTempUploads)
		}
		o.uploads++
		if id == (store.UploadID{}) {
			id = randomUploadID()
		}
		u = &upload{key: key, id: id, parts: newPartSet(), owner: o, ahead: newAhead(!key.Big)}
		e.uploads[key] = u
		u.elem = e.lru.PushFront(u)
	} else {
		e.lru.MoveToFront(u.elem)
	}
	u.touched = now
	return u, nil
}

func (e *Engine) savePart(ctx context.Context, u *upload, index int, total int32, data []byte) error {
	savedAt := e.cfg.Clock.Now()

	// Reserve the part in the state first, so concurrent saves of the same
	// upload check against each other, then write without holding the lock.
	u.mu.Lock()
	ps := u.parts
	delta := int64(len(data) - ps.size(index))
	if limit := e.cfg.MaxTempBytesPerOwner; limit > 0 && u.owner.bytes.Load()+delta > limit {
		u.mu.Unlock()
		if !e.cfg.Shared {
			return e.floodWait(LimitTempBytes)
		}
		// The account's uploads another process finalized may still count.
		e.sweeping.Lock()
		e.forgetGoneLocked(ctx, maxGoneChecks)
		e.sweeping.Unlock()
		u.mu.Lock()
		ps = u.parts
		delta = int64(len(data) - ps.size(index))
		if u.owner.bytes.Load()+delta > limit {
			u.mu.Unlock()
			return e.floodWait(LimitTempBytes)
		}
	}
	if !e.reserveTemp(delta) {
		// The budget is hard (S7b): room is made by evicting uploads past
		// their minimum TTL, or the save waits.
		u.mu.Unlock()
		if !e.makeRoom(ctx, delta) {
			return e.floodWait(LimitTempBudget)
		}
		u.mu.Lock()
		ps = u.parts
		delta = int64(len(data) - ps.size(index))
		if !e.reserveTemp(delta) {
			u.mu.Unlock()
			return e.floodWait(LimitTempBudget)
		}
	}
	u.owner.bytes.Add(delta)
	hadOld := ps.has(index)
	var oldSize int
	var oldTotal int32
	var oldSaved int64
	if hadOld {
		oldSize, oldTotal, oldSaved = ps.size(index), ps.totals[index], ps.saved[index]
	}
	ps.put(index, len(data), total, savedAt.UnixNano())
	if err := ps.checkSave(index); err != nil {
		ps.remove(index)
		if hadOld {
			ps.put(index, oldSize, oldTotal, oldSaved)
		}
		e.addBytes(u, -delta)
		u.mu.Unlock()
		return err
	}
	for len(u.seq) <= index {
		u.seq = append(u.seq, 0)
	}
	for len(u.saving) <= index {
		u.saving = append(u.saving, 0)
	}
	u.seq[index]++
	seq := u.seq[index]
	u.saving[index]++
	u.mu.Unlock()

	version, err := e.temp.PutPart(ctx, u.id, u.key, store.Part{
		Index: index, Size: len(data), Total: total, SavedAt: savedAt,
	}, data)
	if err = storeErr(&e.stats.tempErrs, err); err != nil {
		// Undo the reservation unless a later save of this part replaced it.
		u.mu.Lock()
		u.saving[index]--
		if u.seq[index] == seq {
			ps.remove(index)
			if hadOld {
				ps.put(index, oldSize, oldTotal, oldSaved)
			}
			e.addBytes(u, int64(oldSize-len(data)))
		}
		u.mu.Unlock()
		// The parts after this one may be waiting for it: they look again.
		u.ahead.mu.Lock()
		u.ahead.moved()
		u.ahead.mu.Unlock()
		return err
	}
	// The save counts as in flight until its part is hashed or put aside:
	// the parts after it may wait for it meanwhile.
	e.arrived(ctx, u, index, version, data)
	u.mu.Lock()
	u.saving[index]--
	u.mu.Unlock()
	return nil
}

// dropIfEmpty forgets an upload whose only save failed, so that refused
// saves under ever new file ids cost no memory.
func (e *Engine) dropIfEmpty(ctx context.Context, u *upload) {
	if !u.rw.TryLock() {
		return // another save or a finalization is busy with it
	}
	defer u.rw.Unlock()
	u.mu.Lock()
	empty := u.parts.count == 0
	u.mu.Unlock()
	if empty && !u.gone {
		e.evict(ctx, u)
	}
}

// reserveTemp counts delta more bytes of temporary parts, unless that would
// pass the budget. With several processes (Shared) each counts the parts it
// saved and those of the uploads it finalizes or sweeps: each holds at most
// the budget, so a DC holds at most its processes times the budget.
func (e *Engine) reserveTemp(delta int64) bool {
	for {
		cur := e.tempBytes.Load()
		if delta > 0 && cur+delta > e.cfg.TempBudget {
			return false
		}
		if e.tempBytes.CompareAndSwap(cur, cur+delta) {
			return true
		}
	}
}

// makeRoom evicts the least recently touched uploads past their minimum
// TTL until need more bytes fit in the budget, and reports whether they do.
func (e *Engine) makeRoom(ctx context.Context, need int64) bool {
	e.sweeping.Lock()
	e.evictLocked(ctx, e.cfg.Clock.Now(), need)
	if e.cfg.Shared && e.tempBytes.Load()+need > e.cfg.TempBudget {
		// Uploads another process finalized still count here until they
		// are seen gone: look, however young they are.
		e.forgetGoneLocked(ctx, maxGoneChecks)
	}
	e.sweeping.Unlock()
	return e.tempBytes.Load()+need <= e.cfg.TempBudget
}

// maxGoneChecks bounds the store reads of one forgetGoneLocked.
const maxGoneChecks = 64

// forgetGoneLocked drops, of the limit least recently touched uploads,
// those another process finalized or emptied. The caller holds e.sweeping.
func (e *Engine) forgetGoneLocked(ctx context.Context, limit int) {
	var candidates []*upload
	e.mu.Lock()
	for el := e.lru.Back(); el != nil && len(candidates) < limit; el = el.Prev() {
		candidates = append(candidates, el.Value.(*upload))
	}
	e.mu.Unlock()
	for _, u := range candidates {
		if !u.rw.TryLock() {
			continue // a save or finalization of this process is busy with it
		}
		if !u.gone {
			e.syncForSweep(ctx, u)
		}
		u.rw.Unlock()
	}
}
