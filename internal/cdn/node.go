package cdn

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/cluster"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/mtproto/server"
)

// NodeConfig is what a CDN DC runs with.
type NodeConfig struct {
	DC     int
	Addr   netip.AddrPort // where clients reach it (for its help.getConfig)
	Shared []byte         // cdn.secret
	// PublicKey is the CDN's RSA public key as PEM, handed to masters.
	PublicKey []byte
	// CacheBytes bounds the encrypted blocks kept in memory.
	CacheBytes int64
	// RequestTokenTTL is how long a request token stays valid (default
	// 10 min).
	RequestTokenTTL time.Duration
	Now             func() time.Time
	Logger          *slog.Logger
}

// Node is a CDN DC: it answers upload.getCdnFile from its cache and takes
// encrypted blocks masters push to it.
type Node struct {
	cfg   NodeConfig
	cache *Cache
}

// NewNode returns a CDN DC.
func NewNode(cfg NodeConfig) *Node {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RequestTokenTTL <= 0 {
		cfg.RequestTokenTTL = 10 * time.Minute
	}
	return &Node{cfg: cfg, cache: NewCache(cfg.CacheBytes)}
}

// Cache returns the node's cache.
func (n *Node) Cache() *Cache { return n.cache }

var _ server.Handler = (*Node)(nil)

// ServeRPC implements server.Handler. A CDN DC needs no login and answers
// only getCdnFile and help.getConfig; initConnection and invokeWithLayer
// were taken off by the server (C4).
func (n *Node) ServeRPC(_ context.Context, r *server.Request) (bin.Encoder, error) {
	id, err := r.Body.PeekID()
	if err != nil {
		return nil, ErrMethod
	}
	switch id {
	case tg.UploadGetCDNFileRequestTypeID:
		var req tg.UploadGetCDNFileRequest
		if err := req.Decode(r.Body); err != nil {
			return nil, &server.RPCError{Code: 400, Message: "INPUT_REQUEST_INVALID"}
		}
		return n.getCdnFile(&req)
	case tg.HelpGetConfigRequestTypeID:
		addr := n.cfg.Addr.Addr().Unmap()
		return cluster.Config(n.cfg.DC, []tg.DCOption{{ID: n.cfg.DC, IPAddress: addr.String(), Port: int(n.cfg.Addr.Port()),
			Ipv6: addr.Is6(), CDN: true, Static: true}}, n.cfg.Now()), nil
	}
	return nil, ErrMethod
}

func (n *Node) getCdnFile(req *tg.UploadGetCDNFileRequest) (bin.Encoder, error) {
	t, err := checkFileToken(nil, n.cfg.Shared, req.FileToken, n.cfg.Now())
	if err != nil || t.CDN != n.cfg.DC {
		return nil, ErrFileToken
	}
	if err := files.CheckRange(req.Offset, req.Limit, false); err != nil {
		fe, _ := files.AsError(err)
		return nil, &server.RPCError{Code: fe.Code, Message: fe.Message}
	}
	block := int(req.Offset / BlockSize)
	data, _, ok := n.cache.Get(t.FileID, block)
	if !ok {
		return &tg.UploadCDNFileReuploadNeeded{RequestToken: issueRequestToken(n.cfg.Shared, RequestToken{
			FileID: t.FileID, Block: block, CDN: n.cfg.DC, Expires: n.cfg.Now().Add(n.cfg.RequestTokenTTL)})}, nil
	}
	from := int(req.Offset % BlockSize)
	if from >= len(data) {
		return &tg.UploadCDNFile{Bytes: []byte{}}, nil // at or past the end (D6)
	}
	return &tg.UploadCDNFile{Bytes: data[from:min(from+req.Limit, len(data))]}, nil
}

// The HTTP side, on the CDN's --http address: masters push blocks and read
// the CDN's public key. Both are authenticated with the shared secret.
const (
	pushPath     = "/cdn/v1/block"
	keyPath      = "/cdn/v1/key"
	headerFile   = "X-Filedc-File"
	headerBlock  = "X-Filedc-Block"
	headerSize   = "X-Filedc-Size"
	headerMAC    = "X-Filedc-Mac"
	headerDC     = "X-Filedc-Dc"
	headerNonce  = "X-Filedc-Nonce"
	maxNonceSize = 64
)

// pushMAC authenticates one pushed block.
func pushMAC(shared []byte, dc int, file int64, block int, size int64, body []byte) []byte {
	sum := sha256.Sum256(body)
	return mac(shared, "push", []byte(strconv.Itoa(dc)), []byte(strconv.FormatInt(file, 10)),
		[]byte(strconv.Itoa(block)), []byte(strconv.FormatInt(size, 10)), sum[:])
}

// keyMAC authenticates the CDN's answer to a master asking for its key.
func keyMAC(shared []byte, dc int, nonce string, pem []byte) []byte {
	return mac(shared, "key", []byte(strconv.Itoa(dc)), []byte(nonce), pem)
}

// Register adds the node's endpoints to mux.
func (n *Node) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+pushPath, n.servePush)
	mux.HandleFunc("GET "+keyPath, n.serveKey)
}

func (n *Node) servePush(w http.ResponseWriter, r *http.Request) {
	file, err1 := strconv.ParseInt(r.Header.Get(headerFile), 10, 64)
	block, err2 := strconv.Atoi(r.Header.Get(headerBlock))
	size, err3 := strconv.ParseInt(r.Header.Get(headerSize), 10, 64)
	sum, err4 := hex.DecodeString(r.Header.Get(headerMAC))
	if err := errors.Join(err1, err2, err3, err4); err != nil || block < 0 || size < 0 {
		http.Error(w, "bad push headers", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, BlockSize))
	if err != nil {
		http.Error(w, "a block is at most 1 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	if !hmac.Equal(sum, pushMAC(n.cfg.Shared, n.cfg.DC, file, block, size, body)) {
		http.Error(w, "push not signed with this CDN's shared secret", http.StatusForbidden)
		return
	}
	n.cache.Put(file, block, body, size)
	w.WriteHeader(http.StatusNoContent)
}

func (n *Node) serveKey(w http.ResponseWriter, r *http.Request) {
	nonce := r.Header.Get(headerNonce)
	if nonce == "" || len(nonce) > maxNonceSize {
		http.Error(w, "want a nonce", http.StatusBadRequest)
		return
	}
	w.Header().Set(headerDC, strconv.Itoa(n.cfg.DC))
	w.Header().Set(headerMAC, hex.EncodeToString(keyMAC(n.cfg.Shared, n.cfg.DC, nonce, n.cfg.PublicKey)))
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Write(n.cfg.PublicKey)
}
