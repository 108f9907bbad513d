package library

import (
	"bytes"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/files"
)

// FuzzFileRef: a reference that was not issued for the object is refused
// without a panic; one that was issued is accepted with its origin.
func FuzzFileRef(f *testing.F) {
	refs := newFileRefs([]byte("fuzz secret"), time.Hour)
	now := time.Unix(1_800_000_000, 0)
	obj := files.FileRef{ID: 11, AccessHash: 12}
	issued := refs.issue(obj, MessageOrigin(7, 9), now)
	f.Add(issued)
	f.Add(refs.issue(obj, ProfileOrigin(7), now.Add(-2*time.Hour)))
	f.Add([]byte{fileRefVersion})
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := refs.check(obj, raw, now)
		if err != nil {
			return
		}
		// Only what the key signed passes: re-issuing the origin at the
		// reference's time gives the same bytes.
		again := refs.issue(obj, o, time.Unix(int64(uint32(raw[14])|uint32(raw[15])<<8|uint32(raw[16])<<16|uint32(raw[17])<<24), 0))
		if !bytes.Equal(again, raw) {
			t.Fatalf("accepted %x, which the key did not sign (origin %+v)", raw, o)
		}
	})
}
