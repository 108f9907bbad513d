package interop

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gotd/td/crypto"

	"github.com/filedc/filedc/internal/testenv"
)

// mtcute (npm "@mtcute/node" 0.30.3) speaks layer 227. Its scenarios live in
// interop/mtcute/filedc.mjs; scripts/setup.d/32-mtcute.sh installs it and
// exports FILEDC_TEST_MTCUTE.
const mtcuteLayer = 227

// mtcuteKnownErrors are the RPC errors mtcute gets in every run, and why.
// Any other fails the test.
var mtcuteKnownErrors = map[string]string{
	// tg.start checks its session with users.getUsers([self]) before it
	// logs in.
	"users.getUsers: AUTH_KEY_UNREGISTERED": "",
	// After a login mtcute's update loop calls updates.getState, then
	// updates.getDifference, which filedc does not route: the loop does not
	// start (mtcute logs "failed to fetch updates state"); calls and their
	// answers are not affected.
	"updates.getDifference: INPUT_METHOD_INVALID": "filedc has no updates.getDifference, so mtcute's update loop does not start",
}

type mtcuteMessage = nodeMessage

// mtcuteResult is what filedc.mjs prints; each scenario fills its part.
type mtcuteResult struct {
	Error         string `json:"error"`
	Layer         int    `json:"layer"`
	DeclaredLayer int    `json:"declared_layer"`
	Self          struct {
		ID  string `json:"id"`
		Bot bool   `json:"bot"`
	} `json:"self"`
	Me struct {
		ID       string `json:"id"`
		Bot      bool   `json:"bot"`
		Username string `json:"username"`
	} `json:"me"`
	Calls          map[string]int `json:"calls"`
	RPCErrors      map[string]int `json:"rpc_errors"`
	UnknownObjects []struct {
		ID    string `json:"id"`
		Phase string `json:"phase"`
	} `json:"unknown_objects"`
	// files, album
	Sent     []int           `json:"sent"`
	Messages []mtcuteMessage `json:"messages"`
	History  []int           `json:"history"`
	// photo, hashes: the message and its media
	mtcuteMessage
	PhotoID string       `json:"photo_id"`
	Width   int          `json:"width"`
	Height  int          `json:"height"`
	Sizes   []clientSize `json:"sizes"`
	Full    struct {
		Downloaded int    `json:"downloaded"`
		SHA256     string `json:"sha256"`
	} `json:"full"`
	Document struct {
		mtcuteMessage
		Thumbs []clientSize `json:"thumbs"`
	} `json:"document"`
	// hashes
	Hashes    []telethonHash `json:"hashes"`
	HashCalls int            `json:"hash_calls"`
	Inner     []telethonHash `json:"inner"`
}

// runMtcute runs one scenario of filedc.mjs against srv as the bot
// botToken, with the files written to a temporary directory, and returns
// its result after the checks every scenario shares.
func runMtcute(t *testing.T, srv *dc, scenario string, files map[string][]byte) (*mtcuteResult, string) {
	t.Helper()
	dir := testenv.Require(t, "FILEDC_TEST_MTCUTE")
	// The script gives up after 50 s (mtcute retries a failing connection
	// for ever); the backstop is for node itself.
	script := clientScript{command: node(t), script: filepath.Join(dir, "filedc.mjs"), dir: dir, backstop: 60 * time.Second,
		env: append(serverEnv(srv), "FILEDC_TIMEOUT_MS=50000")}
	var res mtcuteResult
	run, err := script.run(t, scenario, files, &res)
	if err != nil || res.Error != "" {
		t.Fatalf("mtcute %s: %v\nerror: %s\ncalls: %v\nrpc errors: %v\nstderr:\n%s",
			scenario, err, res.Error, res.Calls, res.RPCErrors, tail(run.stderr, 4000))
	}
	tmp := run.dir
	t.Logf("mtcute %s: %s, calls %v", scenario, run.elapsed, res.Calls)
	if res.Layer != mtcuteLayer || res.DeclaredLayer != mtcuteLayer {
		t.Errorf("mtcute's schema is layer %d and it declares %d, want %d", res.Layer, res.DeclaredLayer, mtcuteLayer)
	}
	if res.Self.ID != "7000001" || !res.Self.Bot || res.Me.ID != "7000001" || !res.Me.Bot {
		t.Errorf("mtcute logged in as %+v, getMe answered %+v; want bot 7000001", res.Self, res.Me)
	}
	for e, n := range res.RPCErrors {
		why, known := mtcuteKnownErrors[e]
		switch {
		case !known:
			t.Errorf("mtcute got %s (%d times)", e, n)
		case why != "":
			t.Logf("known: %s: %s", e, why)
		}
	}
	// mtcute sends users.getUsers unwrapped beside
	// invokeWithLayer(227, initConnection(...)) in its first container: the
	// login answer must come in 227 (TestS5_ReloadKeepsALayerNotStoredYet).
	for _, u := range res.UnknownObjects {
		t.Errorf("mtcute could not decode constructor %s the server sent (%s)", u.ID, u.Phase)
	}
	return &res, tmp
}

// startServerWithLeadingZeroKey runs `filedc serve` on an RSA key whose
// fingerprint, as 16 hex digits, starts with 0.
func startServerWithLeadingZeroKey(t *testing.T) *dc {
	t.Helper()
	var key *rsa.PrivateKey
	for tries := 0; key == nil; tries++ {
		if tries == 200 {
			t.Fatal("no key with a leading zero fingerprint in 200 tries")
		}
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(crypto.RSAFingerprint(&k.PublicKey))>>60 == 0 {
			key = k
		}
	}
	data := t.TempDir()
	der := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(data, "private.pem"), der, 0o600); err != nil {
		t.Fatal(err)
	}
	p := launch(t, append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--dc", "2", "--bot-token", botToken}, backendFlags(t, data)...)...)
	srv := &dc{addr: p.addr, data: data, key: readPublicKey(t, filepath.Join(data, "public.pem")), pid: p.cmd.Process.Pid}
	if !srv.key.Equal(&key.PublicKey) {
		t.Fatal("the server published another key")
	}
	return srv
}

// TestS2_MtcuteConnectsWithAnyServerKey: mtcute trusts the server's
// public.pem and logs in as a bot, with the connect code docs/clients.md
// quotes, on a key whose fingerprint starts with a zero hex digit: mtcute
// 0.30 looks the fingerprint of resPQ up without leading zeros, and
// addPublicKey alone files the key under 16 digits (a key like this, one in
// 16, would fail "Could not find server public key").
func TestS2_MtcuteConnectsWithAnyServerKey(t *testing.T) {
	srv := startServerWithLeadingZeroKey(t)
	t.Logf("key fingerprint %016x", uint64(crypto.RSAFingerprint(srv.key)))
	res, _ := runMtcute(t, srv, "login", nil)
	if res.Me.Username != "bot7000001_bot" {
		t.Errorf("getMe answered username %q", res.Me.Username)
	}
	if res.Calls["auth.importBotAuthorization"] < 1 || res.Calls["users.getUsers"] < 2 || res.Calls["updates.getState"] != 1 {
		t.Errorf("calls %v: want importBotAuthorization, getUsers before the login and for getMe, getState", res.Calls)
	}
}

// TestS5_MtcuteLayer227RoundTrip: mtcute (layer 227) logs in as a bot,
// uploads a 1 MiB file (saveFilePart) and a 30 MiB file (saveBigFilePart),
// sends them to Saved Messages as documents, reads them back with
// getMessages and downloads them.
func TestS5_MtcuteLayer227RoundTrip(t *testing.T) {
	srv := startServer(t)
	files := map[string][]byte{
		"a-small.bin": randomBytes(227, 1<<20),
		"b-big.bin":   randomBytes(228, 30<<20),
	}
	res, _ := runMtcute(t, srv, "files", files)
	checkNodeDocuments(t, res.Sent, res.Messages, []string{"a-small.bin", "b-big.bin"}, files, func(n string) string { return n })
	// 128 KiB parts: 8 small ones, 240 big ones; the downloads in as many
	// chunks.
	if res.Calls["upload.saveFilePart"] != 8 || res.Calls["upload.saveBigFilePart"] != 240 ||
		res.Calls["messages.sendMedia"] != 2 || res.Calls["upload.getFile"] < 248 {
		t.Errorf("calls %v: want 8 saveFilePart, 240 saveBigFilePart, 2 sendMedia, 248 getFile", res.Calls)
	}
}

// TestM3_MtcuteAlbum: mtcute sends three files as one album
// (sendMediaGroup: messages.uploadMedia each, then messages.sendMultiMedia),
// reads them back with getMessages and getHistory and downloads them.
func TestM3_MtcuteAlbum(t *testing.T) {
	srv := startServer(t)
	files := map[string][]byte{}
	var names []string
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("part%d.bin", i)
		files[name] = randomBytes(uint64(500+i), 100<<10*(i+1)+i)
		names = append(names, name)
	}
	res, _ := runMtcute(t, srv, "album", files)
	checkNodeDocuments(t, res.Sent, res.Messages, names, files, func(n string) string { return "album " + n })
	for _, m := range res.Messages {
		if m.GroupedID == "" || m.GroupedID == "0" || m.GroupedID != res.Messages[0].GroupedID {
			t.Errorf("message %d: grouped_id %q, want one shared non-zero id", m.ID, m.GroupedID)
		}
	}
	if len(res.Messages) == 3 && (res.Messages[0].DocID == res.Messages[1].DocID || res.Messages[1].DocID == res.Messages[2].DocID) {
		t.Error("different files became one document")
	}
	if want := []int{res.Sent[2], res.Sent[1], res.Sent[0]}; !slices.Equal(res.History, want) {
		t.Errorf("history %v, want %v", res.History, want)
	}
	if res.Calls["messages.uploadMedia"] != 3 || res.Calls["messages.sendMultiMedia"] != 1 {
		t.Errorf("calls %v, want 3 uploadMedia and 1 sendMultiMedia", res.Calls)
	}
}

// TestM5_MtcutePhotoWithSizes: mtcute sends a JPEG as a photo, reads it back
// with getMessages and downloads every size (the stripped one expanded by
// mtcute itself) and the photo (its largest size); then the same image as a
// document, with its thumbnails.
func TestM5_MtcutePhotoWithSizes(t *testing.T) {
	srv := startServer(t)
	img := testJPEG(t, 1000, 600)
	res, _ := runMtcute(t, srv, "photo", map[string][]byte{"photo.jpg": img})
	if len(res.Sent) != 1 || res.ID != res.Sent[0] || res.PeerUserID != "7000001" || !res.Out || res.Message != "a photo" || res.DCID != 2 {
		t.Errorf("photo message %d (sent %v) in %s, caption %q, DC %d", res.ID, res.Sent, res.PeerUserID, res.Message, res.DCID)
	}
	if res.PhotoID == "" || res.Width != 1000 || res.Height != 600 {
		t.Errorf("photo %s of %dx%d, want 1000x600", res.PhotoID, res.Width, res.Height)
	}
	sizes := checkClientSizes(t, "mtcute", false, "photo", res.Sizes,
		map[string][2]int{"s": {100, 60}, "m": {320, 192}, "x": {800, 480}, "y": {1000, 600}})
	if y := sizes["y"]; res.Full.SHA256 != y.SHA256 || res.Full.Downloaded != y.Downloaded {
		t.Error("the photo's download is not its largest size")
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
	checkClientSizes(t, "mtcute", false, "document", d.Thumbs, map[string][2]int{"m": {320, 192}})
}

// TestD9_MtcuteFileHashes: mtcute's raw upload.getFileHashes
// (tg.call({_: 'upload.getFileHashes'})) on a document of 3 MiB and a bit,
// from offset 0 to the end (8 ranges per answer) and from inside range 3,
// against the SHA-256 of each 128 KiB range.
func TestD9_MtcuteFileHashes(t *testing.T) {
	srv := startServer(t)
	data := randomBytes(229, 3<<20+12345)
	res, _ := runMtcute(t, srv, "hashes", map[string][]byte{"hashes.bin": data})
	if res.Size != len(data) || res.DCID != 2 || res.FileName != "hashes.bin" {
		t.Errorf("document of %d bytes %q on DC %d", res.Size, res.FileName, res.DCID)
	}
	checkTelethonHashes(t, "from offset 0", res.Hashes, data, 0)
	if want := (len(res.Hashes) + 7) / 8; res.HashCalls != want {
		t.Errorf("%d hashes in %d calls, want %d", len(res.Hashes), res.HashCalls, want)
	}
	// An offset inside range 3 starts with range 3; the answer may stop
	// before the end of the file.
	if len(res.Inner) == 0 {
		t.Fatal("no hashes from inside range 3")
	}
	checkTelethonHashes(t, "from inside range 3", res.Inner, data[:min(len(data), (3+len(res.Inner))*128<<10)], 3)
}
