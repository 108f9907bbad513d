package transport

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection, the server's
// accepted with opt after the client sent the intermediate tag.
func tcpPair(t *testing.T, opt Options) (client net.Conn, server *Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	raw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	client.Write(tagIntermediate[:])
	server, err = Accept(raw, opt)
	if err != nil {
		t.Fatal(err)
	}
	return client, server
}

// declare sends the header of an intermediate frame of n bytes and the
// first sent of them.
func declare(t *testing.T, c net.Conn, n, sent int) {
	t.Helper()
	b := binary.LittleEndian.AppendUint32(nil, uint32(n))
	if _, err := c.Write(append(b, make([]byte, sent)...)); err != nil {
		t.Fatal(err)
	}
}

func waitUsed(t *testing.T, b *Budget, want int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); b.Used() != want; {
		if time.Now().After(deadline) {
			t.Fatalf("budget holds %d bytes, want %d", b.Used(), want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestS7a_FrameGrowsAsBytesArrive: a frame declared at 1 MiB holds 64 KiB
// while 1,000 bytes of it have come, then 256 KiB past 64 KiB, and the
// budget is free once it arrived whole.
func TestS7a_FrameGrowsAsBytesArrive(t *testing.T) {
	budget := NewBudget(64 << 20)
	client, server := tcpPair(t, Options{Budget: budget})
	const n = 1 << 20
	declare(t, client, n, 1000)
	done := make(chan error, 1)
	var frame []byte
	go func() {
		var err error
		frame, err = server.ReadFrame(nil)
		done <- err
	}()
	waitUsed(t, budget, 64<<10)
	client.Write(make([]byte, 64<<10))
	waitUsed(t, budget, 256<<10)
	client.Write(make([]byte, n-1000-64<<10))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(frame) != n {
		t.Fatalf("frame of %d bytes", len(frame))
	}
	if u := budget.Used(); u != 0 {
		t.Fatalf("budget holds %d bytes after the frame arrived", u)
	}
	PutFrame(frame)
}

// TestS7a_BudgetDropsTheSlowestFirst: past the budget, the connection whose
// frame has been arriving longest is closed; the newer ones go on.
func TestS7a_BudgetDropsTheSlowestFirst(t *testing.T) {
	budget := NewBudget(150 << 10) // two 64 KiB first steps, not three
	errs := make([]chan error, 3)
	clients := make([]net.Conn, 3)
	for i := range clients {
		c, s := tcpPair(t, Options{Budget: budget})
		clients[i] = c
		errs[i] = make(chan error, 1)
		go func() {
			_, err := s.ReadFrame(nil)
			errs[i] <- err
		}()
		declare(t, c, 1<<20, 10)
		if i < 2 {
			waitUsed(t, budget, int64(i+1)*64<<10)
		}
	}
	select {
	case err := <-errs[0]:
		if err == nil {
			t.Fatal("the oldest frame arrived")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the oldest connection was not dropped")
	}
	waitUsed(t, budget, 128<<10)
	for i := 1; i < 3; i++ {
		select {
		case err := <-errs[i]:
			t.Fatalf("connection %d dropped: %v", i, err)
		default:
		}
	}
}

// TestS7a_DeadlinesOnEveryReadAndWrite: the first frame is due within the
// detection timeout, the next within the idle timeout, and a client that
// does not read its answers is dropped at the write timeout.
func TestS7a_DeadlinesOnEveryReadAndWrite(t *testing.T) {
	opt := Options{DetectTimeout: 200 * time.Millisecond, IdleTimeout: 300 * time.Millisecond, WriteTimeout: 200 * time.Millisecond}
	_, server := tcpPair(t, opt)
	if _, err := server.ReadFrame(nil); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a silent connection's first frame: %v", err)
	}
	client, server := tcpPair(t, opt)
	declare(t, client, 4, 4)
	f, err := server.ReadFrame(nil)
	if err != nil {
		t.Fatal(err)
	}
	PutFrame(f)
	if _, err := server.ReadFrame(nil); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("an idle connection: %v", err)
	}
	// The client never reads: the kernel's buffers fill, then the write
	// times out and the connection closes.
	_, server = tcpPair(t, opt)
	big := make([]byte, 1<<20)
	var werr error
	for i := 0; i < 64 && werr == nil; i++ {
		werr = server.WriteFrame(big)
	}
	if !errors.Is(werr, os.ErrDeadlineExceeded) {
		t.Fatalf("writing to a client that does not read: %v", werr)
	}
	if err := server.WriteFrame(big[:4]); err == nil {
		t.Fatal("the connection stayed open after a write timed out")
	}
}
