//go:build amd64 && !purego

package filehash

// blockPair runs the compression function over every 64-byte block of p
// for both states: one message schedule, two interleaved round chains.
//
//go:noescape
func blockPair(whole, rng *[8]uint32, p []byte)

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

// hasPair reports whether blockPair can run here: it needs the SHA
// extensions, SSSE3 and SSE4.1.
var hasPair = func() bool {
	if top, _, _, _ := cpuid(0, 0); top < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	_, ebx7, _, _ := cpuid(7, 0)
	ssse3, sse41, sha := ecx1&(1<<9) != 0, ecx1&(1<<19) != 0, ebx7&(1<<29) != 0
	return ssse3 && sse41 && sha
}()
