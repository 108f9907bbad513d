package server

import "github.com/gotd/td/bin"

// A session remembers its recent calls, so that a call the client sends again
// (same msg_id, say after a reconnect) is not run twice: while it runs the
// copy is dropped, and once it answered the answer is sent again. A second
// messages.uploadMedia must return the file, not FILE_PART_0_MISSING.
const (
	rememberedCalls = 1024     // per session, oldest forgotten first
	maxKeptAnswer   = 64 << 10 // larger answers (file chunks) are recomputed instead
)

type callState struct {
	done   bool
	sent   bool   // the answer was written (invokeAfterMsg waits for it)
	failed bool   // answered with rpc_error
	answer []byte // the encoded answer, when kept
}

// callLog is guarded by Session.mu.
type callLog struct {
	calls map[int64]*callState
	order []int64 // ring of msg_ids, oldest at next
	next  int
	// change is closed when a call begins or ends, for the calls waiting
	// in invokeAfterMsg; nil while none waits.
	change chan struct{}
	// floor: msg_ids at or below it are too old to tell whether they were
	// handled (the log forgot them, or the session is new after an
	// eviction): bad_msg_notification 20 (S7d).
	floor int64
}

// begin records a call; dup reports that its msg_id was seen before.
func (l *callLog) begin(msgID int64) (st *callState, dup bool) {
	if st := l.calls[msgID]; st != nil {
		return st, true
	}
	if l.calls == nil {
		l.calls = make(map[int64]*callState)
		l.order = make([]int64, 0, rememberedCalls)
	}
	st = &callState{}
	if len(l.order) < rememberedCalls {
		l.order = append(l.order, msgID)
	} else {
		old := l.order[l.next]
		delete(l.calls, old)
		l.floor = max(l.floor, old)
		l.order[l.next] = msgID
		l.next = (l.next + 1) % rememberedCalls
	}
	l.calls[msgID] = st
	l.changed()
	return st, false
}

// rawAnswer is an answer encoded before.
type rawAnswer []byte

func (r rawAnswer) Encode(b *bin.Buffer) error {
	b.Put(r)
	return nil
}

// msgs_state_info states (MTProto service messages).
const (
	stateUnknown     = 1
	stateTooHigh     = 3
	stateReceived    = 4
	stateAcked       = 8
	stateProcessing  = 32
	stateAnswerReady = 64
)

// state describes a client message for msgs_state_info.
func (l *callLog) state(msgID int64, tooHigh bool) byte {
	st := l.calls[msgID]
	switch {
	case st == nil && tooHigh:
		return stateTooHigh
	case st == nil:
		return stateUnknown
	case st.done:
		return stateReceived | stateAcked | stateProcessing | stateAnswerReady
	}
	return stateReceived | stateAcked | stateProcessing
}
