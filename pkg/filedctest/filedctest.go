// Package filedctest runs a real filedc data center inside a Go test, for
// testing Telegram clients and bots built on gotd (github.com/gotd/td).
//
// New starts the DC on a loopback port with every store in memory: the
// same MTProto server, file engine and API handlers as `filedc serve`, torn
// down when the test ends. ClientOptions points a gotd client at it, Bot
// gives a client logged in as a bot, and Fail, Delay and Drop inject faults
// into chosen methods so that a client's retries, FLOOD_WAIT handling and
// reconnects can be tested. NewCluster starts several DCs of one cluster,
// where a file stored on one DC is answered FILE_MIGRATE_X by the others.
//
//	func TestUpload(t *testing.T) {
//		srv := filedctest.New(t)
//		srv.Fail("upload.saveFilePart", tgerr.New(420, "FLOOD_WAIT_1")).Times(1)
//		client := srv.Bot(t) // logged in, running until the test ends
//		_, err := uploader.NewUploader(client.API()).FromBytes(t.Context(), "a.txt", data)
//		if !tgerr.Is(err, "FLOOD_WAIT") { ... }
//	}
//
// Start and StartCluster do the same without a testing.TB, closed with
// Close; RunBot runs a function with a logged-in client, as gotd's
// Client.Run does.
//
// The DC serves with an RSA key published in this package's source: it is
// for tests only.
package filedctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/backend"
	"github.com/filedc/filedc/internal/cluster"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/mtproto/handshake"
	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/randid"
	"github.com/filedc/filedc/internal/rpc"
	"github.com/filedc/filedc/internal/serverkey"
)

// DefaultDC is the DC id a Server has unless WithDC says otherwise.
const DefaultDC = 2

// Interceptor wraps every call the DC serves: method names it
// ("upload.saveFilePart"), next serves it. Return an error made with
// tgerr.New for an rpc_error, in the manner of grpc-go's interceptors.
type Interceptor = func(ctx context.Context, method string, next func(context.Context) (bin.Encoder, error)) (bin.Encoder, error)

// Limits are the limits of a test DC; zero fields keep filedc's defaults.
type Limits struct {
	// RequestRate and RequestBurst bound each account's calls per second
	// (default 1000, bursts of 2000); past them calls get FLOOD_WAIT_X.
	RequestRate  float64
	RequestBurst int
	// MaxUploads bounds an account's unfinished uploads (default 64) and
	// MaxTempBytes their bytes (default TempBudget); past them a new
	// upload gets FLOOD_WAIT_X, X being FloodWait (default 5 s).
	MaxUploads   int
	MaxTempBytes int64
	FloodWait    time.Duration
	// TempBudget bounds the bytes of all unfinished uploads (default 4 GiB).
	TempBudget int64
	// MaxParts bounds the parts of one upload (default 4000, 2000 MiB).
	MaxParts int
}

// Option configures New and NewCluster.
type Option func(*config)

type config struct {
	dc           int
	tokens       []string
	limits       Limits
	interceptors []Interceptor
	logger       *slog.Logger
}

// WithDC sets the DC's id (default DefaultDC). NewCluster ignores it.
func WithDC(id int) Option { return func(c *config) { c.dc = id } }

// WithBotToken registers bots with tokens "<ID>:<SECRET>"; the first one is
// the token Bot and RunBot log in with. Without it a bot is made up.
func WithBotToken(tokens ...string) Option {
	return func(c *config) { c.tokens = append(c.tokens, tokens...) }
}

// WithLimits sets the DC's limits.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithInterceptor adds an interceptor around every call, inside the fault
// hooks (Fail, Delay, Drop), which see each call first.
func WithInterceptor(i Interceptor) Option {
	return func(c *config) { c.interceptors = append(c.interceptors, i) }
}

// WithLogger sends the DC's log to l. By default it is discarded, unless
// FILEDC_TEST_DEBUG is set, which sends it to standard error.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// Server is a running test DC.
type Server struct {
	dc      int
	addr    *net.TCPAddr
	key     *rsa.PrivateKey
	token   string
	backend *backend.Embedded
	cluster []tg.DCOption // every DC of its cluster, itself included

	mu     sync.Mutex
	faults []*Fault
	calls  map[string]int

	closeOnce sync.Once
	stop      func() error
	closeErr  error
}

// New starts a DC that serves until the end of the test.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	return NewCluster(tb, []int{newConfig(opts).dc}, opts...)[0]
}

// NewCluster starts a cluster (see StartCluster) that serves until the end
// of the test.
func NewCluster(tb testing.TB, dcs []int, opts ...Option) []*Server {
	tb.Helper()
	servers, err := StartCluster(dcs, opts...)
	if err != nil {
		tb.Fatalf("filedctest: %v", err)
	}
	for _, s := range servers {
		tb.Cleanup(func() {
			if err := s.Close(); err != nil {
				tb.Errorf("filedctest: %v", err)
			}
		})
	}
	return servers
}

// Start starts a DC that serves until Close, for code without a
// testing.TB (examples, TestMain).
func Start(opts ...Option) (*Server, error) {
	servers, err := StartCluster([]int{newConfig(opts).dc}, opts...)
	if err != nil {
		return nil, err
	}
	return servers[0], nil
}

// StartCluster starts one DC for each id in dcs, all of one cluster: they
// trust one key and one secret, list each other in help.getConfig, carry
// logins across with auth.exportAuthorization, and answer a download of a
// file another DC stored with 303 FILE_MIGRATE_X. Each keeps its own
// stores; the bots are registered on every DC. Close each when done.
func StartCluster(dcs []int, opts ...Option) (servers []*Server, err error) {
	c := newConfig(opts)
	key := testKey()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	if len(c.tokens) == 0 {
		c.tokens = []string{madeUpToken()}
	}
	var listeners []net.Listener
	defer func() {
		if err != nil {
			for _, s := range servers {
				s.Close()
			}
			for _, ln := range listeners[len(servers):] {
				ln.Close()
			}
			servers = nil
		}
	}()
	var options []cluster.Option
	for _, id := range dcs {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, ln)
		options = append(options, cluster.Option{DC: id, Addr: ln.Addr().(*net.TCPAddr).AddrPort()})
	}
	for i, id := range dcs {
		m, err := cluster.NewMap(id, netip.AddrPort{}, options)
		if err != nil {
			return servers, err
		}
		s := &Server{dc: id, addr: listeners[i].Addr().(*net.TCPAddr), key: key.Private, token: c.tokens[0],
			cluster: m.DCOptions(), calls: make(map[string]int)}
		if err := s.start(c, listeners[i], key, secret, m); err != nil {
			return servers, fmt.Errorf("DC %d: %w", id, err)
		}
		servers = append(servers, s)
	}
	return servers, nil
}

func newConfig(opts []Option) config {
	c := config{dc: DefaultDC}
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
		if os.Getenv("FILEDC_TEST_DEBUG") != "" {
			c.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	return c
}

// start opens the in-memory backend and serves the DC on ln until Close.
func (s *Server) start(c config, ln net.Listener, key serverkey.Key, secret []byte, m cluster.Map) error {
	l := c.limits
	ctx, cancel := context.WithCancel(context.Background())
	b, err := backend.OpenMemory(ctx, files.Config{DC: s.dc, Logger: c.logger, MaxParts: l.MaxParts, TempBudget: l.TempBudget,
		MaxUploadsPerOwner: l.MaxUploads, MaxTempBytesPerOwner: l.MaxTempBytes, FloodWait: l.FloodWait})
	if err != nil {
		cancel()
		ln.Close()
		return err
	}
	s.backend = b
	for _, token := range c.tokens {
		if err := backend.RegisterBotToken(ctx, b.Meta, token); err != nil {
			cancel()
			ln.Close()
			return err
		}
	}
	interceptors := []rpc.Interceptor{s.intercept}
	for _, i := range c.interceptors {
		interceptors = append(interceptors, i)
	}
	done := make(chan error, 1)
	go b.Engine.Run(ctx, time.Minute)
	go func() {
		done <- b.ServeDC(ctx, backend.DCConfig{ID: s.dc, Listen: ln, Key: key, Salt: secret, Logger: c.logger,
			Cluster: m, Interceptors: interceptors,
			CallLimits: rpc.Limits{RequestRate: l.RequestRate, RequestBurst: l.RequestBurst},
			// Tests make many clients from one address: no flood limit on
			// key exchanges.
			Limits: server.Limits{KeyExchangeRate: 1e6, KeyExchangeBurst: 1e6, NewKeysPerHour: 1e9, NewKeysBurst: 1e6},
		})
	}()
	s.stop = func() error {
		cancel()
		err := <-done
		return errors.Join(err, b.Close())
	}
	return nil
}

// Close stops the DC: it closes its listener and connections and waits for
// the calls in flight. Calling it again does nothing.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if err := s.stop(); err != nil {
			s.closeErr = fmt.Errorf("DC %d: %w", s.dc, err)
		}
	})
	return s.closeErr
}

// DC returns the DC's id.
func (s *Server) DC() int { return s.dc }

// Addr returns the address the DC listens on.
func (s *Server) Addr() *net.TCPAddr { return s.addr }

// PublicKey returns the RSA key clients must trust.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// BotToken returns the token Bot and RunBot log in with.
func (s *Server) BotToken() string { return s.token }

var (
	keyOnce   sync.Once
	parsedKey serverkey.Key
)

// testKey parses the shipped test key once per process.
func testKey() serverkey.Key {
	keyOnce.Do(func() {
		block, _ := pem.Decode([]byte(testKeyPEM))
		if block == nil {
			panic("filedctest: the test key is not PEM")
		}
		priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			panic("filedctest: the test key: " + err.Error())
		}
		parsedKey = serverkey.Key{Private: priv, Fingerprint: (&handshake.Server{Key: priv}).Fingerprint()}
	})
	return parsedKey
}

// madeUpToken returns a bot token of a random id and secret.
func madeUpToken() string {
	var secret [18]byte
	if _, err := rand.Read(secret[:]); err != nil {
		panic(err)
	}
	id := 1_000_000_000 + randid.Int63()%(1<<40)
	return strconv.FormatInt(id, 10) + ":" + base64.RawURLEncoding.EncodeToString(secret[:])
}

func (s *Server) String() string { return fmt.Sprintf("filedctest DC %d at %s", s.dc, s.addr) }
