//go:build !amd64 || purego

package aesige

var hasAESNI, hasFused = false, false

func expandKey(key *[32]byte, enc, dec *[240]byte)                { panic("aesige: no AES-NI here") }
func decryptBlocks(dec *[240]byte, iv *[32]byte, dst, src []byte) { panic("aesige: no AES-NI here") }
func encryptBlocks(enc *[240]byte, iv *[32]byte, dst, src []byte) { panic("aesige: no AES-NI here") }
func decryptHashBlocks(dec *[240]byte, iv *[32]byte, state *[8]uint32, buf, src []byte) {
	panic("aesige: no AES-NI here")
}

func encryptHashBlocks(enc *[240]byte, iv *[32]byte, state *[8]uint32, dst, src, next []byte) {
	panic("aesige: no AES-NI here")
}
