// Package server is filedc's MTProto server: it accepts transport
// connections, runs the auth key exchange, and keeps sessions (salts, msg_id
// and seqno rules, acks, containers, gzip, service messages) around a Handler
// that answers RPC calls. Calls of one connection run concurrently (S4).
package server

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
	"github.com/gotd/td/proto"

	"github.com/filedc/filedc/internal/invoke"
	"github.com/filedc/filedc/internal/layer"
	"github.com/filedc/filedc/internal/limit"
	"github.com/filedc/filedc/internal/mtproto/handshake"
	"github.com/filedc/filedc/internal/mtproto/session"
	"github.com/filedc/filedc/internal/mtproto/transport"
	"github.com/filedc/filedc/internal/store"
)

// Handler answers RPC calls. The returned error, when it is a *RPCError,
// reaches the client as rpc_error; any other error as 500 INTERNAL.
type Handler interface {
	ServeRPC(ctx context.Context, r *Request) (bin.Encoder, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, r *Request) (bin.Encoder, error)

// ServeRPC implements Handler.
func (f HandlerFunc) ServeRPC(ctx context.Context, r *Request) (bin.Encoder, error) { return f(ctx, r) }

// Request is one RPC call.
type Request struct {
	Key     *Key        // the auth key the call came with
	Session int64       // the client's session id
	MsgID   int64       // the call's msg_id
	Body    *bin.Buffer // the TL-encoded call, its wrappers taken off
	// Invoke is what the call's wrappers asked for (invokeWithTakeout and
	// the others); the server has already honoured the layer and
	// invokeAfterMsg(s).
	Invoke invoke.Wrappers
	// Remote is the client's address as limits count it: its IPv4 prefix
	// or IPv6 /64.
	Remote string
	srv    *Server
}

// UpdateKey changes an auth key (the call's own or another, such as the
// permanent key behind a temporary one) in the server's cache and in the
// store, so that every connection sees the change.
func (r *Request) UpdateKey(ctx context.Context, id [8]byte, f func(*store.AuthKey)) (store.AuthKey, error) {
	k := r.Key
	if k == nil || k.Record().ID != id {
		if r.srv == nil {
			return store.AuthKey{}, errNoKey
		}
		var err error
		if k, err = r.srv.key(ctx, id); err != nil {
			return store.AuthKey{}, err
		}
	}
	rec := k.Update(f)
	if r.srv == nil {
		return rec, nil // a request made outside a server, in tests
	}
	return rec, r.srv.cfg.Keys.PutAuthKey(ctx, rec)
}

// RPCError is an error the client sees as rpc_error.
type RPCError struct {
	Code    int
	Message string
	// Limit names the flood limit behind a FLOOD_WAIT_X, for metrics; the
	// client never sees it.
	Limit string
}

func (e *RPCError) Error() string { return e.Message }

// Config configures a Server.
type Config struct {
	Handshake *handshake.Server
	Keys      store.AuthKeys
	Salts     *session.Salts
	Handler   Handler
	Transport transport.Options
	Logger    *slog.Logger
	Now       func() time.Time
	// Layers translates calls and answers of clients in other layers (S5);
	// default: the schemas built into filedc.
	Layers *layer.Registry
	// AfterMsgWait is how long a call wrapped in invokeAfterMsg(s) waits
	// for the calls it names (default 10 s), then MSG_WAIT_TIMEOUT.
	AfterMsgWait time.Duration
	// Limits bound what clients can make the server hold (S7).
	Limits
}

// Limits bound what clients can make the server hold (S7a); zero values
// take the defaults.
type Limits struct {
	// MaxConnsPerIP bounds the open connections from one address (default
	// 256); over it a connection gets transport error -429. An IPv6 /64 is
	// one address, and so is an IPv4 prefix of IPv4Prefix bits (default 32).
	MaxConnsPerIP int
	IPv4Prefix    int
	// MaxCallsPerConn and MaxCallsPerSession bound the calls running at
	// once (defaults 64 and 32): past them the connection is not read
	// until one ends, so the client's own socket holds it back.
	MaxCallsPerConn    int
	MaxCallsPerSession int
	// MaxSessionsPerKey bounds the sessions of one auth key (default 64,
	// the least recently used evicted first); SessionIdle evicts sessions
	// unused this long (default 30 min).
	MaxSessionsPerKey int
	SessionIdle       time.Duration
	// FrameBudget bounds the bytes of frames still arriving over every
	// connection (default 256 MiB) unless Transport.Budget is set; past
	// it the slowest are dropped.
	FrameBudget int64
	// KeyExchangeRate and KeyExchangeBurst bound the key exchanges one
	// address starts (S7c; defaults 2 per second, bursts of 60): each costs
	// the server an RSA decryption and a stored key. Past them the
	// connection gets transport error -429.
	KeyExchangeRate  float64
	KeyExchangeBurst int
	// NewKeysPerHour and NewKeysBurst bound the auth keys one address
	// creates (S7c; defaults 200 an hour, bursts of 200): each is stored
	// until collected. Past them a key exchange gets transport error -429.
	NewKeysPerHour float64
	NewKeysBurst   int
	// UnusedKeyTTL is how long an auth key nobody logged in on and bound
	// to nothing is kept after its last use (default 24 h); expired
	// temporary keys go too. A client with a collected key gets -404 and
	// makes a new one, as with Telegram.
	UnusedKeyTTL time.Duration
	// IdleTimeout and WriteTimeout, when set, override Transport's: a
	// connection silent this long is closed, and so is one that does not
	// take an answer within WriteTimeout.
	IdleTimeout, WriteTimeout time.Duration
}

// Server serves MTProto connections.
type Server struct {
	cfg Config
	ids *proto.MessageIDGen
	log *slog.Logger

	keysMu sync.RWMutex
	keys   map[[8]byte]*Key

	sessMu   sync.Mutex
	sessions map[[8]byte]*keySessions // by auth key id

	connsMu sync.Mutex
	conns   map[string]int // open connections by remote IP

	exchanges *limit.Keyed[string] // key exchanges started, by remote IP
	newKeys   *limit.Keyed[string] // auth keys created, by remote IP

	stats serverStats
}

// New returns a server.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.AfterMsgWait <= 0 {
		cfg.AfterMsgWait = defaultAfterMsgWait
	}
	if cfg.Layers == nil {
		cfg.Layers = layer.Default()
	}
	if cfg.MaxConnsPerIP <= 0 {
		cfg.MaxConnsPerIP = 256
	}
	if cfg.IPv4Prefix <= 0 || cfg.IPv4Prefix > 32 {
		cfg.IPv4Prefix = 32
	}
	if cfg.MaxCallsPerConn <= 0 {
		cfg.MaxCallsPerConn = 64
	}
	if cfg.MaxCallsPerSession <= 0 {
		cfg.MaxCallsPerSession = 32
	}
	if cfg.MaxSessionsPerKey <= 0 {
		cfg.MaxSessionsPerKey = 64
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.FrameBudget <= 0 {
		cfg.FrameBudget = 256 << 20
	}
	if cfg.KeyExchangeRate <= 0 {
		cfg.KeyExchangeRate = 2
	}
	if cfg.KeyExchangeBurst <= 0 {
		cfg.KeyExchangeBurst = 60
	}
	if cfg.NewKeysPerHour <= 0 {
		cfg.NewKeysPerHour = 200
	}
	if cfg.NewKeysBurst <= 0 {
		cfg.NewKeysBurst = 200
	}
	if cfg.UnusedKeyTTL <= 0 {
		cfg.UnusedKeyTTL = 24 * time.Hour
	}
	if cfg.IdleTimeout > 0 {
		cfg.Transport.IdleTimeout = cfg.IdleTimeout
	}
	if cfg.WriteTimeout > 0 {
		cfg.Transport.WriteTimeout = cfg.WriteTimeout
	}
	if cfg.Transport.Budget == nil {
		cfg.Transport.Budget = transport.NewBudget(cfg.FrameBudget)
	}
	return &Server{
		conns:     make(map[string]int),
		cfg:       cfg,
		ids:       proto.NewMessageIDGen(cfg.Now),
		log:       cfg.Logger,
		keys:      make(map[[8]byte]*Key),
		sessions:  make(map[[8]byte]*keySessions),
		exchanges: limit.New[string](cfg.KeyExchangeRate, cfg.KeyExchangeBurst, 100_000, cfg.Now),
		newKeys:   limit.New[string](cfg.NewKeysPerHour/3600, cfg.NewKeysBurst, 100_000, cfg.Now),
	}
}

// FrameBudget returns the budget of frames still arriving.
func (s *Server) FrameBudget() *transport.Budget { return s.cfg.Transport.Budget }

// Serve accepts connections until ctx ends or the listener fails. Each
// connection detects its transport in its own goroutine, so a silent socket
// never delays others.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	go s.sweepEvery(ctx, time.Minute)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		raw, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(ctx, raw)
		}()
	}
}

// conn is one client connection.
type conn struct {
	t      *transport.Conn
	sealer sealer        // encrypts and writes the messages, in order
	slots  chan struct{} // calls running (MaxCallsPerConn)
	remote string        // the client's address as limits count it
	// disconnect is reset by ping_delay_disconnect.
	mu         sync.Mutex
	disconnect *time.Timer
}

func (s *Server) newConn(t *transport.Conn) *conn {
	c := &conn{t: t, slots: make(chan struct{}, s.cfg.MaxCallsPerConn)}
	c.sealer.written.L = &c.sealer.mu
	return c
}

func (s *Server) serveConn(ctx context.Context, raw net.Conn) {
	defer raw.Close()
	t, err := transport.Accept(raw, s.cfg.Transport)
	if err != nil {
		s.log.Debug("transport", "remote", raw.RemoteAddr(), "err", err)
		return
	}
	if !s.admit(raw) {
		s.stats.refusedConn.Add(1)
		t.WriteError(-429)
		return
	}
	defer s.release(raw)
	open, total := s.stats.conn(t)
	open.Add(1)
	total.Add(1)
	defer open.Add(-1)
	c := s.newConn(t)
	c.remote = s.remoteIP(raw)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		raw.Close()
	}()
	in := s.newInbound(ctx, c, cancel)
	defer in.close()
	var exchange *handshake.Exchange
	for {
		in.slot()
		frame, err := t.ReadFrame(nil)
		if err != nil {
			return
		}
		if len(frame) < 8 {
			in.reuse(frame)
			return
		}
		if binary.LittleEndian.Uint64(frame) == 0 {
			// Key exchange frames are small and handled in order, after
			// every encrypted frame before them.
			in.drain()
			if exchange == nil {
				ok, _ := s.newKeys.Check(c.remote, 1)
				if !ok {
					s.stats.refusedKey.Add(1)
				} else if ok, _ = s.exchanges.Take(c.remote, 1); !ok {
					s.stats.refusedExchange.Add(1)
				}
				if !ok {
					in.reuse(frame)
					t.WriteError(-429) // as Telegram answers floods at the transport
					return
				}
				exchange = s.cfg.Handshake.New()
			}
			done, err := s.handleUnencrypted(ctx, c, exchange, frame)
			in.reuse(frame)
			if err != nil {
				var he *handshake.Error
				if errors.As(err, &he) && he.Code != 0 {
					t.WriteError(he.Code)
				}
				s.log.Debug("key exchange", "remote", raw.RemoteAddr(), "err", err)
				return
			}
			if done {
				exchange = nil
			}
			continue
		}
		key, err := s.key(ctx, [8]byte(frame[:8]))
		if err != nil {
			in.reuse(frame)
			in.drain()
			t.WriteError(-404)
			return
		}
		if t.Kind() == transport.PaddedIntermediate {
			// Clients may pad by up to 15 bytes: keep whole 16-byte blocks.
			frame = frame[:len(frame)-(len(frame)-24)%16]
		}
		if !in.push(key, frame) {
			return
		}
	}
}

// framesInFlight is how many encrypted frames of one connection may be read
// and decrypting at once, each in its own pooled frame buffer. With two, a
// client sending 512 KiB parts back to back keeps two cores decrypting
// instead of the reading one, for one more frame buffer per connection.
const framesInFlight = 2

// decryptInline is the frame size under which decrypting on the reading
// goroutine costs less than handing the frame to another.
const decryptInline = 16 << 10

// inbound decrypts a connection's encrypted frames, large ones concurrently,
// and hands them to the session in the order they arrived.
type inbound struct {
	s      *Server
	ctx    context.Context
	c      *conn
	cancel context.CancelFunc
	free   chan struct{} // frames the reader may read
	queue  chan *decrypted
	wg     sync.WaitGroup // frames pushed and not yet handled
	done   chan struct{}  // the handling goroutine has returned
}

// decrypted is one frame on its way to the session.
type decrypted struct {
	key   *Key
	plain *plaintext
	data  *crypto.EncryptedMessageData
	err   error
	ready chan struct{}
}

func (s *Server) newInbound(ctx context.Context, c *conn, cancel context.CancelFunc) *inbound {
	in := &inbound{s: s, ctx: ctx, c: c, cancel: cancel,
		free:  make(chan struct{}, framesInFlight),
		queue: make(chan *decrypted, framesInFlight),
		done:  make(chan struct{}),
	}
	for range framesInFlight {
		in.free <- struct{}{}
	}
	go in.handle()
	return in
}

// slot waits while framesInFlight frames are in use.
func (in *inbound) slot() { <-in.free }

// reuse returns a frame buffer and its slot.
func (in *inbound) reuse(frame []byte) {
	transport.PutFrame(frame)
	in.free <- struct{}{}
}

// push decrypts frame (now or on its own goroutine) and queues it; false
// when the connection is ending.
func (in *inbound) push(key *Key, frame []byte) bool {
	d := &decrypted{key: key, ready: make(chan struct{})}
	run := func() {
		d.plain, d.data, d.err = decrypt(key.AuthKey(), frame)
		in.reuse(frame)
		close(d.ready)
	}
	in.wg.Add(1)
	if len(frame) < decryptInline {
		run()
	} else {
		go run()
	}
	select {
	case in.queue <- d:
		return true
	case <-in.ctx.Done():
		<-d.ready
		d.plain.release()
		in.wg.Done()
		return false
	}
}

// handle passes decrypted frames to the session in order. A frame that does
// not decrypt ends the connection; nothing after it is handled.
func (in *inbound) handle() {
	defer close(in.done)
	failed := false
	for d := range in.queue {
		<-d.ready
		switch {
		case failed:
			d.plain.release()
		case d.err != nil:
			in.s.log.Debug("decrypt", "err", d.err)
			failed = true
			in.cancel()
		default:
			in.s.handleEncrypted(in.ctx, in.c, d.key, d.data, d.plain)
			d.plain.release()
		}
		in.wg.Done()
	}
}

// drain waits until every pushed frame has been handled.
func (in *inbound) drain() { in.wg.Wait() }

// close stops the handling goroutine after the frames already queued.
func (in *inbound) close() {
	close(in.queue)
	<-in.done
}

func (s *Server) handleUnencrypted(ctx context.Context, c *conn, x *handshake.Exchange, frame []byte) (bool, error) {
	var msg proto.UnencryptedMessage
	if err := msg.Decode(&bin.Buffer{Buf: frame}); err != nil {
		return false, &handshake.Error{Code: -404, Err: err}
	}
	answer, res, err := x.Handle(msg.MessageData)
	if err != nil {
		return false, err
	}
	var body bin.Buffer
	if err := answer.Encode(&body); err != nil {
		return false, err
	}
	var out bin.Buffer
	reply := proto.UnencryptedMessage{MessageID: s.ids.New(proto.MessageServerResponse), MessageData: body.Buf}
	if err := reply.Encode(&out); err != nil {
		return false, err
	}
	if res != nil {
		if ok, _ := s.newKeys.Take(c.remote, 1); !ok {
			s.stats.refusedKey.Add(1)
			return false, &handshake.Error{Code: -429, Err: errors.New("too many new auth keys from one address")}
		}
		now := s.cfg.Now()
		k := store.AuthKey{ID: res.Key.ID, Value: res.Key.Value, Created: now, LastUsed: now}
		if res.ExpiresIn > 0 {
			k.ExpiresAt = k.Created.Add(time.Duration(res.ExpiresIn) * time.Second)
		}
		if err := s.cfg.Keys.PutAuthKey(ctx, k); err != nil {
			return false, err
		}
		s.keysMu.Lock()
		s.keys[k.ID] = &Key{rec: k}
		s.keysMu.Unlock()
		s.stats.keysCreated.Add(1)
	}
	return res != nil, c.t.WriteFrame(out.Buf)
}

// remoteIP names the address a connection counts against: its IPv4
// prefix, or its IPv6 /64 (one customer's network).
func (s *Server) remoteIP(c net.Conn) string {
	a, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return c.RemoteAddr().String()
	}
	if v4 := a.IP.To4(); v4 != nil {
		return v4.Mask(net.CIDRMask(s.cfg.IPv4Prefix, 32)).String()
	}
	return a.IP.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// admit counts a connection against its address's limit.
func (s *Server) admit(c net.Conn) bool {
	ip := s.remoteIP(c)
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	if s.conns[ip] >= s.cfg.MaxConnsPerIP {
		return false
	}
	s.conns[ip]++
	return true
}

func (s *Server) release(c net.Conn) {
	ip := s.remoteIP(c)
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	if s.conns[ip]--; s.conns[ip] <= 0 {
		delete(s.conns, ip)
	}
}
