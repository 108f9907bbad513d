package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/proto"

	"github.com/filedc/filedc/internal/mtproto/session"
)

// Session is a client session: it outlives connections, and its answers go
// to the connection it was last heard on.
type Session struct {
	srv *Server
	key *Key
	id  int64

	lastUsed atomic.Int64  // unix ns, for eviction
	highest  atomic.Int64  // the highest msg_id accepted
	slots    chan struct{} // calls running (MaxCallsPerSession)

	mu   sync.Mutex
	conn *conn
	seq  int32 // content-related messages sent
	// announced is set once new_session_created went out: with the first
	// message that passed the msg_id and salt checks.
	announced bool
	acks      []pendingAck // client messages to acknowledge, oldest first
	ackWait   bool         // a flush is scheduled
	calls     callLog
}

const ackDelay = 50 * time.Millisecond

// sendBufs holds plaintext buffers between answers: a 512 KiB getFile
// answer needs one of about that size.
var sendBufs = sync.Pool{New: func() any { return new(bin.Buffer) }}

// send encrypts one message for the session and writes it to its connection.
// Content-related messages (answers, anything the client must ack) take odd
// seqnos. Only numbering happens under the session's lock; the message is
// encoded here and queued to the connection's sealer, which encrypts and
// writes in queue order. Clients accept msg_ids slightly out of order (they
// drop one lower than all of the last 100 they saw).
func (sess *Session) send(msg bin.Encoder, contentRelated bool, typ proto.MessageType) error {
	s := sess.srv
	now := s.cfg.Now()
	sess.mu.Lock()
	seq := sess.seq * 2
	if contentRelated {
		seq++
		sess.seq++
	}
	data := crypto.EncryptedMessageData{
		Salt:      s.cfg.Salts.Current(now),
		SessionID: sess.id,
		MessageID: s.ids.New(typ),
		SeqNo:     seq,
		Message:   msg,
	}
	c := sess.conn
	sess.mu.Unlock()

	o := newOutgoing(sess.key.AuthKey())
	if err := prepare(o.key, &data, o.plain); err != nil {
		o.free()
		return err
	}
	return c.sealer.send(c.t, o)
}

// pendingAck is a client message waiting for its ack.
type pendingAck struct {
	msgID int64
	at    time.Time // when the message arrived
}

// ack schedules an acknowledgement of a content-related client message.
// Acks are batched into one msgs_ack, each sent ackDelay after its message
// arrived, not sooner: a call that drops its connection at once
// (ErrDropConnection) is then never acknowledged, and a client resends on
// its next connection only what it saw no ack for (gotd does).
func (sess *Session) ack(msgID int64) {
	sess.mu.Lock()
	sess.acks = append(sess.acks, pendingAck{msgID, time.Now()})
	start := !sess.ackWait
	sess.ackWait = true
	sess.mu.Unlock()
	if start {
		time.AfterFunc(ackDelay, sess.flushAcks)
	}
}

// flushAcks sends the acks that are due and schedules the rest.
func (sess *Session) flushAcks() {
	now := time.Now()
	var ids []int64
	sess.mu.Lock()
	waiting := sess.acks[:0]
	for _, a := range sess.acks {
		if now.Sub(a.at) >= ackDelay {
			ids = append(ids, a.msgID)
		} else {
			waiting = append(waiting, a)
		}
	}
	clear(sess.acks[len(waiting):])
	sess.acks = waiting
	sess.ackWait = len(waiting) > 0
	var again time.Duration
	if sess.ackWait {
		again = ackDelay - now.Sub(waiting[0].at)
	}
	sess.mu.Unlock()
	if again > 0 {
		time.AfterFunc(again, sess.flushAcks)
	}
	if len(ids) > 0 {
		sess.send(&mt.MsgsAck{MsgIDs: ids}, false, proto.MessageFromServer)
	}
}

func (s *Server) handleEncrypted(ctx context.Context, c *conn, k *Key, data *crypto.EncryptedMessageData, plain *plaintext) {
	sess, _ := s.session(k, data.SessionID, c)
	now := s.cfg.Now()
	code := session.CheckClientMsgID(data.MessageID, now)
	if code == 0 {
		sess.mu.Lock()
		if data.MessageID <= sess.calls.floor {
			code = session.BadMsgTooOld
		}
		sess.mu.Unlock()
	}
	if code != 0 {
		sess.send(&mt.BadMsgNotification{BadMsgID: data.MessageID, BadMsgSeqno: int(data.SeqNo), ErrorCode: code},
			false, proto.MessageFromServer)
		return
	}
	if !s.cfg.Salts.Valid(data.Salt, now) {
		sess.send(&mt.BadServerSalt{BadMsgID: data.MessageID, BadMsgSeqno: int(data.SeqNo),
			ErrorCode: session.BadMsgServerSalt, NewServerSalt: s.cfg.Salts.Current(now)},
			false, proto.MessageFromServer)
		return
	}
	for {
		h := sess.highest.Load()
		if data.MessageID <= h || sess.highest.CompareAndSwap(h, data.MessageID) {
			break
		}
	}
	sess.mu.Lock()
	announce := !sess.announced
	sess.announced = true
	sess.mu.Unlock()
	if announce {
		sess.send(&mt.NewSessionCreated{FirstMsgID: data.MessageID, UniqueID: s.ids.New(proto.MessageFromServer),
			ServerSalt: s.cfg.Salts.Current(now)}, true, proto.MessageFromServer)
	}
	s.process(ctx, c, sess, data.MessageID, data.SeqNo, data.Data(), 0, plain)
}
