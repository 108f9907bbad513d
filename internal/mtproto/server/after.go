package server

import (
	"context"
	"time"
)

// invokeAfterMsg(s) (rule S5): a call runs once every call it names has
// been answered in its session. If one of them failed, it fails with
// MSG_WAIT_FAILED without running; if one has not arrived within the
// wait, with MSG_WAIT_TIMEOUT, as Telegram answers.
var (
	errMsgWaitFailed  = &RPCError{Code: 400, Message: "MSG_WAIT_FAILED"}
	errMsgWaitTimeout = &RPCError{Code: 400, Message: "MSG_WAIT_TIMEOUT"}
)

// defaultAfterMsgWait is how long a call waits for the calls it names.
const defaultAfterMsgWait = 10 * time.Second

type afterState int

const (
	afterReady afterState = iota
	afterPending
	afterFailed
)

// after tells whether the calls ids have all been answered. A msg_id the
// log does not hold was either forgotten (older than every call it
// remembers: answered long ago) or has not arrived yet. Guarded by
// Session.mu.
func (l *callLog) after(self int64, ids []int64) afterState {
	state := afterReady
	for _, id := range ids {
		if id == self {
			return afterFailed // a call cannot wait for itself
		}
		st := l.calls[id]
		switch {
		case st == nil && len(l.order) == rememberedCalls && id < l.order[l.next]:
			// forgotten: answered long ago
		case st == nil || !st.sent:
			state = afterPending
		case st.failed:
			return afterFailed
		}
	}
	return state
}

// watch returns a channel closed at the log's next change. Guarded by
// Session.mu.
func (l *callLog) watch() <-chan struct{} {
	if l.change == nil {
		l.change = make(chan struct{})
	}
	return l.change
}

// changed wakes the calls waiting on the log. Guarded by Session.mu.
func (l *callLog) changed() {
	if l.change != nil {
		close(l.change)
		l.change = nil
	}
}

// waitAfter holds call self until the calls ids are answered.
func (s *Server) waitAfter(ctx context.Context, sess *Session, self int64, ids []int64) error {
	timer := time.NewTimer(s.cfg.AfterMsgWait)
	defer timer.Stop()
	for {
		sess.mu.Lock()
		state := sess.calls.after(self, ids)
		var change <-chan struct{}
		if state == afterPending {
			change = sess.calls.watch()
		}
		sess.mu.Unlock()
		switch state {
		case afterReady:
			return nil
		case afterFailed:
			return errMsgWaitFailed
		}
		select {
		case <-change:
		case <-timer.C:
			return errMsgWaitTimeout
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
