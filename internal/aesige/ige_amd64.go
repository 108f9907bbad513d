//go:build amd64 && !purego

package aesige

import (
	"github.com/filedc/filedc/internal/cpuid"
	"golang.org/x/sys/cpu"
)

var (
	hasAESNI = cpu.X86.HasAES && cpu.X86.HasSSE2
	hasFused = hasAESNI && cpuid.SHA
)

//go:generate go run ../asmgen aesige

// expandKey writes the 15 round keys of AES-256 for encryption, and those
// of the equivalent inverse cipher for decryption.
//
//go:noescape
func expandKey(key *[32]byte, enc, dec *[240]byte)

//go:noescape
func decryptBlocks(dec *[240]byte, iv *[32]byte, dst, src []byte)

//go:noescape
func encryptBlocks(enc *[240]byte, iv *[32]byte, dst, src []byte)

//go:noescape
func decryptHashBlocks(dec *[240]byte, iv *[32]byte, state *[8]uint32, buf, src []byte)

//go:noescape
func encryptHashBlocks(enc *[240]byte, iv *[32]byte, state *[8]uint32, dst, src, next []byte)
