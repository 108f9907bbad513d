package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/filedc/filedc/internal/cdn"
	"github.com/filedc/filedc/internal/cluster"
	"github.com/filedc/filedc/internal/maps"
	"github.com/filedc/filedc/internal/mtproto/handshake"
	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/mtproto/session"
	"github.com/filedc/filedc/internal/probe"
	"github.com/filedc/filedc/internal/randid"
	"github.com/filedc/filedc/internal/rpc"
	"github.com/filedc/filedc/internal/serverkey"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/webfetch"
)

// DCConfig says how a data center runs on a backend.
type DCConfig struct {
	ID     int          // DC id
	Listen net.Listener // where clients connect
	Key    serverkey.Key
	Salt   []byte // the DC's secret: salts and file references derive from it
	// FileRefTTL is how long file references stay valid (default 2h).
	FileRefTTL time.Duration
	// TestPhones allows sign-in with Telegram's test numbers 99966XYYYY.
	TestPhones bool
	// Probe runs ffprobe and ffmpeg for media attributes and thumbnails.
	Probe  probe.Tools
	Logger *slog.Logger
	// Cluster lists every DC of the deployment (O2); empty: this DC alone.
	Cluster cluster.Map
	// CDN sends downloads through CDN DCs; nil: none.
	CDN *cdn.Master
	// Web fetches media sent by URL; nil: public addresses only.
	Web *webfetch.Fetcher
	// Maps renders map previews; nil: none.
	Maps *maps.Renderer
	// Limits bound what clients make the server hold (S7a).
	Limits server.Limits
	// CallLimits are the flood limits of calls (S7c).
	CallLimits rpc.Limits
	// Observer sees every call (metrics).
	Observer rpc.Observer
	// OnServer, when set, is given the MTProto server before it serves (the
	// admin API logs revoked bots out of its cache; metrics read its counters).
	OnServer func(*server.Server)
	// Interceptors wrap every call, the first outermost (test faults).
	Interceptors []rpc.Interceptor
}

// ServeDC runs the MTProto data center on the embedded backend until ctx ends.
func (b *Embedded) ServeDC(ctx context.Context, cfg DCConfig) error {
	addr, _ := cfg.Listen.Addr().(*net.TCPAddr)
	handler := rpc.New(rpc.Config{
		DC: cfg.ID, Addr: addr, Engine: b.Engine, Accounts: b.Meta, Keys: b.Meta, Logger: cfg.Logger,
		Messages: b.Meta, Documents: b.Meta, Photos: b.Meta, Chats: b.Meta,
		Secret: cfg.Salt, FileRefTTL: cfg.FileRefTTL, TestPhones: cfg.TestPhones, Probe: cfg.Probe,
		Cluster: cfg.Cluster, Once: onceOf(b.Meta), CDN: cfg.CDN, Web: cfg.Web, Maps: cfg.Maps,
		Limits: cfg.CallLimits, Observer: cfg.Observer, Interceptors: cfg.Interceptors,
	})
	srv := server.New(server.Config{
		Handshake: &handshake.Server{
			Key: cfg.Key.Private,
			DC:  cfg.ID,
			KeyExists: func(id [8]byte) bool {
				_, err := b.Meta.AuthKey(context.Background(), id)
				return err == nil
			},
		},
		Keys:    b.Meta,
		Salts:   session.NewSalts(cfg.Salt),
		Handler: handler,
		Logger:  cfg.Logger,
		Limits:  cfg.Limits,
	})
	if cfg.OnServer != nil {
		cfg.OnServer(srv)
	}
	return srv.Serve(ctx, cfg.Listen)
}

// onceOf returns the records' store of single-use tokens, or nil (a
// process-local one) when they keep none.
func onceOf(r Records) store.Once {
	if o, ok := r.(store.Once); ok {
		return o
	}
	return nil
}

// RegisterBotToken makes sure a bot with the token "<ID>:<SECRET>" exists;
// calling it again with the same token changes nothing.
func RegisterBotToken(ctx context.Context, accounts store.Accounts, token string) error {
	idText, secret, ok := strings.Cut(token, ":")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil || id <= 0 || secret == "" {
		return fmt.Errorf("bot token %q: want <positive id>:<secret>", token)
	}
	acc, err := accounts.Account(ctx, id)
	switch {
	case err == nil && acc.Bot && acc.Secret == secret:
		return nil
	case err == nil && !acc.Bot:
		return fmt.Errorf("bot token %q: account %d is not a bot", token, id)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	if errors.Is(err, store.ErrNotFound) {
		acc = store.Account{ID: id, Bot: true, Name: "bot" + idText, Username: "bot" + idText + "_bot",
			AccessKey: randid.Int63(), Created: time.Now()}
	}
	acc.Secret = secret
	return accounts.PutAccount(ctx, acc)
}
