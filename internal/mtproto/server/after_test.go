package server

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/proto"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/store/memstore"
)

// afterHarness runs calls of one session: help.getNearestDc blocks until
// released and answers with the order it ran in, users.getUsers fails.
type afterHarness struct {
	ts      *testSession
	release chan struct{}
	mu      sync.Mutex
	ran     []string
	msgID   int64
}

func newAfterHarness(t *testing.T) *afterHarness {
	a := &afterHarness{release: make(chan struct{}), msgID: time.Now().Unix() << 32}
	a.ts = newTestSession(t, HandlerFunc(func(ctx context.Context, r *Request) (bin.Encoder, error) {
		id, _ := r.Body.PeekID()
		var name string
		switch id {
		case tg.HelpGetNearestDCRequestTypeID:
			<-a.release
			name = "nearest"
		case tg.UsersGetUsersRequestTypeID:
			name = "users"
		case tg.HelpGetConfigRequestTypeID:
			name = "config"
		}
		a.mu.Lock()
		a.ran = append(a.ran, name)
		n := len(a.ran)
		a.mu.Unlock()
		if name == "users" {
			return nil, &RPCError{Code: 400, Message: "USER_ID_INVALID"}
		}
		return &tg.NearestDC{Country: name, ThisDC: n}, nil
	}))
	a.ts.srv.cfg.AfterMsgWait = 300 * time.Millisecond
	a.ts.srv.cfg.Keys = memstore.New()
	return a
}

// send processes a call as if it came in now and returns its msg_id.
func (a *afterHarness) send(t *testing.T, e bin.Encoder) int64 {
	t.Helper()
	var b bin.Buffer
	if err := e.Encode(&b); err != nil {
		t.Fatal(err)
	}
	a.msgID += 4
	a.ts.srv.process(context.Background(), a.ts.sess.conn, a.ts.sess, a.msgID, 1, b.Buf, 0, nil)
	return a.msgID
}

// answer reads the next rpc_result: the answering call's name or the error.
func (a *afterHarness) answer(t *testing.T) (int64, string) {
	t.Helper()
	r := a.ts.nextAnswer(t)
	b := &bin.Buffer{Buf: r.Result}
	id, _ := b.PeekID()
	if id == mt.RPCErrorTypeID {
		var e mt.RPCError
		e.Decode(b)
		return r.RequestMessageID, e.ErrorMessage
	}
	var dc tg.NearestDC
	if err := dc.Decode(b); err != nil {
		t.Fatal(err)
	}
	return r.RequestMessageID, dc.Country
}

// Rule S5: invokeAfterMsg runs a call only once the call it names has been
// answered. Here the named call blocks; the dependent one, sent after it,
// does not overtake it, while a call without the wrapper does.
func TestS5_InvokeAfterMsgWaitsForTheNamedCall(t *testing.T) {
	a := newAfterHarness(t)
	first := a.send(t, &tg.HelpGetNearestDCRequest{})
	second := a.send(t, &tg.InvokeAfterMsgRequest{MsgID: first, Query: &tg.InvokeWithLayerRequest{Layer: 229,
		Query: &tg.InitConnectionRequest{APIID: 1, Query: &tg.HelpGetConfigRequest{}}}})
	free := a.send(t, &tg.HelpGetConfigRequest{})
	if id, name := a.answer(t); id != free || name != "config" {
		t.Fatalf("first answer: %d %s, want the free call", id, name)
	}
	close(a.release)
	for _, want := range []int64{first, second} {
		if id, name := a.answer(t); id != want {
			t.Fatalf("answer to %d (%s), want %d", id, name, want)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.ran) != 3 || a.ran[1] != "nearest" || a.ran[2] != "config" {
		t.Fatalf("ran %v", a.ran)
	}
}

// Rule S5: invokeAfterMsgs waits for all the calls it names; if one of them
// failed, the call fails with MSG_WAIT_FAILED without running.
func TestS5_InvokeAfterMsgsFailsWhenANamedCallFailed(t *testing.T) {
	a := newAfterHarness(t)
	close(a.release)
	ok := a.send(t, &tg.HelpGetNearestDCRequest{})
	a.answer(t)
	failed := a.send(t, &tg.UsersGetUsersRequest{})
	if _, msg := a.answer(t); msg != "USER_ID_INVALID" {
		t.Fatalf("users.getUsers: %s", msg)
	}
	dependent := a.send(t, &tg.InvokeAfterMsgsRequest{MsgIDs: []int64{ok, failed}, Query: &tg.HelpGetConfigRequest{}})
	if id, msg := a.answer(t); id != dependent || msg != "MSG_WAIT_FAILED" {
		t.Fatalf("answer %d %s, want MSG_WAIT_FAILED", id, msg)
	}
	selfish := a.msgID + 4
	a.send(t, &tg.InvokeAfterMsgRequest{MsgID: selfish, Query: &tg.HelpGetConfigRequest{}})
	if _, msg := a.answer(t); msg != "MSG_WAIT_FAILED" {
		t.Fatalf("a call waiting for itself: %s", msg)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.ran) != 2 {
		t.Fatalf("ran %v", a.ran)
	}
}

// Rule S5: a call waiting for a msg_id that never arrives answers
// MSG_WAIT_TIMEOUT; one that names a call this session answered so long
// ago that it is forgotten runs at once.
func TestS5_InvokeAfterMsgTimeoutAndForgottenCalls(t *testing.T) {
	a := newAfterHarness(t)
	close(a.release)
	a.send(t, &tg.InvokeAfterMsgRequest{MsgID: a.msgID + 400, Query: &tg.HelpGetConfigRequest{}})
	if _, msg := a.answer(t); msg != "MSG_WAIT_TIMEOUT" {
		t.Fatalf("never sent: %s", msg)
	}
	old := a.msgID
	// Fill the session's memory of calls so that old is forgotten.
	a.ts.sess.mu.Lock()
	for i := range rememberedCalls {
		a.ts.sess.calls.begin(old + int64(4*(i+1)))
	}
	a.ts.sess.mu.Unlock()
	a.msgID += 4 * (rememberedCalls + 1)
	a.send(t, &tg.InvokeAfterMsgRequest{MsgID: old, Query: &tg.HelpGetConfigRequest{}})
	if _, name := a.answer(t); name != "config" {
		t.Fatalf("after a forgotten call: %s", name)
	}
}

// Rule S5: a query packed inside its wrappers, as TDLib sends
// invokeAfterMsg(gzip_packed(...)), is unpacked and runs, and the wrappers
// inside the packed bytes count too.
func TestS5_WrappersAroundGzipPacked(t *testing.T) {
	a := newAfterHarness(t)
	close(a.release)
	first := a.send(t, &tg.HelpGetNearestDCRequest{})
	a.answer(t)
	a.send(t, &tg.InvokeAfterMsgRequest{MsgID: first, Query: &proto.GZIP{Data: encodeCall(t,
		&tg.InvokeWithoutUpdatesRequest{Query: &tg.HelpGetConfigRequest{}})}})
	if _, name := a.answer(t); name != "config" {
		t.Fatalf("the packed query: %s", name)
	}
	a.send(t, &tg.InvokeAfterMsgRequest{MsgID: first, Query: &proto.GZIP{Data: encodeCall(t,
		&tg.InvokeAfterMsgRequest{MsgID: a.msgID + 4000, Query: &tg.HelpGetConfigRequest{}})}})
	if _, msg := a.answer(t); msg != "MSG_WAIT_TIMEOUT" {
		t.Fatalf("a wrapper inside the packed bytes was not honoured: %s", msg)
	}
}

func encodeCall(t *testing.T, e bin.Encoder) []byte {
	var b bin.Buffer
	if err := e.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Buf
}
