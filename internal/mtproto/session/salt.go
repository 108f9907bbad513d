// Package session holds the pieces of MTProto's session layer.
package session

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/gotd/td/mt"
)

// Salts issues server salts on a fixed schedule derived from a secret: the
// salt of each window is an HMAC of the window's number. Every process of a
// DC that shares the secret agrees on the salts without talking to the others,
// so a client that moves between them keeps a valid salt, and a restart does
// not invalidate salts already handed out.
type Salts struct {
	secret []byte
	window time.Duration
}

// SaltWindow is how long one salt is current. A salt stays accepted for one
// more window after its own, as clients switch to a new salt lazily.
const SaltWindow = time.Hour

// NewSalts returns the schedule for a secret (at least 32 random bytes,
// shared by the DC's processes).
func NewSalts(secret []byte) *Salts {
	return &Salts{secret: append([]byte(nil), secret...), window: SaltWindow}
}

func (s *Salts) windowOf(t time.Time) int64 { return t.Unix() / int64(s.window/time.Second) }

func (s *Salts) salt(window int64) int64 {
	m := hmac.New(sha256.New, s.secret)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(window))
	m.Write(b[:])
	return int64(binary.LittleEndian.Uint64(m.Sum(nil)))
}

// Current returns the salt clients should use at t (sent in bad_server_salt
// and new_session_created).
func (s *Salts) Current(t time.Time) int64 { return s.salt(s.windowOf(t)) }

// Valid reports whether a client message with this salt is accepted at t:
// the current window's salt or the previous one's.
func (s *Salts) Valid(salt int64, t time.Time) bool {
	w := s.windowOf(t)
	return salt == s.salt(w) || salt == s.salt(w-1)
}

// Future answers get_future_salts: n salts starting with the current one
// (at least 1, at most 64 as Telegram's servers do).
func (s *Salts) Future(t time.Time, n int) []mt.FutureSalt {
	n = min(max(n, 1), 64)
	secs := int64(s.window / time.Second)
	first := s.windowOf(t)
	out := make([]mt.FutureSalt, n)
	for i := range out {
		w := first + int64(i)
		out[i] = mt.FutureSalt{
			ValidSince: int(w * secs),
			ValidUntil: int((w + 2) * secs), // its own window and the grace window
			Salt:       s.salt(w),
		}
	}
	return out
}
