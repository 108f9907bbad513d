package store

import (
	"context"
	"sync"
	"time"
)

// Once remembers one-time tokens, such as exported authorizations, so that
// each is accepted at most once across all processes that share the store.
type Once interface {
	// UseOnce records token id as used until expires. It reports true the
	// first time, false if the token was used before and has not expired.
	UseOnce(ctx context.Context, id [16]byte, expires time.Time) (bool, error)
}

// MemOnce is a Once in one process's memory, for stores that keep no such
// record. Several processes of one DC need the store's own.
type MemOnce struct {
	mu   sync.Mutex
	used map[[16]byte]time.Time
	Now  func() time.Time // default time.Now
}

// UseOnce implements Once; expired tokens are dropped as new ones arrive.
func (m *MemOnce) UseOnce(ctx context.Context, id [16]byte, expires time.Time) (bool, error) {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.used == nil {
		m.used = make(map[[16]byte]time.Time)
	}
	for k, exp := range m.used {
		if !now.Before(exp) {
			delete(m.used, k)
		}
	}
	if _, ok := m.used[id]; ok {
		return false, nil
	}
	m.used[id] = expires
	return true, nil
}
