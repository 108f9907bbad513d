//go:build !amd64 || purego

package filehash

var hasPair = false

func blockPair(whole, rng *[8]uint32, p []byte) { panic("filehash: no blockPair on this platform") }
