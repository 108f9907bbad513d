package server

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"

	"github.com/gotd/td/proto"
)

// TestSealerWritesEveryMessageInOrder: 8 senders on one connection, 40
// messages each of sizes up to a getFile answer, all arrive and decrypt
// with gotd's client, each sender's in the order it sent them; and with
// that many senders the sealer hashes most messages while it encrypts the
// one before.
func TestSealerWritesEveryMessageInOrder(t *testing.T) {
	ts := newTestSession(t, nil)
	const senders, each = 8, 40
	sizes := []int{4, 20, 1000, 4096, 64 << 10, 512<<10 + 12}
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				body := make([]byte, sizes[(g+i)%len(sizes)])
				binary.LittleEndian.PutUint32(body, uint32(g<<16|i))
				if err := ts.sess.send(rawAnswer(body), true, proto.MessageServerResponse); err != nil {
					errs <- fmt.Errorf("sender %d, message %d: %w", g, i, err)
					return
				}
			}
		}()
	}
	got := make([]int, senders) // the next message due from each sender
	for range senders * each {
		_, b := ts.next(t)
		v := binary.LittleEndian.Uint32(b.Buf)
		g, i := int(v>>16), int(v&0xffff)
		if g >= senders || i != got[g] {
			t.Fatalf("message %d of sender %d arrived, expected its message %d", i, g, got[g])
		}
		if n := sizes[(g+i)%len(sizes)]; len(b.Buf) != n || !bytes.Equal(b.Buf[4:], make([]byte, n-4)) {
			t.Fatalf("sender %d, message %d: %d bytes arrived, sent %d", g, i, len(b.Buf), n)
		}
		got[g]++
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c := ts.sess.conn
	if paired := c.sealer.paired.Load(); paired == 0 {
		t.Fatalf("no message of %d was hashed while another was encrypted", senders*each)
	} else {
		t.Logf("%d of %d messages hashed while the one before was encrypted", paired, senders*each)
	}
}

// TestSealerReportsAWriteThatFails: once the client is gone, every sender
// gets its write's error back, and none waits forever.
func TestSealerReportsAWriteThatFails(t *testing.T) {
	ts := newTestSession(t, nil)
	ts.client.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if err := ts.sess.send(rawAnswer(make([]byte, 64<<10)), true, proto.MessageServerResponse); err == nil {
					t.Error("a write to a closed connection succeeded")
				}
			}
		}()
	}
	wg.Wait()
}

// TestSealerQueueStaysWithinItsBacklog: a queue that never empties (one
// message always waiting) keeps an array of about its backlog, however
// many messages pass through it.
func TestSealerQueueStaysWithinItsBacklog(t *testing.T) {
	var q sealer
	q.queue = append(q.queue, &outgoing{n: 1})
	for i := range 10000 {
		q.queue = append(q.queue, &outgoing{n: uint64(i + 2)})
		if o := q.next(&outgoing{}); o == nil || o.n != uint64(i+1) {
			t.Fatalf("message %d: took %v", i+1, o)
		}
	}
	if len(q.queue)-q.head != 1 || cap(q.queue) > 256 {
		t.Fatalf("%d waiting in an array of %d after 10,000 messages", len(q.queue)-q.head, cap(q.queue))
	}
}
