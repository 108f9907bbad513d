package server

import (
	"crypto/rand"
	"sync"

	"github.com/filedc/filedc/internal/aesige"
	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
)

// sealed is an encrypted server message in a pooled buffer:
// auth_key_id, msg_key, then the encrypted data.
type sealed struct{ buf []byte }

var sealedBufs = sync.Pool{New: func() any { return new(sealed) }}

func (s *sealed) release() {
	if cap(s.buf) <= 2<<20 {
		sealedBufs.Put(s)
	}
}

// padding returns how many random bytes follow a plaintext of n bytes:
// 12 to 1024 bytes up to a multiple of 16 (MTProto 2.0), with up to 15 extra
// blocks chosen by r so that the length tells less about the content.
func padding(n int, r byte) int {
	p := (16 - n%16) % 16
	if p < 12 {
		p += 16
	}
	return p + int(r&0x0f)*16
}

// msgKeyPrefix is how many bytes of the auth key msg_key hashes before a
// message's plaintext: SHA-256(auth_key[88+x : 120+x] || plaintext), x 0
// for the client's messages and 8 for the server's. Both directions keep
// them in front of the plaintext, from where aesige hashes.
const msgKeyPrefix = aesige.HashedPrefix

// prepare encodes data into plain the way gotd's Cipher.Encrypt does, after
// the bytes of k that msg_key hashes first, and pads it (MTProto 2.0).
func prepare(k crypto.AuthKey, data *crypto.EncryptedMessageData, plain *bin.Buffer) error {
	plain.Reset()
	plain.Buf = append(plain.Buf, k.Value[96:96+msgKeyPrefix]...)
	if err := data.EncodeWithoutCopy(plain); err != nil {
		return err
	}
	var r [1]byte
	if _, err := rand.Read(r[:]); err != nil {
		return err
	}
	n := len(plain.Buf)
	plain.Buf = append(plain.Buf, make([]byte, padding(n-msgKeyPrefix, r[0]))...)
	_, err := rand.Read(plain.Buf[n:])
	return err
}

// seal encrypts plain, as prepare left it, whose SHA-256 is sum, into a
// pooled buffer, written once by AES-IGE. Meanwhile it hashes next, the
// next message's plain (none when nil), and returns that sum.
func seal(k crypto.AuthKey, plain []byte, sum [32]byte, next []byte) (*sealed, [32]byte) {
	var msgKey bin.Int128
	copy(msgKey[:], sum[8:24])
	key, iv := crypto.Keys(k.Value, msgKey, crypto.Server)
	body := plain[msgKeyPrefix:]
	s := sealedBufs.Get().(*sealed)
	size := 24 + len(body)
	if cap(s.buf) < size {
		s.buf = make([]byte, size)
	}
	s.buf = s.buf[:size]
	copy(s.buf[0:8], k.ID[:])
	copy(s.buf[8:24], msgKey[:])
	var nextSum [32]byte
	if next != nil {
		nextSum = aesige.EncryptHashing((*[32]byte)(&key), (*[32]byte)(&iv), s.buf[24:], body, next)
	} else {
		aesige.Encrypt((*[32]byte)(&key), (*[32]byte)(&iv), s.buf[24:], body)
	}
	return s, nextSum
}
