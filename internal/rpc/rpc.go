// Package rpc answers the Telegram API calls filedc serves: thin functions
// that decode a call, ask the services (internal/library for documents and
// photos, internal/chats for chats), the file engine or the stores, and
// encode the answer. Their errors become rpc_error with their Telegram
// names here.
package rpc

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/cdn"
	"github.com/filedc/filedc/internal/chats"
	"github.com/filedc/filedc/internal/cluster"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/library"
	"github.com/filedc/filedc/internal/limit"
	"github.com/filedc/filedc/internal/maps"
	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/probe"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/webfetch"
)

// Limits are the flood limits of calls, answered FLOOD_WAIT_X (S7, S7c);
// zero values take the defaults.
type Limits struct {
	// RequestRate and RequestBurst bound each account's calls per second.
	// Defaults: 1000/s, bursts of 2000.
	RequestRate  float64
	RequestBurst int
	// AnonRate and AnonBurst bound the calls of one auth key before login
	// (defaults 10/s, bursts of 100).
	AnonRate  float64
	AnonBurst int
	// BotLoginFailRate and BotLoginFailBurst bound wrong bot tokens, per
	// address and per bot id (defaults one per 10 s, bursts of 10): past
	// them auth.importBotAuthorization answers FLOOD_WAIT_X before it
	// looks at the token.
	BotLoginFailRate  float64
	BotLoginFailBurst int
	// ProbeRate and ProbeBurst bound the video and audio documents one
	// account has probed (defaults 1 a second, bursts of 30).
	ProbeRate  float64
	ProbeBurst int
}

// Config is what the handler serves from.
type Config struct {
	DC        int          // this data center's id
	Addr      *net.TCPAddr // the address clients reach this DC at (for dc_options)
	Engine    *files.Engine
	Accounts  store.Accounts
	Keys      store.AuthKeys
	Messages  store.Messages
	Documents store.Documents
	Photos    store.Photos
	Chats     store.Chats
	Logger    *slog.Logger
	Now       func() time.Time
	// Limits are the flood limits of calls (S7c).
	Limits
	// Interceptors wrap every call, the first outermost.
	Interceptors []Interceptor
	// Observer, when set, sees every call once answered (metrics).
	Observer Observer
	// Secret is the DC's secret; file references are signed with a key
	// derived from it. FileRefTTL is how long a reference stays valid
	// (default 2h).
	Secret     []byte
	FileRefTTL time.Duration
	// TestPhones turns on sign-in with Telegram's test numbers 99966XYYYY.
	TestPhones bool
	// Probe runs ffprobe and ffmpeg; zero: no video or audio attributes,
	// no video thumbnails, no profile videos.
	Probe probe.Tools
	// Cluster lists every DC (O2); empty means this DC alone, at Addr.
	// Secret is then the cluster's secret: exported authorizations are
	// signed with a key derived from it.
	Cluster cluster.Map
	// Web fetches media sent by URL (M10); nil: a fetcher of public
	// addresses with the default caps.
	Web *webfetch.Fetcher
	// Maps renders map previews; nil or without tiles: none.
	Maps *maps.Renderer
	// CDN sends downloads through CDN DCs (C1–C4, D8); nil: no CDN.
	CDN *cdn.Master
	// Once keeps imported authorizations single-use (default: in memory,
	// which is enough for one process per DC).
	Once store.Once
}

// Handler implements server.Handler.
type Handler struct {
	cfg    Config
	limits sync.Map // account id -> *rate.Limiter
	// media makes, finds and collects documents and photos. Sends hold
	// media (media.Hold) from resolving it to storing the message, so that
	// deleting unreferenced media waits for them (M6).
	media    *library.Service
	geoKey   []byte // signs geoPoint access hashes (M10)
	phoneKey []byte // signs phone_code_hash values
	cluster  cluster.Map
	grantKey []byte
	once     store.Once
	takeouts *takeouts
	chats    *chats.Service
	// Flood limits (S7c): calls before login by auth key, wrong bot tokens
	// by address and by bot id.
	anon           *limit.Keyed[[8]byte]
	botFailsByAddr *limit.Keyed[string]
	botFailsByBot  *limit.Keyed[int64]
}

// New returns a handler.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RequestRate <= 0 {
		cfg.RequestRate = 1000
	}
	if cfg.RequestBurst <= 0 {
		cfg.RequestBurst = 2000
	}
	if cfg.AnonRate <= 0 {
		cfg.AnonRate = 10
	}
	if cfg.AnonBurst <= 0 {
		cfg.AnonBurst = 100
	}
	if cfg.BotLoginFailRate <= 0 {
		cfg.BotLoginFailRate = 0.1
	}
	if cfg.BotLoginFailBurst <= 0 {
		cfg.BotLoginFailBurst = 10
	}
	h := &Handler{cfg: cfg, takeouts: newTakeouts(),
		anon:           limit.New[[8]byte](cfg.AnonRate, cfg.AnonBurst, 100_000, cfg.Now),
		botFailsByAddr: limit.New[string](cfg.BotLoginFailRate, cfg.BotLoginFailBurst, 100_000, cfg.Now),
		botFailsByBot:  limit.New[int64](cfg.BotLoginFailRate, cfg.BotLoginFailBurst, 100_000, cfg.Now)}
	h.media = library.New(library.Config{DC: cfg.DC, Engine: cfg.Engine,
		Documents: cfg.Documents, Photos: cfg.Photos, Messages: cfg.Messages, Accounts: cfg.Accounts, Chats: cfg.Chats,
		Probe: cfg.Probe, ProbeRate: cfg.ProbeRate, ProbeBurst: cfg.ProbeBurst, Web: cfg.Web, Secret: cfg.Secret, FileRefTTL: cfg.FileRefTTL, Logger: cfg.Logger, Now: cfg.Now})
	h.chats = chats.New(cfg.Chats, cfg.Now)
	h.phoneKey = phoneKey(cfg.Secret)
	h.geoKey = cluster.Derive(cfg.Secret, "geo point access hash")
	h.initDCs()
	return h
}

var _ server.Handler = (*Handler)(nil)

// Errors of the API layer.
var (
	errUnregistered  = &server.RPCError{Code: 401, Message: "AUTH_KEY_UNREGISTERED"}
	errMethodInvalid = &server.RPCError{Code: 400, Message: "INPUT_METHOD_INVALID"}
	errLocation      = &server.RPCError{Code: 400, Message: "LOCATION_INVALID"}
	errInternal      = &server.RPCError{Code: 500, Message: "INTERNAL"}
	errInputRequest  = &server.RPCError{Code: 400, Message: "INPUT_REQUEST_INVALID"}
	errConnectionID  = &server.RPCError{Code: 400, Message: "CONNECTION_ID_INVALID"}
)

func badRequest(msg string) error { return &server.RPCError{Code: 400, Message: msg} }

// rpcMigrate is a 303 error naming the DC to go to, such as PHONE_MIGRATE_X.
type rpcMigrate struct {
	prefix string
	dc     int
}

func (e *rpcMigrate) Error() string { return e.prefix + strconv.Itoa(e.dc) }

// call is the context of one call.
type call struct {
	*server.Request
	user    int64           // logged-in account, 0 if none
	fetched library.Fetched // media sent by URL, fetched before the call holds media
}

// ServeRPC implements server.Handler.
// The server has taken the call's wrappers off (internal/invoke).
func (h *Handler) ServeRPC(ctx context.Context, r *server.Request) (bin.Encoder, error) {
	id, err := r.Body.PeekID()
	if err != nil {
		if h.cfg.Observer != nil {
			h.cfg.Observer.ObserveCall("unknown", 0, errInputRequest)
		}
		return nil, errInputRequest
	}
	if h.cfg.Observer == nil {
		return h.intercept(ctx, r, id)
	}
	start := time.Now()
	res, err := h.intercept(ctx, r, id)
	h.cfg.Observer.ObserveCall(MethodName(id), time.Since(start), err)
	return res, err
}

// Observer sees every call after its interceptors: the method's name as
// MethodName gives it, how long the call took, and its error as the client
// sees it. An interface, not an interceptor, so that the upload and
// download paths allocate nothing more for it; it must not block.
type Observer interface {
	ObserveCall(method string, d time.Duration, err error)
}

// MethodNames returns the name of every method with a route.
func MethodNames() []string {
	names := make([]string, 0, len(routes))
	for _, rt := range routes {
		names = append(names, rt.name)
	}
	return names
}

// intercept serves a call through the interceptors.
func (h *Handler) intercept(ctx context.Context, r *server.Request, id uint32) (bin.Encoder, error) {
	c := &call{Request: r, user: r.Key.Record().UserID}
	if len(h.cfg.Interceptors) == 0 {
		res, err := h.serve(ctx, c, id)
		return res, apiError(err)
	}
	next := func(ctx context.Context) (bin.Encoder, error) {
		res, err := h.serve(ctx, c, id)
		return res, apiError(err)
	}
	method := MethodName(id)
	for i := len(h.cfg.Interceptors) - 1; i >= 0; i-- {
		intercept, inner := h.cfg.Interceptors[i], next
		next = func(ctx context.Context) (bin.Encoder, error) { return intercept(ctx, method, inner) }
	}
	return next(ctx)
}

// Interceptor wraps every call: method names it ("upload.saveFilePart";
// "unknown" without a route), and next serves it, its error already in the
// form the client sees (*server.RPCError). Test faults hook in here, in the
// manner of grpc-go's UnaryServerInterceptor.
type Interceptor func(ctx context.Context, method string, next func(context.Context) (bin.Encoder, error)) (bin.Encoder, error)

// MethodName returns the name of the method with constructor id, or
// "unknown".
func MethodName(id uint32) string {
	if rt, ok := routes[id]; ok {
		return rt.name
	}
	return "unknown"
}

// IsMethod reports whether name is a method of the route table, as
// MethodName names it: faults named after no method would never fire.
func IsMethod(name string) bool {
	_, ok := methodNames()[name]
	return ok
}

var methodNames = sync.OnceValue(func() map[string]struct{} {
	names := make(map[string]struct{}, len(routes))
	for _, rt := range routes {
		names[rt.name] = struct{}{}
	}
	return names
})

// apiError turns engine and store errors into rpc_error.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	if fe, ok := files.AsError(err); ok {
		return &server.RPCError{Code: fe.Code, Message: fe.Message, Limit: fe.Limit}
	}
	var re *server.RPCError
	if errors.As(err, &re) {
		return re
	}
	var mig *rpcMigrate
	if errors.As(err, &mig) {
		return &server.RPCError{Code: 303, Message: mig.Error()}
	}
	return err // logged by the server, answered as 500 INTERNAL
}

// allow takes one call from the account's token bucket, or says how long to wait.
func (h *Handler) allow(user int64) error {
	v, ok := h.limits.Load(user)
	if !ok {
		v, _ = h.limits.LoadOrStore(user, rate.NewLimiter(rate.Limit(h.cfg.RequestRate), h.cfg.RequestBurst))
	}
	r := v.(*rate.Limiter).ReserveN(h.cfg.Now(), 1)
	if d := r.DelayFrom(h.cfg.Now()); d > 0 {
		r.CancelAt(h.cfg.Now())
		return &server.RPCError{Code: 420, Message: "FLOOD_WAIT_" + strconv.Itoa(int((d+time.Second-1)/time.Second)), Limit: "account_requests"}
	}
	return nil
}

func (h *Handler) config() *tg.Config {
	opts := h.cluster.DCOptions()
	if h.cfg.CDN != nil {
		opts = append(opts, h.cfg.CDN.DCOptions()...)
	}
	return cluster.Config(h.cfg.DC, opts, h.cfg.Now())
}
