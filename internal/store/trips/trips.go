// Package trips counts the round trips the file engine's stores make to
// the services behind them (S3, Redis, PostgreSQL), by service and kind,
// for the metrics and for planning what one service carries.
package trips

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Counter counts round trips. Its keys come from the stores' code, never
// from clients, so the set stays small. A nil Counter counts nothing.
type Counter struct {
	mu     sync.Mutex
	counts map[Key]*atomic.Int64
}

// Key names a kind of round trip.
type Key struct {
	Service string // "s3", "redis" or "postgres"
	Op      string // what the trip was: put, get, pipeline, query, transaction, …
}

// New returns an empty counter.
func New() *Counter { return &Counter{counts: make(map[Key]*atomic.Int64)} }

// Add counts one round trip.
func (c *Counter) Add(service, op string) {
	if c == nil {
		return
	}
	k := Key{service, op}
	c.mu.Lock()
	n := c.counts[k]
	if n == nil {
		n = new(atomic.Int64)
		c.counts[k] = n
	}
	c.mu.Unlock()
	n.Add(1)
}

// Snapshot returns the counts so far.
func (c *Counter) Snapshot() map[Key]int64 {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[Key]int64, len(c.counts))
	for k, n := range c.counts {
		out[k] = n.Load()
	}
	return out
}

// Keys returns the keys of a map by Key in order.
func Keys[V any](s map[Key]V) []Key {
	return slices.SortedFunc(maps.Keys(s), func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Op, b.Op))
	})
}
