package server

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/proto"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/mtproto/session"
	"github.com/filedc/filedc/internal/mtproto/transport"
	"github.com/filedc/filedc/internal/store/memstore"
)

// FuzzProcess feeds arbitrary decrypted message bodies (containers,
// gzip_packed, service messages, calls) to a session: the server must answer
// or drop them, never panic or hang.
func FuzzProcess(f *testing.F) {
	var b bin.Buffer
	(&mt.PingRequest{PingID: 1}).Encode(&b)
	f.Add(b.Buf)
	b.Reset()
	(&mt.GetFutureSaltsRequest{Num: 3}).Encode(&b)
	f.Add(b.Buf)
	b.Reset()
	(&proto.MessageContainer{Messages: []proto.Message{{ID: 4, SeqNo: 1, Bytes: 8, Body: []byte{1, 2, 3, 4, 5, 6, 7, 8}}}}).Encode(&b)
	f.Add(b.Buf)
	b.Reset()
	(&proto.GZIP{Data: []byte{0xec, 0x77, 0xbe, 0x7a, 1, 0, 0, 0, 0, 0, 0, 0}}).Encode(&b)
	f.Add(b.Buf)
	b.Reset()
	// A call of another layer, translated (S5).
	(&tg.InvokeWithLayerRequest{Layer: 198, Query: &tg.UsersGetUsersRequest{ID: []tg.InputUserClass{&tg.InputUserSelf{}}}}).Encode(&b)
	f.Add(b.Buf)

	client, srvSide := net.Pipe()
	go io.Copy(io.Discard, client)
	go client.Write([]byte{0xee, 0xee, 0xee, 0xee})
	t, err := transport.Accept(srvSide, transport.Options{DetectTimeout: 5 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	s := New(Config{
		Salts: session.NewSalts([]byte("fuzz secret, thirty-two bytes ok")),
		Keys:  memstore.New(),
		Handler: HandlerFunc(func(ctx context.Context, r *Request) (bin.Encoder, error) {
			return nil, &RPCError{Code: 400, Message: "METHOD_INVALID"}
		}),
	})
	key := &Key{}
	sess, _ := s.session(key, 1, s.newConn(t))
	f.Fuzz(func(t *testing.T, body []byte) {
		s.process(context.Background(), sess.conn, sess, 4, 1, body, 0, nil)
	})
}

func TestS3_InflateGzipAndZlib(t *testing.T) {
	payload := bytes.Repeat([]byte("filedc "), 1000)
	var gz, zl bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(payload)
	w.Close()
	z := zlib.NewWriter(&zl)
	z.Write(payload)
	z.Close()
	for name, packed := range map[string][]byte{"gzip": gz.Bytes(), "zlib": zl.Bytes()} {
		var b bin.Buffer
		b.PutID(proto.GZIPTypeID)
		b.PutBytes(packed)
		got, err := inflate(&b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got.buf, payload) {
			t.Errorf("%s: %d bytes differ", name, len(got.buf))
		}
		got.release()
	}
	// A trailer that lies about the size is refused, as is a bomb.
	lying := append([]byte(nil), gz.Bytes()...)
	binary.LittleEndian.PutUint32(lying[len(lying)-4:], 10)
	var b bin.Buffer
	b.PutID(proto.GZIPTypeID)
	b.PutBytes(lying)
	if _, err := inflate(&b); err == nil {
		t.Error("a gzip stream longer than its trailer was accepted")
	}
	var bomb bytes.Buffer
	w = gzip.NewWriter(&bomb)
	w.Write(make([]byte, maxInflated+1))
	w.Close()
	b.Reset()
	b.PutID(proto.GZIPTypeID)
	b.PutBytes(bomb.Bytes())
	if _, err := inflate(&b); err == nil {
		t.Error("a gzip bomb was inflated")
	}
}

// FuzzDecrypt: any encrypted frame is refused or decrypted without a panic;
// what decrypts keeps MTProto 2.0's rules (S7d).
func FuzzDecrypt(f *testing.F) {
	var raw crypto.Key
	copy(raw[:], "a key for the decrypt fuzz")
	k := raw.WithID()
	var b bin.Buffer
	crypto.NewClientCipher(rand.Reader).Encrypt(k, crypto.EncryptedMessageData{Salt: 1, SessionID: 2, MessageID: 4, SeqNo: 1,
		Message: &mt.PingRequest{PingID: 3}}, &b)
	f.Add(b.Buf)
	f.Add(append(k.ID[:], make([]byte, 16+32)...))
	f.Fuzz(func(t *testing.T, frame []byte) {
		p, data, err := decrypt(k, frame)
		if err != nil {
			return
		}
		defer p.release()
		if pad := len(data.MessageDataWithPadding) - int(data.MessageDataLen); pad < 12 || pad > 1024 {
			t.Fatalf("accepted padding of %d bytes", pad)
		}
	})
}
