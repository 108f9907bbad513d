// Package rpc answers the Telegram API calls filedc serves: thin functions
// that decode a call, ask the file engine or the stores, and encode the
// answer. Engine errors become rpc_error with their Telegram names here.
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

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/probe"
	"github.com/filedc/filedc/internal/store"
)

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
	Logger    *slog.Logger
	Now       func() time.Time
	// RequestRate and RequestBurst bound each account's calls per second
	// (S7), answered with FLOOD_WAIT_X. Defaults: 1000/s, bursts of 2000.
	RequestRate  float64
	RequestBurst int
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
}

// Handler implements server.Handler.
type Handler struct {
	cfg        Config
	refs       fileRefs
	limits     sync.Map // account id -> *rate.Limiter
	photoSlots chan struct{}
	probeSlots chan struct{} // ffprobe and ffmpeg runs at once
	docMu      sync.Mutex    // stores documents one at a time, for dedup (M6)
	// mediaMu: sends hold it shared from resolving their media to storing
	// the message; deleting unreferenced media holds it alone (M6).
	mediaMu sync.RWMutex
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
	if cfg.FileRefTTL <= 0 {
		cfg.FileRefTTL = 2 * time.Hour
	}
	return &Handler{cfg: cfg, refs: newFileRefs(cfg.Secret, cfg.FileRefTTL), photoSlots: make(chan struct{}, 2), probeSlots: make(chan struct{}, 2)}
}

var _ server.Handler = (*Handler)(nil)

// Errors of the API layer.
var (
	errUnregistered  = &server.RPCError{Code: 401, Message: "AUTH_KEY_UNREGISTERED"}
	errMethodInvalid = &server.RPCError{Code: 400, Message: "INPUT_METHOD_INVALID"}
	errLocation      = &server.RPCError{Code: 400, Message: "LOCATION_INVALID"}
	errInternal      = &server.RPCError{Code: 500, Message: "INTERNAL"}
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
	user int64 // logged-in account, 0 if none
}

// ServeRPC implements server.Handler.
func (h *Handler) ServeRPC(ctx context.Context, r *server.Request) (bin.Encoder, error) {
	id, err := h.unwrap(ctx, r)
	if err != nil {
		return nil, badRequest("INPUT_REQUEST_INVALID")
	}
	c := &call{Request: r, user: r.Key.Record().UserID}
	res, err := h.dispatch(ctx, c, id)
	return res, apiError(err)
}

// apiError turns engine and store errors into rpc_error.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	if fe, ok := files.AsError(err); ok {
		return &server.RPCError{Code: fe.Code, Message: fe.Message}
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

func (h *Handler) dispatch(ctx context.Context, c *call, id uint32) (bin.Encoder, error) {
	b := c.Body
	switch id {
	case tg.HelpGetConfigRequestTypeID:
		return h.config(), nil
	case tg.HelpGetNearestDCRequestTypeID:
		return &tg.NearestDC{Country: "XX", ThisDC: h.cfg.DC, NearestDC: h.cfg.DC}, nil
	case tg.AuthImportBotAuthorizationRequestTypeID:
		var req tg.AuthImportBotAuthorizationRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.importBotAuthorization(ctx, c, &req)
	case tg.AuthBindTempAuthKeyRequestTypeID:
		var req tg.AuthBindTempAuthKeyRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.bindTempAuthKey(ctx, c, &req)
	case tg.AuthSendCodeRequestTypeID:
		var req tg.AuthSendCodeRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.sendCode(ctx, c, &req)
	case tg.AuthSignInRequestTypeID:
		var req tg.AuthSignInRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.signIn(ctx, c, &req)
	case tg.AuthSignUpRequestTypeID:
		var req tg.AuthSignUpRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.signUp(ctx, c, &req)
	}
	// Everything below needs a logged-in account, within its request rate.
	if c.user == 0 {
		return nil, errUnregistered
	}
	if err := h.allow(c.user); err != nil {
		return nil, err
	}
	switch id {
	case tg.UpdatesGetStateRequestTypeID:
		return h.updatesState(ctx, c)
	case tg.UsersGetUsersRequestTypeID:
		var req tg.UsersGetUsersRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.getUsers(ctx, c, &req)
	case tg.UploadSaveFilePartRequestTypeID, tg.UploadSaveBigFilePartRequestTypeID:
		p, err := decodeSavePart(b)
		if err != nil {
			return nil, err
		}
		return h.saveFilePart(ctx, c, p)
	case tg.UploadGetFileRequestTypeID:
		var req tg.UploadGetFileRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.getFile(ctx, c, &req)
	case tg.UploadGetFileHashesRequestTypeID:
		var req tg.UploadGetFileHashesRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.getFileHashes(ctx, c, &req)
	case tg.MessagesSendMediaRequestTypeID:
		var req tg.MessagesSendMediaRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.sendMedia(ctx, c, &req)
	case tg.MessagesSendMultiMediaRequestTypeID:
		var req tg.MessagesSendMultiMediaRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.sendMultiMedia(ctx, c, &req)
	case tg.MessagesGetMessagesRequestTypeID:
		var req tg.MessagesGetMessagesRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.getMessages(ctx, c, &req)
	case tg.MessagesGetHistoryRequestTypeID:
		var req tg.MessagesGetHistoryRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.getHistory(ctx, c, &req)
	case tg.PhotosUploadProfilePhotoRequestTypeID:
		var req tg.PhotosUploadProfilePhotoRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.uploadProfilePhoto(ctx, c, &req)
	case tg.PhotosUpdateProfilePhotoRequestTypeID:
		var req tg.PhotosUpdateProfilePhotoRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.updateProfilePhoto(ctx, c, &req)
	case tg.PhotosGetUserPhotosRequestTypeID:
		var req tg.PhotosGetUserPhotosRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.getUserPhotos(ctx, c, &req)
	case tg.PhotosDeletePhotosRequestTypeID:
		var req tg.PhotosDeletePhotosRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.deletePhotos(ctx, c, &req)
	case tg.MessagesDeleteMessagesRequestTypeID:
		var req tg.MessagesDeleteMessagesRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.deleteMessages(ctx, c, &req)
	case tg.MessagesGetDocumentByHashRequestTypeID:
		var req tg.MessagesGetDocumentByHashRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.getDocumentByHash(ctx, c, &req)
	case tg.MessagesUploadMediaRequestTypeID:
		var req tg.MessagesUploadMediaRequest
		if err := req.Decode(b); err != nil {
			return nil, err
		}
		return h.uploadMedia(ctx, c, &req)
	}
	return nil, errMethodInvalid
}

// peekID lets wrapper calls decode without knowing the call inside.
type peekID struct{}

func (peekID) Decode(b *bin.Buffer) error { _, err := b.PeekID(); return err }
func (peekID) Encode(*bin.Buffer) error   { return errors.New("rpc: wrapper query is not encodable") }

// unwrap strips invokeWithLayer, initConnection and invokeWithoutUpdates,
// remembering the declared layer on the auth key (rule S5: GramJS does not
// repeat it on its second connection).
func (h *Handler) unwrap(ctx context.Context, r *server.Request) (uint32, error) {
	for {
		id, err := r.Body.PeekID()
		if err != nil {
			return 0, err
		}
		switch id {
		case tg.InvokeWithLayerRequestTypeID:
			req := tg.InvokeWithLayerRequest{Query: peekID{}}
			if err := req.Decode(r.Body); err != nil {
				return 0, err
			}
			if rec := r.Key.Record(); rec.Layer != req.Layer {
				if _, err := r.UpdateKey(ctx, rec.ID, func(k *store.AuthKey) { k.Layer = req.Layer }); err != nil {
					return 0, err
				}
			}
		case tg.InitConnectionRequestTypeID:
			req := tg.InitConnectionRequest{Query: peekID{}}
			if err := req.Decode(r.Body); err != nil {
				return 0, err
			}
		case tg.InvokeWithoutUpdatesRequestTypeID:
			req := tg.InvokeWithoutUpdatesRequest{Query: peekID{}}
			if err := req.Decode(r.Body); err != nil {
				return 0, err
			}
		default:
			return id, nil
		}
	}
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
		return &server.RPCError{Code: 420, Message: "FLOOD_WAIT_" + strconv.Itoa(int((d+time.Second-1)/time.Second))}
	}
	return nil
}

func (h *Handler) config() *tg.Config {
	now := h.cfg.Now()
	ip := "127.0.0.1"
	port := 443
	if h.cfg.Addr != nil {
		port = h.cfg.Addr.Port
		if !h.cfg.Addr.IP.IsUnspecified() && h.cfg.Addr.IP != nil {
			ip = h.cfg.Addr.IP.String()
		}
	}
	return &tg.Config{
		Date:                    int(now.Unix()),
		Expires:                 int(now.Add(time.Hour).Unix()),
		ThisDC:                  h.cfg.DC,
		DCOptions:               []tg.DCOption{{ID: h.cfg.DC, IPAddress: ip, Port: port, Static: true}},
		DCTxtDomainName:         "localhost",
		ChatSizeMax:             200,
		MegagroupSizeMax:        200000,
		ForwardedCountMax:       100,
		OnlineUpdatePeriodMs:    210000,
		OfflineBlurTimeoutMs:    5000,
		OfflineIdleTimeoutMs:    30000,
		OnlineCloudTimeoutMs:    300000,
		NotifyCloudDelayMs:      30000,
		NotifyDefaultDelayMs:    1500,
		PushChatPeriodMs:        60000,
		PushChatLimit:           2,
		EditTimeLimit:           172800,
		RevokeTimeLimit:         2147483647,
		RevokePmTimeLimit:       2147483647,
		RatingEDecay:            2419200,
		StickersRecentLimit:     200,
		ChannelsReadMediaPeriod: 604800,
		CallReceiveTimeoutMs:    20000,
		CallRingTimeoutMs:       90000,
		CallConnectTimeoutMs:    30000,
		CallPacketTimeoutMs:     10000,
		MeURLPrefix:             "https://t.me/",
		CaptionLengthMax:        1024,
		MessageLengthMax:        4096,
		WebfileDCID:             h.cfg.DC,
	}
}
