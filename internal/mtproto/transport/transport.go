// Package transport accepts MTProto transport connections and moves frames
// over them: abridged, intermediate, padded intermediate and full, each
// optionally under obfuscated2 (MTProto transports).
//
// It is written for a server: the codec is detected per connection under a
// deadline, so a silent socket never stalls the accept loop or other clients,
// and a frame's length is checked against a limit before anything is
// allocated for it. gotd's codecs trust lengths up to 16 MiB, which is too
// much to allocate for every connection of a public server.
package transport

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gotd/td/mtproxy/obfuscated2"
)

// Kind is a transport codec.
type Kind int

const (
	Abridged Kind = iota + 1
	Intermediate
	PaddedIntermediate
	Full
)

func (k Kind) String() string {
	switch k {
	case Abridged:
		return "abridged"
	case Intermediate:
		return "intermediate"
	case PaddedIntermediate:
		return "padded-intermediate"
	case Full:
		return "full"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

var (
	tagIntermediate = [4]byte{0xee, 0xee, 0xee, 0xee}
	tagPadded       = [4]byte{0xdd, 0xdd, 0xdd, 0xdd}
	tagAbridged     = [4]byte{0xef, 0xef, 0xef, 0xef}
)

// Options bound what a client can make the server do.
type Options struct {
	// DetectTimeout bounds how long a new connection may take to send its
	// transport header, and then its first frame (default 10 s).
	DetectTimeout time.Duration
	// MaxFrame is the largest incoming frame payload (default 1 MiB + 64 KiB:
	// a 512 KiB part, its envelope and a container of small calls fit).
	MaxFrame int
	// IdleTimeout closes a connection that sends nothing for this long,
	// and one whose frame makes no progress for this long (default 2 min;
	// clients ping every minute).
	IdleTimeout time.Duration
	// WriteTimeout closes a connection that does not take a frame within
	// this long (default 1 min): a client that does not read its answers
	// holds no memory.
	WriteTimeout time.Duration
	// Budget bounds the bytes of frames still arriving, shared by the
	// connections given the same one; nil: none.
	Budget *Budget
}

func (o Options) withDefaults() Options {
	if o.DetectTimeout <= 0 {
		o.DetectTimeout = 10 * time.Second
	}
	if o.MaxFrame <= 0 {
		o.MaxFrame = 1<<20 + 64<<10
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 2 * time.Minute
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = time.Minute
	}
	return o
}

// Errors a connection can end with.
var (
	ErrFrameTooBig   = errors.New("transport: frame too big")
	ErrBadFrame      = errors.New("transport: malformed frame")
	ErrUnknownHeader = errors.New("transport: unknown transport header")
	ErrBudget        = errors.New("transport: frame budget exhausted")
)

// Conn is one accepted transport connection. ReadFrame is called by one
// goroutine; WriteFrame may be called by many.
type Conn struct {
	raw        net.Conn
	r          io.Reader
	w          io.Writer
	kind       Kind
	obfuscated bool
	opt        Options
	maxFrame   int
	// firstBy is when the first frame's header must have arrived; zero
	// after it.
	firstBy time.Time

	rseq int32 // full: next expected sequence number from the client
	hdr  [8]byte

	wmu  sync.Mutex
	wseq int32 // full: next sequence number to send
}

var writeBufs sync.Pool // *[]byte: obfuscated2 frames being written

// Kind returns the detected codec.
func (c *Conn) Kind() Kind { return c.kind }

// Obfuscated reports whether the connection uses obfuscated2.
func (c *Conn) Obfuscated() bool { return c.obfuscated }

// Raw returns the underlying network connection.
func (c *Conn) Raw() net.Conn { return c.raw }

// Close closes the connection.
func (c *Conn) Close() error { return c.raw.Close() }

// Accept detects the transport of a new connection. It waits at most
// opt.DetectTimeout for the header; call it from the connection's own
// goroutine, not from the accept loop.
func Accept(raw net.Conn, opt Options) (*Conn, error) {
	opt = opt.withDefaults()
	if err := raw.SetReadDeadline(time.Now().Add(opt.DetectTimeout)); err != nil {
		return nil, err
	}
	// Large frames bypass the buffer: a small one keeps idle connections cheap.
	br := bufio.NewReaderSize(raw, 4<<10)
	c := &Conn{raw: raw, r: br, w: raw, opt: opt, maxFrame: opt.MaxFrame, firstBy: time.Now().Add(opt.DetectTimeout)}
	head, err := br.Peek(1)
	if err != nil {
		return nil, fmt.Errorf("transport: read header: %w", err)
	}
	if head[0] == tagAbridged[0] {
		br.Discard(1)
		c.kind = Abridged
	} else {
		head, err = br.Peek(4)
		if err != nil {
			return nil, fmt.Errorf("transport: read header: %w", err)
		}
		switch [4]byte(head) {
		case tagIntermediate:
			br.Discard(4)
			c.kind = Intermediate
		case tagPadded:
			br.Discard(4)
			c.kind = PaddedIntermediate
		}
	}
	if c.kind == 0 {
		head, err = br.Peek(8)
		if err != nil {
			return nil, fmt.Errorf("transport: read header: %w", err)
		}
		switch {
		case bytes.HasPrefix(head, []byte("GET ")), bytes.HasPrefix(head, []byte("POST")),
			bytes.HasPrefix(head, []byte("HEAD")), bytes.HasPrefix(head, []byte("OPTI")):
			return nil, ErrUnknownHeader // HTTP and WebSocket transports are not served here
		case binary.LittleEndian.Uint32(head[4:8]) == 0:
			// Full has no tag: a length, then sequence number 0. Obfuscated
			// headers never have zeros there.
			c.kind = Full
		default:
			if err := c.acceptObfuscated(br); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

func (c *Conn) acceptObfuscated(br *bufio.Reader) error {
	rw := struct {
		io.Reader
		io.Writer
	}{br, c.raw}
	obf, md, err := obfuscated2.Accept(rw, nil)
	if err != nil {
		return fmt.Errorf("transport: obfuscated2 header: %w", err)
	}
	switch md.Protocol {
	case tagAbridged:
		c.kind = Abridged
	case tagIntermediate:
		c.kind = Intermediate
	case tagPadded:
		c.kind = PaddedIntermediate
	default:
		return ErrUnknownHeader
	}
	c.r, c.w, c.obfuscated = obf, obf, true
	return nil
}

// ReadFrame reads the next frame's payload and returns it. Its buffer
// grows as the frame's bytes arrive, from buf when it is large enough or
// from a pool; give it back with PutFrame once its bytes are used. For
// padded intermediate the padding up to a multiple of 4 is removed; clients
// may pad by up to 15 bytes, so encrypted payloads may still carry up to 12
// bytes past their 16-byte blocks.
func (c *Conn) ReadFrame(buf []byte) ([]byte, error) {
	// The first frame is due soon after the transport header, the others
	// within the idle timeout.
	deadline := c.firstBy
	if deadline.IsZero() {
		deadline = time.Now().Add(c.opt.IdleTimeout)
	}
	if err := c.raw.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	var n int
	switch c.kind {
	case Abridged:
		if _, err := io.ReadFull(c.r, c.hdr[:1]); err != nil {
			return nil, err
		}
		words := int(c.hdr[0] & 0x7f) // the high bit asks for a quick ack
		if words == 0x7f {
			if _, err := io.ReadFull(c.r, c.hdr[:3]); err != nil {
				return nil, err
			}
			words = int(c.hdr[0]) | int(c.hdr[1])<<8 | int(c.hdr[2])<<16
		}
		n = words * 4
	case Intermediate, PaddedIntermediate:
		if _, err := io.ReadFull(c.r, c.hdr[:4]); err != nil {
			return nil, err
		}
		n = int(binary.LittleEndian.Uint32(c.hdr[:4]) &^ (1 << 31)) // high bit: quick ack
	case Full:
		if _, err := io.ReadFull(c.r, c.hdr[:8]); err != nil {
			return nil, err
		}
		total := int(binary.LittleEndian.Uint32(c.hdr[:4]))
		if total < 12 || total-12 > c.maxFrame {
			if total < 12 {
				return nil, ErrBadFrame
			}
			return nil, ErrFrameTooBig
		}
		if seq := int32(binary.LittleEndian.Uint32(c.hdr[4:8])); seq != c.rseq {
			return nil, fmt.Errorf("%w: sequence number %d, want %d", ErrBadFrame, seq, c.rseq)
		}
		c.rseq++
		n = total - 12
	}
	if n > c.maxFrame {
		return nil, ErrFrameTooBig
	}
	if n < 4 || (c.kind != PaddedIntermediate && n%4 != 0) {
		return nil, ErrBadFrame
	}
	buf, err := c.readBody(buf, n)
	if err != nil {
		return nil, err
	}
	if c.kind == PaddedIntermediate {
		buf = buf[:n-n%4]
	}
	if c.kind == Full {
		var sum [4]byte
		if _, err := io.ReadFull(c.r, sum[:]); err != nil {
			PutFrame(buf)
			return nil, err
		}
		crc := crc32.Update(crc32.ChecksumIEEE(c.hdr[:8]), crc32.IEEETable, buf)
		if binary.LittleEndian.Uint32(sum[:]) != crc {
			PutFrame(buf)
			return nil, fmt.Errorf("%w: CRC mismatch", ErrBadFrame)
		}
	}
	c.firstBy = time.Time{}
	return buf, nil
}

// readBody reads n bytes into a buffer that grows fourfold as they arrive,
// counted in the budget while they do.
func (c *Conn) readBody(buf []byte, n int) ([]byte, error) {
	start := time.Now()
	step := min(n, frameSteps[0])
	if cap(buf) < step {
		PutFrame(buf)
		buf = getFrame(step, c.maxFrame)
	}
	buf = buf[:0]
	if b := c.opt.Budget; b != nil {
		defer b.done(c)
		if !b.grow(c, start, int64(cap(buf))) {
			return nil, ErrBudget
		}
	}
	for len(buf) < n {
		if len(buf) == cap(buf) {
			next := getFrame(min(n, nextStep(cap(buf))), c.maxFrame)
			if b := c.opt.Budget; b != nil && !b.grow(c, start, int64(cap(next)-cap(buf))) {
				PutFrame(next)
				PutFrame(buf)
				return nil, ErrBudget
			}
			next = append(next, buf...)
			PutFrame(buf)
			buf = next
		}
		// Progress keeps a slow frame alive; the budget bounds how many.
		if err := c.raw.SetReadDeadline(time.Now().Add(c.opt.IdleTimeout)); err != nil {
			PutFrame(buf)
			return nil, err
		}
		m, err := c.r.Read(buf[len(buf):min(n, cap(buf))])
		buf = buf[:len(buf)+m]
		if err != nil && len(buf) < n {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			PutFrame(buf)
			return nil, err
		}
	}
	return buf, nil
}

// WriteFrame sends one frame. The payload's length must be a multiple of 4.
func (c *Conn) WriteFrame(payload []byte) error {
	if len(payload)%4 != 0 {
		return fmt.Errorf("transport: payload of %d bytes is not 4-aligned", len(payload))
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var hdr [12]byte
	var h []byte
	var pad []byte
	switch c.kind {
	case Abridged:
		if words := len(payload) / 4; words < 0x7f {
			hdr[0] = byte(words)
			h = hdr[:1]
		} else {
			hdr[0], hdr[1], hdr[2], hdr[3] = 0x7f, byte(words), byte(words>>8), byte(words>>16)
			h = hdr[:4]
		}
	case Intermediate:
		binary.LittleEndian.PutUint32(hdr[:4], uint32(len(payload)))
		h = hdr[:4]
	case PaddedIntermediate:
		// 0–3 bytes: clients such as gotd strip only length % 4.
		var r [4]byte
		rand.Read(r[:])
		pad = r[1 : 1+int(r[0]%4)]
		binary.LittleEndian.PutUint32(hdr[:4], uint32(len(payload)+len(pad)))
		h = hdr[:4]
	case Full:
		binary.LittleEndian.PutUint32(hdr[:4], uint32(len(payload)+12))
		binary.LittleEndian.PutUint32(hdr[4:8], uint32(c.wseq))
		c.wseq++
		crc := crc32.Update(crc32.ChecksumIEEE(hdr[:8]), crc32.IEEETable, payload)
		binary.LittleEndian.PutUint32(hdr[8:12], crc)
		h, pad = hdr[:8], hdr[8:12]
	}
	if err := c.raw.SetWriteDeadline(time.Now().Add(c.opt.WriteTimeout)); err != nil {
		return err
	}
	var err error
	if !c.obfuscated {
		// One writev for header, payload and trailer.
		// (No empty trailer: a connection that is not a socket, such as
		// net.Pipe, writes an empty buffer as one more write that blocks
		// until the other end reads.)
		bufs := net.Buffers{h, payload, pad}
		if len(pad) == 0 {
			bufs = bufs[:2]
		}
		_, err = bufs.WriteTo(c.raw)
	} else {
		// obfuscated2 encrypts a copy of what it is given: hand it one
		// buffer, pooled so that idle connections keep none.
		wb, _ := writeBufs.Get().(*[]byte)
		if wb == nil {
			wb = new([]byte)
		}
		*wb = append(append(append((*wb)[:0], h...), payload...), pad...)
		_, err = c.w.Write(*wb)
		if cap(*wb) <= 2<<20 {
			writeBufs.Put(wb)
		}
	}
	if err != nil {
		// A client that does not take its answers is dropped, so that
		// what waits to be written to it is freed.
		c.raw.Close()
	}
	return err
}

// WriteError sends a transport error, such as -404 (unknown auth key) or
// -429 (too many connections).
func (c *Conn) WriteError(code int32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(code))
	return c.WriteFrame(b[:])
}
