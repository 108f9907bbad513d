package server

import (
	"context"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/mt"
)

// The session table bounds what clients make the server remember (S7a):
// at most MaxSessionsPerKey sessions per auth key, the least recently used
// evicted first, and sessions idle for SessionIdle evicted by the sweep.
// A client that comes back to an evicted session gets a new one
// (new_session_created), as after a server restart. So that a captured
// message cannot be replayed into the new one, the key remembers the
// highest msg_id of its last evictedRemembered evicted sessions: a session
// made again under such an id starts with that floor. Older evictions only
// raise a floor for every new session of the key, less floorSlack for
// sessions of one client whose messages cross on the way. At or below a
// floor, messages are answered with bad_msg_notification 20 (too old to
// know).
const (
	evictedRemembered = 1024
	floorSlack        = int64(30) << 32 // 30 seconds of msg_id
)

// keySessions is one auth key's sessions.
type keySessions struct {
	byID    map[int64]*Session
	evicted map[int64]int64 // session id -> its highest msg_id
	floor   int64           // msg_ids at or below are too old for any new session
}

// session returns the session, creating it on first use, and makes c the
// connection its answers go to. fresh reports a session created now.
func (s *Server) session(k *Key, id int64, c *conn) (sess *Session, fresh bool) {
	keyID := k.Record().ID
	now := s.cfg.Now()
	s.sessMu.Lock()
	ks := s.sessions[keyID]
	if ks == nil {
		ks = &keySessions{byID: make(map[int64]*Session)}
		s.sessions[keyID] = ks
	}
	sess = ks.byID[id]
	if sess == nil {
		if len(ks.byID) >= s.cfg.MaxSessionsPerKey {
			s.evictLRU(ks)
		}
		floor := max(ks.floor, ks.evicted[id])
		delete(ks.evicted, id)
		sess = &Session{srv: s, key: k, id: id, calls: callLog{floor: floor},
			slots: make(chan struct{}, s.cfg.MaxCallsPerSession)}
		ks.byID[id] = sess
		fresh = true
	}
	sess.lastUsed.Store(now.UnixNano())
	s.sessMu.Unlock()
	sess.mu.Lock()
	sess.conn = c
	sess.mu.Unlock()
	return sess, fresh
}

// evictLRU drops the key's least recently used session; sessMu is held.
func (s *Server) evictLRU(ks *keySessions) {
	var lru *Session
	for _, sess := range ks.byID {
		if lru == nil || sess.lastUsed.Load() < lru.lastUsed.Load() {
			lru = sess
		}
	}
	if lru != nil {
		s.forget(ks, lru)
	}
}

// forget removes a session from its key's table and remembers its highest
// msg_id; sessMu is held.
func (s *Server) forget(ks *keySessions, sess *Session) {
	delete(ks.byID, sess.id)
	if ks.evicted == nil {
		ks.evicted = make(map[int64]int64)
	}
	if len(ks.evicted) >= evictedRemembered {
		// The oldest memory becomes part of the key's floor.
		var oldID, oldHigh int64
		first := true
		for id, high := range ks.evicted {
			if first || high < oldHigh {
				oldID, oldHigh, first = id, high, false
			}
		}
		delete(ks.evicted, oldID)
		ks.floor = max(ks.floor, oldHigh-floorSlack)
	}
	ks.evicted[sess.id] = max(ks.evicted[sess.id], sess.highest.Load())
}

// sweep evicts the sessions idle for SessionIdle and forgets cached keys
// that have no session left.
func (s *Server) sweep() {
	cutoff := s.cfg.Now().Add(-s.cfg.SessionIdle).UnixNano()
	s.sessMu.Lock()
	var idleKeys [][8]byte
	for id, ks := range s.sessions {
		for _, sess := range ks.byID {
			if sess.lastUsed.Load() < cutoff {
				s.forget(ks, sess)
			}
		}
		if len(ks.byID) == 0 {
			idleKeys = append(idleKeys, id)
		}
	}
	s.sessMu.Unlock()
	// A key's floor outlives its sessions only while the key is cached:
	// a replay then needs a message from the last SessionIdle, which the
	// client's msg_id window (300 s) already refuses.
	s.keysMu.Lock()
	s.sessMu.Lock()
	for _, id := range idleKeys {
		if ks := s.sessions[id]; ks != nil && len(ks.byID) == 0 {
			delete(s.sessions, id)
		}
	}
	// Cached keys without sessions are read again from the store when
	// they come back.
	for id := range s.keys {
		if s.sessions[id] == nil {
			delete(s.keys, id)
		}
	}
	s.sessMu.Unlock()
	s.keysMu.Unlock()
}

// Sessions returns how many sessions the server keeps.
func (s *Server) Sessions() int {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	n := 0
	for _, ks := range s.sessions {
		n += len(ks.byID)
	}
	return n
}

func (s *Server) destroySession(cur *Session, id int64) bin.Encoder {
	keyID := cur.key.Record().ID
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	if ks := s.sessions[keyID]; ks != nil && id != cur.id {
		if sess := ks.byID[id]; sess != nil {
			s.forget(ks, sess)
			return &mt.DestroySessionOk{SessionID: id}
		}
	}
	return &mt.DestroySessionNone{SessionID: id}
}

// dropKey forgets an auth key and its sessions (destroy_auth_key).
func (s *Server) dropKey(id [8]byte) {
	s.keysMu.Lock()
	s.sessMu.Lock()
	delete(s.sessions, id)
	delete(s.keys, id)
	s.sessMu.Unlock()
	s.keysMu.Unlock()
}

// keyCollectEvery is how often unused auth keys are collected.
const keyCollectEvery = 10 * time.Minute

// sweepEvery runs sweep, records the use of the keys still in use, and
// collects unused keys, until ctx ends.
func (s *Server) sweepEvery(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	var collected time.Time
	for {
		select {
		case <-t.C:
			s.sweep()
			s.touchCachedKeys(ctx)
			if now := s.cfg.Now(); now.Sub(collected) >= keyCollectEvery {
				collected = now
				if n, err := s.collectKeys(ctx); err != nil {
					s.log.Warn("collecting unused auth keys", "err", err)
				} else if n > 0 {
					s.log.Info("collected unused auth keys", "keys", n)
				}
			}
		case <-ctx.Done():
			return
		}
	}
}

// touchCachedKeys records the use of the keys that have sessions: the
// sweep keeps only keys used within SessionIdle in the cache.
func (s *Server) touchCachedKeys(ctx context.Context) {
	stale := s.cfg.Now().Add(-keyTouchEvery)
	var keys []*Key
	s.keysMu.RLock()
	for _, k := range s.keys {
		if k.Record().LastUsed.Before(stale) {
			keys = append(keys, k)
		}
	}
	s.keysMu.RUnlock()
	for _, k := range keys {
		s.touchKey(ctx, k)
	}
}
