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
	"github.com/gotd/td/proto"

	"github.com/filedc/filedc/internal/layer"
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
	Body    *bin.Buffer // the TL-encoded call
	srv     *Server
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
	// MaxConnsPerIP bounds the open connections from one address (S7,
	// default 256); over it a connection gets transport error -429.
	MaxConnsPerIP int
}

// Server serves MTProto connections.
type Server struct {
	cfg Config
	ids *proto.MessageIDGen
	log *slog.Logger

	keysMu sync.RWMutex
	keys   map[[8]byte]*Key

	sessMu   sync.Mutex
	sessions map[sessionKey]*Session

	connsMu sync.Mutex
	conns   map[string]int // open connections by remote IP
}

// New returns a server.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Layers == nil {
		cfg.Layers = layer.Default()
	}
	if cfg.MaxConnsPerIP <= 0 {
		cfg.MaxConnsPerIP = 256
	}
	return &Server{
		conns:    make(map[string]int),
		cfg:      cfg,
		ids:      proto.NewMessageIDGen(cfg.Now),
		log:      cfg.Logger,
		keys:     make(map[[8]byte]*Key),
		sessions: make(map[sessionKey]*Session),
	}
}

// Serve accepts connections until ctx ends or the listener fails. Each
// connection detects its transport in its own goroutine, so a silent socket
// never delays others.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
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
	t *transport.Conn
	// disconnect is reset by ping_delay_disconnect.
	mu         sync.Mutex
	disconnect *time.Timer
}

func (s *Server) serveConn(ctx context.Context, raw net.Conn) {
	defer raw.Close()
	t, err := transport.Accept(raw, s.cfg.Transport)
	if err != nil {
		s.log.Debug("transport", "remote", raw.RemoteAddr(), "err", err)
		return
	}
	if !s.admit(raw) {
		t.WriteError(-429)
		return
	}
	defer s.release(raw)
	c := &conn{t: t}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		raw.Close()
	}()
	var exchange *handshake.Exchange
	var buf []byte
	for {
		frame, err := t.ReadFrame(buf)
		if err != nil {
			return
		}
		if len(frame) < 8 {
			return
		}
		if binary.LittleEndian.Uint64(frame) == 0 {
			if exchange == nil {
				exchange = s.cfg.Handshake.New()
			}
			done, err := s.handleUnencrypted(ctx, c, exchange, frame)
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
			// Unencrypted frames are small and handled before the next read.
			buf = frame
			continue
		}
		key, err := s.key(ctx, [8]byte(frame[:8]))
		if err != nil {
			t.WriteError(-404)
			return
		}
		if t.Kind() == transport.PaddedIntermediate {
			// Clients may pad by up to 15 bytes: keep whole 16-byte blocks.
			frame = frame[:len(frame)-(len(frame)-24)%16]
		}
		plain, data, err := decrypt(key.AuthKey(), frame)
		if err != nil {
			s.log.Debug("decrypt", "remote", raw.RemoteAddr(), "err", err)
			return
		}
		// The plaintext lives in its own pooled buffer: the frame buffer is reused.
		buf = frame
		s.handleEncrypted(ctx, c, key, data, plain)
		plain.release()
	}
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
		k := store.AuthKey{ID: res.Key.ID, Value: res.Key.Value, Created: s.cfg.Now()}
		if res.ExpiresIn > 0 {
			k.ExpiresAt = k.Created.Add(time.Duration(res.ExpiresIn) * time.Second)
		}
		if err := s.cfg.Keys.PutAuthKey(ctx, k); err != nil {
			return false, err
		}
		s.keysMu.Lock()
		s.keys[k.ID] = &Key{rec: k}
		s.keysMu.Unlock()
	}
	return res != nil, c.t.WriteFrame(out.Buf)
}

func remoteIP(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return c.RemoteAddr().String()
}

// admit counts a connection against its address's limit.
func (s *Server) admit(c net.Conn) bool {
	ip := remoteIP(c)
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	if s.conns[ip] >= s.cfg.MaxConnsPerIP {
		return false
	}
	s.conns[ip]++
	return true
}

func (s *Server) release(c net.Conn) {
	ip := remoteIP(c)
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	if s.conns[ip]--; s.conns[ip] <= 0 {
		delete(s.conns, ip)
	}
}
