package gotdtest

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/transport"
)

// The bot the server is started with.
const (
	BotToken = "7000001:interop-secret"
	BotID    = 7000001
)

// binary is the filedc under test, built by scripts/after.d/50-gotd.sh.
// Outside CI the tests skip without it; in CI they fail.
func binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("FILEDC_TEST_BIN"); p != "" {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("FILEDC_TEST_BIN is not set: scripts/after.d/50-gotd.sh builds filedc and sets it")
	}
	t.Skip("FILEDC_TEST_BIN is not set; run `make test`, or build cmd/filedc and point FILEDC_TEST_BIN at it")
	return ""
}

// Server is a running `filedc serve`: DC 2 on loopback, one bot.
type Server struct {
	Addr *net.TCPAddr
	Key  *rsa.PublicKey
}

// StartServer starts filedc on a fresh data directory and stops it when the
// test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	data := t.TempDir()
	readyPath := filepath.Join(t.TempDir(), "ready.json")
	cmd := exec.Command(binary(t), "serve", "--data", data, "--listen", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--dc", "2", "--bot-token", BotToken, "--ready-file", readyPath)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	// serve writes the file once it accepts connections:
	// {"listen": "127.0.0.1:PORT", ...}.
	var ready struct {
		Listen string `json:"listen"`
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(readyPath); err == nil {
			if err := json.Unmarshal(b, &ready); err != nil {
				t.Fatalf("ready file: %v", err)
			}
			break
		}
		select {
		case <-exited:
			t.Fatal("filedc serve exited before it was ready")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("filedc serve was not ready after 2 minutes")
		}
	}
	addr, err := net.ResolveTCPAddr("tcp", ready.Listen)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(data, "public.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		t.Fatal("public.pem holds no PEM block")
	}
	key, err := x509.ParsePKCS1PublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return &Server{Addr: addr, Key: key}
}

// Client is a gotd client of the server, in gotd's own layer (tg.Layer),
// over the intermediate transport, without updates. The calls made through
// its API are counted in calls when it is not nil.
func (s *Server) Client(calls *Calls) *telegram.Client {
	var mw []telegram.Middleware
	if calls != nil {
		mw = append(mw, calls)
	}
	return telegram.NewClient(1, "interop", telegram.Options{
		PublicKeys:     []telegram.PublicKey{{RSA: s.Key}},
		DC:             2,
		DCList:         dcs.List{Options: []tg.DCOption{{ID: 2, IPAddress: s.Addr.IP.String(), Port: s.Addr.Port, Static: true}}},
		Resolver:       dcs.Plain(dcs.PlainOptions{Protocol: transport.Intermediate}),
		SessionStorage: &session.StorageMemory{},
		NoUpdates:      true,
		Middlewares:    mw,
	})
}

// Calls counts the API calls a client makes, by method, and keeps those the
// server could not take: a method it does not know (INPUT_METHOD_INVALID),
// a request of the client's layer it could not translate
// (INPUT_REQUEST_INVALID), or an internal error (500), as an answer it could
// not translate back is.
type Calls struct {
	mu     sync.Mutex
	count  map[string]int
	failed []string
}

// Handle implements telegram.Middleware.
func (c *Calls) Handle(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		name := fmt.Sprintf("%T", input)
		if n, ok := input.(interface{ TypeName() string }); ok {
			name = n.TypeName()
		}
		err := next.Invoke(ctx, input, output)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.count == nil {
			c.count = make(map[string]int)
		}
		c.count[name]++
		if tgerr.Is(err, "INPUT_METHOD_INVALID", "INPUT_REQUEST_INVALID") || tgerr.IsCode(err, 500) {
			c.failed = append(c.failed, fmt.Sprintf("%s: %v", name, err))
		}
		return err
	}
}

// Check logs the calls made and fails the test for each the server could
// not take.
func (c *Calls) Check(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.count))
	for name, n := range c.count {
		names = append(names, fmt.Sprintf("%s×%d", name, n))
	}
	sort.Strings(names)
	t.Logf("calls: %s", strings.Join(names, " "))
	for _, f := range c.failed {
		t.Errorf("the server could not take %s", f)
	}
}
