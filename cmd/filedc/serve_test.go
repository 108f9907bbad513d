package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds filedc once for the tests of this package.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "filedc")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestO1_ServeRunsOnTheEmbeddedDefault(t *testing.T) {
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(bin, "serve", "--data", data, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// "filedc: data DIR, health http://ADDR/healthz"
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the start line: %v", err)
	}
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("start line %q names no health address", line)
	}
	url := strings.TrimSpace(line[i:])
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status    string `json:"status"`
		Uploads   int    `json:"uploads"`
		TempBytes int64  `json:"temp_bytes"`
	}
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || health.Status != "ok" {
		t.Fatalf("health %+v, %v", health, err)
	}
	if !strings.Contains(line, "key fingerprint ") {
		t.Fatalf("start line %q does not print the key fingerprint", line)
	}
	for _, p := range []string{"meta.db", "tmp", "files", "public.pem", "private.pem"} {
		if _, err := os.Stat(filepath.Join(data, p)); err != nil {
			t.Fatalf("the embedded store did not create %s: %v", p, err)
		}
	}

	// SIGTERM stops it cleanly.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30 s after SIGTERM")
	}
}

func TestO1_HelpListsCommandsAndFlags(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "serve") {
		t.Fatalf("filedc --help: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("filedc serve --help: %v\n%s", err, out)
	}
	for _, flag := range []string{"--data", "--listen", "--dc", "--bot-token", "FILEDC_BOT_TOKENS", "--http", "--max-parts", "--temp-budget", "--temp-min-ttl", "--temp-max-ttl", "--temp-sweep-every", "FILEDC_DATA"} {
		if !strings.Contains(string(out), flag) {
			t.Errorf("serve --help does not mention %s", flag)
		}
	}
}
