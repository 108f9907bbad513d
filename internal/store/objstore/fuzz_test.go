package objstore

import (
	"bytes"
	"testing"
)

// FuzzManifest: a stored file's manifest decodes only when it re-encodes
// to the same bytes; anything else is refused without a panic.
func FuzzManifest(f *testing.F) {
	f.Add((&manifest{gens: []uint64{1, 2, 3}, sizes: []int{512 << 10, 512 << 10, 7}}).encode())
	f.Add([]byte(manifestMagic))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := decodeManifest(raw)
		if err != nil {
			return
		}
		if !bytes.Equal(m.encode(), raw) {
			t.Fatal("a manifest that decodes does not encode back")
		}
	})
}
