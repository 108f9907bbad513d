// Package randid makes the random identifiers Telegram's API uses: file and
// document ids, access hashes, account ids.
package randid

import (
	"crypto/rand"
	"encoding/binary"
)

// Int63 returns a uniformly random positive int64.
func Int63() int64 {
	var b [8]byte
	for {
		rand.Read(b[:]) // never fails on supported systems (Go 1.24+)
		if v := int64(binary.LittleEndian.Uint64(b[:]) >> 1); v != 0 {
			return v
		}
	}
}

// Ids of stored files, documents and photos carry the data center that holds
// them in their top bits (bits 55..62: DC ids 1..255), so any DC can tell
// from a download location alone where the file lives and answer
// FILE_MIGRATE_X. The other 55 bits are random.
const (
	dcShift = 55
	dcMax   = 255
)

// InDC returns a random positive id tagged with data center dc. A dc outside
// 1..255 gives an untagged id, the same as Int63.
func InDC(dc int) int64 {
	if dc < 1 || dc > dcMax {
		return Int63()
	}
	for {
		if r := Int63() & (1<<dcShift - 1); r != 0 {
			return int64(dc)<<dcShift | r
		}
	}
}

// DC returns the data center an id of InDC names (0 for an id that is not
// positive). Ids made by Int63 name an arbitrary DC, so callers trust it
// only for DCs of their cluster.
func DC(id int64) int {
	if id <= 0 {
		return 0
	}
	return int(id >> dcShift)
}
