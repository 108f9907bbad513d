package library

import (
	"context"
	"slices"
	"sync"
)

// fairSlots hands a fixed number of slots to accounts in turn (S7c): when
// slots are scarce, each account with waiters gets the next free slot in
// round-robin order, so an account that queues a hundred probes delays
// another account's by at most one turn per waiting account, not by its
// whole queue.
type fairSlots struct {
	mu     sync.Mutex
	free   int
	queues map[int64][]chan struct{} // waiters by account, first come first
	turns  []int64                   // accounts with waiters, next first
}

func newFairSlots(n int) *fairSlots {
	return &fairSlots{free: n, queues: map[int64][]chan struct{}{}}
}

// acquire waits for a slot for account, or for ctx to end.
func (f *fairSlots) acquire(ctx context.Context, account int64) bool {
	f.mu.Lock()
	if f.free > 0 && len(f.turns) == 0 {
		f.free--
		f.mu.Unlock()
		return true
	}
	granted := make(chan struct{})
	if len(f.queues[account]) == 0 {
		f.turns = append(f.turns, account)
	}
	f.queues[account] = append(f.queues[account], granted)
	f.mu.Unlock()
	select {
	case <-granted:
		return true
	case <-ctx.Done():
	}
	f.mu.Lock()
	q := f.queues[account]
	i := slices.Index(q, granted)
	if i < 0 {
		// Granted as ctx ended: the slot goes on to the next in turn.
		f.mu.Unlock()
		f.release()
		return false
	}
	if q = slices.Delete(q, i, i+1); len(q) == 0 {
		delete(f.queues, account)
		f.turns = slices.DeleteFunc(f.turns, func(a int64) bool { return a == account })
	} else {
		f.queues[account] = q
	}
	f.mu.Unlock()
	return false
}

// release frees a slot: it goes to the first waiter of the account whose
// turn it is, and that account goes to the back of the turns.
func (f *fairSlots) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.turns) == 0 {
		f.free++
		return
	}
	account := f.turns[0]
	f.turns = f.turns[1:]
	q := f.queues[account]
	next := q[0]
	if q = q[1:]; len(q) == 0 {
		delete(f.queues, account)
	} else {
		f.queues[account] = q
		f.turns = append(f.turns, account)
	}
	close(next)
}
