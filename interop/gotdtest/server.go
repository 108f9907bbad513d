package gotdtest

import (
	"bufio"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
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
	cmd := exec.Command(binary(t), "serve", "--data", data, "--listen", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--dc", "2", "--bot-token", BotToken)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	})
	// "filedc: listening on ADDR, DC 2, key fingerprint F (PATH), ..."
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("server start line: %v", err)
	}
	fields := strings.Fields(line)
	if len(fields) < 4 || fields[1] != "listening" {
		t.Fatalf("unexpected start line %q", line)
	}
	addr, err := net.ResolveTCPAddr("tcp", strings.TrimSuffix(fields[3], ","))
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
// over the intermediate transport, without updates.
func (s *Server) Client() *telegram.Client {
	return telegram.NewClient(1, "interop", telegram.Options{
		PublicKeys:     []telegram.PublicKey{{RSA: s.Key}},
		DC:             2,
		DCList:         dcs.List{Options: []tg.DCOption{{ID: 2, IPAddress: s.Addr.IP.String(), Port: s.Addr.Port, Static: true}}},
		Resolver:       dcs.Plain(dcs.PlainOptions{Protocol: transport.Intermediate}),
		SessionStorage: &session.StorageMemory{},
		NoUpdates:      true,
	})
}
