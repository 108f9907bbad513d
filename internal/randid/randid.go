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
