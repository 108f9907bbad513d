package gotd227

import (
	"bufio"
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
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

const (
	botToken = "7000001:interop-secret"
	botID    = 7000001
)

// filedcBinary is the binary under test, built by scripts/after.d/50-gotd227.sh.
// Outside CI the tests skip without it; in CI they fail.
func filedcBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FILEDC_TEST_BIN"); p != "" {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("FILEDC_TEST_BIN is not set: scripts/after.d/50-gotd227.sh builds filedc and sets it")
	}
	t.Skip("FILEDC_TEST_BIN is not set; run `make test`, or build cmd/filedc and point FILEDC_TEST_BIN at it")
	return ""
}

// dc is a running `filedc serve`.
type dc struct {
	addr *net.TCPAddr
	key  *rsa.PublicKey
}

func startServer(t *testing.T) *dc {
	t.Helper()
	data := t.TempDir()
	cmd := exec.Command(filedcBinary(t), "serve", "--data", data, "--listen", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--dc", "2", "--bot-token", botToken)
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
	return &dc{addr: addr, key: key}
}

func (d *dc) client() *telegram.Client {
	return telegram.NewClient(1, "interop", telegram.Options{
		PublicKeys:     []telegram.PublicKey{{RSA: d.key}},
		DC:             2,
		DCList:         dcs.List{Options: []tg.DCOption{{ID: 2, IPAddress: d.addr.IP.String(), Port: d.addr.Port, Static: true}}},
		Resolver:       dcs.Plain(dcs.PlainOptions{Protocol: transport.Intermediate}),
		SessionStorage: &session.StorageMemory{},
		NoUpdates:      true,
	})
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 227))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// testJPEG is a w×h gradient photo.
func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
