package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/exchange"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/proto"
	"github.com/gotd/td/proto/codec"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/transport"

	"github.com/filedc/filedc/internal/mtproto/handshake"
	"github.com/filedc/filedc/internal/mtproto/server"
	mtsession "github.com/filedc/filedc/internal/mtproto/session"
	"github.com/filedc/filedc/internal/store/bolt"
)

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

type testDC struct {
	addr *net.TCPAddr
	key  *rsa.PrivateKey
	dir  string
	stop func()
	// calls counts the RPC calls by type id.
	mu    sync.Mutex
	calls map[uint32]int
}

// startDC runs a server with a handler for the calls a gotd client makes on
// its own plus help.getNearestDc and a call that fails.
func startDC(t *testing.T, dir string) *testDC { return startDCAt(t, dir, "127.0.0.1:0") }

func startDCAt(t *testing.T, dir, addr string) *testDC {
	t.Helper()
	dc := &testDC{dir: dir, calls: map[uint32]int{}}
	handler := server.HandlerFunc(func(ctx context.Context, r *server.Request) (bin.Encoder, error) {
		id, err := r.Body.PeekID() // the server took the wrappers off
		if err != nil {
			return nil, err
		}
		dc.mu.Lock()
		dc.calls[id]++
		dc.mu.Unlock()
		switch id {
		case tg.HelpGetConfigRequestTypeID:
			return &tg.Config{
				ThisDC:    2,
				DCOptions: []tg.DCOption{{ID: 2, IPAddress: "127.0.0.1", Port: dc.addr.Port, Static: true}},
				Expires:   int(time.Now().Add(time.Hour).Unix()),
			}, nil
		case tg.HelpGetNearestDCRequestTypeID:
			return &tg.NearestDC{Country: "XX", ThisDC: 2, NearestDC: 2}, nil
		case tg.UsersGetUsersRequestTypeID:
			return nil, &server.RPCError{Code: 401, Message: "AUTH_KEY_UNREGISTERED"}
		}
		return nil, &server.RPCError{Code: 400, Message: "METHOD_INVALID"}
	})
	dc.addr, dc.stop = serveTest(t, dir, addr, server.Config{Handler: handler})
	dc.key = rsaKey
	return dc
}

// serveTest runs a server with cfg on addr until stop or the end of the
// test. What cfg leaves out is filled in: auth keys in a bbolt file in dir,
// the test RSA key for DC 2, salts and the test logger.
func serveTest(tb testing.TB, dir, addr string, cfg server.Config) (*net.TCPAddr, func()) {
	tb.Helper()
	keyOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			tb.Fatal(err)
		}
	})
	meta, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		meta.Close()
		tb.Fatal(err)
	}
	if cfg.Handshake == nil {
		cfg.Handshake = &handshake.Server{Key: rsaKey, DC: 2}
	}
	if cfg.Keys == nil {
		cfg.Keys = meta
	}
	if cfg.Salts == nil {
		cfg.Salts = mtsession.NewSalts([]byte("a test secret of thirty-two bytes"))
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	srv := server.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		srv.Serve(ctx, ln)
		close(done)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			meta.Close()
		})
	}
	tb.Cleanup(stop)
	return ln.Addr().(*net.TCPAddr), stop
}

func (dc *testDC) client(proto dcs.Protocol, storage telegram.SessionStorage) *telegram.Client {
	return telegram.NewClient(1, "hash", telegram.Options{
		PublicKeys:     []telegram.PublicKey{{RSA: &dc.key.PublicKey}},
		DC:             2,
		DCList:         dcs.List{Options: []tg.DCOption{{ID: 2, IPAddress: "127.0.0.1", Port: dc.addr.Port, Static: true}}},
		Resolver:       dcs.Plain(dcs.PlainOptions{Protocol: proto}),
		SessionStorage: storage,
		NoUpdates:      true,
	})
}

func TestS3_GotdClientCallsOverEveryTransport(t *testing.T) {
	dc := startDC(t, t.TempDir())
	for _, tc := range []struct {
		name  string
		proto dcs.Protocol
	}{
		{"abridged", transport.Abridged},
		{"intermediate", transport.Intermediate},
		{"padded-intermediate", transport.PaddedIntermediate},
		{"full", transport.Full},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			client := dc.client(tc.proto, &session.StorageMemory{})
			err := client.Run(ctx, func(ctx context.Context) error {
				for i := 0; i < 3; i++ {
					nearest, err := client.API().HelpGetNearestDC(ctx)
					if err != nil {
						return err
					}
					if nearest.ThisDC != 2 || nearest.Country != "XX" {
						t.Errorf("nearest dc %+v", nearest)
					}
				}
				// An rpc_error reaches the client with its code and message.
				_, err := client.API().UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
				if !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") {
					t.Errorf("users.getUsers: %v, want AUTH_KEY_UNREGISTERED", err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestS4_ConcurrentCallsOnOneConnection(t *testing.T) {
	dc := startDC(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := dc.client(transport.Intermediate, &session.StorageMemory{})
	err := client.Run(ctx, func(ctx context.Context) error {
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := 0; i < 64; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := client.API().HelpGetNearestDC(ctx); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	})
	if err != nil {
		t.Fatal(err)
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if n := dc.calls[tg.HelpGetNearestDCRequestTypeID]; n != 64 {
		t.Fatalf("%d help.getNearestDc calls reached the handler, want 64", n)
	}
}

func TestS2_AuthKeysSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	storage := &session.StorageMemory{}
	run := func(dc *testDC) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		client := dc.client(transport.Intermediate, storage)
		if err := client.Run(ctx, func(ctx context.Context) error {
			_, err := client.API().HelpGetNearestDC(ctx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	dc := startDC(t, dir)
	run(dc)
	before := keyOf(t, storage)
	dc.stop()

	// Same data dir and port, fresh server state: the client's key must still
	// work, so it does not run a new key exchange.
	dc2 := startDCAt(t, dir, dc.addr.String())
	run(dc2)
	if after := keyOf(t, storage); !bytes.Equal(before, after) {
		t.Fatal("the client had to create a new auth key after the server restarted")
	}
}

// keyOf returns the auth key gotd stored for its session.
func keyOf(t *testing.T, storage *session.StorageMemory) []byte {
	t.Helper()
	data, err := (&session.Loader{Storage: storage}).Load(context.Background())
	if err != nil || len(data.AuthKey) == 0 {
		t.Fatalf("no stored auth key: %v", err)
	}
	return data.AuthKey
}

func testLogger() *slog.Logger {
	if os.Getenv("FILEDC_TEST_DEBUG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestS7_ConnectionsPerIP(t *testing.T) {
	addr, _ := serveTest(t, t.TempDir(), "127.0.0.1:0", server.Config{
		Handler: server.HandlerFunc(func(context.Context, *server.Request) (bin.Encoder, error) { return nil, nil }),
		Limits:  server.Limits{MaxConnsPerIP: 2},
	})
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte{0xee, 0xee, 0xee, 0xee})
		c.SetDeadline(time.Now().Add(20 * time.Second))
		return c
	}
	// admitted proves the server serves c: a req_pq_multi gets its resPQ.
	admitted := func(c net.Conn) bool {
		var body, msg bin.Buffer
		(&mt.ReqPqMultiRequest{Nonce: bin.Int128{1}}).Encode(&body)
		(&proto.UnencryptedMessage{MessageID: time.Now().Unix() << 32, MessageData: body.Buf}).Encode(&msg)
		var hdr [4]byte
		binary.LittleEndian.PutUint32(hdr[:], uint32(msg.Len()))
		c.Write(append(hdr[:], msg.Buf...))
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return false
		}
		n := binary.LittleEndian.Uint32(hdr[:])
		payload := make([]byte, n)
		if _, err := io.ReadFull(c, payload); err != nil {
			return false
		}
		return n > 4 // 4 bytes would be a transport error code
	}
	a, b := dial(), dial()
	defer a.Close()
	defer b.Close()
	if !admitted(a) || !admitted(b) {
		t.Fatal("connections within the limit were refused")
	}
	c := dial()
	defer c.Close()
	var frame [8]byte
	if _, err := io.ReadFull(c, frame[:]); err != nil {
		t.Fatalf("third connection: %v, want a -429 transport error", err)
	}
	if code := int32(binary.LittleEndian.Uint32(frame[4:])); binary.LittleEndian.Uint32(frame[:4]) != 4 || code != -429 {
		t.Fatalf("third connection got %x, want the -429 transport error", frame)
	}
	// Closing one admits a new connection (the server notices the close
	// asynchronously, so try a few times).
	a.Close()
	for i := 0; ; i++ {
		d := dial()
		ok := admitted(d)
		d.Close()
		if ok {
			break
		}
		if i == 50 {
			t.Fatal("no connection admitted after one closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestS7c_KeyExchangesPerAddress: an address starts at most its burst of
// key exchanges; the next gets transport error -429.
func TestS7c_KeyExchangesPerAddress(t *testing.T) {
	addr, _ := serveTest(t, t.TempDir(), "127.0.0.1:0", server.Config{
		Handler: server.HandlerFunc(func(context.Context, *server.Request) (bin.Encoder, error) { return nil, nil }),
		Limits:  server.Limits{KeyExchangeRate: 0.001, KeyExchangeBurst: 2},
	})
	reqPQ := func() []byte {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		var body bin.Buffer
		(&mt.ReqPqMultiRequest{}).Encode(&body)
		var msg bin.Buffer
		(&proto.UnencryptedMessage{MessageID: time.Now().Unix() << 32, MessageData: body.Buf}).Encode(&msg)
		frame := binary.LittleEndian.AppendUint32([]byte{0xee, 0xee, 0xee, 0xee}, uint32(msg.Len()))
		if _, err := c.Write(append(frame, msg.Buf...)); err != nil {
			t.Fatal(err)
		}
		var hdr [4]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			t.Fatal(err)
		}
		answer := make([]byte, binary.LittleEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(c, answer); err != nil {
			t.Fatal(err)
		}
		return answer
	}
	for i := range 2 {
		if a := reqPQ(); len(a) <= 4 {
			t.Fatalf("exchange %d within the burst answered %x", i, a)
		}
	}
	if a := reqPQ(); len(a) != 4 || int32(binary.LittleEndian.Uint32(a)) != -429 {
		t.Fatalf("a third exchange answered %x, want transport error -429", a)
	}
}

// TestS7c_NewAuthKeysPerAddress: an address creates at most NewKeysBurst
// auth keys at once; the next exchange gets transport error -429.
func TestS7c_NewAuthKeysPerAddress(t *testing.T) {
	addr, _ := serveTest(t, t.TempDir(), "127.0.0.1:0", server.Config{
		Handler: server.HandlerFunc(func(context.Context, *server.Request) (bin.Encoder, error) { return nil, nil }),
		Limits:  server.Limits{NewKeysPerHour: 0.001, NewKeysBurst: 2},
	})
	exchangeKey := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		raw, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		conn, err := transport.Intermediate.Handshake(raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = exchange.NewExchanger(conn, 2).Client([]exchange.PublicKey{{RSA: &rsaKey.PublicKey}}).Run(ctx)
		return err
	}
	for i := range 2 {
		if err := exchangeKey(); err != nil {
			t.Fatalf("key %d within the burst: %v", i, err)
		}
	}
	err := exchangeKey()
	var pe *codec.ProtocolErr
	if !errors.As(err, &pe) || pe.Code != codec.CodeTransportFlood {
		t.Fatalf("a third key: %v, want transport error -429", err)
	}
}
