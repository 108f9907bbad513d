// Package limit holds token buckets by key (an address, an auth key, a bot
// id): the flood limits of S7c. Buckets are golang.org/x/time/rate
// limiters; the table of them is bounded, so that a flood of new keys
// costs a bounded amount of memory, and full buckets (keys that have been
// quiet) are the first to go.
package limit

import (
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Keyed is a table of token buckets, one per key, each refilling at Rate
// per second up to Burst.
type Keyed[K comparable] struct {
	rate  rate.Limit
	burst int
	max   int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[K]*rate.Limiter
}

// New returns a table of at most maxKeys buckets of perSecond and burst.
// perSecond <= 0 turns the limit off.
func New[K comparable](perSecond float64, burst, maxKeys int, now func() time.Time) *Keyed[K] {
	if now == nil {
		now = time.Now
	}
	if burst < 1 {
		burst = 1
	}
	if maxKeys < 1 {
		maxKeys = 1
	}
	return &Keyed[K]{rate: rate.Limit(perSecond), burst: burst, max: maxKeys, now: now, buckets: make(map[K]*rate.Limiter)}
}

// Take takes n tokens of key's bucket, or says how long to wait for them
// without taking any.
func (k *Keyed[K]) Take(key K, n int) (ok bool, wait time.Duration) {
	if k == nil || k.rate <= 0 {
		return true, 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	if b == nil {
		if len(k.buckets) >= k.max {
			k.shed(now)
		}
		b = rate.NewLimiter(k.rate, k.burst)
		k.buckets[key] = b
	}
	r := b.ReserveN(now, n)
	if !r.OK() {
		return false, time.Duration(float64(time.Second) * float64(n) / float64(k.rate))
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Check reports whether key's bucket has n tokens, taking none.
func (k *Keyed[K]) Check(key K, n int) (ok bool, wait time.Duration) {
	if k == nil || k.rate <= 0 {
		return true, 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	if b == nil || b.TokensAt(now) >= float64(n) {
		return true, 0
	}
	missing := float64(n) - b.TokensAt(now)
	return false, time.Duration(missing / float64(k.rate) * float64(time.Second))
}

// shed makes room: buckets that have refilled are dropped (a new one is
// the same), and if none has, the emptiest-looking half goes, which at
// worst gives those keys a fresh burst. k.mu is held.
func (k *Keyed[K]) shed(now time.Time) {
	for key, b := range k.buckets {
		if b.TokensAt(now) >= float64(k.burst) {
			delete(k.buckets, key)
		}
	}
	if len(k.buckets) < k.max {
		return
	}
	n := 0
	for key := range k.buckets {
		delete(k.buckets, key)
		if n++; n >= k.max/2 {
			break
		}
	}
}

// Len returns how many buckets the table holds.
func (k *Keyed[K]) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

// FloodWait is Telegram's name for a wait: FLOOD_WAIT_X with X in whole
// seconds, at least 1.
func FloodWait(d time.Duration) string {
	return "FLOOD_WAIT_" + strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}
