package filehash

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"fmt"
	"math/rand/v2"
	"testing"
)

// reference computes the sums with crypto/sha256 alone.
func reference(data []byte) (whole [32]byte, ranges [][32]byte) {
	for off := 0; off < len(data); off += RangeSize {
		ranges = append(ranges, sha256.Sum256(data[off:min(off+RangeSize, len(data))]))
	}
	return sha256.Sum256(data), ranges
}

// bothWays runs f with blockPair (where this CPU has it) and without.
func bothWays(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := hasPair
	defer func() { hasPair = saved }()
	for _, pair := range []bool{true, false} {
		if pair && !saved {
			t.Log("this CPU has no SHA extensions: only crypto/sha256's blocks are tested")
			continue
		}
		hasPair = pair
		t.Run(fmt.Sprintf("pair=%v", pair), f)
	}
}

// writeInPieces writes data in pieces of random sizes, from 0 bytes to
// more than a range.
func writeInPieces(h *Hasher, data []byte, rng *rand.Rand) {
	for len(data) > 0 {
		var k int
		switch rng.IntN(4) {
		case 0:
			k = rng.IntN(70)
		case 1:
			k = 64 * rng.IntN(5)
		default:
			k = rng.IntN(3 * RangeSize)
		}
		k = min(k, len(data))
		h.Write(data[:k])
		data = data[k:]
	}
}

// TestF6_OnePassGivesTheWholeAndRangeHashes: for streams of every shape
// (empty, inside one block, on range edges, several ranges and a short
// last one), written in any pieces, the Hasher gives the SHA-256 of the
// whole and of every 131072-byte range that crypto/sha256 gives.
func TestF6_OnePassGivesTheWholeAndRangeHashes(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		data := make([]byte, 5*RangeSize+1000)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		sizes := []int{0, 1, 63, 64, 65, 1000, RangeSize - 1, RangeSize, RangeSize + 1, 2*RangeSize + 64, 5 * RangeSize, len(data)}
		for _, size := range sizes {
			wantWhole, wantRanges := reference(data[:size])
			for round := range 3 {
				h := New(int64(size))
				if round == 0 {
					h.Write(data[:size])
				} else {
					writeInPieces(h, data[:size], rng)
				}
				whole, ranges := h.Sum()
				if whole != wantWhole || !equalSums(ranges, wantRanges) {
					t.Fatalf("%d bytes, round %d: sums differ from crypto/sha256's", size, round)
				}
				if h.Len() != int64(size) || len(h.Done()) != size/RangeSize {
					t.Fatalf("%d bytes: Len %d, %d ranges done", size, h.Len(), len(h.Done()))
				}
				// Sum leaves the Hasher as it was: more bytes go on from there.
				h.Write(data[size:])
				if w, _ := h.Sum(); w != sha256.Sum256(data) {
					t.Fatalf("%d bytes: writing on after Sum gave another sum", size)
				}
				h.Reset()
				h.Write(data[:size])
				if w, _ := h.Sum(); w != wantWhole {
					t.Fatalf("%d bytes: wrong sum after Reset", size)
				}
			}
		}
	})
}

func equalSums(a, b [][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestStatesAreCryptoSHA256s: the states MarshalStates gives are those of
// crypto/sha256 hashes of the same bytes (so hash states kept before this
// package are taken up), UnmarshalStates takes them back, and refuses
// states that do not describe one stream.
func TestStatesAreCryptoSHA256s(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		data := make([]byte, 3*RangeSize+777)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		for _, size := range []int{0, 5, 64, RangeSize, RangeSize + 100, len(data) - 300} {
			h := New(0)
			writeInPieces(h, data[:size], rng)
			whole, rngState := h.MarshalStates()
			std := sha256.New()
			std.Write(data[:size])
			stdWhole, _ := std.(encoding.BinaryMarshaler).MarshalBinary()
			std.Reset()
			std.Write(data[size-size%RangeSize : size])
			stdRange, _ := std.(encoding.BinaryMarshaler).MarshalBinary()
			if !bytes.Equal(whole, stdWhole) || !bytes.Equal(rngState, stdRange) {
				t.Fatalf("%d bytes: states differ from crypto/sha256's", size)
			}

			g := New(0)
			if err := g.UnmarshalStates(stdWhole, stdRange, h.Done()); err != nil {
				t.Fatalf("%d bytes: %v", size, err)
			}
			g.Write(data[size:])
			wantWhole, wantRanges := reference(data)
			if w, r := g.Sum(); w != wantWhole || !equalSums(r, wantRanges) {
				t.Fatalf("%d bytes: going on from the states gave other sums", size)
			}
			c := h.Clone()
			c.Write(data[size:])
			h.Write([]byte("other"))
			if w, r := c.Sum(); w != wantWhole || !equalSums(r, wantRanges) {
				t.Fatalf("%d bytes: a clone is not independent", size)
			}
		}

		h := New(0)
		h.Write(data[:RangeSize+10])
		whole, rngState := h.MarshalStates()
		other := New(0)
		other.Write(data[:11])
		_, otherRange := other.MarshalStates()
		for name, bad := range map[string]func() error{
			"range of another length": func() error { return New(0).UnmarshalStates(whole, otherRange, h.Done()) },
			"a range missing":         func() error { return New(0).UnmarshalStates(whole, rngState, nil) },
			"truncated":               func() error { return New(0).UnmarshalStates(whole[:50], rngState, h.Done()) },
			"not a state": func() error {
				return New(0).UnmarshalStates(append([]byte("md5\x01"), whole[4:]...), rngState, h.Done())
			},
		} {
			if err := bad(); err == nil {
				t.Errorf("%s: taken up", name)
			}
		}
	})
}

// FuzzHasher checks any stream, cut anywhere, against crypto/sha256, and
// any bytes given as states are refused or describe a stream that goes on
// without a panic.
func FuzzHasher(f *testing.F) {
	f.Add([]byte("hello"), uint16(3), uint32(0))
	f.Add(bytes.Repeat([]byte{7}, 300), uint16(64), uint32(RangeSize-100))
	f.Fuzz(func(t *testing.T, seed []byte, cut uint16, pad uint32) {
		// A stream of the seed followed by pad zero bytes (up to 3 ranges)
		// reaches range edges without a big corpus.
		data := append(append([]byte(nil), seed...), make([]byte, pad%(3*RangeSize))...)
		h := New(int64(len(data)))
		k := min(int(cut), len(data))
		h.Write(data[:k])
		h.Write(data[k:])
		wantWhole, wantRanges := reference(data)
		if w, r := h.Sum(); w != wantWhole || !equalSums(r, wantRanges) {
			t.Fatalf("%d bytes cut at %d: sums differ", len(data), k)
		}
		// The seed as a state must not crash UnmarshalStates.
		g := New(0)
		if g.UnmarshalStates(seed, seed, nil) == nil {
			g.Write(data)
			g.Sum()
		}
	})
}

// BenchmarkHasher compares one pass for both sums with two crypto/sha256
// hashes of the same 512 KiB parts (what the engine did before), and one
// crypto/sha256 pass alone (the floor of one SHA-256 pass).
func BenchmarkHasher(b *testing.B) {
	part := make([]byte, 512<<10)
	for i := range part {
		part[i] = byte(i * 7)
	}
	b.Run("pair", func(b *testing.B) {
		h := New(0)
		b.SetBytes(int64(len(part)))
		b.ReportAllocs()
		for b.Loop() {
			h.Write(part)
			if h.Len() >= 1<<30 {
				h.Reset()
			}
		}
	})
	b.Run("two-sha256", func(b *testing.B) {
		whole, rng := sha256.New(), sha256.New()
		var out [32]byte
		b.SetBytes(int64(len(part)))
		b.ReportAllocs()
		for b.Loop() {
			whole.Write(part)
			for off := 0; off < len(part); off += RangeSize {
				rng.Write(part[off : off+RangeSize])
				rng.Sum(out[:0])
				rng.Reset()
			}
		}
	})
	b.Run("one-sha256", func(b *testing.B) {
		whole := sha256.New()
		b.SetBytes(int64(len(part)))
		for b.Loop() {
			whole.Write(part)
		}
	})
}
