package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// clientScript is a real client's scenario script (GramJS, Telethon,
// mtcute): run as `command script SCENARIO FILE...`, it prints its result
// as one line of JSON, the last on stdout, and logs to stderr.
type clientScript struct {
	command, script string
	dir             string        // working directory; "" for the run's own
	backstop        time.Duration // the script gives up before this itself
	env             []string      // added to the environment, FILEDC_OUT too
}

// scriptRun is what a run left: its temporary directory (the files given
// and what the script wrote), its stderr and how long it took.
type scriptRun struct {
	dir     string
	stderr  string
	elapsed time.Duration
}

// run writes files to a temporary directory, in name order, runs the
// script on them and decodes its last line of output into res. err is the
// exit's or the decoding's.
func (c clientScript) run(t *testing.T, scenario string, files map[string][]byte, res any) (scriptRun, error) {
	t.Helper()
	tmp := t.TempDir()
	args := []string{c.script, scenario}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.backstop)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.command, args...)
	cmd.Dir = c.dir
	if cmd.Dir == "" {
		cmd.Dir = tmp
	}
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = append(append(os.Environ(), "FILEDC_OUT="+tmp), c.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	run := scriptRun{dir: tmp, stderr: stderr.String(), elapsed: time.Since(start).Round(time.Millisecond)}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), res); err == nil {
		err = jerr
	}
	return run, err
}

// node returns the node binary, failing the test without one.
func node(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed")
	}
	return p
}

// serverEnv is how the Node scripts are pointed at srv as the bot.
func serverEnv(srv *dc) []string {
	return []string{
		"FILEDC_ADDR=" + srv.addr.String(),
		"FILEDC_DC=2",
		"FILEDC_PUBLIC_KEY=" + filepath.Join(srv.data, "public.pem"),
		"FILEDC_BOT_TOKEN=" + botToken,
	}
}

// nodeMessage is a message a Node client (GramJS, mtcute) read back with
// getMessages, and its document as downloaded; ids too big for a JavaScript
// number come as strings.
type nodeMessage struct {
	ID         int    `json:"id"`
	PeerUserID string `json:"peer_user_id"`
	Out        bool   `json:"out"`
	Message    string `json:"message"`
	GroupedID  string `json:"grouped_id"`
	DocID      string `json:"doc_id"`
	Size       int    `json:"size"`
	MimeType   string `json:"mime_type"`
	FileName   string `json:"file_name"`
	DCID       int    `json:"dc_id"`
	Downloaded int    `json:"downloaded"`
	SHA256     string `json:"sha256"`
}

// checkNodeDocuments checks messages read back with getMessages and
// downloaded by a Node client against the files sent, in order.
func checkNodeDocuments(t *testing.T, sent []int, msgs []nodeMessage, names []string, files map[string][]byte, caption func(string) string) {
	t.Helper()
	if len(msgs) != len(names) || len(sent) != len(names) {
		t.Fatalf("sent %v and read back %d messages, want %d", sent, len(msgs), len(names))
	}
	for i, m := range msgs {
		data := files[names[i]]
		if m.ID != sent[i] {
			t.Errorf("message %d: getMessages answered id %d, sent %d", i, m.ID, sent[i])
		}
		if m.PeerUserID != "7000001" || !m.Out {
			t.Errorf("message %d: peer %s out %v, want Saved Messages of 7000001", m.ID, m.PeerUserID, m.Out)
		}
		if m.Message != caption(names[i]) {
			t.Errorf("message %d: caption %q, want %q", m.ID, m.Message, caption(names[i]))
		}
		if m.FileName != names[i] || m.MimeType != "application/octet-stream" || m.DCID != 2 {
			t.Errorf("message %d: document %q %s on DC %d", m.ID, m.FileName, m.MimeType, m.DCID)
		}
		if m.Size != len(data) || m.Downloaded != len(data) || m.SHA256 != sha256Hex(data) {
			t.Errorf("message %d: document of %d bytes, downloaded %d bytes with SHA-256 %s; sent %d bytes with %s",
				m.ID, m.Size, m.Downloaded, m.SHA256, len(data), sha256Hex(data))
		}
	}
}
