package cdn

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/cluster"
	"github.com/filedc/filedc/internal/files"
)

// Peer is a CDN DC as a master knows it: its id, the address clients reach
// it at, and its HTTP address for pushes.
type Peer struct {
	DC   int
	Addr netip.AddrPort
	HTTP string // host:port
}

// ParsePeer parses `ID=IP:PORT@HOST:PORT`: the CDN's MTProto address, which
// clients dial, and its --http address, where the master pushes blocks.
func ParsePeer(s string) (Peer, error) {
	idText, rest, ok := strings.Cut(strings.TrimSpace(s), "=")
	mt, httpAddr, ok2 := strings.Cut(rest, "@")
	if !ok || !ok2 {
		return Peer{}, fmt.Errorf("cdn %q: want ID=IP:PORT@HTTP_HOST:PORT, such as 201=192.0.2.20:443@10.0.0.20:4431", s)
	}
	id, err := strconv.Atoi(idText)
	if err != nil || id < 1 || id > cluster.MaxDC {
		return Peer{}, fmt.Errorf("cdn %q: the DC id must be 1..%d", s, cluster.MaxDC)
	}
	addr, err := netip.ParseAddrPort(mt)
	if err != nil || addr.Port() == 0 || addr.Addr().IsUnspecified() {
		return Peer{}, fmt.Errorf("cdn %q: want an IP address and a port clients can reach", s)
	}
	if h, p, err := net.SplitHostPort(httpAddr); err != nil || h == "" || p == "" {
		return Peer{}, fmt.Errorf("cdn %q: the HTTP address must be HOST:PORT", s)
	}
	return Peer{DC: id, Addr: addr, HTTP: httpAddr}, nil
}

// Policy decides which files a master sends through its CDNs.
type Policy struct {
	// Mode is "all" (every file), "size" (files of MinSize bytes or more)
	// or "hot" (files whose download started more than HotCount times in
	// HotWindow).
	Mode      string
	MinSize   int64
	HotCount  int
	HotWindow time.Duration
}

// Validate checks a policy's mode and figures.
func (p Policy) Validate() error {
	switch p.Mode {
	case "all":
	case "size":
		if p.MinSize < 0 {
			return errors.New("--cdn-min-size must not be negative")
		}
	case "hot":
		if p.HotCount < 1 || p.HotWindow <= 0 {
			return errors.New("--cdn-policy hot needs --cdn-hot-count >= 1 and a positive --cdn-hot-window")
		}
	default:
		return fmt.Errorf("--cdn-policy %q: want all, size or hot", p.Mode)
	}
	return nil
}

// MasterConfig is what a master DC serves its CDNs with.
type MasterConfig struct {
	DCSecret []byte // the DC's secret; the keys derive from it
	Peers    []Peer
	Policy   Policy
	// TokenTTL is how long a file token stays valid (default 1 h).
	TokenTTL time.Duration
	Engine   *files.Engine
	Client   *http.Client // for pushes (default: 30 s timeout)
	Now      func() time.Time
	Logger   *slog.Logger
}

// Master is the master DC's side of its CDNs: redirects, tokens, pushes.
type Master struct {
	cfg    MasterConfig
	shared []byte
	master []byte
	hot    *hotFiles
	mu     sync.Mutex
	keys   map[int]*peerKey // by CDN DC
	pushes sync.Map         // blockKey -> *pushCall: one push of a block at a time
}

type peerKey struct {
	pem     []byte    // nil until fetched, and while the CDN is down
	retryAt time.Time // when to ask the CDN again
	warned  bool      // its being down was logged
}

// keyRefresh is how often a CDN's key is asked for again: a CDN whose data
// was lost comes back with a new key.
const keyRefresh = 5 * time.Minute

// pushAhead is how many blocks one reupload pushes: the one asked for and
// the next ones, so that a sequential download asks again once per 4 MiB.
const pushAhead = 4

// NewMaster returns the master side; it fetches the CDNs' keys lazily.
func NewMaster(cfg MasterConfig) *Master {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Master{cfg: cfg, shared: SharedSecret(cfg.DCSecret), master: masterKey(cfg.DCSecret),
		hot: newHotFiles(cfg.Policy.HotCount, cfg.Policy.HotWindow), keys: make(map[int]*peerKey)}
	for _, p := range cfg.Peers {
		m.keys[p.DC] = &peerKey{}
	}
	return m
}

// Shared returns the secret to give the CDNs (cdn.secret).
func (m *Master) Shared() []byte { return m.shared }

// DCOptions lists the CDNs for help.getConfig (dcOption.cdn).
func (m *Master) DCOptions() []tg.DCOption {
	out := make([]tg.DCOption, 0, len(m.cfg.Peers))
	for _, p := range m.cfg.Peers {
		addr := p.Addr.Addr().Unmap()
		out = append(out, tg.DCOption{ID: p.DC, IPAddress: addr.String(), Port: int(p.Addr.Port()), Ipv6: addr.Is6(), CDN: true, Static: true})
	}
	return out
}

// CDNConfig answers help.getCdnConfig: the keys of the CDNs it reached.
func (m *Master) CDNConfig(ctx context.Context) *tg.CDNConfig {
	out := &tg.CDNConfig{PublicKeys: []tg.CDNPublicKey{}}
	for _, p := range m.cfg.Peers {
		if pem := m.key(ctx, p); pem != nil {
			out.PublicKeys = append(out.PublicKeys, tg.CDNPublicKey{DCID: p.DC, PublicKey: string(pem)})
		}
	}
	return out
}

// key returns a CDN's public key, asking the CDN for it (at most every
// 10 s while it cannot be reached).
func (m *Master) key(ctx context.Context, p Peer) []byte {
	m.mu.Lock()
	k := m.keys[p.DC]
	if m.cfg.Now().Before(k.retryAt) {
		defer m.mu.Unlock()
		return k.pem
	}
	k.retryAt = m.cfg.Now().Add(retryDown) // other callers meanwhile use what is known
	m.mu.Unlock()
	return m.refresh(ctx, p, retryDown)
}

// retryDown is how long a CDN that did not answer goes without redirects
// before it is asked again.
const retryDown = 10 * time.Second

// refresh asks a CDN for its key and records the answer: the key, asked for
// again after keyRefresh, or none (the CDN is down) until retry.
func (m *Master) refresh(ctx context.Context, p Peer, retry time.Duration) []byte {
	pem, err := m.fetchKey(ctx, p)
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.keys[p.DC]
	if err != nil {
		if k.pem != nil || !k.warned {
			m.cfg.Logger.Warn("cdn: a CDN does not answer; its files are served here", "cdn", p.DC, "http", p.HTTP, "err", err)
			k.warned = true
		}
		k.pem, k.retryAt = nil, m.cfg.Now().Add(retry)
		return nil
	}
	k.pem, k.retryAt, k.warned = pem, m.cfg.Now().Add(keyRefresh), false
	return pem
}

// Watch asks every CDN for its key each interval until ctx ends, so that a
// CDN that went down stops getting redirects within an interval, and one
// that came back (perhaps with a new key) gets them again.
func (m *Master) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, p := range m.cfg.Peers {
			m.refresh(ctx, p, interval)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// down marks a CDN unreachable: its files are served by the master until
// it answers again.
func (m *Master) down(p Peer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.keys[p.DC]
	k.pem, k.retryAt = nil, m.cfg.Now().Add(retryDown)
}

func (m *Master) fetchKey(ctx context.Context, p Peer) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var raw [16]byte
	rand.Read(raw[:])
	nonce := hex.EncodeToString(raw[:])
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.HTTP+keyPath, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(headerNonce, nonce)
	resp, err := m.cfg.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	pem, err := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", keyPath, resp.Status)
	}
	sum, _ := hex.DecodeString(resp.Header.Get(headerMAC))
	if resp.Header.Get(headerDC) != strconv.Itoa(p.DC) || !bytesEqual(sum, keyMAC(m.shared, p.DC, nonce, pem)) {
		return nil, errors.New("the CDN's answer is not signed with the shared secret of DC " + strconv.Itoa(p.DC) + " (another cdn.secret?)")
	}
	return pem, nil
}

func bytesEqual(a, b []byte) bool { return len(a) > 0 && bytes.Equal(a, b) }

// Redirect answers upload.getFile with cdn_supported: a redirect to a CDN
// when the policy picks the file and a CDN is reachable, else nil (the
// master serves the file itself).
func (m *Master) Redirect(ctx context.Context, ref files.FileRef, offset int64) (*tg.UploadFileCDNRedirect, error) {
	if len(m.cfg.Peers) == 0 {
		return nil, nil
	}
	// Clients send cdn_supported with every chunk they ask the master
	// for: a file the policy keeps here costs no more than that.
	if picked, err := m.picks(ctx, ref, offset); err != nil || !picked {
		return nil, err
	}
	peer, ok := m.peerFor(ctx, ref.ID)
	if !ok {
		return nil, nil
	}
	hs, err := m.cfg.Engine.Hashes(ctx, ref, offset) // checks the file and its access hash
	if err != nil {
		return nil, err
	}
	fk := fileKey(m.master, ref.ID)
	tok := issueFileToken(m.master, m.shared, FileToken{FileID: ref.ID, AccessHash: ref.AccessHash, CDN: peer.DC,
		Expires: m.cfg.Now().Add(m.cfg.TokenTTL)})
	return &tg.UploadFileCDNRedirect{DCID: peer.DC, FileToken: tok, EncryptionKey: fk.Key[:], EncryptionIv: fk.IV[:],
		FileHashes: fileHashes(hs)}, nil
}

// picks applies the policy; only the size policy reads the file's record.
func (m *Master) picks(ctx context.Context, ref files.FileRef, offset int64) (bool, error) {
	switch m.cfg.Policy.Mode {
	case "size":
		rec, err := m.cfg.Engine.File(ctx, ref)
		return err == nil && rec.Size >= m.cfg.Policy.MinSize, err
	case "hot":
		return m.hot.hit(ref.ID, offset == 0, m.cfg.Now()), nil
	}
	return true, nil
}

// peerFor picks the CDN of a file: the same one every time while it is
// reachable, so that its cache serves every client of the file.
func (m *Master) peerFor(ctx context.Context, file int64) (Peer, bool) {
	n := len(m.cfg.Peers)
	start := int(uint64(file) % uint64(n))
	for i := range n {
		p := m.cfg.Peers[(start+i)%n]
		if m.key(ctx, p) != nil {
			return p, true
		}
	}
	return Peer{}, false
}

func (m *Master) peer(dc int) (Peer, bool) {
	for _, p := range m.cfg.Peers {
		if p.DC == dc {
			return p, true
		}
	}
	return Peer{}, false
}

// fileOf checks a file token and returns the file it names.
func (m *Master) fileOf(ctx context.Context, token []byte) (FileToken, files.FileRef, int64, error) {
	t, err := checkFileToken(m.master, m.shared, token, m.cfg.Now())
	if err != nil {
		return t, files.FileRef{}, 0, err
	}
	ref := files.FileRef{ID: t.FileID, AccessHash: t.AccessHash}
	rec, err := m.cfg.Engine.File(ctx, ref)
	if fe, ok := files.AsError(err); ok && fe == files.ErrFileIDInvalid {
		return t, ref, 0, ErrFileToken // deleted since
	}
	return t, ref, rec.Size, err
}

// Hashes answers upload.getCdnFileHashes: the SHA-256 of the plain 128 KiB
// ranges from offset.
func (m *Master) Hashes(ctx context.Context, token []byte, offset int64) ([]tg.FileHash, error) {
	_, ref, _, err := m.fileOf(ctx, token)
	if err != nil {
		return nil, err
	}
	hs, err := m.cfg.Engine.Hashes(ctx, ref, offset)
	return fileHashes(hs), err
}

// Reupload answers upload.reuploadCdnFile: it pushes the block the CDN
// asked for (and the next ones) and returns their hashes.
func (m *Master) Reupload(ctx context.Context, fileToken, requestToken []byte) ([]tg.FileHash, error) {
	ft, ref, size, err := m.fileOf(ctx, fileToken)
	if err != nil {
		return nil, err
	}
	rt, err := checkRequestToken(m.shared, requestToken, m.cfg.Now())
	if err != nil || rt.FileID != ft.FileID || rt.CDN != ft.CDN {
		return nil, ErrRequestToken
	}
	peer, ok := m.peer(rt.CDN)
	if !ok {
		return nil, ErrRequestToken
	}
	first := int64(rt.Block) * BlockSize
	end := min(first+pushAhead*BlockSize, max(size, first+1))
	// The block asked for goes last, so that it is the freshest in the
	// CDN's cache even when the cache is smaller than a push.
	for off := (end - 1) / BlockSize * BlockSize; off >= first; off -= BlockSize {
		if err := m.push(ctx, peer, ref, size, int(off/BlockSize)); errors.Is(err, errPushFailed) {
			// The client asks getFile again on FILE_TOKEN_INVALID and is
			// then served here.
			m.down(peer)
			return nil, ErrFileToken
		} else if err != nil {
			return nil, err
		}
	}
	var out []tg.FileHash
	for off := first; off < min(end, size); {
		hs, err := m.cfg.Engine.Hashes(ctx, ref, off)
		if err != nil || len(hs) == 0 {
			return out, err
		}
		for _, h := range fileHashes(hs) {
			if h.Offset < end {
				out = append(out, h)
			}
		}
		off = hs[len(hs)-1].Offset + int64(hs[len(hs)-1].Limit)
	}
	return out, nil
}

// pushCall is one push of a block in flight; callers asking for the same
// block meanwhile wait for it instead of pushing it again.
type pushCall struct {
	done chan struct{}
	err  error
}

var blockBufs = sync.Pool{New: func() any { b := make([]byte, BlockSize); return &b }}

// push encrypts one block of a file and sends it to a CDN.
func (m *Master) push(ctx context.Context, p Peer, ref files.FileRef, size int64, block int) error {
	key := blockKey{ref.ID, block}
	c := &pushCall{done: make(chan struct{})}
	if v, loaded := m.pushes.LoadOrStore(key, c); loaded {
		c = v.(*pushCall)
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() {
		m.pushes.Delete(key)
		close(c.done)
	}()
	c.err = m.sendBlock(ctx, p, ref, size, block)
	return c.err
}

func (m *Master) sendBlock(ctx context.Context, p Peer, ref files.FileRef, size int64, block int) error {
	buf := blockBufs.Get().(*[]byte)
	defer blockBufs.Put(buf)
	off := int64(block) * BlockSize
	var data []byte
	if off < size {
		chunk, err := m.cfg.Engine.Read(ctx, ref, off, BlockSize, false, *buf)
		if err != nil {
			return err
		}
		data = chunk.Bytes
		fileKey(m.master, ref.ID).XORAt(data, data, off)
	}
	if err := PushBlock(ctx, m.cfg.Client, p.HTTP, m.shared, p.DC, ref.ID, block, size, data); err != nil {
		m.cfg.Logger.Warn("cdn: push failed", "cdn", p.DC, "err", err)
		return errPushFailed
	}
	return nil
}

// PushBlock sends one encrypted block of a file to the CDN DC dc at
// httpAddr, signed with the shared secret.
func PushBlock(ctx context.Context, client *http.Client, httpAddr string, shared []byte, dc int, file int64, block int, size int64, encrypted []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+httpAddr+pushPath, bytes.NewReader(encrypted))
	if err != nil {
		return err
	}
	req.Header.Set(headerFile, strconv.FormatInt(file, 10))
	req.Header.Set(headerBlock, strconv.Itoa(block))
	req.Header.Set(headerSize, strconv.FormatInt(size, 10))
	req.Header.Set(headerMAC, hex.EncodeToString(pushMAC(shared, dc, file, block, size, encrypted)))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("push refused: %s", resp.Status)
	}
	return nil
}

// errPushFailed: the CDN could not take the block; the client may retry
// (or go back to the master, which serves the file itself).
var errPushFailed = errors.New("cdn: push failed")

func fileHashes(hs []files.RangeHash) []tg.FileHash {
	out := make([]tg.FileHash, len(hs))
	for i, h := range hs {
		out[i] = tg.FileHash{Offset: h.Offset, Limit: h.Limit, Hash: h.Hash[:]}
	}
	return out
}

// hotFiles counts the downloads that began (getFile at offset 0) of each
// file in a sliding window, for the "hot" policy. It tracks at most
// maxHotFiles files; when full, it forgets the ones quiet longest.
type hotFiles struct {
	mu     sync.Mutex
	count  int
	window time.Duration
	files  map[int64][]time.Time
}

const maxHotFiles = 1 << 16

func newHotFiles(count int, window time.Duration) *hotFiles {
	return &hotFiles{count: count, window: window, files: make(map[int64][]time.Time)}
}

// hit records a download start of file (when start) and reports whether
// the file has started more than count times within the window.
func (h *hotFiles) hit(file int64, start bool, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := h.files[file]
	for len(ts) > 0 && now.Sub(ts[0]) > h.window {
		ts = ts[1:]
	}
	if start {
		if len(h.files) >= maxHotFiles && h.files[file] == nil {
			h.sweep(now)
		}
		ts = append(ts, now)
		if len(ts) > h.count+1 {
			ts = ts[len(ts)-h.count-1:] // more are not needed to decide
		}
	}
	if len(ts) == 0 {
		delete(h.files, file)
	} else {
		h.files[file] = ts
	}
	return len(ts) > h.count
}

// sweep forgets files without a start in the window, or all when every
// file is recent (a flood of distinct files).
func (h *hotFiles) sweep(now time.Time) {
	for id, ts := range h.files {
		if now.Sub(ts[len(ts)-1]) > h.window {
			delete(h.files, id)
		}
	}
	if len(h.files) >= maxHotFiles {
		clear(h.files)
	}
}
