// Package aesige is AES-256 in IGE mode, the cipher of MTProto 2.0
// messages. On amd64 with AES-NI each direction is one assembly loop that
// keeps only an XOR and the 14 rounds on the chain from block to block
// (IGE cannot run blocks in parallel); elsewhere it is gotd/ige.
//
// A message's msg_key is a SHA-256 over its plaintext. Where the CPU also
// has the SHA extensions, DecryptHashed decrypts and hashes in one loop,
// and EncryptHashing encrypts one message while it hashes the next: AES and
// SHA-256 are each bound by the latency of their own chain, so one runs
// while the other waits (hashed.go).
//
// The iv is 32 bytes, as MTProto derives it: the block before the first
// ciphertext block, then the block before the first plaintext block.
package aesige

import (
	"crypto/aes"

	"github.com/gotd/ige"
)

// Decrypt decrypts src into dst, which must be at least as long; src holds
// whole 16-byte blocks. dst and src must not overlap.
func Decrypt(key, iv *[32]byte, dst, src []byte) {
	checkLengths(dst, src)
	if !hasAESNI {
		ige.DecryptAES256Blocks(key[:], iv[:], dst, src)
		return
	}
	var enc, dec [240]byte
	expandKey(key, &enc, &dec)
	chain := *iv
	decryptBlocks(&dec, &chain, dst, src)
}

// Encrypt encrypts src into dst, under the same terms as Decrypt.
func Encrypt(key, iv *[32]byte, dst, src []byte) {
	checkLengths(dst, src)
	if !hasAESNI {
		block, err := aes.NewCipher(key[:])
		if err != nil {
			panic(err) // a 32-byte key is always valid
		}
		ige.EncryptBlocks(block, iv[:], dst, src)
		return
	}
	var enc, dec [240]byte
	expandKey(key, &enc, &dec)
	chain := *iv
	encryptBlocks(&enc, &chain, dst, src)
}

func checkLengths(dst, src []byte) {
	if len(src)%aes.BlockSize != 0 {
		panic("aesige: src is not whole blocks")
	}
	if len(dst) < len(src) {
		panic("aesige: dst is shorter than src")
	}
}
