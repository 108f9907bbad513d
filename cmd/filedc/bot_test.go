package main

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var tokenLine = regexp.MustCompile(`^(\d+):[A-Za-z0-9_-]{32}\n$`)

// TestO3_BotCommandsOnTheDataDirectory: with no server, `filedc bot` works
// on the data directory, creating it; errors say what is wrong.
func TestO3_BotCommandsOnTheDataDirectory(t *testing.T) {
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "not", "yet")
	noServer := freeAddr(t)
	bot := func(args ...string) (string, string, error) {
		return run(t, nil, bin, append([]string{"bot"}, append(args, "--data", data, "--http", noServer)...)...)
	}
	out, errOut, err := bot("add", "first_bot")
	m := tokenLine.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("bot add: %q %q %v", out, errOut, err)
	}
	if _, err := os.Stat(filepath.Join(data, "meta.db")); err != nil {
		t.Fatalf("the data directory was not made: %v", err)
	}
	out, _, err = bot("list")
	if err != nil || !strings.Contains(out, m[1]) || !strings.Contains(out, "first_bot") {
		t.Fatalf("bot list: %q %v", out, err)
	}
	out, errOut, err = bot("revoke", m[1])
	if n := tokenLine.FindStringSubmatch(out); err != nil || n == nil || n[0] == m[0] {
		t.Fatalf("bot revoke: %q %q %v; want a new token", out, errOut, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "x"}, "3 to 32 letters"},
		{[]string{"revoke", "12345"}, "no such bot"},
		{[]string{"revoke", "first_bot"}, "want the number"},
	} {
		if _, errOut, err := bot(tc.args...); err == nil || !strings.Contains(errOut, tc.want) {
			t.Errorf("bot %v: %q, %v; want an error saying %q", tc.args, errOut, err, tc.want)
		}
	}
}

// TestO3_BotCommandsAgainstARunningServer: with the server running, `filedc
// bot` goes through its admin API; pointed at a wrong --http, it says the
// data directory is in use.
func TestO3_BotCommandsAgainstARunningServer(t *testing.T) {
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	info := startReady(t, bin, "serve", "--data", data, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	out, errOut, err := run(t, nil, bin, "bot", "add", "live_bot", "--data", data, "--http", info.HTTP)
	m := tokenLine.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("bot add against the server: %q %q %v", out, errOut, err)
	}
	out, _, err = run(t, nil, bin, "bot", "list", "--data", data, "--http", info.HTTP)
	if err != nil || !strings.Contains(out, m[1]) {
		t.Fatalf("bot list against the server: %q %v", out, err)
	}
	_, errOut, err = run(t, nil, bin, "bot", "list", "--data", data, "--http", freeAddr(t))
	if err == nil || !strings.Contains(errOut, "is in use") {
		t.Fatalf("bot list on a busy data directory: %q %v; want it to say the directory is in use", errOut, err)
	}
	_, errOut, err = run(t, nil, bin, "bot", "list", "--data", t.TempDir(), "--http", info.HTTP, "--admin-token", "wrong")
	if err == nil || !strings.Contains(errOut, "admin token") {
		t.Fatalf("bot list with a wrong token: %q %v", errOut, err)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
