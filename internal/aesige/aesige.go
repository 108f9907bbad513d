// Package aesige is AES-256 in IGE mode, the cipher of MTProto 2.0
// messages. On amd64 with AES-NI each direction is one assembly loop that
// keeps only an XOR and the 14 rounds on the chain from block to block
// (IGE cannot run blocks in parallel); elsewhere it is gotd/ige.
//
// A receiver checks msg_key, a SHA-256 over the plaintext, after
// decrypting. DecryptHashed does both in one loop where the CPU also has
// the SHA extensions: AES and SHA-256 are each bound by the latency of
// their own chain, so one runs while the other waits.
//
// The iv is 32 bytes, as MTProto derives it: the block before the first
// ciphertext block, then the block before the first plaintext block.
package aesige

import (
	"crypto/aes"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"sync"

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

// HashedPrefix is the number of bytes DecryptHashed hashes before the
// plaintext.
const HashedPrefix = 32

// DecryptHashed decrypts src into buf[HashedPrefix:] and returns the
// SHA-256 of all of buf: the HashedPrefix bytes the caller put first, then
// the plaintext. (MTProto's msg_key is the middle of the SHA-256 of 32
// bytes of the auth key and the plaintext.) len(buf) must be
// HashedPrefix+len(src); buf and src must not overlap.
func DecryptHashed(key, iv *[32]byte, buf, src []byte) [32]byte {
	if len(buf) != HashedPrefix+len(src) {
		panic("aesige: buf is not HashedPrefix bytes longer than src")
	}
	checkLengths(buf[HashedPrefix:], src)
	if !hasFused {
		Decrypt(key, iv, buf[HashedPrefix:], src)
		return sha256.Sum256(buf)
	}
	var enc, dec [240]byte
	expandKey(key, &enc, &dec)
	chain, state := *iv, sha256IV
	// The loop takes 64 bytes at a time and hashes buf up to the end of
	// those: buf[:full]. The last blocks are decrypted after it, and the
	// rest of buf hashed by crypto/sha256 from the loop's state.
	full := len(src) &^ 63
	decryptHashBlocks(&dec, &chain, &state, buf, src[:full])
	decryptBlocks(&dec, &chain, buf[HashedPrefix+full:], src[full:])
	return finishSHA256(&state, uint64(full), buf[full:])
}

// EncryptHashing encrypts src into dst, as Encrypt does, and returns the
// SHA-256 of next, hashed in the same loop: a sender that has several
// messages to send hashes each one (for its msg_key, which its key derives
// from) while it encrypts the one before. next must not overlap dst.
func EncryptHashing(key, iv *[32]byte, dst, src, next []byte) [32]byte {
	checkLengths(dst, src)
	if !hasFused {
		Encrypt(key, iv, dst, src)
		return sha256.Sum256(next)
	}
	var enc, dec [240]byte
	expandKey(key, &enc, &dec)
	chain, state := *iv, sha256IV
	both := min(len(src), len(next)) &^ 63
	encryptHashBlocks(&enc, &chain, &state, dst, src[:both], next[:both])
	encryptBlocks(&enc, &chain, dst[both:], src[both:])
	return finishSHA256(&state, uint64(both), next[both:])
}

var sha256IV = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

// finisher is crypto/sha256 with room for a state, pooled: passed through
// an interface, a local array would escape.
type finisher struct {
	h interface {
		encoding.BinaryUnmarshaler
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
	state [4 + 32 + 64 + 8]byte
	sum   [32]byte
}

var finishers = sync.Pool{New: func() any {
	f := &finisher{}
	f.h = sha256.New().(interface {
		encoding.BinaryUnmarshaler
		Write([]byte) (int, error)
		Sum([]byte) []byte
	})
	return f
}}

// finishSHA256 goes on from state, after n bytes (a multiple of 64), with
// rest, and returns the sum. The state goes into crypto/sha256 in its own
// binary format: magic, the 8 words, the (empty) buffered block, the length.
func finishSHA256(state *[8]uint32, n uint64, rest []byte) [32]byte {
	f := finishers.Get().(*finisher)
	defer finishers.Put(f)
	b := f.state[:]
	copy(b, "sha\x03")
	for i, w := range state {
		binary.BigEndian.PutUint32(b[4+4*i:], w)
	}
	clear(b[4+32 : 4+32+64])
	binary.BigEndian.PutUint64(b[4+32+64:], n)
	if err := f.h.UnmarshalBinary(b); err != nil {
		panic(err) // the state is built in crypto/sha256's own format
	}
	f.h.Write(rest)
	f.h.Sum(f.sum[:0])
	return f.sum
}
