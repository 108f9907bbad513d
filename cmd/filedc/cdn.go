package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/filedc/filedc/internal/cdn"
	"github.com/filedc/filedc/internal/cluster"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/mtproto/handshake"
	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/mtproto/session"
	"github.com/filedc/filedc/internal/ready"
	"github.com/filedc/filedc/internal/serverkey"
	"github.com/filedc/filedc/internal/store/bolt"
)

// cdnOptions are the flags of CDN DCs: running one (--cdn) or sending a
// master's downloads through them (--cdn-dc).
type cdnOptions struct {
	node      bool
	secret    string // --cdn-secret: the file a CDN reads the shared secret from
	cache     string // --cdn-cache size
	peers     []string
	policy    cdn.Policy
	minSize   string
	tokenTTL  time.Duration
	hotWindow time.Duration
}

func cdnFlags(f *pflag.FlagSet, o *cdnOptions) {
	f.BoolVar(&o.node, "cdn", false, "run a CDN DC: answers only upload.getCdnFile from encrypted blocks its masters push, kept in memory (needs --cdn-secret)")
	f.StringVar(&o.secret, "cdn-secret", os.Getenv("FILEDC_CDN_SECRET"), "with --cdn: the cdn.secret file the master wrote (env FILEDC_CDN_SECRET)")
	f.StringVar(&o.cache, "cdn-cache", "256MiB", "with --cdn: most bytes of encrypted blocks kept in memory (least recently used go first)")
	f.StringArrayVar(&o.peers, "cdn-dc", envList("FILEDC_CDN_DCS"),
		"a CDN DC this master sends downloads through, ID=IP:PORT@HTTP_HOST:PORT: its MTProto address for clients and its --http address for pushes (repeatable; env FILEDC_CDN_DCS, comma-separated)")
	f.StringVar(&o.policy.Mode, "cdn-policy", "all", "which files go through a CDN: all, size (files of --cdn-min-size or more) or hot (files downloaded more than --cdn-hot-count times in --cdn-hot-window)")
	f.StringVar(&o.minSize, "cdn-min-size", "10MiB", "with --cdn-policy size: the smallest file sent through a CDN")
	f.IntVar(&o.policy.HotCount, "cdn-hot-count", 3, "with --cdn-policy hot: downloads in the window after which a file goes through a CDN")
	f.DurationVar(&o.hotWindow, "cdn-hot-window", 10*time.Minute, "with --cdn-policy hot: the window downloads are counted in")
	f.DurationVar(&o.tokenTTL, "cdn-token-ttl", time.Hour, "how long a CDN file token stays valid")
}

// openCDNMaster returns the master's side of its CDNs, or nil without
// --cdn-dc. It writes the secret the CDNs need to DATA/cdn.secret.
func openCDNMaster(o serveOptions, dcSecret []byte, engine *files.Engine, log *slog.Logger) (*cdn.Master, error) {
	if len(o.cdn.peers) == 0 {
		return nil, nil
	}
	var peers []cdn.Peer
	for _, s := range o.cdn.peers {
		p, err := cdn.ParsePeer(s)
		if err != nil {
			return nil, err
		}
		if p.DC == o.dc {
			return nil, fmt.Errorf("--cdn-dc %s: a CDN needs a DC id of its own, not this DC's (%d)", s, o.dc)
		}
		peers = append(peers, p)
	}
	policy := o.cdn.policy
	policy.HotWindow = o.cdn.hotWindow
	if policy.Mode == "size" {
		n, err := parseSize(o.cdn.minSize)
		if err != nil {
			return nil, fmt.Errorf("--cdn-min-size: %w", err)
		}
		policy.MinSize = n
	}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	m := cdn.NewMaster(cdn.MasterConfig{DCSecret: dcSecret, Peers: peers, Policy: policy, TokenTTL: o.cdn.tokenTTL, Engine: engine, Logger: log})
	path := filepath.Join(o.data, cdn.SecretFile)
	if err := serverkey.WriteSecret(path, m.Shared()); err != nil {
		return nil, fmt.Errorf("cdn secret: %w", err)
	}
	log.Info("sending downloads through CDN DCs; give each the shared secret", "cdns", len(peers), "secret", path, "policy", policy.Mode)
	return m, nil
}

// serveCDN runs a CDN DC: its own RSA key and auth keys in --data, the
// encrypted blocks in memory, nothing of the content on disk (C4).
func serveCDN(ctx context.Context, o serveOptions) error {
	log, err := o.ops.logger()
	if err != nil {
		return err
	}
	if err := o.ops.clearReady(); err != nil {
		return err
	}
	if o.dc <= 0 || o.dc > cluster.MaxDC {
		return fmt.Errorf("--dc %d: a data center id is 1..%d", o.dc, cluster.MaxDC)
	}
	if o.cdn.secret == "" {
		return errors.New("--cdn needs --cdn-secret FILE: the cdn.secret its master wrote into its --data directory")
	}
	shared, err := serverkey.ReadSecret(o.cdn.secret)
	if err != nil {
		return fmt.Errorf("--cdn-secret: %w", err)
	}
	cacheBytes, err := parseSize(o.cdn.cache)
	if err != nil {
		return fmt.Errorf("--cdn-cache: %w", err)
	}
	key, err := serverkey.LoadOrCreate(o.data)
	if err != nil {
		return fmt.Errorf("server key: %w", err)
	}
	salt, err := serverkey.Secret(o.data, "salt.secret")
	if err != nil {
		return fmt.Errorf("salt secret: %w", err)
	}
	pubPath := filepath.Join(o.data, "public.pem")
	pub, err := os.ReadFile(pubPath)
	if err != nil {
		return err
	}
	keys, err := bolt.Open(filepath.Join(o.data, "cdn.db")) // auth keys only
	if err != nil {
		return err
	}
	defer keys.Close()
	mtLn, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	var addr netip.AddrPort
	if a, ok := mtLn.Addr().(*net.TCPAddr); ok {
		addr = a.AddrPort()
	}
	node := cdn.NewNode(cdn.NodeConfig{DC: o.dc, Addr: addr, Shared: shared, PublicKey: pub, CacheBytes: cacheBytes, Logger: log})
	srv := server.New(server.Config{
		Handshake: &handshake.Server{Key: key.Private, DC: o.dc, KeyExists: func(id [8]byte) bool {
			_, err := keys.AuthKey(context.Background(), id)
			return err == nil
		}},
		Keys:    keys,
		Salts:   session.NewSalts(salt),
		Handler: node,
		Logger:  log,
	})
	mux := http.NewServeMux()
	node.Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		st := node.Cache().Stats()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"status": "ok", "cdn": true, "cache_blocks": st.Blocks,
			"cache_bytes": st.Bytes, "cache_max": st.Max, "cache_evictions": st.Evictions})
	})
	ln, err := net.Listen("tcp", o.http)
	if err != nil {
		mtLn.Close()
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("filedc CDN serving", "listen", mtLn.Addr().String(), "dc", o.dc, "fingerprint", key.Fingerprint, "http", ln.Addr().String(), "cache", cacheBytes)
	fmt.Fprintf(os.Stdout, "filedc: listening on %s, DC %d, key fingerprint %d (%s), data %s, CDN cache %s in memory, health http://%s/healthz\n",
		mtLn.Addr(), o.dc, key.Fingerprint, pubPath, o.data, formatSize(cacheBytes), ln.Addr())
	if err := o.ops.writeReady(ready.Info{Listen: mtLn.Addr().String(), DC: o.dc, Fingerprint: key.Fingerprint,
		PublicKey: pubPath, HTTP: ln.Addr().String(), Data: o.data, CDN: true}); err != nil {
		mtLn.Close()
		ln.Close()
		return err
	}
	err = runServers(ctx, hs, ln, func() error { return srv.Serve(ctx, mtLn) })
	if err == nil {
		log.Info("filedc CDN stopped")
	}
	return err
}
