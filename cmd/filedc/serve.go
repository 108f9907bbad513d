package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/filedc/filedc/internal/backend"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/serverkey"
)

const (
	defaultData = "filedc-data"
	defaultHTTP = "127.0.0.1:4431"
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func serveCmd() *cobra.Command {
	var (
		data     string
		httpAddr string
		cfg      files.Config
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the data center on the embedded default store",
		Long: `Run the data center. With no flags it keeps everything under ./` + defaultData + `:
parts and files on local disk, records in an embedded database. Nothing to install.
On first start it generates the server's RSA key and publishes it as DIR/public.pem
(PEM "RSA PUBLIC KEY", PKCS#1) for clients to trust.

It answers GET /healthz on the --http address with the engine's state.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, data, httpAddr, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", envOr("FILEDC_DATA", defaultData), "data directory (env FILEDC_DATA)")
	f.StringVar(&httpAddr, "http", envOr("FILEDC_HTTP", defaultHTTP), "address of the health endpoint (env FILEDC_HTTP)")
	f.IntVar(&cfg.MaxParts, "max-parts", 4000, "most parts of one upload")
	f.IntVar(&cfg.PremiumMaxParts, "premium-max-parts", 8000, "most parts of one upload for premium accounts")
	f.Int64Var(&cfg.TempBudget, "temp-budget", 4<<30, "bytes of temporary parts before the oldest uploads are evicted")
	f.DurationVar(&cfg.MinTTL, "temp-min-ttl", 10*time.Minute, "temporary parts are never evicted younger than this")
	f.DurationVar(&cfg.MaxTTL, "temp-max-ttl", 6*time.Hour, "temporary parts never live longer than this")
	return cmd
}

func serve(ctx context.Context, data, httpAddr string, cfg files.Config) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg.Logger = log
	b, err := backend.OpenEmbedded(ctx, data, cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	key, err := serverkey.LoadOrCreate(data)
	if err != nil {
		return fmt.Errorf("server key: %w", err)
	}
	if key.Created {
		log.Info("generated the server's RSA key", "public", filepath.Join(data, "public.pem"))
	}
	go b.Engine.Run(ctx, time.Minute)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"status":     "ok",
			"uploads":    b.Engine.Uploads(),
			"temp_bytes": b.Engine.TempBytes(),
		})
	})
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("filedc serving", "data", data, "fingerprint", key.Fingerprint, "http", ln.Addr().String())
	fmt.Fprintf(os.Stdout, "filedc: data %s, key fingerprint %d (%s), health http://%s/healthz\n",
		data, key.Fingerprint, filepath.Join(data, "public.pem"), ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("filedc stopped")
	return nil
}
