package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/proto"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/mtproto/session"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/memstore"
)

// rawClient speaks intermediate with an auth key the server knows, over TCP.
type rawClient struct {
	conn    net.Conn
	key     crypto.AuthKey
	salt    int64
	ids     *proto.MessageIDGen
	seq     int32
	session int64
	parts   *partLog
	srv     *Server
	keys    *memstore.Store
}

// partLog records the parts of upload.saveFilePart calls a handler saw.
type partLog struct {
	mu    sync.Mutex
	parts []int
}

func (l *partLog) add(p int) { l.mu.Lock(); l.parts = append(l.parts, p); l.mu.Unlock() }
func (l *partLog) seen() map[int]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := map[int]bool{}
	for _, p := range l.parts {
		m[p] = true
	}
	return m
}

func newRawClient(t *testing.T) *rawClient {
	t.Helper()
	parts := &partLog{}
	c := newRawClientWith(t, Config{Handler: HandlerFunc(func(ctx context.Context, r *Request) (bin.Encoder, error) {
		var req tg.UploadSaveFilePartRequest
		if err := req.Decode(r.Body); err != nil {
			return nil, &RPCError{Code: 400, Message: "METHOD_INVALID"}
		}
		parts.add(req.FilePart)
		return &tg.BoolTrue{}, nil
	})})
	c.parts = parts
	return c
}

// newRawClientWith starts a server with cfg (salts and keys filled in) and
// connects a client with a key it knows.
func newRawClientWith(t *testing.T, cfg Config) *rawClient {
	t.Helper()
	var raw crypto.Key
	copy(raw[:], "an auth key for the inbound test of the decrypting pipeline ...")
	key := raw.WithID()
	keys := memstore.New()
	keys.PutAuthKey(context.Background(), store.AuthKey{ID: key.ID, Value: key.Value})
	salts := session.NewSalts([]byte("inbound test secret, 32 bytes ok"))
	cfg.Salts, cfg.Keys = salts, keys
	s := New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write([]byte{0xee, 0xee, 0xee, 0xee}); err != nil {
		t.Fatal(err)
	}
	return &rawClient{conn: conn, key: key, salt: salts.Current(time.Now()), ids: proto.NewMessageIDGen(time.Now),
		session: 77, srv: s, keys: keys}
}

// frame encrypts body as the next content message; corrupt flips a byte of
// the encrypted data so that its msg_key no longer matches.
func (c *rawClient) frame(t *testing.T, body bin.Encoder, corrupt bool) ([]byte, int64) {
	t.Helper()
	id := c.ids.New(proto.MessageFromClient)
	c.seq++
	var b bin.Buffer
	err := crypto.NewClientCipher(rand.Reader).Encrypt(c.key, crypto.EncryptedMessageData{
		Salt: c.salt, SessionID: c.session, MessageID: id, SeqNo: 2*c.seq - 1, Message: body,
	}, &b)
	if err != nil {
		t.Fatal(err)
	}
	if corrupt {
		b.Buf[len(b.Buf)-100] ^= 1
	}
	out := binary.LittleEndian.AppendUint32(nil, uint32(b.Len()))
	return append(out, b.Buf...), id
}

// next reads the next message the server sent; io.EOF once it closed.
func (c *rawClient) next(t *testing.T) (uint32, *bin.Buffer, error) {
	t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	var hdr [4]byte
	if _, err := io.ReadFull(c.conn, hdr[:]); err != nil {
		return 0, nil, err
	}
	frame := make([]byte, binary.LittleEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(c.conn, frame); err != nil {
		return 0, nil, err
	}
	data, err := crypto.NewClientCipher(nil).DecryptFromBuffer(c.key, &bin.Buffer{Buf: frame})
	if err != nil {
		t.Fatal(err)
	}
	b := &bin.Buffer{Buf: data.Data()}
	id, _ := b.PeekID()
	return id, b, nil
}

func part(i int) *tg.UploadSaveFilePartRequest {
	return &tg.UploadSaveFilePartRequest{FileID: 1, FilePart: i, Bytes: make([]byte, 512<<10)}
}

// TestS4_LargeFramesDecryptAheadInOrder: a connection's large frames are
// decrypted concurrently, yet reach the session in the order they came. A
// 512 KiB call followed at once by a small ping: the ping decrypts first,
// but the session must have seen the call first (new_session_created names
// it), and both are answered.
func TestS4_LargeFramesDecryptAheadInOrder(t *testing.T) {
	c := newRawClient(t)
	var burst []byte
	var first int64
	for i := range 6 {
		f, id := c.frame(t, part(i), false)
		if i == 0 {
			first = id
		}
		burst = append(burst, f...)
		f, _ = c.frame(t, &mt.PingRequest{PingID: int64(i)}, false)
		burst = append(burst, f...)
	}
	go c.conn.Write(burst)
	results, pongs := 0, 0
	for results < 6 || pongs < 6 {
		id, b, err := c.next(t)
		if err != nil {
			t.Fatalf("after %d results and %d pongs: %v", results, pongs, err)
		}
		switch id {
		case mt.NewSessionCreatedTypeID:
			var n mt.NewSessionCreated
			if err := n.Decode(b); err != nil {
				t.Fatal(err)
			}
			if n.FirstMsgID != first {
				t.Errorf("new_session_created names msg %d first, want the first call %d", n.FirstMsgID, first)
			}
		case proto.ResultTypeID:
			results++
		case mt.PongTypeID:
			pongs++
		}
	}
	if seen := c.parts.seen(); len(seen) != 6 {
		t.Errorf("the handler saw parts %v, want 0 to 5", seen)
	}
}

// TestS4_FrameThatDoesNotDecryptEndsTheConnection: frames decrypted ahead
// of a bad one are handled, the connection closes at the bad one, and no
// frame after it reaches the handler.
func TestS4_FrameThatDoesNotDecryptEndsTheConnection(t *testing.T) {
	c := newRawClient(t)
	var burst []byte
	for i := range 7 {
		f, _ := c.frame(t, part(i), i == 3)
		burst = append(burst, f...)
	}
	go c.conn.Write(burst)
	results := 0
	for {
		id, _, err := c.next(t)
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			break // closed; a reset when the rest of the burst was unread
		}
		if err != nil {
			t.Fatalf("after %d results: %v; want the server to close the connection", results, err)
		}
		if id == proto.ResultTypeID {
			results++
		}
	}
	// The calls before it reached the session before the close; their
	// handlers run on their own goroutines, so wait for them.
	deadline := time.Now().Add(20 * time.Second)
	seen := c.parts.seen()
	for !(seen[0] && seen[1] && seen[2]) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		seen = c.parts.seen()
	}
	if len(seen) != 3 || !seen[0] || !seen[1] || !seen[2] {
		t.Fatalf("the handler saw parts %v (%d answered); want 0, 1 and 2: the ones before the bad frame, none after", seen, results)
	}
}
