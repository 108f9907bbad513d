package server

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"

	"github.com/filedc/filedc/internal/mtproto/transport"
)

// outgoing is a message prepared for a session's key, waiting in its
// connection's queue.
type outgoing struct {
	key   crypto.AuthKey
	plain *bin.Buffer // as prepare leaves it
	n     uint64      // its place in the queue
	err   error       // of its write
}

var outgoings = sync.Pool{New: func() any { return new(outgoing) }}

func newOutgoing(k crypto.AuthKey) *outgoing {
	o := outgoings.Get().(*outgoing)
	o.key = k
	o.plain = sendBufs.Get().(*bin.Buffer)
	return o
}

// dropPlain returns the plaintext buffer, once sealed.
func (o *outgoing) dropPlain() {
	if o.plain != nil && cap(o.plain.Buf) <= 2<<20 {
		o.plain.Reset()
		sendBufs.Put(o.plain)
	}
	o.plain = nil
}

func (o *outgoing) free() {
	o.dropPlain()
	*o = outgoing{}
	outgoings.Put(o)
}

// sealer encrypts and writes a connection's messages in the order they
// were queued. msg_key, a SHA-256 of the plaintext, must be known before a
// message is encrypted, since its AES key derives from it; but the next
// message's can be computed while this one is encrypted, and both loops are
// bound by the latency of their own instructions, so hashing costs next to
// nothing that way (aesige.EncryptHashing). So the first sender that finds
// the sealer idle seals every queued message until the queue is empty
// (flat combining: no goroutine of its own), and the other senders wait
// until their message is written: a call holds its slot until its answer
// is on the wire, as a direct write would.
type sealer struct {
	mu      sync.Mutex
	written sync.Cond // L is &mu (newConn); signalled as done grows
	queue   []*outgoing
	head    int // queue[head:] waits
	busy    bool
	queued  uint64        // messages queued so far
	done    uint64        // messages written (or failed) so far
	paired  atomic.Uint64 // messages hashed while the one before was encrypted
}

// send queues o, waits until it is written and returns the error of its
// write; o is freed.
func (q *sealer) send(t *transport.Conn, o *outgoing) error {
	q.mu.Lock()
	q.queued++
	o.n = q.queued
	q.queue = append(q.queue, o)
	if !q.busy {
		q.busy = true
		q.mu.Unlock()
		q.run(t)
		q.mu.Lock()
	}
	for q.done < o.n {
		q.written.Wait()
	}
	q.mu.Unlock()
	err := o.err
	o.free()
	return err
}

// next takes the first message of the queue, or returns nil (and stops
// the sealer when last is nil: nothing is left to seal).
func (q *sealer) next(last *outgoing) *outgoing {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.queue) {
		q.queue, q.head = q.queue[:0], 0
		if last == nil {
			q.busy = false
		}
		return nil
	}
	o := q.queue[q.head]
	q.queue[q.head] = nil
	q.head++
	if q.head >= 64 && 2*q.head >= len(q.queue) {
		// A queue that never empties moves its waiting messages to the
		// front, so that its array stays within twice the backlog.
		n := copy(q.queue, q.queue[q.head:])
		clear(q.queue[n:])
		q.queue, q.head = q.queue[:n], 0
	}
	return o
}

// run seals and writes the queue until it is empty. Each message is
// hashed while the one before it is encrypted; the first alone.
func (q *sealer) run(t *transport.Conn) {
	var cur *outgoing
	var sum [32]byte
	for {
		next := q.next(cur)
		if cur == nil {
			if next == nil {
				return
			}
			cur, sum = next, sha256.Sum256(next.plain.Buf)
			continue
		}
		var nextPlain []byte
		if next != nil {
			nextPlain = next.plain.Buf
			q.paired.Add(1)
		}
		s, nextSum := seal(cur.key, cur.plain.Buf, sum, nextPlain)
		cur.dropPlain()
		cur.err = t.WriteFrame(s.buf)
		s.release()
		q.mu.Lock()
		q.done = cur.n // cur belongs to its sender from here on
		q.written.Broadcast()
		q.mu.Unlock()
		cur, sum = next, nextSum
	}
}
