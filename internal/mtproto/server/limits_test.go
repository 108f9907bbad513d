package server

import (
	"context"
	"crypto/aes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gotd/ige"
	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/proto"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/mtproto/session"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/memstore"
)

// TestS7a_CallsInFlightAreBounded: a client sends 40 calls whose handler
// blocks; at most MaxCallsPerSession run at once, the rest wait unread
// (back-pressure, not a queue), and every call is answered once the
// handler lets go.
func TestS7a_CallsInFlightAreBounded(t *testing.T) {
	var running, peak atomic.Int32
	gate := make(chan struct{})
	c := newRawClientWith(t, Config{Limits: Limits{MaxCallsPerSession: 4, MaxCallsPerConn: 6},
		Handler: HandlerFunc(func(ctx context.Context, r *Request) (bin.Encoder, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-gate
			return &tg.BoolTrue{}, nil
		})})
	const calls = 40
	var burst []byte
	for range calls {
		f, _ := c.frame(t, &tg.HelpGetConfigRequest{}, false)
		burst = append(burst, f...)
	}
	go c.conn.Write(burst)
	for deadline := time.Now().Add(10 * time.Second); running.Load() < 4 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // room for a fifth, which must not come
	if p := peak.Load(); p != 4 {
		t.Fatalf("%d calls ran at once, want the session's bound 4", p)
	}
	close(gate)
	results := 0
	for results < calls {
		id, _, err := c.next(t)
		if err != nil {
			t.Fatalf("after %d answers: %v", results, err)
		}
		if id == proto.ResultTypeID {
			results++
		}
	}
	if p := peak.Load(); p > 4 {
		t.Fatalf("%d calls ran at once", p)
	}
}

// TestS7a_SessionsPerKeyAreBounded: a key keeps at most MaxSessionsPerKey
// sessions, the least recently used evicted first; idle ones go at the
// sweep.
func TestS7a_SessionsPerKeyAreBounded(t *testing.T) {
	now := time.Now()
	s := New(Config{Limits: Limits{MaxSessionsPerKey: 8, SessionIdle: time.Minute}, Now: func() time.Time { return now }})
	k := &Key{}
	k.Update(func(r *store.AuthKey) { r.ID = [8]byte{1} })
	c := s.newConn(nil)
	for i := range 50_000 {
		now = now.Add(time.Microsecond)
		s.session(k, int64(i), c)
		if i == 0 {
			continue
		}
		s.session(k, 0, c) // session 0 stays in use
	}
	if n := s.Sessions(); n != 8 {
		t.Fatalf("%d sessions after 50,000 fresh ids, want 8", n)
	}
	if _, fresh := s.session(k, 0, c); fresh {
		t.Fatal("the session in use was evicted")
	}
	now = now.Add(2 * time.Minute)
	s.sweep()
	if n := s.Sessions(); n != 0 {
		t.Fatalf("%d sessions after the idle sweep", n)
	}
	s.keysMu.Lock()
	cached := len(s.keys)
	s.keysMu.Unlock()
	if cached != 0 {
		t.Fatalf("%d keys cached without sessions", cached)
	}
}

// TestS7d_MsgIDFloor: a message replayed into a session that forgot it (the
// session was evicted, or its call log moved past it) is answered with
// bad_msg_notification 20 and not run again.
func TestS7d_MsgIDFloor(t *testing.T) {
	var ran atomic.Int32
	c := newRawClientWith(t, Config{Limits: Limits{MaxSessionsPerKey: 2}, Handler: HandlerFunc(func(ctx context.Context, r *Request) (bin.Encoder, error) {
		ran.Add(1)
		return &tg.BoolTrue{}, nil
	})})
	frame, _ := c.frame(t, &tg.HelpGetConfigRequest{}, false)
	if _, err := c.conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, proto.ResultTypeID)
	// Two other sessions of the key evict session 77.
	k, err := c.srv.key(context.Background(), c.key.ID)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	c.srv.session(k, 1, c.srv.newConn(nil))
	time.Sleep(time.Millisecond)
	c.srv.session(k, 2, c.srv.newConn(nil))
	// The captured frame comes again.
	if _, err := c.conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	b := waitFor(t, c, mt.BadMsgNotificationTypeID)
	var bad mt.BadMsgNotification
	if err := bad.Decode(b); err != nil || bad.ErrorCode != session.BadMsgTooOld {
		t.Fatalf("replay: %+v, %v; want code 20", bad, err)
	}
	if n := ran.Load(); n != 1 {
		t.Fatalf("the call ran %d times", n)
	}
	// A fresh message in that session is fine.
	fresh, _ := c.frame(t, &tg.HelpGetConfigRequest{}, false)
	c.conn.Write(fresh)
	waitFor(t, c, proto.ResultTypeID)
}

// TestS7d_CallLogFloor: once the call log forgets a call, its msg_id is
// below the session's floor.
func TestS7d_CallLogFloor(t *testing.T) {
	var l callLog
	for i := range rememberedCalls + 5 {
		l.begin(int64(4 * (i + 1)))
	}
	if l.floor != 4*5 {
		t.Fatalf("floor %d after forgetting 5 calls, want 20", l.floor)
	}
}

// waitFor reads messages until one of type id, which it returns.
func waitFor(t *testing.T, c *rawClient, want uint32) *bin.Buffer {
	t.Helper()
	for {
		id, b, err := c.next(t)
		if err != nil {
			t.Fatalf("waiting for %#x: %v", want, err)
		}
		if id == want {
			return b
		}
	}
}

// encryptPadded encrypts body for the server with exactly pad bytes of
// padding, which a well-behaved client never does below 12.
func encryptPadded(k crypto.AuthKey, salt, sessionID, msgID int64, body []byte, pad int) []byte {
	var plain bin.Buffer
	plain.PutLong(salt)
	plain.PutLong(sessionID)
	plain.PutLong(msgID)
	plain.PutInt32(1)
	plain.PutInt32(int32(len(body)))
	plain.Put(body)
	p := make([]byte, pad)
	rand.Read(p)
	plain.Put(p)
	msgKey := crypto.MessageKey(k.Value, plain.Buf, crypto.Client)
	key, iv := crypto.Keys(k.Value, msgKey, crypto.Client)
	out := make([]byte, len(plain.Buf))
	block, _ := aes.NewCipher(key[:])
	ige.EncryptBlocks(block, iv[:], out, plain.Buf)
	frame := append(append(k.ID[:0:0], k.ID[:]...), msgKey[:]...)
	return append(frame, out...)
}

// TestS7d_PaddingOf12To1024: MTProto 2.0 padding is 12 to 1024 bytes;
// less or more is refused.
func TestS7d_PaddingOf12To1024(t *testing.T) {
	var raw crypto.Key
	copy(raw[:], "a key for the padding test")
	k := raw.WithID()
	body := make([]byte, 8)
	binary.LittleEndian.PutUint32(body, tg.HelpGetConfigRequestTypeID)
	// 32 + 8 + pad must be a multiple of 16.
	for _, tc := range []struct {
		pad int
		ok  bool
	}{{8, false}, {24, true}, {1032, false}, {1016, true}} {
		if (40+tc.pad)%16 != 0 {
			t.Fatalf("bad case %d", tc.pad)
		}
		p, _, err := decrypt(k, encryptPadded(k, 1, 2, 4, body, tc.pad))
		p.release()
		if (err == nil) != tc.ok {
			t.Errorf("padding %d: %v, want ok=%v", tc.pad, err, tc.ok)
		}
	}
}

// TestS7d_DestroyAuthKey: destroy_auth_key is answered with
// destroy_auth_key_ok, the key is gone from the store, the connection
// closes, and the key is unknown (-404) after.
func TestS7d_DestroyAuthKey(t *testing.T) {
	c := newRawClientWith(t, Config{Handler: HandlerFunc(func(ctx context.Context, r *Request) (bin.Encoder, error) {
		return &tg.BoolTrue{}, nil
	})})
	f, _ := c.frame(t, bareID(destroyAuthKeyID), false)
	c.conn.Write(f)
	waitFor(t, c, destroyAuthKeyOkID)
	if _, err := c.keys.AuthKey(context.Background(), c.key.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the key after destroy_auth_key: %v", err)
	}
	for {
		if _, _, err := c.next(t); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("the connection did not close: %v", err)
			}
			break
		}
	}
}

// TestS7a_ConnectionsCountedByNetwork: an IPv6 /64 is one address for the
// connection limit, and so is the configured IPv4 prefix.
func TestS7a_ConnectionsCountedByNetwork(t *testing.T) {
	s := New(Config{Limits: Limits{IPv4Prefix: 24}})
	for _, tc := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:1:2:3"},
		{"192.0.2.1", "192.0.2.254"},
	} {
		if x, y := s.remoteIP(fakeConn(tc.a)), s.remoteIP(fakeConn(tc.b)); x != y {
			t.Errorf("%s and %s count as %s and %s", tc.a, tc.b, x, y)
		}
	}
	if x, y := s.remoteIP(fakeConn("2001:db8:1:2::1")), s.remoteIP(fakeConn("2001:db8:1:3::1")); x == y {
		t.Errorf("two /64s count as one: %s", x)
	}
	if x, y := s.remoteIP(fakeConn("192.0.2.1")), s.remoteIP(fakeConn("192.0.3.1")); x == y {
		t.Errorf("two /24s count as one: %s", x)
	}
}

type addrConn struct {
	net.Conn
	addr net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.addr }

func fakeConn(ip string) net.Conn {
	return addrConn{addr: &net.TCPAddr{IP: net.ParseIP(ip), Port: 1}}
}

// TestS7c_UnusedAuthKeysCollected: a key nobody logged in on goes after
// UnusedKeyTTL without use, and so does an expired temporary key; a key
// in use (its use recorded when a connection brings it) and a logged-in key
// stay. A collected key is unknown (-404).
func TestS7c_UnusedAuthKeysCollected(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	keys := memstore.New()
	s := New(Config{Keys: keys, Now: func() time.Time { return now }, Limits: Limits{UnusedKeyTTL: 24 * time.Hour}})
	put := func(n byte, f func(*store.AuthKey)) [8]byte {
		k := store.AuthKey{ID: [8]byte{n}, Created: now, LastUsed: now}
		f(&k)
		keys.PutAuthKey(ctx, k)
		return k.ID
	}
	idle := put(1, func(*store.AuthKey) {})
	inUse := put(2, func(*store.AuthKey) {})
	loggedIn := put(3, func(k *store.AuthKey) { k.UserID = 5 })
	temp := put(4, func(k *store.AuthKey) { k.ExpiresAt = now.Add(2 * time.Hour) })
	now = now.Add(20 * time.Hour)
	if _, err := s.key(ctx, inUse); err != nil {
		t.Fatal(err)
	}
	if got, _ := keys.AuthKey(ctx, inUse); !got.LastUsed.Equal(now) {
		t.Fatalf("a key brought by a connection has last use %v, want %v", got.LastUsed, now)
	}
	now = now.Add(5 * time.Hour)
	s.sweep() // the cache forgets keys without sessions
	n, err := s.collectKeys(ctx)
	if err != nil || n != 2 {
		t.Fatalf("collected %d keys, %v; want the idle and the expired one", n, err)
	}
	for _, id := range [][8]byte{idle, temp} {
		if _, err := keys.AuthKey(ctx, id); err == nil {
			t.Errorf("key %x survived", id[0])
		}
		if _, err := s.key(ctx, id); err != errNoKey {
			t.Errorf("collected key %x: %v, want unknown", id[0], err)
		}
	}
	for _, id := range [][8]byte{inUse, loggedIn} {
		if _, err := s.key(ctx, id); err != nil {
			t.Errorf("key %x: %v", id[0], err)
		}
	}
}
