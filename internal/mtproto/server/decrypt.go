package server

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/filedc/filedc/internal/aesige"
	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
)

// plaintext is a decrypted client message in a pooled buffer. The calls it
// carries hold references; the last one to finish returns the buffer, so a
// stream of 512 KiB parts reuses a few buffers instead of allocating one per
// frame.
type plaintext struct {
	buf  []byte
	full []byte // buf and the bytes before it (msgKeyPrefix on decrypt)
	refs atomic.Int32
}

var plaintexts = sync.Pool{New: func() any { return new(plaintext) }}

// newPlaintext returns a pooled buffer of n bytes, held once.
func newPlaintext(n int) *plaintext { return newPlaintextAfter(0, n) }

// newPlaintextAfter returns a pooled buffer of n bytes with head bytes
// before it, held once.
func newPlaintextAfter(head, n int) *plaintext {
	p := plaintexts.Get().(*plaintext)
	if cap(p.full) < head+n {
		p.full = make([]byte, head+n)
	}
	p.full = p.full[:head+n]
	p.buf = p.full[head:]
	p.refs.Store(1)
	return p
}

func (p *plaintext) hold() { p.refs.Add(1) }

func (p *plaintext) release() {
	if p == nil {
		return // a frame that did not decrypt
	}
	if p.refs.Add(-1) == 0 && cap(p.full) <= 2<<20+msgKeyPrefix {
		plaintexts.Put(p)
	}
}

var errBadMessage = errors.New("server: malformed encrypted message")

// decrypt checks and decrypts an encrypted client message into a pooled
// buffer (held once by the caller), as gotd's Cipher does but without
// allocating: auth_key_id, msg_key over the plaintext, and the length and
// padding of the message inside.
func decrypt(k crypto.AuthKey, frame []byte) (*plaintext, *crypto.EncryptedMessageData, error) {
	var msg crypto.EncryptedMessage
	if err := msg.DecodeWithoutCopy(&bin.Buffer{Buf: frame}); err != nil {
		return nil, nil, err
	}
	if msg.AuthKeyID != k.ID || len(msg.EncryptedData) == 0 || len(msg.EncryptedData)%16 != 0 {
		return nil, nil, errBadMessage
	}
	// msg_key is bytes 8-24 of SHA-256(auth_key[88:120] || plaintext),
	// hashed as it is decrypted.
	p := newPlaintextAfter(msgKeyPrefix, len(msg.EncryptedData))
	copy(p.full, k.Value[88:88+msgKeyPrefix])
	key, iv := crypto.Keys(k.Value, msg.MsgKey, crypto.Client)
	sum := aesige.DecryptHashed((*[32]byte)(&key), (*[32]byte)(&iv), p.full, msg.EncryptedData)
	if [16]byte(sum[8:24]) != msg.MsgKey {
		p.release()
		return nil, nil, errBadMessage
	}
	var data crypto.EncryptedMessageData
	if err := data.DecodeWithoutCopy(&bin.Buffer{Buf: p.buf}); err != nil {
		p.release()
		return nil, nil, err
	}
	// MTProto 2.0 pads with 12 to 1024 bytes (S7d).
	if n := int(data.MessageDataLen); n < 0 || n%4 != 0 || len(data.MessageDataWithPadding)-n < 12 ||
		len(data.MessageDataWithPadding)-n > 1024 {
		p.release()
		return nil, nil, errBadMessage
	}
	return p, &data, nil
}
