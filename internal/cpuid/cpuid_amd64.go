//go:build amd64 && !purego

package cpuid

import "golang.org/x/sys/cpu"

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

// SHA reports SHA256RNDS2 and its kin, with the SSSE3 and SSE4.1 that
// SHA-NI code uses beside them.
var SHA = func() bool {
	if top, _, _, _ := cpuid(0, 0); top < 7 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<29) != 0 && cpu.X86.HasSSSE3 && cpu.X86.HasSSE41
}()
