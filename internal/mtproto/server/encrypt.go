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

// encrypt encrypts a message the way gotd's Cipher.Encrypt does, but into
// pooled buffers: plain receives the encoded plaintext, and the result is
// written once by AES-IGE, instead of being allocated and copied again.
func encrypt(k crypto.AuthKey, data *crypto.EncryptedMessageData, plain *bin.Buffer) (*sealed, error) {
	plain.Reset()
	if err := data.EncodeWithoutCopy(plain); err != nil {
		return nil, err
	}
	var r [1]byte
	if _, err := rand.Read(r[:]); err != nil {
		return nil, err
	}
	n := len(plain.Buf)
	plain.Buf = append(plain.Buf, make([]byte, padding(n, r[0]))...)
	if _, err := rand.Read(plain.Buf[n:]); err != nil {
		return nil, err
	}
	msgKey := crypto.MessageKey(k.Value, plain.Buf, crypto.Server)
	key, iv := crypto.Keys(k.Value, msgKey, crypto.Server)
	s := sealedBufs.Get().(*sealed)
	size := 24 + len(plain.Buf)
	if cap(s.buf) < size {
		s.buf = make([]byte, size)
	}
	s.buf = s.buf[:size]
	copy(s.buf[0:8], k.ID[:])
	copy(s.buf[8:24], msgKey[:])
	aesige.Encrypt((*[32]byte)(&key), (*[32]byte)(&iv), s.buf[24:], plain.Buf)
	return s, nil
}
