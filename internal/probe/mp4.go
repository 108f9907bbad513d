package probe

import (
	"encoding/binary"
	"io"
)

// maxBoxes bounds the top-level boxes MoovFirst walks.
const maxBoxes = 1024

// MoovFirst reports whether an MP4 or QuickTime file keeps its index (moov)
// before its media data (mdat), so that a player can start before the whole
// file is there: documentAttributeVideo supports_streaming. It walks the
// top-level boxes by their headers only.
func MoovFirst(r io.ReaderAt, size int64) bool {
	var hdr [16]byte
	off := int64(0)
	for i := 0; i < maxBoxes && off+8 <= size; i++ {
		if _, err := r.ReadAt(hdr[:8], off); err != nil {
			return false
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		switch n {
		case 0: // to the end of the file
			n = size - off
		case 1: // a 64-bit size follows
			if off+16 > size {
				return false
			}
			if _, err := r.ReadAt(hdr[8:16], off+8); err != nil {
				return false
			}
			big := binary.BigEndian.Uint64(hdr[8:16])
			if big > uint64(size) {
				return false
			}
			n = int64(big)
			if n < 16 {
				return false
			}
		}
		if n < 8 {
			return false
		}
		switch typ {
		case "moov":
			return true
		case "mdat":
			return false
		}
		if n > size-off {
			return false
		}
		off += n
	}
	return false
}
