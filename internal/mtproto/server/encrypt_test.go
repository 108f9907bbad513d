package server

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
)

// encrypt prepares and seals one message alone, as the sealer does with a
// message that none follows.
func encrypt(k crypto.AuthKey, data *crypto.EncryptedMessageData, plain *bin.Buffer) (*sealed, error) {
	if err := prepare(k, data, plain); err != nil {
		return nil, err
	}
	s, _ := seal(k, plain.Buf, sha256.Sum256(plain.Buf), nil)
	return s, nil
}

// gotd's client decrypts what encrypt produces, for bodies of every length
// modulo 16 and up to the size of a getFile answer, reusing pooled buffers.
func TestEncryptDecryptsWithGotd(t *testing.T) {
	var k crypto.AuthKey
	rand.Read(k.Value[:])
	k.ID = k.Value.ID()
	client := crypto.NewClientCipher(rand.Reader)
	var plain bin.Buffer
	for _, n := range []int{4, 8, 12, 16, 20, 1000, 4096, 512<<10 + 12} {
		body := make([]byte, n)
		rand.Read(body)
		data := crypto.EncryptedMessageData{Salt: 1, SessionID: 2, MessageID: 3, SeqNo: 5, Message: rawAnswer(body)}
		out, err := encrypt(k, &data, &plain)
		if err != nil {
			t.Fatal(err)
		}
		if (len(out.buf)-24)%16 != 0 {
			t.Fatalf("%d bytes: encrypted data of %d bytes is not whole blocks", n, len(out.buf)-24)
		}
		got, err := client.DecryptFromBuffer(k, &bin.Buffer{Buf: bytes.Clone(out.buf)})
		out.release()
		if err != nil {
			t.Fatalf("%d bytes: gotd cannot decrypt: %v", n, err)
		}
		if got.SessionID != 2 || got.MessageID != 3 || got.SeqNo != 5 || !bytes.Equal(got.Data(), body) {
			t.Fatalf("%d bytes: decrypted message differs", n)
		}
	}
}

func TestPaddingBounds(t *testing.T) {
	for n := 0; n < 64; n++ {
		for r := 0; r < 256; r++ {
			p := padding(n, byte(r))
			if p < 12 || p > 1024 || (n+p)%16 != 0 {
				t.Fatalf("padding(%d, %d) = %d", n, r, p)
			}
		}
	}
}
