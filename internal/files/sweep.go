package files

import (
	"context"
	"time"
)

// Temporary parts live "between several minutes and several hours depending
// on how busy the storage area is" (U8). Under the budget a part lives up to
// MaxTTL; over it the least recently touched uploads go first, but never one
// touched less than MinTTL ago.

// Sweep expires parts older than MaxTTL, evicts uploads while the budget is
// exceeded, and forgets consumed markers that can no longer matter.
func (e *Engine) Sweep(ctx context.Context) error {
	now := e.cfg.Clock.Now()
	e.expireParts(ctx, now)
	e.sweeping.Lock()
	e.evictLocked(ctx, now, 0)
	e.sweeping.Unlock()
	return e.meta.ForgetConsumed(ctx, now.Add(-2*e.cfg.MaxTTL))
}

// Run sweeps every interval until ctx is done.
func (e *Engine) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.Sweep(ctx); err != nil && ctx.Err() == nil {
				e.cfg.Logger.Warn("sweeping temporary parts", "err", err)
			}
		}
	}
}

func (e *Engine) expireParts(ctx context.Context, now time.Time) {
	deadline := now.Add(-e.cfg.MaxTTL).UnixNano()
	e.mu.Lock()
	all := make([]*upload, 0, len(e.uploads))
	for _, u := range e.uploads {
		all = append(all, u)
	}
	e.mu.Unlock()
	for _, u := range all {
		if !u.rw.TryLock() {
			continue // being saved or finalized right now: not expiring
		}
		if !u.gone && e.cfg.Shared {
			if gone, err := e.syncForSweep(ctx, u); gone || err != nil {
				u.rw.Unlock()
				continue
			}
		}
		if !u.gone {
			var expired []int
			u.mu.Lock()
			for i, at := range u.parts.saved {
				if u.parts.has(i) && at <= deadline {
					expired = append(expired, i)
				}
			}
			u.mu.Unlock()
			if len(expired) == u.parts.count {
				e.stats.expired.Add(1)
				e.evict(ctx, u)
			} else {
				for _, i := range expired {
					e.dropPart(ctx, u, i)
				}
			}
		}
		u.rw.Unlock()
	}
}

// evictOverBudget is called by savers that found the budget exceeded; one of
// them evicts while the others go on.
func (e *Engine) evictOverBudget(ctx context.Context) {
	if !e.sweeping.TryLock() {
		return
	}
	e.evictLocked(ctx, e.cfg.Clock.Now(), 0)
	e.sweeping.Unlock()
}

// evictLocked evicts uploads until room more bytes fit in the budget.
func (e *Engine) evictLocked(ctx context.Context, now time.Time, room int64) {
	for e.tempBytes.Load()+room > e.cfg.TempBudget {
		var victim *upload
		e.mu.Lock()
		for el := e.lru.Back(); el != nil; el = el.Prev() {
			u := el.Value.(*upload)
			if now.Sub(u.touched) < e.cfg.MinTTL {
				break // this one and all in front of it are too young
			}
			if u.rw.TryLock() {
				victim = u
				break
			}
		}
		e.mu.Unlock()
		if victim == nil {
			return
		}
		if !victim.gone && e.cfg.Shared {
			gone, err := e.syncForSweep(ctx, victim)
			if err != nil {
				victim.rw.Unlock()
				return // try again at the next sweep
			}
			if gone || now.Sub(victim.touched) < e.cfg.MinTTL {
				victim.rw.Unlock() // touched through another process lately
				continue
			}
		}
		if !victim.gone {
			e.stats.evicted.Add(1)
			e.evict(ctx, victim)
		}
		victim.rw.Unlock()
	}
}

// evict removes a whole upload; the caller holds u.rw for writing.
func (e *Engine) evict(ctx context.Context, u *upload) {
	e.drop(u)
	if err := storeErr(&e.stats.tempErrs, e.temp.DeleteUpload(ctx, u.id)); err != nil {
		e.cfg.Logger.Warn("evicting upload", "upload", u.id, "err", err)
	}
}
