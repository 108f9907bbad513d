// Package filehash computes the content hashes a finalized file records
// (SPEC F6): the SHA-256 of the whole content and the SHA-256 of every
// 131072-byte range (D9), in one pass over the bytes.
//
// Both hash the same 64-byte blocks, since every range starts at a multiple
// of 64. Where the CPU has the SHA extensions, each block's message schedule
// is computed once and the two states' rounds interleave: the two sums cost
// about what one does, where two crypto/sha256 hashes cost twice. Elsewhere
// the blocks go through crypto/sha256 once for each state.
package filehash

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"errors"
	"hash"
)

// RangeSize is the size of the ranges hashed apart.
const RangeSize = 128 << 10

// maxRanges bounds the range sums allocated ahead from a declared size:
// a 4 GiB file has 32,768.
const maxRanges = 4 << 30 / RangeSize

// Hasher hashes a stream of bytes. The zero value is not ready: use New.
type Hasher struct {
	whole, rng [8]uint32
	tail       [64]byte // bytes past the last whole block
	n          int64    // bytes written
	done       [][32]byte

	// std is crypto/sha256, into which a state is loaded to finish a sum
	// (and to run blocks where blockPair cannot).
	std     hash.Hash
	scratch [marshaledSize]byte
}

var iv = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

// New returns a Hasher ready for a stream of about size bytes (0 when not
// known); the size only reserves room for the range sums.
func New(size int64) *Hasher {
	h := &Hasher{std: sha256.New()}
	if size > 0 {
		h.done = make([][32]byte, 0, min(size/RangeSize+1, maxRanges))
	}
	h.Reset()
	return h
}

// Reset starts over from an empty stream.
func (h *Hasher) Reset() {
	h.whole, h.rng = iv, iv
	h.n = 0
	h.done = h.done[:0]
}

// Len returns the bytes written.
func (h *Hasher) Len() int64 { return h.n }

// Done returns the sums of the ranges written in full so far. The slice is
// the Hasher's own until the next Write or Reset.
func (h *Hasher) Done() [][32]byte { return h.done }

// Write hashes p; it never fails.
func (h *Hasher) Write(p []byte) (int, error) {
	total := len(p)
	if k := int(h.n % 64); k > 0 {
		c := copy(h.tail[k:], p)
		h.n += int64(c)
		p = p[c:]
		if h.n%64 != 0 {
			return total, nil
		}
		h.blocks(h.tail[:])
		h.rangeEnd()
	}
	for len(p) >= 64 {
		k := min(len(p)&^63, RangeSize-int(h.n%RangeSize))
		h.blocks(p[:k])
		h.n += int64(k)
		p = p[k:]
		h.rangeEnd()
	}
	copy(h.tail[:], p)
	h.n += int64(len(p))
	return total, nil
}

func (h *Hasher) blocks(p []byte) {
	if hasPair {
		blockPair(&h.whole, &h.rng, p)
		return
	}
	h.stdBlocks(&h.whole, p)
	h.stdBlocks(&h.rng, p)
}

// stdBlocks runs crypto/sha256 over whole blocks from state s.
func (h *Hasher) stdBlocks(s *[8]uint32, p []byte) {
	h.load(s, 0)
	h.std.Write(p)
	b, err := h.std.(encoding.BinaryAppender).AppendBinary(h.scratch[:0])
	if err != nil {
		panic(err) // crypto/sha256 always appends its state
	}
	for i := range s {
		s[i] = binary.BigEndian.Uint32(b[len(magic)+4*i:])
	}
}

// rangeEnd closes the range that the bytes written so far complete.
func (h *Hasher) rangeEnd() {
	if h.n%RangeSize != 0 {
		return
	}
	h.load(&h.rng, RangeSize)
	h.done = append(h.done, [32]byte{})
	h.std.Sum(h.done[len(h.done)-1][:0])
	h.rng = iv
}

// Sum returns the SHA-256 of the whole stream and of each range, the last
// one short if the stream ends inside it. It leaves the Hasher as it was.
func (h *Hasher) Sum() (whole [32]byte, ranges [][32]byte) {
	h.load(&h.whole, h.n)
	h.std.Sum(whole[:0])
	ranges = append(make([][32]byte, 0, len(h.done)+1), h.done...)
	if n := h.n % RangeSize; n > 0 {
		h.load(&h.rng, n)
		ranges = append(ranges, [32]byte{})
		h.std.Sum(ranges[len(ranges)-1][:0])
	}
	return whole, ranges
}

// Clone returns an independent copy.
func (h *Hasher) Clone() *Hasher {
	c := &Hasher{whole: h.whole, rng: h.rng, tail: h.tail, n: h.n, std: sha256.New()}
	c.done = append(make([][32]byte, 0, cap(h.done)), h.done...)
	return c
}

// crypto/sha256's binary state: magic, the 8 words, the buffered block
// padded to 64 bytes, the length, all big-endian.
const (
	magic         = "sha\x03"
	marshaledSize = len(magic) + 8*4 + 64 + 8
)

// load puts state s, with the buffered tail of a stream of n bytes, into
// std.
func (h *Hasher) load(s *[8]uint32, n int64) {
	b := h.appendState(h.scratch[:0], s, n)
	if err := h.std.(encoding.BinaryUnmarshaler).UnmarshalBinary(b); err != nil {
		panic(err) // the state is built in crypto/sha256's own format
	}
}

func (h *Hasher) appendState(b []byte, s *[8]uint32, n int64) []byte {
	b = append(b, magic...)
	for _, w := range s {
		b = binary.BigEndian.AppendUint32(b, w)
	}
	nx := int(n % 64)
	b = append(b, h.tail[:nx]...)
	b = append(b, make([]byte, 64-nx)...)
	return binary.BigEndian.AppendUint64(b, uint64(n))
}

// MarshalStates returns the state of the whole-stream hash and of the
// current range's hash, each in crypto/sha256's binary format (what
// MarshalBinary of a crypto/sha256 hash in that state returns). Done gives
// the ranges before.
func (h *Hasher) MarshalStates() (whole, rng []byte) {
	return h.appendState(nil, &h.whole, h.n), h.appendState(nil, &h.rng, h.n%RangeSize)
}

// ErrState reports states that cannot be taken up.
var ErrState = errors.New("filehash: unusable state")

// UnmarshalStates takes up the states MarshalStates returned, and done, the
// sums of the ranges before. The two states must describe one stream: the
// range's length is the rest of the whole's past its last full range, they
// buffer the same bytes, and done counts every full range.
func (h *Hasher) UnmarshalStates(whole, rng []byte, done [][32]byte) error {
	ws, wn, wtail, ok1 := parseState(whole)
	rs, rn, rtail, ok2 := parseState(rng)
	if !ok1 || !ok2 || wn%RangeSize != rn || wtail != rtail || uint64(len(done)) != wn/RangeSize {
		return ErrState
	}
	h.whole, h.rng, h.tail, h.n = ws, rs, wtail, int64(wn)
	h.done = append(h.done[:0], done...)
	return nil
}

func parseState(b []byte) (s [8]uint32, n uint64, tail [64]byte, ok bool) {
	if len(b) != marshaledSize || string(b[:len(magic)]) != magic {
		return s, 0, tail, false
	}
	b = b[len(magic):]
	for i := range s {
		s[i] = binary.BigEndian.Uint32(b[4*i:])
	}
	b = b[32:]
	n = binary.BigEndian.Uint64(b[64:])
	if n > 1<<62 {
		return s, 0, tail, false
	}
	copy(tail[:n%64], b) // bytes past the buffered ones are padding
	return s, n, tail, true
}
