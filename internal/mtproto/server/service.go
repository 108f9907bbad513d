package server

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/proto"

	"github.com/filedc/filedc/internal/invoke"
	"github.com/filedc/filedc/internal/layer"
	"github.com/filedc/filedc/internal/mtproto/session"
)

// maxInflated bounds what one gzip_packed may expand to.
const maxInflated = 2 << 20

// process handles one client message: a container, a gzip_packed, a service
// message, or an RPC call. depth bounds nesting. body lies in plain, which
// calls hold until they end.
func (s *Server) process(ctx context.Context, c *conn, sess *Session, msgID int64, seqNo int32, body []byte, depth int, plain *plaintext) {
	b := &bin.Buffer{Buf: body}
	id, err := b.PeekID()
	if err != nil || depth > 2 {
		return
	}
	switch id {
	case proto.MessageContainerTypeID:
		var box proto.MessageContainer
		if depth > 0 || box.Decode(b) != nil {
			sess.send(&mt.BadMsgNotification{BadMsgID: msgID, BadMsgSeqno: int(seqNo),
				ErrorCode: session.BadMsgInvalidContainer}, false, proto.MessageFromServer)
			return
		}
		for _, m := range box.Messages {
			s.process(ctx, c, sess, m.ID, int32(m.SeqNo), m.Body, depth+1, plain)
		}
	case proto.GZIPTypeID:
		inner, err := inflate(b)
		if err != nil {
			return
		}
		s.process(ctx, c, sess, msgID, seqNo, inner.buf, depth+1, inner)
		inner.release()
	case mt.MsgsAckTypeID, mt.HTTPWaitRequestTypeID:
		// Nothing to answer: the server keeps no unacknowledged answers yet.
	case mt.PingRequestTypeID:
		var ping mt.PingRequest
		if ping.Decode(b) == nil {
			sess.send(&mt.Pong{MsgID: msgID, PingID: ping.PingID}, false, proto.MessageServerResponse)
		}
	case mt.PingDelayDisconnectRequestTypeID:
		var ping mt.PingDelayDisconnectRequest
		if ping.Decode(b) == nil {
			sess.conn.delayDisconnect(time.Duration(ping.DisconnectDelay) * time.Second)
			sess.send(&mt.Pong{MsgID: msgID, PingID: ping.PingID}, false, proto.MessageServerResponse)
		}
	case mt.GetFutureSaltsRequestTypeID:
		var req mt.GetFutureSaltsRequest
		if req.Decode(b) == nil {
			now := s.cfg.Now()
			// Answered bare, not inside rpc_result, as Telegram's servers do.
			sess.send(&mt.FutureSalts{ReqMsgID: msgID, Now: int(now.Unix()), Salts: s.cfg.Salts.Future(now, req.Num)},
				false, proto.MessageServerResponse)
		}
	case mt.DestroySessionRequestTypeID:
		var req mt.DestroySessionRequest
		if req.Decode(b) == nil {
			sess.ack(msgID)
			sess.send(s.destroySession(sess, req.SessionID), true, proto.MessageServerResponse)
		}
	case mt.MsgsStateReqTypeID:
		var req mt.MsgsStateReq
		if req.Decode(b) == nil {
			info := make([]byte, len(req.MsgIDs))
			now := s.cfg.Now()
			sess.mu.Lock()
			for i, id := range req.MsgIDs {
				info[i] = sess.calls.state(id, session.CheckClientMsgID(id, now) == session.BadMsgIDTooHigh)
			}
			sess.mu.Unlock()
			sess.send(&mt.MsgsStateInfo{ReqMsgID: msgID, Info: info}, false, proto.MessageServerResponse)
		}
	case mt.MsgResendReqTypeID:
		// The ids name server messages, which are not kept: state unknown.
		var req mt.MsgResendReq
		if req.Decode(b) == nil {
			sess.send(&mt.MsgsStateInfo{ReqMsgID: msgID, Info: bytes.Repeat([]byte{1}, len(req.MsgIDs))},
				false, proto.MessageServerResponse)
		}
	case destroyAuthKeyID:
		s.destroyAuthKey(ctx, c, sess)
	case mt.RPCDropAnswerRequestTypeID:
		sess.ack(msgID)
		var body bin.Buffer
		(&mt.RPCAnswerUnknown{}).Encode(&body)
		sess.send(&proto.Result{RequestMessageID: msgID, Result: body.Buf}, true, proto.MessageServerResponse)
	default:
		if code := session.CheckSeqNo(seqNo, true); code != 0 {
			sess.send(&mt.BadMsgNotification{BadMsgID: msgID, BadMsgSeqno: int(seqNo), ErrorCode: code},
				false, proto.MessageFromServer)
			return
		}
		// Back-pressure (S7a): past the calls a session and a connection
		// may run, this connection is not read until one ends.
		if !acquire(ctx, sess.slots, c.slots) {
			return
		}
		sess.ack(msgID)
		sess.mu.Lock()
		st, dup := sess.calls.begin(msgID)
		running, kept := dup && !st.done, st.answer
		sess.mu.Unlock()
		switch {
		case running:
			release(sess.slots, c.slots)
			return // the answer is on its way
		case dup && kept != nil:
			release(sess.slots, c.slots)
			sess.send(rpcResult{msgID, rawAnswer(kept)}, true, proto.MessageServerResponse)
			return
		}
		if plain != nil {
			plain.hold()
		}
		// The wrappers are read here, in message order, so that the calls
		// after an invokeWithLayer see its layer.
		w, query, err := invoke.Unwrap(body)
		var packed *plaintext
		if err == nil && len(query) >= 4 && binary.LittleEndian.Uint32(query) == proto.GZIPTypeID {
			// TDLib packs the query inside its wrappers:
			// invokeAfterMsg(gzip_packed(...)). What it unpacks to may
			// hold more wrappers.
			if packed, err = inflate(&bin.Buffer{Buf: query}); err == nil {
				var inner invoke.Wrappers
				inner, query, err = invoke.Unwrap(packed.buf)
				w = w.Merge(inner)
			}
		}
		cl := s.layerOf(sess.key, w.Layer)
		go func() {
			defer release(sess.slots, c.slots)
			s.call(ctx, sess, msgID, rpcCall{query: query, invoke: w, err: err, remote: c.remote, conn: c}, st, cl)
			if packed != nil {
				packed.release()
			}
			if plain != nil {
				plain.release()
			}
		}()
	}
}

// destroy_auth_key and its answers, which gotd's schema lacks.
const (
	destroyAuthKeyID     = 0xd1435160
	destroyAuthKeyOkID   = 0xf660e1d4
	destroyAuthKeyNoneID = 0x0a9f2259
	destroyAuthKeyFailID = 0xea109b13
)

// bareID is a constructor without fields.
type bareID uint32

func (id bareID) Encode(b *bin.Buffer) error {
	b.PutID(uint32(id))
	return nil
}

// destroyAuthKey forgets the key the message came with: answered bare with
// destroy_auth_key_ok (as future_salts is), then the connection closes, as
// Telegram's servers do (S7d). The key's account stays logged in on its
// other keys.
func (s *Server) destroyAuthKey(ctx context.Context, c *conn, sess *Session) {
	id := sess.key.Record().ID
	if err := s.cfg.Keys.DeleteAuthKey(ctx, id); err != nil {
		s.log.Warn("destroy_auth_key", "err", err)
		sess.send(bareID(destroyAuthKeyFailID), false, proto.MessageServerResponse)
		return
	}
	s.dropKey(id)
	sess.send(bareID(destroyAuthKeyOkID), false, proto.MessageServerResponse)
	c.t.Close()
}

// acquire takes a slot of each semaphore in order, or none when ctx ends.
func acquire(ctx context.Context, sems ...chan struct{}) bool {
	for i, sem := range sems {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			release(sems[:i]...)
			return false
		}
	}
	return true
}

func release(sems ...chan struct{}) {
	for _, sem := range sems {
		<-sem
	}
}

// Releaser is implemented by answers that hold pooled memory; the server
// calls Release once the answer has been sent.
type Releaser interface{ Release() }

// rpcResult encodes rpc_result around an answer directly into the message
// being encrypted, so a 512 KiB getFile answer is not copied once more.
type rpcResult struct {
	reqMsgID int64
	answer   bin.Encoder
}

func (r rpcResult) Encode(b *bin.Buffer) error {
	b.PutID(proto.ResultTypeID)
	b.PutLong(r.reqMsgID)
	return r.answer.Encode(b)
}

// rpcCall is a call as process read it: the query inside its wrappers, in
// the client's layer, or the error that reading them gave.
type rpcCall struct {
	query  []byte
	invoke invoke.Wrappers
	err    error
	remote string // the address the call came from, as limits count it
	conn   *conn  // the connection it came on
}

// call runs one RPC call and sends its rpc_result. Small answers are kept in
// st for a client that sends the call again.
func (s *Server) call(ctx context.Context, sess *Session, msgID int64, rc rpcCall, st *callState, cl callLayer) {
	var res bin.Encoder
	var lcall *layer.Call
	err := rc.err
	if err != nil {
		s.log.Debug("invoke", "msg_id", msgID, "err", err)
		err = errLayerRequest
	}
	if err == nil && cl.declare != 0 {
		err = s.persistLayer(ctx, sess.key)
	}
	if err == nil && len(rc.invoke.AfterMsgs) > 0 {
		err = s.waitAfter(ctx, sess, msgID, rc.invoke.AfterMsgs)
	}
	body := rc.query
	if err == nil && cl.bridge != nil {
		// Translated before the handler decodes it (S5).
		if body, lcall, err = cl.bridge.Request(body); err != nil {
			s.log.Debug("layer", "layer", cl.bridge.Client.Layer, "err", err)
			err = errLayerRequest
		}
	}
	if err == nil {
		res, err = s.cfg.Handler.ServeRPC(ctx, &Request{Key: sess.key, Session: sess.id, MsgID: msgID,
			Body: &bin.Buffer{Buf: body}, Invoke: rc.invoke, Remote: rc.remote, srv: s})
	}
	if errors.Is(err, ErrDropConnection) {
		s.drop(sess, msgID, st, rc.conn)
		return
	}
	if err == nil && lcall != nil {
		res, err = translateAnswer(cl.bridge, lcall, res)
	}
	if err == nil {
		// Small answers: encode once, keep, send the bytes. A file chunk
		// (pooled) is recomputed if asked again.
		var kept []byte
		if _, pooled := res.(Releaser); !pooled {
			var b bin.Buffer
			if err = res.Encode(&b); err == nil {
				kept = b.Buf
				res = rawAnswer(b.Buf)
			}
		}
		if err == nil {
			s.finish(sess, st, kept, false)
			err = sess.send(rpcResult{msgID, res}, true, proto.MessageServerResponse)
			if r, ok := res.(Releaser); ok {
				r.Release()
			}
			var ne net.Error
			if err == nil || errors.As(err, &ne) || errors.Is(err, net.ErrClosed) {
				s.sent(sess, st)
				return // sent, or the connection is gone
			}
		}
		// The answer could not be encoded: say so instead of leaving the
		// client waiting.
	}
	var re *RPCError
	if !errors.As(err, &re) {
		s.log.Warn("rpc", "msg_id", msgID, "err", err)
		re = &RPCError{Code: 500, Message: "INTERNAL"}
	}
	var b bin.Buffer
	(&mt.RPCError{ErrorCode: re.Code, ErrorMessage: re.Message}).Encode(&b)
	s.finish(sess, st, b.Buf, true)
	sess.send(rpcResult{msgID, rawAnswer(b.Buf)}, true, proto.MessageServerResponse)
	s.sent(sess, st)
}

// ErrDropConnection, returned by a Handler, closes the connection the call
// came on without answering it, as a network failure would: test faults
// use it to make clients reconnect and send the call again.
var ErrDropConnection = errors.New("server: drop the connection")

// drop closes c for the call msgID. The call is neither acknowledged nor
// answered, so the client sends it again; a copy under the same msg_id
// runs again, and calls waiting for it in invokeAfterMsg keep waiting.
func (s *Server) drop(sess *Session, msgID int64, st *callState, c *conn) {
	sess.mu.Lock()
	st.done = true
	sess.acks = slices.DeleteFunc(sess.acks, func(a pendingAck) bool { return a.msgID == msgID })
	sess.mu.Unlock()
	c.t.Close()
}

// finish marks a call answered, keeping its answer when it is small;
// failed says the answer was an rpc_error (for invokeAfterMsg).
func (s *Server) finish(sess *Session, st *callState, answer []byte, failed bool) {
	sess.mu.Lock()
	st.done, st.failed = true, failed
	if len(answer) <= maxKeptAnswer {
		st.answer = answer
	}
	sess.mu.Unlock()
}

// sent marks a call's answer written, waking the calls that wait for it in
// invokeAfterMsg: they must not answer before it.
func (s *Server) sent(sess *Session, st *callState) {
	sess.mu.Lock()
	st.sent = true
	sess.calls.changed()
	sess.mu.Unlock()
}

var gzipReaders sync.Pool // *gzip.Reader

// inflate unpacks gzip_packed, whose data clients send as gzip or as a bare
// zlib stream, up to maxInflated bytes, into a pooled buffer held once by the
// caller. gzip's trailer tells the size, so the output is sized once: clients
// such as gotd gzip every part they upload.
func inflate(b *bin.Buffer) (*plaintext, error) {
	if err := b.ConsumeID(proto.GZIPTypeID); err != nil {
		return nil, err
	}
	packed, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	if len(packed) >= 18 && packed[0] == 0x1f && packed[1] == 0x8b {
		size := int(binary.LittleEndian.Uint32(packed[len(packed)-4:]))
		if size > maxInflated {
			return nil, errInflateTooLarge
		}
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		if zr == nil {
			zr, err = gzip.NewReader(bytes.NewReader(packed))
		} else {
			err = zr.Reset(bytes.NewReader(packed))
		}
		if err != nil {
			return nil, err
		}
		defer gzipReaders.Put(zr)
		zr.Multistream(false)
		out := newPlaintext(size)
		if _, err := io.ReadFull(zr, out.buf); err != nil {
			out.release()
			return nil, err
		}
		// The stream must end exactly there (this also checks the CRC).
		var one [1]byte
		if n, err := zr.Read(one[:]); n != 0 || err != io.EOF {
			out.release()
			return nil, errors.New("server: gzip_packed longer than its trailer says")
		}
		return out, nil
	}
	r, err := zlib.NewReader(bytes.NewReader(packed))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, maxInflated+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxInflated {
		return nil, errInflateTooLarge
	}
	p := new(plaintext)
	p.buf, p.full = out, out
	p.refs.Store(1)
	return p, nil
}

var errInflateTooLarge = errors.New("server: gzip_packed too large")

// delayDisconnect closes the connection if no ping arrives within d
// (ping_delay_disconnect).
func (c *conn) delayDisconnect(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.disconnect != nil {
		c.disconnect.Stop()
	}
	if d > 0 {
		c.disconnect = time.AfterFunc(d, func() { c.t.Close() })
	}
}
