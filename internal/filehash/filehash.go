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
	"errors"

	"github.com/filedc/filedc/internal/sha256state"
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

	// std finishes the sums (and runs the blocks where blockPair cannot).
	std *sha256state.Finisher
}

// New returns a Hasher ready for a stream of about size bytes (0 when not
// known); the size only reserves room for the range sums.
func New(size int64) *Hasher {
	h := &Hasher{std: sha256state.NewFinisher()}
	if size > 0 {
		h.done = make([][32]byte, 0, min(size/RangeSize+1, maxRanges))
	}
	h.Reset()
	return h
}

// Reset starts over from an empty stream.
func (h *Hasher) Reset() {
	h.whole, h.rng = sha256state.IV, sha256state.IV
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
	h.std.Blocks(&h.whole, p)
	h.std.Blocks(&h.rng, p)
}

// rangeEnd closes the range that the bytes written so far complete.
func (h *Hasher) rangeEnd() {
	if h.n%RangeSize != 0 {
		return
	}
	h.done = append(h.done, h.std.Sum(&h.rng, nil, RangeSize, nil))
	h.rng = sha256state.IV
}

// Sum returns the SHA-256 of the whole stream and of each range, the last
// one short if the stream ends inside it. It leaves the Hasher as it was.
func (h *Hasher) Sum() (whole [32]byte, ranges [][32]byte) {
	whole = h.std.Sum(&h.whole, h.tail[:], uint64(h.n), nil)
	ranges = append(make([][32]byte, 0, len(h.done)+1), h.done...)
	if n := h.n % RangeSize; n > 0 {
		ranges = append(ranges, h.std.Sum(&h.rng, h.tail[:], uint64(n), nil))
	}
	return whole, ranges
}

// Clone returns an independent copy.
func (h *Hasher) Clone() *Hasher {
	c := &Hasher{whole: h.whole, rng: h.rng, tail: h.tail, n: h.n, std: sha256state.NewFinisher()}
	c.done = append(make([][32]byte, 0, cap(h.done)), h.done...)
	return c
}

// MarshalStates returns the state of the whole-stream hash and of the
// current range's hash, each in crypto/sha256's binary format (what
// MarshalBinary of a crypto/sha256 hash in that state returns). Done gives
// the ranges before.
func (h *Hasher) MarshalStates() (whole, rng []byte) {
	return sha256state.Append(nil, &h.whole, h.tail[:], uint64(h.n)),
		sha256state.Append(nil, &h.rng, h.tail[:], uint64(h.n%RangeSize))
}

// ErrState reports states that cannot be taken up.
var ErrState = errors.New("filehash: unusable state")

// UnmarshalStates takes up the states MarshalStates returned, and done, the
// sums of the ranges before. The two states must describe one stream: the
// range's length is the rest of the whole's past its last full range, they
// buffer the same bytes, and done counts every full range.
func (h *Hasher) UnmarshalStates(whole, rng []byte, done [][32]byte) error {
	ws, wn, wtail, ok1 := sha256state.Parse(whole)
	rs, rn, rtail, ok2 := sha256state.Parse(rng)
	if !ok1 || !ok2 || wn%RangeSize != rn || wtail != rtail || uint64(len(done)) != wn/RangeSize {
		return ErrState
	}
	h.whole, h.rng, h.tail, h.n = ws, rs, wtail, int64(wn)
	h.done = append(h.done[:0], done...)
	return nil
}
