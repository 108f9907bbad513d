package cdn_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/backend"
	"github.com/filedc/filedc/internal/cdn"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/store"
)

// clock is a settable time for token expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// rig is a master and a CDN node in one process, the node behind a real
// HTTP server, with one stored file.
type rig struct {
	master *cdn.Master
	node   *cdn.Node
	engine *files.Engine
	ref    files.FileRef
	data   []byte
	clock  *clock
	pushes *int64
	// closeCDN stops the CDN's HTTP server, as if the CDN went down.
	closeCDN func()
}

const cdnDC = 201

func newRig(t *testing.T, size int, policy cdn.Policy, cacheBytes int64) *rig {
	t.Helper()
	ctx := context.Background()
	b, err := backend.OpenEmbedded(ctx, t.TempDir(), files.Config{DC: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	data := make([]byte, size)
	rnd := rand.New(rand.NewPCG(uint64(size), 1))
	for i := range data {
		data[i] = byte(rnd.Uint32())
	}
	const part = 512 << 10
	key := store.UploadKey{Owner: 1, FileID: 77, Big: true}
	parts := (size + part - 1) / part
	for i := 0; i < parts; i++ {
		if err := b.Engine.SavePart(ctx, files.SavePart{Key: key, Part: i, TotalParts: int32(parts), Data: data[i*part : min((i+1)*part, size)]}); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := b.Engine.Finalize(ctx, files.Finalize{Key: key, Parts: parts, Name: "f"})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	secret := bytes.Repeat([]byte{7}, 32)
	node := cdn.NewNode(cdn.NodeConfig{DC: cdnDC, Addr: netip.MustParseAddrPort("127.0.0.1:1"), Shared: cdn.SharedSecret(secret),
		PublicKey: []byte("-----BEGIN RSA PUBLIC KEY-----\n-----END RSA PUBLIC KEY-----\n"), CacheBytes: cacheBytes, Now: clk.now})
	var pushes int64
	var mu sync.Mutex
	mux := http.NewServeMux()
	node.Register(mux)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			mu.Lock()
			pushes++
			mu.Unlock()
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	peer, err := cdn.ParsePeer("201=127.0.0.1:4440@" + strings.TrimPrefix(hs.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	m := cdn.NewMaster(cdn.MasterConfig{DCSecret: secret, Peers: []cdn.Peer{peer}, Policy: policy, TokenTTL: time.Minute,
		Engine: b.Engine, Now: clk.now})
	return &rig{master: m, node: node, engine: b.Engine, ref: files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash},
		data: data, clock: clk, pushes: &pushes, closeCDN: hs.Close}
}

// getCdnFile calls the node as a client would.
func (r *rig) getCdnFile(t *testing.T, token []byte, offset int64, limit int) (tg.UploadCDNFileClass, error) {
	t.Helper()
	var b bin.Buffer
	if err := (&tg.UploadGetCDNFileRequest{FileToken: token, Offset: offset, Limit: limit}).Encode(&b); err != nil {
		t.Fatal(err)
	}
	res, err := r.node.ServeRPC(context.Background(), &server.Request{Body: &b})
	if err != nil {
		return nil, err
	}
	return res.(tg.UploadCDNFileClass), nil
}

// decrypt is AES-256-CTR written out from the rule (C2), independently of
// the package: the IV's last 4 bytes are offset/16, big-endian.
func decrypt(redirect *tg.UploadFileCDNRedirect, offset int64, data []byte) []byte {
	block, _ := aes.NewCipher(redirect.EncryptionKey)
	iv := append([]byte(nil), redirect.EncryptionIv...)
	binary.BigEndian.PutUint32(iv[12:], uint32(offset/16))
	out := make([]byte, len(data))
	cipher.NewCTR(block, iv).XORKeyStream(out, data)
	return out
}

func wantRPC(t *testing.T, what string, err error, msg string) {
	t.Helper()
	var re *server.RPCError
	if !errors.As(err, &re) || re.Message != msg {
		t.Fatalf("%s: %v, want %s", what, err, msg)
	}
}

// read fetches a range through the CDN, asking the master to reupload
// when the CDN lacks it, and checks it against the hashes the master gives.
func (r *rig) read(t *testing.T, redirect *tg.UploadFileCDNRedirect, offset int64, limit int) []byte {
	t.Helper()
	for range 3 {
		res, err := r.getCdnFile(t, redirect.FileToken, offset, limit)
		if err != nil {
			t.Fatalf("getCdnFile(%d, %d): %v", offset, limit, err)
		}
		switch res := res.(type) {
		case *tg.UploadCDNFile:
			return decrypt(redirect, offset, res.Bytes)
		case *tg.UploadCDNFileReuploadNeeded:
			if _, err := r.master.Reupload(context.Background(), redirect.FileToken, res.RequestToken); err != nil {
				t.Fatalf("reupload: %v", err)
			}
		}
	}
	t.Fatalf("getCdnFile(%d): still not on the CDN after reuploads", offset)
	return nil
}

// Rules D8, C1–C3: a redirected download reads the whole file through the
// CDN, which is pushed the blocks it lacks, and every 128 KiB range matches
// the master's hashes.
func TestC1_RedirectReuploadAndReadThroughTheCDN(t *testing.T) {
	r := newRig(t, 5<<20+12345, cdn.Policy{Mode: "all"}, 64<<20)
	ctx := context.Background()
	redirect, err := r.master.Redirect(ctx, r.ref, 0)
	if err != nil || redirect == nil {
		t.Fatalf("redirect: %v %v", redirect, err)
	}
	if redirect.DCID != cdnDC || len(redirect.EncryptionKey) != 32 || len(redirect.EncryptionIv) != 16 || len(redirect.FileHashes) != 8 {
		t.Fatalf("redirect %+v", redirect)
	}
	var got []byte
	const limit = 512 << 10
	for off := int64(0); ; off += limit {
		chunk := r.read(t, redirect, off, limit)
		got = append(got, chunk...)
		if len(chunk) < limit {
			break
		}
	}
	if !bytes.Equal(got, r.data) {
		t.Fatalf("read %d bytes through the CDN that differ from the %d stored", len(got), len(r.data))
	}
	// Six 1 MiB blocks, pushed 4 at a time: two reuploads, six pushes.
	if *r.pushes != 6 {
		t.Errorf("%d pushes for 6 blocks", *r.pushes)
	}
	for off := int64(0); off < int64(len(r.data)); {
		hs, err := r.master.Hashes(ctx, redirect.FileToken, off)
		if err != nil || len(hs) == 0 {
			t.Fatalf("getCdnFileHashes(%d): %v %v", off, hs, err)
		}
		for _, h := range hs {
			end := min(h.Offset+int64(h.Limit), int64(len(r.data)))
			if sum := sha256.Sum256(r.data[h.Offset:end]); !bytes.Equal(sum[:], h.Hash) {
				t.Fatalf("hash of %d is not of the plain bytes", h.Offset)
			}
			off = h.Offset + int64(h.Limit)
		}
	}
	// The CDN keeps only encrypted bytes: none of its blocks holds the plain ones.
	st := r.node.Cache().Stats()
	if st.Blocks != 6 {
		t.Fatalf("cache holds %d blocks", st.Blocks)
	}
	res, _ := r.getCdnFile(t, redirect.FileToken, 0, 4096)
	if bytes.Equal(res.(*tg.UploadCDNFile).Bytes, r.data[:4096]) {
		t.Fatal("the CDN holds plain content")
	}
}

// Rule C2: the IV is encryption_iv with its last 4 bytes replaced by
// offset/16, at any offset a client may ask for.
func TestC2_IVRuleAtSeveralOffsets(t *testing.T) {
	r := newRig(t, 3<<20, cdn.Policy{Mode: "all"}, 64<<20)
	redirect, err := r.master.Redirect(context.Background(), r.ref, 0)
	if err != nil || redirect == nil {
		t.Fatal(redirect, err)
	}
	for _, c := range []struct {
		off   int64
		limit int
	}{{0, 4096}, {4096, 4096}, {128 << 10, 128 << 10}, {512 << 10, 512 << 10}, {1 << 20, 1 << 20}, {(2 << 20) + 8192, 8192}, {(3 << 20) - 4096, 4096}} {
		got := r.read(t, redirect, c.off, c.limit)
		if !bytes.Equal(got, r.data[c.off:c.off+int64(c.limit)]) {
			t.Errorf("offset %d limit %d: wrong bytes after decryption", c.off, c.limit)
		}
	}
	// Past the end: empty bytes, as upload.getFile answers (D6).
	if got := r.read(t, redirect, 3<<20, 4096); len(got) != 0 {
		t.Errorf("past the end: %d bytes", len(got))
	}
	// The D2–D4 alignment rules hold on the CDN.
	_, err = r.getCdnFile(t, redirect.FileToken, 1000, 4096)
	wantRPC(t, "unaligned offset", err, "OFFSET_INVALID")
	_, err = r.getCdnFile(t, redirect.FileToken, 0, 3000)
	wantRPC(t, "unaligned limit", err, "LIMIT_INVALID")
	_, err = r.getCdnFile(t, redirect.FileToken, (1<<20)-4096, 8192)
	wantRPC(t, "a limit across a 1 MiB boundary", err, "LIMIT_INVALID")
}

// Rule C3: a file token expires, and one that is forged or altered is
// refused by the CDN and by the master.
func TestC3_ExpiredAndForgedFileTokens(t *testing.T) {
	r := newRig(t, 1<<20, cdn.Policy{Mode: "all"}, 64<<20)
	ctx := context.Background()
	redirect, err := r.master.Redirect(ctx, r.ref, 0)
	if err != nil || redirect == nil {
		t.Fatal(redirect, err)
	}
	r.read(t, redirect, 0, 4096) // valid: the block is now on the CDN
	for i := range redirect.FileToken {
		forged := bytes.Clone(redirect.FileToken)
		forged[i] ^= 0x40
		_, err := r.getCdnFile(t, forged, 0, 4096)
		_, merr := r.master.Hashes(ctx, forged, 0)
		wantRPC(t, "master, forged token", merr, "FILE_TOKEN_INVALID") // it checks both MACs
		if i < 29 || i >= 29+16 {                                      // the body and the shared MAC; the master's the CDN cannot tell
			wantRPC(t, "CDN, forged token", err, "FILE_TOKEN_INVALID")
		}
	}
	_, err = r.getCdnFile(t, []byte("not a token"), 0, 4096)
	wantRPC(t, "CDN, garbage", err, "FILE_TOKEN_INVALID")
	_, err = r.master.Hashes(ctx, nil, 0)
	wantRPC(t, "master, empty token", err, "FILE_TOKEN_INVALID")

	r.clock.add(time.Minute + time.Second)
	_, err = r.getCdnFile(t, redirect.FileToken, 0, 4096)
	wantRPC(t, "CDN, expired token", err, "FILE_TOKEN_INVALID")
	_, err = r.master.Hashes(ctx, redirect.FileToken, 0)
	wantRPC(t, "master, expired token", err, "FILE_TOKEN_INVALID")
	_, err = r.master.Reupload(ctx, redirect.FileToken, []byte{1})
	wantRPC(t, "reupload, expired token", err, "FILE_TOKEN_INVALID")
	// A new redirect carries a fresh token.
	fresh, err := r.master.Redirect(ctx, r.ref, 0)
	if err != nil || fresh == nil {
		t.Fatal(err)
	}
	if got := r.read(t, fresh, 0, 4096); !bytes.Equal(got, r.data[:4096]) {
		t.Fatal("fresh token: wrong bytes")
	}
}

// Rule C3: reuploadCdnFile takes only a request token the CDN issued for
// that file, before it expires.
func TestC3_WrongRequestToken(t *testing.T) {
	r := newRig(t, 3<<20, cdn.Policy{Mode: "all"}, 64<<20)
	ctx := context.Background()
	redirect, _ := r.master.Redirect(ctx, r.ref, 0)
	res, err := r.getCdnFile(t, redirect.FileToken, 0, 4096)
	if err != nil {
		t.Fatal(err)
	}
	need, ok := res.(*tg.UploadCDNFileReuploadNeeded)
	if !ok {
		t.Fatalf("an empty CDN answered %T", res)
	}
	for i := range need.RequestToken {
		forged := bytes.Clone(need.RequestToken)
		forged[i] ^= 1
		_, err := r.master.Reupload(ctx, redirect.FileToken, forged)
		wantRPC(t, "forged request token", err, "REQUEST_TOKEN_INVALID")
	}
	_, err = r.master.Reupload(ctx, redirect.FileToken, nil)
	wantRPC(t, "empty request token", err, "REQUEST_TOKEN_INVALID")
	// A request token of another file (here: another stored file).
	other := newRig(t, 1<<20, cdn.Policy{Mode: "all"}, 64<<20)
	otherRedirect, _ := other.master.Redirect(ctx, other.ref, 0)
	_, err = r.master.Reupload(ctx, redirect.FileToken, mustNeed(t, other, otherRedirect.FileToken).RequestToken)
	wantRPC(t, "a request token of another file", err, "REQUEST_TOKEN_INVALID")
	if *r.pushes != 0 {
		t.Fatalf("%d pushes for refused reuploads", *r.pushes)
	}
	r.clock.add(11 * time.Minute)
	fresh, _ := r.master.Redirect(ctx, r.ref, 0)
	_, err = r.master.Reupload(ctx, fresh.FileToken, need.RequestToken)
	wantRPC(t, "expired request token", err, "REQUEST_TOKEN_INVALID")
	if _, err := r.master.Reupload(ctx, fresh.FileToken, mustNeed(t, r, fresh.FileToken).RequestToken); err != nil {
		t.Fatalf("a valid request token: %v", err)
	}
}

func mustNeed(t *testing.T, r *rig, token []byte) *tg.UploadCDNFileReuploadNeeded {
	t.Helper()
	res, err := r.getCdnFile(t, token, 0, 4096)
	if err != nil {
		t.Fatal(err)
	}
	need, ok := res.(*tg.UploadCDNFileReuploadNeeded)
	if !ok {
		t.Fatalf("%T", res)
	}
	return need
}

// Rule C4: a CDN DC answers getCdnFile and help.getConfig without a login,
// and CDN_METHOD_INVALID to everything else.
func TestC4_CDNMethodInvalid(t *testing.T) {
	r := newRig(t, 4096, cdn.Policy{Mode: "all"}, 1<<20)
	for _, req := range []bin.Encoder{
		&tg.UploadGetFileRequest{Location: &tg.InputDocumentFileLocation{ID: 1}, Limit: 4096},
		&tg.UsersGetUsersRequest{ID: []tg.InputUserClass{&tg.InputUserSelf{}}},
		&tg.AuthImportBotAuthorizationRequest{BotAuthToken: "1:x"},
		&tg.UploadSaveFilePartRequest{FileID: 1, Bytes: []byte{1}},
		&tg.HelpGetCDNConfigRequest{},
		&tg.UploadReuploadCDNFileRequest{},
	} {
		var b bin.Buffer
		req.Encode(&b)
		_, err := r.node.ServeRPC(context.Background(), &server.Request{Body: &b})
		wantRPC(t, "a method other than getCdnFile", err, "CDN_METHOD_INVALID")
	}
	var b bin.Buffer
	(&tg.HelpGetConfigRequest{}).Encode(&b)
	res, err := r.node.ServeRPC(context.Background(), &server.Request{Body: &b})
	if err != nil {
		t.Fatal(err)
	}
	if cfg := res.(*tg.Config); cfg.ThisDC != cdnDC || len(cfg.DCOptions) != 1 || !cfg.DCOptions[0].CDN {
		t.Fatalf("config %+v", cfg.DCOptions)
	}
}

// Rule C4: the cache never holds more than its budget; the least recently
// used blocks go first, and an evicted block is pushed again on demand.
func TestC4_CacheBound(t *testing.T) {
	c := cdn.NewCache(3<<20 + 3*1024)
	block := make([]byte, 1<<20)
	for i := range 3 {
		c.Put(1, i, block, 5<<20)
	}
	c.Get(1, 0) // block 0 is now the most recently used
	c.Put(1, 3, block, 5<<20)
	st := c.Stats()
	if st.Blocks != 3 || st.Bytes > st.Max || st.Evictions != 1 {
		t.Fatalf("stats %+v", st)
	}
	if _, _, ok := c.Get(1, 1); ok {
		t.Fatal("the least recently used block was kept")
	}
	for _, i := range []int{0, 2, 3} {
		if _, _, ok := c.Get(1, i); !ok {
			t.Fatalf("block %d evicted", i)
		}
	}
	for i := range 1000 {
		c.Put(2, i, block[:4096], 1<<30)
		if st := c.Stats(); st.Bytes > st.Max {
			t.Fatalf("over budget: %+v", st)
		}
	}
	c.Put(3, 0, make([]byte, 4<<20), 4<<20) // larger than the whole cache: not kept
	if _, _, ok := c.Get(3, 0); ok {
		t.Fatal("a block larger than the cache was kept")
	}

	// Through a node: a 2-block cache serving a 5 MiB file still reads it
	// whole, pushing evicted blocks again.
	r := newRig(t, 5<<20, cdn.Policy{Mode: "all"}, 2<<20+2*1024)
	redirect, _ := r.master.Redirect(context.Background(), r.ref, 0)
	for round := range 2 {
		for off := int64(0); off < 5<<20; off += 1 << 20 {
			if got := r.read(t, redirect, off, 1<<20); !bytes.Equal(got, r.data[off:off+1<<20]) {
				t.Fatalf("round %d offset %d: wrong bytes", round, off)
			}
			if st := r.node.Cache().Stats(); st.Bytes > st.Max {
				t.Fatalf("over budget: %+v", st)
			}
		}
	}
}

// Rule D8: the policy decides which files go through a CDN.
func TestD8_Policy(t *testing.T) {
	ctx := context.Background()
	small := newRig(t, 1<<20, cdn.Policy{Mode: "size", MinSize: 2 << 20}, 1<<20)
	if rd, err := small.master.Redirect(ctx, small.ref, 0); err != nil || rd != nil {
		t.Fatalf("size policy, small file: %v %v", rd, err)
	}
	big := newRig(t, 2<<20, cdn.Policy{Mode: "size", MinSize: 2 << 20}, 1<<20)
	if rd, err := big.master.Redirect(ctx, big.ref, 0); err != nil || rd == nil {
		t.Fatalf("size policy, big file: %v %v", rd, err)
	}
	hot := newRig(t, 1<<20, cdn.Policy{Mode: "hot", HotCount: 2, HotWindow: time.Minute}, 1<<20)
	for i, want := range []bool{false, false, true, true} {
		rd, err := hot.master.Redirect(ctx, hot.ref, 0)
		if err != nil || (rd != nil) != want {
			t.Fatalf("hot policy, download %d: redirect %v, want %v", i+1, rd != nil, want)
		}
	}
	hot.clock.add(2 * time.Minute) // the window has passed: cold again
	if rd, _ := hot.master.Redirect(ctx, hot.ref, 0); rd != nil {
		t.Fatal("hot policy: a file cold again still redirected")
	}
	if err := (cdn.Policy{Mode: "hot"}).Validate(); err == nil {
		t.Fatal("a hot policy without a count passed")
	}
	if err := (cdn.Policy{Mode: "some"}).Validate(); err == nil {
		t.Fatal("an unknown policy passed")
	}
}

// Rule C4: pushes not signed with the shared secret are refused.
func TestC4_UnsignedPushRefused(t *testing.T) {
	node := cdn.NewNode(cdn.NodeConfig{DC: cdnDC, Shared: bytes.Repeat([]byte{1}, 32), CacheBytes: 1 << 20})
	mux := http.NewServeMux()
	node.Register(mux)
	req := httptest.NewRequest(http.MethodPost, "/cdn/v1/block", strings.NewReader("evil"))
	req.Header.Set("X-Filedc-File", "1")
	req.Header.Set("X-Filedc-Block", "0")
	req.Header.Set("X-Filedc-Size", "4")
	req.Header.Set("X-Filedc-Mac", "00112233")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden || node.Cache().Stats().Blocks != 0 {
		t.Fatalf("unsigned push: %d, %+v", w.Code, node.Cache().Stats())
	}
}

// Rule D8: a CDN that cannot take a push is marked down: the reupload
// answers FILE_TOKEN_INVALID (gotd then asks the master's getFile again),
// and the master serves the file itself until the CDN answers again.
func TestD8_UnreachableCDNFallsBackToTheMaster(t *testing.T) {
	r := newRig(t, 2<<20, cdn.Policy{Mode: "all"}, 64<<20)
	ctx := context.Background()
	redirect, err := r.master.Redirect(ctx, r.ref, 0)
	if err != nil || redirect == nil {
		t.Fatal(redirect, err)
	}
	need := mustNeed(t, r, redirect.FileToken)
	r.closeCDN()
	_, err = r.master.Reupload(ctx, redirect.FileToken, need.RequestToken)
	wantRPC(t, "reupload to a CDN that is down", err, "FILE_TOKEN_INVALID")
	if rd, err := r.master.Redirect(ctx, r.ref, 0); err != nil || rd != nil {
		t.Fatalf("redirect while the CDN is down: %v %v", rd, err)
	}
	if cfg := r.master.CDNConfig(ctx); len(cfg.PublicKeys) != 0 {
		t.Fatalf("getCdnConfig lists a CDN that is down: %+v", cfg.PublicKeys)
	}
}
