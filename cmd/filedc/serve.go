package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/filedc/filedc/internal/backend"
	"github.com/filedc/filedc/internal/bots"
	"github.com/filedc/filedc/internal/cluster"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/probe"
	"github.com/filedc/filedc/internal/ready"
	"github.com/filedc/filedc/internal/rpc"
)

const (
	defaultData   = "filedc-data"
	defaultListen = "127.0.0.1:4430"
	defaultHTTP   = "127.0.0.1:4431"
	defaultDC     = 2
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envList(name string) []string {
	var out []string
	for _, v := range strings.Split(os.Getenv(name), ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func serveCmd() *cobra.Command {
	var (
		data      string
		listen    string
		httpAddr  string
		httpToken string
		dc        int
		botTokens []string
		refTTL    time.Duration
		sweep     time.Duration
		phones    bool
		profile   string
		cfg       files.Config
		tools     = probe.Find()
		stores    backend.Options
		clusterD  string
		dcOptions []string
		cdnOpts   cdnOptions
		web       webOptions
		limits    server.Limits
		calls     rpc.Limits
		ops       opsOptions
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the data center on the embedded default store",
		Long: `Run the data center: MTProto clients connect to --listen (default ` + defaultListen + `).
With no flags it keeps everything under ./` + defaultData + `: parts and files on local
disk, records in an embedded database. Nothing to install.
On first start it generates the server's RSA key and publishes it as DIR/public.pem
(PEM "RSA PUBLIC KEY", PKCS#1) for clients to trust.

It answers GET /healthz on the --http address with the engine's state, and
the admin API that "filedc bot" uses (from this machine, with the token in
DIR/admin.token unless --admin-token gives one).

Scale-out backends replace parts of the embedded default, in any combination:
  --s3 URL        content and the bytes of temporary parts in S3-compatible object
                  storage: http[s]://ACCESS_KEY:SECRET_KEY@HOST:PORT/BUCKET[/PREFIX][?region=R]
                  (the bucket is created if missing; without --redis the state of
                  temporary parts stays in DIR/parts.db)
  --postgres URL  records (files, accounts, auth keys, messages, documents, photos)
                  in PostgreSQL: postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=...]
                  (the schema is created or migrated at start)
  --redis URL     the state of temporary parts in Redis, expiring after
                  --temp-max-ttl: redis://[:PASSWORD@]HOST:PORT[/DB][?prefix=P]
                  (keys start with P, default "filedc:"; without --s3 the part
                  bytes and files stay under DIR/objects)
Several processes of one DC share these; each still needs its own --data.

CDN DCs (rules C1–C4): ` + "`filedc serve --cdn --dc 201 --cdn-secret FILE`" + ` runs a CDN DC with
its own RSA key (in --data) that keeps encrypted blocks in memory only. A master
names it with --cdn-dc ID=IP:PORT@HTTP_HOST:PORT (its MTProto address for clients,
its --http address for pushes) and writes the secret they share to DIR/cdn.secret;
copy that file to the CDN. --cdn-policy picks the files that go through a CDN.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			stores.Dir = data
			// From the environment after parsing, so that --help never
			// shows a URL's password as a default.
			for _, e := range []struct {
				url *string
				env string
			}{{&stores.S3, "FILEDC_S3"}, {&stores.Postgres, "FILEDC_POSTGRES"}, {&stores.Redis, "FILEDC_REDIS"}} {
				if *e.url == "" {
					*e.url = os.Getenv(e.env)
				}
			}
			o := serveOptions{stores: stores, data: data, listen: listen, http: httpAddr, dc: dc, botTokens: botTokens, refTTL: refTTL, sweepEvery: sweep, testPhones: phones, cpuProfile: profile, files: cfg,
				cluster: clusterD, dcOptions: dcOptions, probe: tools, cdn: cdnOpts, web: web, limits: limits, calls: calls, ops: ops, httpToken: httpToken}
			if cdnOpts.node {
				return serveCDN(ctx, o)
			}
			return serve(ctx, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", envOr("FILEDC_DATA", defaultData), "data directory (env FILEDC_DATA)")
	f.StringVar(&listen, "listen", envOr("FILEDC_LISTEN", defaultListen), "MTProto address clients connect to (env FILEDC_LISTEN)")
	f.IntVar(&dc, "dc", envInt("FILEDC_DC", defaultDC), "this data center's id (env FILEDC_DC)")
	f.StringArrayVar(&botTokens, "bot-token", envList("FILEDC_BOT_TOKENS"),
		"register a bot token ID:SECRET (repeatable; env FILEDC_BOT_TOKENS, comma-separated)")
	f.BoolVar(&phones, "test-phones", os.Getenv("FILEDC_TEST_PHONES") != "",
		"allow sign-in with Telegram's test numbers 99966XYYYY, code X five times (env FILEDC_TEST_PHONES)")
	f.StringVar(&clusterD, "cluster", os.Getenv("FILEDC_CLUSTER"),
		"directory with the RSA key and secret all DCs and processes share, made by `filedc cluster init` (env FILEDC_CLUSTER)")
	f.StringArrayVar(&dcOptions, "dc-option", envList("FILEDC_DC_OPTIONS"),
		"a DC's address ID=IP:PORT for help.getConfig: every DC of the cluster, this one's processes too (repeatable; env FILEDC_DC_OPTIONS, comma-separated)")
	f.StringVar(&stores.S3, "s3", "", "S3 URL for content and part bytes (env FILEDC_S3; see above)")
	f.StringVar(&stores.Postgres, "postgres", "", "PostgreSQL URL for records (env FILEDC_POSTGRES; see above)")
	f.StringVar(&stores.Redis, "redis", "", "Redis URL for the state of temporary parts (env FILEDC_REDIS; see above)")
	f.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the server to this file at shutdown")
	f.DurationVar(&refTTL, "file-reference-ttl", 2*time.Hour, "how long a file_reference stays valid")
	f.StringVar(&tools.FFprobe, "ffprobe", tools.FFprobe, "ffprobe for video and audio attributes of documents; empty disables (default: found on PATH)")
	f.StringVar(&tools.FFmpeg, "ffmpeg", tools.FFmpeg, "ffmpeg for video thumbnails and profile videos; empty disables (default: found on PATH)")
	f.StringVar(&httpAddr, "http", envOr("FILEDC_HTTP", defaultHTTP), "address of the health endpoint (env FILEDC_HTTP)")
	f.StringVar(&httpToken, "http-token", os.Getenv("FILEDC_HTTP_TOKEN"),
		"require this token on --http's status page (/, /api/status) and /metrics, as Authorization: Bearer or ?token=; /healthz stays open (env FILEDC_HTTP_TOKEN)")
	cdnFlags(f, &cdnOpts)
	webFlags(f, &web)
	limitFlags(f, &limits)
	callLimitFlags(f, &calls)
	opsFlags(f, &ops)
	f.IntVar(&cfg.MaxParts, "max-parts", 4000, "most parts of one upload")
	f.IntVar(&cfg.PremiumMaxParts, "premium-max-parts", 8000, "most parts of one upload for premium accounts")
	f.Int64Var(&cfg.TempBudget, "temp-budget", 4<<30, "bytes of temporary parts before the oldest uploads are evicted")
	f.IntVar(&cfg.MaxUploadsPerOwner, "max-uploads-per-account", 64, "uploads one account may have in temporary storage at once; more get FLOOD_WAIT_X (-1: no limit)")
	f.Int64Var(&cfg.MaxTempBytesPerOwner, "max-temp-bytes-per-account", 8<<30, "bytes of temporary parts one account may hold (at most --temp-budget); more get FLOOD_WAIT_X (-1: no limit)")
	f.DurationVar(&cfg.MinTTL, "temp-min-ttl", 10*time.Minute, "temporary parts are never evicted younger than this")
	f.DurationVar(&cfg.MaxTTL, "temp-max-ttl", 6*time.Hour, "temporary parts never live longer than this")
	f.DurationVar(&sweep, "temp-sweep-every", time.Minute, "how often temporary parts are expired and the budget enforced")
	f.Int64Var(&cfg.HashStateEvery, "hash-state-every", files.DefaultHashStateEvery,
		"bytes of an upload hashed between two states of its hashes kept beside its parts; a restart reads back at most this much of each upload (-1: keep none)")
	return cmd
}

type serveOptions struct {
	data, listen, http string
	dc                 int
	botTokens          []string
	refTTL             time.Duration
	sweepEvery         time.Duration // how often temporary parts are swept
	testPhones         bool
	cpuProfile         string
	files              files.Config
	probe              probe.Tools
	stores             backend.Options // where content, parts and records live
	cluster            string          // shared key directory (several DCs or processes)
	dcOptions          []string        // ID=IP:PORT of every DC
	cdn                cdnOptions
	web                webOptions
	limits             server.Limits
	calls              rpc.Limits
	ops                opsOptions
	httpToken          string // required on the status page and /metrics
}

func serve(ctx context.Context, o serveOptions) error {
	log, err := o.ops.logger()
	if err != nil {
		return err
	}
	o.files.Logger = log
	if o.dc <= 0 || o.dc > cluster.MaxDC {
		return fmt.Errorf("--dc %d: a data center id is 1..%d (file ids carry it in 8 bits)", o.dc, cluster.MaxDC)
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	if err := o.stores.Validate(); err != nil {
		return err
	}
	if err := o.ops.clearReady(); err != nil {
		return err
	}
	key, salt, pubPath, err := dcKeys(o)
	if err != nil {
		return err
	}
	o.files.DC = o.dc
	mon := newMonitor(&o)
	b, err := backend.Open(ctx, o.stores, o.files)
	if err != nil {
		return err
	}
	defer b.Close()
	if key.Created {
		log.Info("generated the server's RSA key", "public", pubPath)
	}
	for _, token := range o.botTokens {
		if err := backend.RegisterBotToken(ctx, b.Meta, token); err != nil {
			return err
		}
	}
	mtLn, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	dcs, err := dcMap(o, mtLn)
	if err != nil {
		mtLn.Close()
		return err
	}
	if o.sweepEvery <= 0 {
		o.sweepEvery = time.Minute
	}
	go b.Engine.Run(ctx, o.sweepEvery)
	cdnMaster, err := openCDNMaster(o, salt, b.Engine, log)
	if err != nil {
		mtLn.Close()
		return err
	}
	if cdnMaster != nil {
		go cdnMaster.Watch(ctx, 5*time.Second)
	}
	web, err := o.web.fetcher()
	if err != nil {
		mtLn.Close()
		return err
	}
	mapper, err := o.web.renderer(web)
	if err != nil {
		mtLn.Close()
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"status":     "ok",
			"uploads":    b.Engine.Uploads(),
			"temp_bytes": b.Engine.TempBytes(),
		})
	})
	var dcServer atomic.Pointer[server.Server]
	adminAPI, err := o.ops.admin(o.data, &bots.Service{Accounts: b.Meta, Keys: b.Meta, LoggedOut: func(user int64) {
		if s := dcServer.Load(); s != nil {
			s.LogOut(user)
		}
	}})
	if err != nil {
		mtLn.Close()
		return err
	}
	adminAPI.Register(mux)
	mon.mount(ctx, mux, b.Engine)
	mon.WatchTrips(b.Trips)
	ln, err := net.Listen("tcp", o.http)
	if err != nil {
		mtLn.Close()
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("filedc serving", "listen", mtLn.Addr().String(), "dc", o.dc, "data", o.data, "stores", o.stores.Describe(),
		"fingerprint", key.Fingerprint, "http", ln.Addr().String())
	fmt.Fprintf(os.Stdout, "filedc: listening on %s, DC %d, key fingerprint %d (%s), data %s, health http://%s/healthz\n",
		mtLn.Addr(), o.dc, key.Fingerprint, pubPath, o.data, ln.Addr())
	if err := o.ops.writeReady(ready.Info{Listen: mtLn.Addr().String(), DC: o.dc, Fingerprint: key.Fingerprint,
		PublicKey: pubPath, HTTP: ln.Addr().String(), Data: o.data}); err != nil {
		mtLn.Close()
		ln.Close()
		return err
	}
	err = runServers(ctx, srv, ln, func() error {
		return b.ServeDC(ctx, backend.DCConfig{ID: o.dc, Listen: mtLn, Key: key, Salt: salt, FileRefTTL: o.refTTL, TestPhones: o.testPhones, Probe: o.probe, Logger: log, Cluster: dcs, CDN: cdnMaster, Web: web, Maps: mapper, Limits: o.limits, CallLimits: o.calls,
			Observer: mon, OnServer: func(s *server.Server) { dcServer.Store(s); mon.WatchServer(s) }})
	})
	if err == nil {
		log.Info("filedc stopped")
	}
	return err
}

// runServers runs the HTTP server on ln and the DC until ctx ends or one of
// them fails; on shutdown the DC's in-flight calls finish (and the caller's
// stores close only after).
func runServers(ctx context.Context, hs *http.Server, ln net.Listener, serveDC func() error) error {
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	dcDone := make(chan struct{})
	go func() {
		defer close(dcDone)
		if err := serveDC(); err != nil {
			errc <- err
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-dcDone
	return nil
}
