// Package sha256state moves SHA-256 states between the assembly loops that
// run the compression function (internal/filehash, internal/aesige) and
// crypto/sha256, which pads and finishes a sum and keeps a state in its
// binary format: "sha\x03", the 8 words, the buffered bytes padded to a
// block, the length, all big-endian.
package sha256state

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
)

// IV is the state of an empty stream.
var IV = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

const (
	magic = "sha\x03"
	// Size is the length of a state in crypto/sha256's binary format.
	Size = len(magic) + 8*4 + 64 + 8
)

// Append appends the state h of a stream of n bytes, whose last n%64 bytes
// (those past the last whole block) are tail[:n%64], in crypto/sha256's
// binary format.
func Append(b []byte, h *[8]uint32, tail []byte, n uint64) []byte {
	b = append(b, magic...)
	for _, w := range h {
		b = binary.BigEndian.AppendUint32(b, w)
	}
	nx := int(n % 64)
	b = append(b, tail[:nx]...)
	var zeros [64]byte
	b = append(b, zeros[:64-nx]...)
	return binary.BigEndian.AppendUint64(b, n)
}

// Parse reads a state in crypto/sha256's binary format; ok is false when b
// is not one.
func Parse(b []byte) (h [8]uint32, n uint64, tail [64]byte, ok bool) {
	if len(b) != Size || string(b[:len(magic)]) != magic {
		return h, 0, tail, false
	}
	b = b[len(magic):]
	for i := range h {
		h[i] = binary.BigEndian.Uint32(b[4*i:])
	}
	n = binary.BigEndian.Uint64(b[32+64:])
	if n > 1<<62 {
		return h, 0, tail, false
	}
	copy(tail[:n%64], b[32:]) // the bytes past those are padding
	return h, n, tail, true
}

// A Finisher is crypto/sha256 that takes up states. It is not safe for use
// by several goroutines at once.
type Finisher struct {
	h       hash.Hash
	scratch [Size]byte
	sum     [32]byte // a local array would escape through hash.Hash.Sum
}

// NewFinisher returns a Finisher.
func NewFinisher() *Finisher { return &Finisher{h: sha256.New()} }

func (f *Finisher) load(h *[8]uint32, tail []byte, n uint64) {
	if err := f.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(Append(f.scratch[:0], h, tail, n)); err != nil {
		panic(err) // the state is in crypto/sha256's own format
	}
}

// Sum returns the SHA-256 of a stream whose state after n bytes is h
// (tail holding the bytes past its last whole block), followed by rest.
func (f *Finisher) Sum(h *[8]uint32, tail []byte, n uint64, rest []byte) [32]byte {
	f.load(h, tail, n)
	f.h.Write(rest)
	f.h.Sum(f.sum[:0])
	return f.sum
}

// Blocks runs the compression function from state h over p, whole blocks,
// with crypto/sha256's own code (for CPUs the assembly loops do not run
// on).
func (f *Finisher) Blocks(h *[8]uint32, p []byte) {
	f.load(h, nil, 0)
	f.h.Write(p[:len(p)&^63])
	b, err := f.h.(encoding.BinaryAppender).AppendBinary(f.scratch[:0])
	if err != nil {
		panic(err) // crypto/sha256 always appends its state
	}
	for i := range h {
		h[i] = binary.BigEndian.Uint32(b[len(magic)+4*i:])
	}
}
