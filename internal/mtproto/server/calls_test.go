package server

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/proto"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/mtproto/session"
	"github.com/filedc/filedc/internal/mtproto/transport"
	"github.com/filedc/filedc/internal/store"
)

// testSession is a server session whose answers a test decrypts and reads.
type testSession struct {
	srv    *Server
	sess   *Session
	key    crypto.AuthKey
	client net.Conn
}

func newTestSession(t *testing.T, h Handler) *testSession {
	t.Helper()
	client, srvSide := net.Pipe()
	t.Cleanup(func() { client.Close(); srvSide.Close() })
	go client.Write([]byte{0xee, 0xee, 0xee, 0xee})
	tr, err := transport.Accept(srvSide, transport.Options{DetectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Salts: session.NewSalts([]byte("calls test secret, 32 bytes long")), Handler: h})
	var raw crypto.Key
	copy(raw[:], "an auth key for the calls test ..........")
	key := raw.WithID()
	k := &Key{}
	k.Update(func(r *store.AuthKey) { r.ID, r.Value = key.ID, key.Value })
	return &testSession{srv: s, sess: first(s.session(k, 1, s.newConn(tr))), key: key, client: client}
}

// next reads and decrypts the next message the server sent.
func (ts *testSession) next(t *testing.T) (uint32, *bin.Buffer) {
	t.Helper()
	ts.client.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hdr [4]byte
	if _, err := io.ReadFull(ts.client, hdr[:]); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, binary.LittleEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(ts.client, frame); err != nil {
		t.Fatal(err)
	}
	data, err := crypto.NewClientCipher(nil).DecryptFromBuffer(ts.key, &bin.Buffer{Buf: frame})
	if err != nil {
		t.Fatal(err)
	}
	b := &bin.Buffer{Buf: data.Data()}
	id, _ := b.PeekID()
	return id, b
}

// nextAnswer skips acks and returns the next rpc_result.
func (ts *testSession) nextAnswer(t *testing.T) proto.Result {
	t.Helper()
	for {
		id, b := ts.next(t)
		if id == proto.ResultTypeID {
			var r proto.Result
			if err := r.Decode(b); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
}

func TestS3_RepeatedCallRunsOnceAndGetsItsAnswerAgain(t *testing.T) {
	var runs atomic.Int32
	ts := newTestSession(t, HandlerFunc(func(ctx context.Context, r *Request) (bin.Encoder, error) {
		runs.Add(1)
		return &tg.NearestDC{Country: "XX", ThisDC: 2, NearestDC: int(runs.Load())}, nil
	}))
	var call bin.Buffer
	(&tg.HelpGetNearestDCRequest{}).Encode(&call)
	msgID := time.Now().Unix() << 32
	ctx := context.Background()
	// process writes answers itself, and a pipe blocks writes until read.
	go ts.srv.process(ctx, ts.sess.conn, ts.sess, msgID, 1, call.Buf, 0, nil)
	first := ts.nextAnswer(t)
	go ts.srv.process(ctx, ts.sess.conn, ts.sess, msgID, 1, call.Buf, 0, nil) // the client sends it again
	second := ts.nextAnswer(t)
	if runs.Load() != 1 {
		t.Fatalf("the call ran %d times", runs.Load())
	}
	if first.RequestMessageID != msgID || second.RequestMessageID != msgID || string(first.Result) != string(second.Result) {
		t.Fatal("the repeated call got a different answer")
	}

	// msgs_state_req knows the call and its answer, and not an unseen one.
	var req bin.Buffer
	(&mt.MsgsStateReq{MsgIDs: []int64{msgID, msgID + 4}}).Encode(&req)
	go ts.srv.process(ctx, ts.sess.conn, ts.sess, msgID+8, 2, req.Buf, 0, nil)
	for {
		id, b := ts.next(t)
		if id != mt.MsgsStateInfoTypeID {
			continue
		}
		var info mt.MsgsStateInfo
		if err := info.Decode(b); err != nil {
			t.Fatal(err)
		}
		if string(info.Info) != string([]byte{stateReceived | stateAcked | stateProcessing | stateAnswerReady, stateUnknown}) {
			t.Fatalf("states %v", info.Info)
		}
		return
	}
}

func first[T any](v T, _ bool) T { return v }
