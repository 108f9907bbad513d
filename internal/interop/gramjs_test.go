package interop

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/testenv"
)

// GramJS (npm "telegram" 2.26.22) speaks layer 198. Its scenarios live in
// interop/gramjs/filedc.js; scripts/setup.d/30-gramjs.sh installs it and
// exports FILEDC_TEST_GRAMJS.
const gramjsLayer = 198

type gramjsMessage = nodeMessage

type gramjsSize = clientSize

// gramjsResult is what filedc.js prints; each scenario fills its part.
type gramjsResult struct {
	Error string `json:"error"`
	Layer int    `json:"layer"`
	Self  struct {
		ID  string `json:"id"`
		Bot bool   `json:"bot"`
	} `json:"self"`
	Sent     []int           `json:"sent"`
	Messages []gramjsMessage `json:"messages"`
	History  []int           `json:"history"`
	// photo
	ID         int          `json:"id"`
	PeerUserID string       `json:"peer_user_id"`
	Message    string       `json:"message"`
	PhotoID    string       `json:"photo_id"`
	DCID       int          `json:"dc_id"`
	Sizes      []gramjsSize `json:"sizes"`
	Full       struct {
		Downloaded int    `json:"downloaded"`
		SHA256     string `json:"sha256"`
	} `json:"full"`
	Document struct {
		gramjsMessage
		Thumbs []gramjsSize `json:"thumbs"`
	} `json:"document"`
	// chats
	Group, Channel gramjsChat
}

// gramjsChat is what the chats scenario did in one chat.
type gramjsChat struct {
	ID          string `json:"id"`
	AccessHash  string `json:"access_hash"`
	PhotoID     string `json:"photo_id"`
	FullPhotoID string `json:"full_photo_id"`
	Big, Small  struct {
		Downloaded int    `json:"downloaded"`
		SHA256     string `json:"sha256"`
	}
	Sent int `json:"sent"`
}

// runGramJS runs one scenario of filedc.js against srv as the bot botToken,
// with the files written to a temporary directory, and returns its result
// after the checks every scenario shares.
func runGramJS(t *testing.T, srv *dc, scenario string, files map[string][]byte) (*gramjsResult, string) {
	t.Helper()
	res, tmp := runGramJSWith(t, srv, scenario, files)
	if res.Self.ID != "7000001" || !res.Self.Bot {
		t.Errorf("GramJS logged in as %+v, want bot 7000001", res.Self)
	}
	return res, tmp
}

// runGramJSWith runs a scenario with more environment variables, such as
// FILEDC_PHONE to sign in as a user.
func runGramJSWith(t *testing.T, srv *dc, scenario string, files map[string][]byte, env ...string) (*gramjsResult, string) {
	t.Helper()
	dir := testenv.Require(t, "FILEDC_TEST_GRAMJS")
	// The script gives up after 4 minutes; the backstop is for node itself.
	script := clientScript{command: node(t), script: filepath.Join(dir, "filedc.js"), dir: dir, backstop: 5 * time.Minute,
		env: append(append(serverEnv(srv), "FILEDC_TIMEOUT_MS=240000"), env...)}
	var res gramjsResult
	run, err := script.run(t, scenario, files, &res)
	if err != nil || res.Error != "" {
		t.Fatalf("gramjs %s: %v\nerror: %s\nstderr:\n%s", scenario, err, res.Error, tail(run.stderr, 4000))
	}
	tmp := run.dir
	if res.Layer != gramjsLayer {
		t.Errorf("GramJS declares layer %d, want %d", res.Layer, gramjsLayer)
	}
	return &res, tmp
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestS5_GramJSFilesRoundtrip: GramJS (layer 198) logs in as a bot, uploads
// a 1 MiB file (small path) and a 30 MiB file (big path) with 4 workers,
// sends them to Saved Messages, reads them back with getMessages and
// downloads them.
func TestS5_GramJSFilesRoundtrip(t *testing.T) {
	srv := startServer(t)
	files := map[string][]byte{
		"a-small.bin": randomBytes(198, 1<<20),
		"b-big.bin":   randomBytes(199, 30<<20),
	}
	res, _ := runGramJS(t, srv, "files", files)
	checkNodeDocuments(t, res.Sent, res.Messages, []string{"a-small.bin", "b-big.bin"}, files, func(n string) string { return n })
}

// TestM3_GramJSAlbum: GramJS sends three files as one album
// (messages.uploadMedia each, then messages.sendMultiMedia), reads them back
// with getMessages and getHistory and downloads them.
func TestM3_GramJSAlbum(t *testing.T) {
	srv := startServer(t)
	files := map[string][]byte{}
	var names []string
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("part%d.bin", i)
		files[name] = randomBytes(uint64(300+i), 100<<10*(i+1)+i)
		names = append(names, name)
	}
	res, _ := runGramJS(t, srv, "album", files)
	checkNodeDocuments(t, res.Sent, res.Messages, names, files, func(n string) string { return "album " + n })
	for _, m := range res.Messages {
		if m.GroupedID == "" || m.GroupedID == "0" || m.GroupedID != res.Messages[0].GroupedID {
			t.Errorf("message %d: grouped_id %q, want one shared non-zero id", m.ID, m.GroupedID)
		}
	}
	if len(res.Messages) == 3 && res.Messages[0].DocID == res.Messages[1].DocID {
		t.Error("different files became one document")
	}
	if want := []int{res.Sent[2], res.Sent[1], res.Sent[0]}; !slices.Equal(res.History, want) {
		t.Errorf("history %v, want %v", res.History, want)
	}
}

// TestM5_GramJSPhotoWithThumbnails: GramJS sends a JPEG as a photo, reads it
// back with getMessages and downloads every size, the stripped one expanded
// by GramJS itself; then the same image as a document, with its thumbnails.
func TestM5_GramJSPhotoWithThumbnails(t *testing.T) {
	srv := startServer(t)
	img := testJPEG(t, 1000, 600)
	res, _ := runGramJS(t, srv, "photo", map[string][]byte{"photo.jpg": img})
	if len(res.Sent) != 1 || res.ID != res.Sent[0] || res.PeerUserID != "7000001" || res.Message != "a photo" || res.DCID != 2 {
		t.Errorf("photo message %d (sent %v) in %s, caption %q, DC %d", res.ID, res.Sent, res.PeerUserID, res.Message, res.DCID)
	}
	sizes := checkClientSizes(t, "GramJS", false, "photo", res.Sizes,
		map[string][2]int{"s": {100, 60}, "m": {320, 192}, "x": {800, 480}, "y": {1000, 600}})
	if y := sizes["y"]; res.Full.SHA256 != y.SHA256 || res.Full.Downloaded != y.Downloaded {
		t.Error("the photo's full download is not its largest size")
	}

	d := res.Document
	if d.ID <= res.ID || d.PeerUserID != "7000001" || !d.Out || d.Message != "as a document" {
		t.Errorf("image document: message %d in %s (out %v), caption %q", d.ID, d.PeerUserID, d.Out, d.Message)
	}
	if d.MimeType != "image/jpeg" || d.FileName != "photo.jpg" || d.DCID != 2 {
		t.Errorf("image document: %s %q on DC %d", d.MimeType, d.FileName, d.DCID)
	}
	if d.Size != len(img) || d.Downloaded != len(img) || d.SHA256 != sha256Hex(img) {
		t.Errorf("image document of %d bytes, downloaded %d with SHA-256 %s; sent %d bytes", d.Size, d.Downloaded, d.SHA256, len(img))
	}
	checkClientSizes(t, "GramJS", false, "document", d.Thumbs, map[string][2]int{"m": {320, 192}})
}
