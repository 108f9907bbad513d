// Package library makes and keeps documents and photos: uploads finalized
// into them, their sizes and thumbnails, attributes probed from their
// content, stickers, media fetched by URL, identical content stored once,
// collection of media nothing refers to any more, and the file references
// clients name them with. It works over the file engine and the stores and
// speaks in their types; internal/rpc decodes TL into calls here and
// encodes the answers, so everything here is tested in-process.
//
// Errors are files.Error values with Telegram's names (or store and engine
// errors), which internal/rpc answers as rpc_error.
package library

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/limit"
	"github.com/filedc/filedc/internal/probe"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/webfetch"
)

// Config is what the service works over.
type Config struct {
	DC        int // this data center's id, carried in the ids of new photos
	Engine    *files.Engine
	Documents store.Documents
	Photos    store.Photos
	// Messages, Accounts and Chats are the origins file references name
	// (D7): a reference is valid while its origin still holds the object.
	// Accounts also keep each account's list of profile photos (M7).
	Messages store.Messages
	Accounts store.Accounts
	Chats    store.Chats
	// Probe runs ffprobe and ffmpeg; zero: no video or audio attributes,
	// no video thumbnails, no profile videos.
	Probe probe.Tools
	// ProbeRate and ProbeBurst bound the documents declared as video or
	// audio one account may have probed (S7c; defaults 1 a second, bursts
	// of 30). Past them such an upload answers FLOOD_WAIT_X before it is
	// consumed, so the client retries it as it is.
	ProbeRate  float64
	ProbeBurst int
	// Web fetches media sent by URL (M10); nil: a fetcher of public
	// addresses with the default caps.
	Web *webfetch.Fetcher
	// Secret is the DC's secret (the cluster's with several DCs); file
	// references are signed with a key derived from it. FileRefTTL is how
	// long a reference stays valid (default 2h).
	Secret     []byte
	FileRefTTL time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service makes, finds and collects documents and photos.
type Service struct {
	cfg  Config
	refs fileRefs
	docs *docCache // nil when processes share the records (docfiles.go)
	// Decoding images, running ffprobe and ffmpeg, and holding fetched
	// bodies each take memory or processes: a few of each at a time.
	photoSlots chan struct{}
	probes     *fairSlots // ffprobe and ffmpeg, in turn across accounts
	probeRate  *limit.Keyed[int64]
	webSlots   chan struct{}
	// mediaMu keeps sends and collection apart within this process (M6):
	// a send holds it shared (Hold) from resolving its media to storing
	// its message, collection holds it alone, so no send here fails
	// because media it named was collected meanwhile.
	mediaMu sync.RWMutex
}

// New returns a service over cfg.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.FileRefTTL <= 0 {
		cfg.FileRefTTL = 2 * time.Hour
	}
	if cfg.ProbeRate <= 0 {
		cfg.ProbeRate = 1
	}
	if cfg.ProbeBurst <= 0 {
		cfg.ProbeBurst = 30
	}
	if cfg.Web == nil {
		cfg.Web, _ = webfetch.New(webfetch.Config{}) // no rules: cannot fail
	}
	return &Service{
		cfg:        cfg,
		refs:       newFileRefs(cfg.Secret, cfg.FileRefTTL),
		docs:       newDocCache(cfg.Engine),
		photoSlots: make(chan struct{}, 2),
		probes:     newFairSlots(2),
		probeRate:  limit.New[int64](cfg.ProbeRate, cfg.ProbeBurst, 100_000, cfg.Now),
		webSlots:   make(chan struct{}, 8),
	}
}

func badRequest(msg string) files.Error { return files.Error{Code: 400, Message: msg} }

var errLocation = badRequest("LOCATION_INVALID") // no such size or thumbnail

// ErrMediaInvalid is MEDIA_INVALID: media that is not what it should be.
var ErrMediaInvalid = badRequest("MEDIA_INVALID")

// Upload is an upload of the caller's that is to become media: what
// files.Engine.Finalize takes (rules F1–F6). Invalid marks an InputFile of
// a kind this server does not take: it is answered FILE_ID_INVALID where
// the upload would have been finalized, so that the uploads consumed
// before the error are the same as for any other failing upload.
type Upload struct {
	files.Finalize
	Invalid bool
}

// admitProbe answers FLOOD_WAIT_X when an account has had too many
// documents of mimeType probed lately; it runs before the upload is
// consumed.
func (s *Service) admitProbe(owner int64, mimeType string) error {
	if !s.cfg.Probe.Enabled() || !isAV(mimeType) {
		return nil
	}
	if ok, wait := s.probeRate.Take(owner, 1); !ok {
		return files.Error{Code: 420, Message: limit.FloodWait(wait), Limit: "probe"}
	}
	return nil
}

// finalize consumes an upload.
func (s *Service) finalize(ctx context.Context, u Upload) (store.FileRecord, error) {
	if u.Invalid {
		return store.FileRecord{}, files.ErrFileIDInvalid
	}
	return s.cfg.Engine.Finalize(ctx, u.Finalize)
}

// Named is a document or photo as a client names it: its id and access
// hash, and the file reference it was given (D7).
type Named struct {
	ID, AccessHash int64
	FileReference  []byte
}

// takeSlot waits for room among slots, or for ctx to end.
func takeSlot(ctx context.Context, slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// dropFile deletes a stored file nothing refers to, logging a failure: the
// answer does not depend on it.
func (s *Service) dropFile(ctx context.Context, ref files.FileRef) {
	if err := s.cfg.Engine.DeleteFile(context.WithoutCancel(ctx), ref); err != nil {
		s.cfg.Logger.Warn("dropping a stored file", "file", ref.ID, "err", err)
	}
}
