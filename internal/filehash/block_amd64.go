//go:build amd64 && !purego

package filehash

import "github.com/filedc/filedc/internal/cpuid"

//go:generate go run ../asmgen filehash

// blockPair runs the compression function over every 64-byte block of p
// for both states: one message schedule, two interleaved round chains.
//
//go:noescape
func blockPair(whole, rng *[8]uint32, p []byte)

// hasPair reports whether blockPair can run here.
var hasPair = cpuid.SHA
