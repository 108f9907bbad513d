package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gotd/td/crypto"

	"github.com/filedc/filedc/internal/store"
)

// Key is an auth key known to the server, with what is bound to it.
type Key struct {
	mu  sync.Mutex
	rec store.AuthKey
}

// AuthKey returns the key in gotd's form.
func (k *Key) AuthKey() crypto.AuthKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return crypto.AuthKey{Value: k.rec.Value, ID: k.rec.ID}
}

// Record returns a copy of the stored record.
func (k *Key) Record() store.AuthKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.rec
}

// Update changes the key's record (login, declared layer) and returns the
// new record, which the caller persists.
func (k *Key) Update(f func(*store.AuthKey)) store.AuthKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	f(&k.rec)
	return k.rec
}

// errNoKey means the client must create a new key (-404).
var errNoKey = errors.New("server: unknown auth key")

// key returns a known, unexpired auth key.
func (s *Server) key(ctx context.Context, id [8]byte) (*Key, error) {
	s.keysMu.RLock()
	k := s.keys[id]
	s.keysMu.RUnlock()
	if k == nil {
		rec, err := s.cfg.Keys.AuthKey(ctx, id)
		if err != nil {
			return nil, errNoKey
		}
		k = &Key{rec: rec}
		s.keysMu.Lock()
		if existing := s.keys[id]; existing != nil {
			k = existing
		} else {
			s.keys[id] = k
		}
		s.keysMu.Unlock()
		s.touchKey(ctx, k)
	}
	if exp := k.Record().ExpiresAt; !exp.IsZero() && s.cfg.Now().After(exp) {
		return nil, errNoKey
	}
	return k, nil
}

// keyTouchEvery is how stale a key's LastUsed may get: it is written when a
// key is read from the store or stays in use, at most this often, so that
// keeping it costs no write per connection.
const keyTouchEvery = time.Hour

// touchKey records that k is in use, if it was not recorded lately.
func (s *Server) touchKey(ctx context.Context, k *Key) {
	now := s.cfg.Now()
	if now.Sub(k.Record().LastUsed) < keyTouchEvery {
		return
	}
	rec := k.Update(func(r *store.AuthKey) { r.LastUsed = now })
	if err := s.cfg.Keys.PutAuthKey(ctx, rec); err != nil {
		s.log.Warn("recording an auth key's use", "err", err)
	}
}

// keyCollectBatch bounds one delete of unused keys; a collection runs
// batches until one comes back short, at most keyCollectBatches of them.
const (
	keyCollectBatch   = 1000
	keyCollectBatches = 100
)

// collectKeys deletes the auth keys unused for UnusedKeyTTL and expired
// temporary keys (S7c), and returns how many went.
func (s *Server) collectKeys(ctx context.Context) (int, error) {
	now := s.cfg.Now()
	total := 0
	for range keyCollectBatches {
		n, err := s.cfg.Keys.DeleteUnusedAuthKeys(ctx, now.Add(-s.cfg.UnusedKeyTTL), now, keyCollectBatch)
		total += n
		if err != nil || n < keyCollectBatch {
			return total, err
		}
	}
	return total, nil
}

// LogOut forgets, in this process's cache, the login of every key logged in
// as user (the store's records are the caller's to change): their next
// calls that need an account answer AUTH_KEY_UNREGISTERED.
func (s *Server) LogOut(user int64) int {
	n := 0
	s.keysMu.RLock()
	defer s.keysMu.RUnlock()
	for _, k := range s.keys {
		k.Update(func(r *store.AuthKey) {
			if r.UserID == user {
				r.UserID = 0
				n++
			}
		})
	}
	return n
}
