package transport

import (
	"sync"
	"time"
)

// Frame buffers grow as a frame's bytes arrive, in steps of four: a client
// that declares a 1 MiB frame and sends nothing holds 64 KiB, not 1 MiB
// (S7a). The buffers come from pools of the step sizes, so an idle
// connection holds none and a busy one reuses them.
var frameSteps = [...]int{64 << 10, 256 << 10, 1<<20 + 64<<10}

var framePools [len(frameSteps)]sync.Pool

// getFrame returns a buffer of at least n bytes (and at most max): the
// smallest step that holds n.
func getFrame(n, max int) []byte {
	for i, size := range frameSteps {
		if n <= size && size <= max {
			if b, ok := framePools[i].Get().(*[]byte); ok {
				return (*b)[:0]
			}
			return make([]byte, 0, size)
		}
	}
	return make([]byte, 0, min(max, nextStep(n)))
}

// nextStep is the buffer size after one of size n: four times larger.
func nextStep(n int) int {
	for _, size := range frameSteps {
		if size > n {
			return size
		}
	}
	return 4 * n
}

// PutFrame returns a frame buffer that ReadFrame returned, once its bytes
// are no longer used.
func PutFrame(b []byte) {
	for i, size := range frameSteps {
		if cap(b) == size {
			b = b[:0]
			framePools[i].Put(&b)
			return
		}
	}
}

// Budget bounds the bytes held by frames still arriving, over every
// connection that shares it. Past the budget the connection whose frame
// has been arriving longest is dropped first: a slow client loses to a
// fast one, and many slow ones cannot hold the server's memory.
type Budget struct {
	limit int64

	mu       sync.Mutex
	used     int64
	arriving map[*Conn]*arrival
}

type arrival struct {
	since time.Time
	held  int64
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget {
	return &Budget{limit: limit, arriving: make(map[*Conn]*arrival)}
}

// Used returns the bytes held by frames arriving now.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// grow counts n more bytes for c's frame, begun at since. It drops the
// connections whose frames began earlier as long as the budget is short,
// and returns false when c itself is the one to drop.
func (b *Budget) grow(c *Conn, since time.Time, n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.arriving[c]
	if a == nil {
		a = &arrival{since: since}
		b.arriving[c] = a
	}
	for b.used+n > b.limit {
		var victim *Conn
		var oldest *arrival
		for other, o := range b.arriving {
			if oldest == nil || o.since.Before(oldest.since) {
				victim, oldest = other, o
			}
		}
		if victim == c {
			b.used -= a.held
			delete(b.arriving, c)
			return false
		}
		b.used -= oldest.held
		delete(b.arriving, victim)
		victim.raw.Close() // its ReadFrame fails; its done finds nothing
	}
	a.held += n
	b.used += n
	return true
}

// done releases what c's frame held: it arrived, or the connection ends.
func (b *Budget) done(c *Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a := b.arriving[c]; a != nil {
		b.used -= a.held
		delete(b.arriving, c)
	}
}
