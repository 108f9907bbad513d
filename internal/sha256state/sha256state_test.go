package sha256state

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"testing"
)

// TestStatesAreCryptoSHA256s: Append writes what crypto/sha256's
// MarshalBinary does, Parse reads it back, and a Finisher goes on from a
// state to the sum crypto/sha256 gives; Blocks runs whole blocks.
func TestStatesAreCryptoSHA256s(t *testing.T) {
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i * 31)
	}
	f := NewFinisher()
	for _, n := range []int{0, 1, 63, 64, 65, 128, 640, 999} {
		std := sha256.New()
		std.Write(data[:n])
		want, _ := std.(encoding.BinaryMarshaler).MarshalBinary()
		h, gotN, tail, ok := Parse(want)
		if !ok || gotN != uint64(n) || !bytes.Equal(tail[:n%64], data[n-n%64:n]) {
			t.Fatalf("%d bytes: Parse of crypto/sha256's state failed", n)
		}
		if got := Append(nil, &h, tail[:], gotN); !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: Append differs from crypto/sha256's state", n)
		}
		if f.Sum(&h, tail[:], gotN, data[n:]) != sha256.Sum256(data) {
			t.Fatalf("%d bytes: Finisher.Sum differs", n)
		}
		if n%64 == 0 {
			g := h
			f.Blocks(&g, data[n:n+64*((len(data)-n)/64)])
			k := n + 64*((len(data)-n)/64)
			if f.Sum(&g, nil, uint64(k), data[k:]) != sha256.Sum256(data) {
				t.Fatalf("%d bytes: Blocks went wrong", n)
			}
		}
	}
	if _, _, _, ok := Parse([]byte("sha\x03short")); ok {
		t.Fatal("a short state parsed")
	}
}
