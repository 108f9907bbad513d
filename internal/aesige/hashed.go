package aesige

import (
	"crypto/sha256"
	"sync"

	"github.com/filedc/filedc/internal/sha256state"
)

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
	chain, state := *iv, sha256state.IV
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
	chain, state := *iv, sha256state.IV
	both := min(len(src), len(next)) &^ 63
	encryptHashBlocks(&enc, &chain, &state, dst, src[:both], next[:both])
	encryptBlocks(&enc, &chain, dst[both:], src[both:])
	return finishSHA256(&state, uint64(both), next[both:])
}

var finishers = sync.Pool{New: func() any { return sha256state.NewFinisher() }}

// finishSHA256 goes on from state, after n bytes (a multiple of 64), with
// rest, and returns the sum.
func finishSHA256(state *[8]uint32, n uint64, rest []byte) [32]byte {
	f := finishers.Get().(*sha256state.Finisher)
	defer finishers.Put(f)
	return f.Sum(state, nil, n, rest)
}
