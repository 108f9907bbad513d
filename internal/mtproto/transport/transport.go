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
	// transport header (default 10 s).
	DetectTimeout time.Duration
	// MaxFrame is the largest incoming frame payload (default 1 MiB + 64 KiB:
	// a 512 KiB part, its envelope and a container of small calls fit).
	MaxFrame int
}

func (o Options) withDefaults() Options {
	if o.DetectTimeout <= 0 {
		o.DetectTimeout = 10 * time.Second
	}
	if o.MaxFrame <= 0 {
		o.MaxFrame = 1<<20 + 64<<10
	}
	return o
}

// Errors a connection can end with.
var (
	ErrFrameTooBig   = errors.New("transport: frame too big")
	ErrBadFrame      = errors.New("transport: malformed frame")
	ErrUnknownHeader = errors.New("transport: unknown transport header")
)

// Conn is one accepted transport connection. ReadFrame is called by one
// goroutine; WriteFrame may be called by many.
type Conn struct {
	raw        net.Conn
	r          io.Reader
	w          io.Writer
	kind       Kind
	obfuscated bool
	maxFrame   int

	rseq int32 // full: next expected sequence number from the client
	hdr  [8]byte

	wmu  sync.Mutex
	wseq int32 // full: next sequence number to send
	wbuf []byte
}

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
	br := bufio.NewReaderSize(raw, 64<<10)
	c := &Conn{raw: raw, r: br, w: raw, maxFrame: opt.MaxFrame}
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
	if err := raw.SetReadDeadline(time.Time{}); err != nil {
		return nil, err
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

// ReadFrame reads the next frame's payload into buf, growing it up to the
// frame limit, and returns the payload. For padded intermediate the padding
// up to a multiple of 4 is removed; clients may pad by up to 15 bytes, so
// encrypted payloads may still carry up to 12 bytes past their 16-byte blocks.
func (c *Conn) ReadFrame(buf []byte) ([]byte, error) {
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
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(c.r, buf); err != nil {
		return nil, err
	}
	if c.kind == PaddedIntermediate {
		buf = buf[:n-n%4]
	}
	if c.kind == Full {
		var sum [4]byte
		if _, err := io.ReadFull(c.r, sum[:]); err != nil {
			return nil, err
		}
		crc := crc32.Update(crc32.ChecksumIEEE(c.hdr[:8]), crc32.IEEETable, buf)
		if binary.LittleEndian.Uint32(sum[:]) != crc {
			return nil, fmt.Errorf("%w: CRC mismatch", ErrBadFrame)
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
	if !c.obfuscated {
		// One writev for header, payload and trailer.
		bufs := net.Buffers{h, payload, pad}
		_, err := bufs.WriteTo(c.raw)
		return err
	}
	// obfuscated2 encrypts a copy of what it is given: hand it one buffer.
	c.wbuf = append(append(append(c.wbuf[:0], h...), payload...), pad...)
	_, err := c.w.Write(c.wbuf)
	if cap(c.wbuf) > 4<<20 {
		c.wbuf = nil
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
