package transport

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// streamConn is a net.Conn whose client side is a fixed byte stream.
type streamConn struct {
	net.Conn // nil: only the methods below are used
	r        *bytes.Reader
}

func (c *streamConn) Read(p []byte) (int, error)         { return c.r.Read(p) }
func (c *streamConn) Write(p []byte) (int, error)        { return len(p), nil }
func (c *streamConn) Close() error                       { return nil }
func (c *streamConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(t time.Time) error { return nil }

// FuzzReadFrame feeds arbitrary client streams to Accept and ReadFrame: they
// must never panic, never return a frame over the limit, and never allocate
// more than the limit for one frame.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0xef, 0x01, 1, 2, 3, 4})
	f.Add([]byte{0xef, 0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{0xee, 0xee, 0xee, 0xee, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{0xdd, 0xdd, 0xdd, 0xdd, 7, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{16, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0})
	f.Add(bytes.Repeat([]byte{0x42}, 80))
	const limit = 4096
	f.Fuzz(func(t *testing.T, stream []byte) {
		c, err := Accept(&streamConn{r: bytes.NewReader(stream)}, Options{MaxFrame: limit})
		if err != nil {
			return
		}
		buf := make([]byte, 0, 64)
		for i := 0; i < 64; i++ {
			frame, err := c.ReadFrame(buf)
			if err != nil {
				return
			}
			if len(frame) > limit || cap(frame) > limit {
				t.Fatalf("frame of %d bytes (cap %d) over the %d limit", len(frame), cap(frame), limit)
			}
			if c.Kind() != PaddedIntermediate && len(frame)%4 != 0 {
				t.Fatalf("%s frame of %d bytes is not 4-aligned", c.Kind(), len(frame))
			}
			buf = frame
		}
	})
}
