// Package files is the file engine: Telegram's rules for saving parts,
// finalizing uploads into stored files, and reading them back (rules U, F and
// D of the spec), as plain Go on top of the interfaces of package store. It
// knows nothing of MTProto; the RPC layer translates.
package files

import (
	"container/list"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// Clock tells the engine the time; tests substitute their own.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Step names a point inside finalization or a save, for fault-injection
// tests.
type Step string

const (
	StepSeal    Step = "seal"    // before the parts are sealed into content
	StepCommit  Step = "commit"  // sealed, before the record is committed
	StepCleanup Step = "cleanup" // committed, before the temporary parts are deleted
	// StepTurn: a saved part starts waiting for the parts before it to be
	// hashed (ahead.go).
	StepTurn Step = "turn"
)

// Config sets the engine's limits. Zero fields take the defaults.
type Config struct {
	MaxParts        int           // file_part limit for ordinary accounts (default 4000)
	PremiumMaxParts int           // for premium accounts (default 8000)
	TempBudget      int64         // bytes of temporary parts, a hard bound per process (default 4 GiB)
	MinTTL          time.Duration // temporary parts are never evicted younger (default 10m)
	MaxTTL          time.Duration // temporary parts never live longer (default 6h)
	// Per-account limits (S7), answered with FLOOD_WAIT_X. Negative: none.
	MaxUploadsPerOwner   int           // temporary uploads at once (default 64)
	MaxTempBytesPerOwner int64         // bytes of temporary parts (default and at most TempBudget)
	FloodWait            time.Duration // the X of FLOOD_WAIT_X for these limits (default 5s)
	Clock                Clock         // default: the system clock
	Logger               *slog.Logger  // default: slog.Default()
	// OnStep, when set, is called at each Step of finalization, and with
	// StepTurn by saves, from their own goroutines at once. Fault-injection
	// tests use it to kill the process at an exact point.
	OnStep func(Step)
	// OnFinalize, when set, is told how long each finalization took and
	// how it ended (metrics).
	OnFinalize func(d time.Duration, err error)
	// DC is the data center the engine stores files for: new file ids carry
	// it (randid.InDC), so other DCs know where a file lives.
	DC int
	// Shared says several processes of the DC use these stores (O2): see
	// shared.go. The Temp store should implement store.PartLister.
	Shared bool
	// HashStateEvery is how many bytes of an upload are hashed between two
	// states of its hashes kept in a Temp store that implements
	// store.HashStateKeeper (hashstate.go): after a restart, at most this
	// much is read back. Default 64 MiB; negative: none kept.
	HashStateEvery int64
}

func (c Config) withDefaults() Config {
	if c.MaxParts <= 0 {
		c.MaxParts = 4000
	}
	if c.PremiumMaxParts <= 0 {
		c.PremiumMaxParts = 8000
	}
	if c.TempBudget <= 0 {
		c.TempBudget = 4 << 30
	}
	if c.MinTTL <= 0 {
		c.MinTTL = 10 * time.Minute
	}
	if c.MaxTTL <= 0 {
		c.MaxTTL = 6 * time.Hour
	}
	if c.MaxUploadsPerOwner == 0 {
		c.MaxUploadsPerOwner = 64
	}
	if c.MaxTempBytesPerOwner == 0 {
		c.MaxTempBytesPerOwner = 8 << 30
	}
	if c.MaxTempBytesPerOwner > c.TempBudget {
		// One account never holds more than the whole budget (S7b).
		c.MaxTempBytesPerOwner = c.TempBudget
	}
	if c.FloodWait <= 0 {
		c.FloodWait = 5 * time.Second
	}
	if c.Clock == nil {
		c.Clock = systemClock{}
	}
	if c.HashStateEvery == 0 {
		c.HashStateEvery = DefaultHashStateEvery
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// DefaultHashStateEvery keeps a state of an upload's hashes for every
// 64 MiB: at most a few writes of well under a MiB for a 2 GiB file.
const DefaultHashStateEvery = 64 << 20

// Engine implements the file API's rules on a set of stores. It is safe for
// concurrent use by any number of goroutines.
type Engine struct {
	cfg     Config
	temp    store.Temp
	content store.Content
	meta    store.Meta
	keeper  store.HashStateKeeper // temp, if it keeps hash states

	mu        sync.Mutex
	uploads   map[store.UploadKey]*upload
	lru       list.List // of *upload, most recently touched first
	owners    map[int64]*owner
	tempBytes atomic.Int64
	sweeping  sync.Mutex

	files    sync.Map // int64 -> store.FileRecord; records never change
	partBufs sync.Pool
	stats    counters
}

// owner is what one account holds in temporary storage.
type owner struct {
	uploads int          // guarded by Engine.mu
	bytes   atomic.Int64 // bytes of its temporary parts
}

// upload is the in-memory state of one temporary upload. Saves hold rw for
// reading while they write their part, so parts of one upload are written in
// parallel; finalization and eviction hold it for writing.
type upload struct {
	key   store.UploadKey
	id    store.UploadID
	owner *owner
	rw    sync.RWMutex
	// gone is set, under rw held for writing, when the upload was finalized or
	// evicted; a save that finds it set starts over with a new upload.
	gone bool

	mu     sync.Mutex // guards parts, seq and saving
	parts  *partSet
	seq    []uint64 // by part index: which write owns the current entry
	saving []int32  // by part index: saves of it this process is making now

	ahead *ahead // the hashes of the first parts, taken as they arrive

	// Guarded by Engine.mu.
	touched time.Time
	elem    *list.Element
}

// New returns an engine on the given stores after recovering their state:
// temporary uploads are loaded (those already consumed by a finalization that
// crashed before cleaning up are deleted) and content no record refers to
// (a finalization that crashed before its commit) is removed.
func New(ctx context.Context, cfg Config, temp store.Temp, content store.Content, meta store.Meta) (*Engine, error) {
	e := &Engine{
		cfg:     cfg.withDefaults(),
		temp:    temp,
		content: content,
		meta:    meta,
		uploads: make(map[store.UploadKey]*upload),
		owners:  make(map[int64]*owner),
	}
	e.keeper, _ = temp.(store.HashStateKeeper)
	e.partBufs.New = func() any { b := make([]byte, maxPartSize); return &b }
	if err := e.recover(ctx); err != nil {
		return nil, fmt.Errorf("files: recover: %w", err)
	}
	return e, nil
}

func (e *Engine) recover(ctx context.Context) error {
	var loaded []*upload
	err := e.temp.Scan(ctx, func(up store.Upload) error {
		consumed, err := e.meta.Consumed(ctx, up.ID)
		if err != nil {
			return err
		}
		if consumed {
			return e.temp.DeleteUpload(ctx, up.ID)
		}
		u := &upload{key: up.Key, id: up.ID, parts: newPartSet(), ahead: newAhead(!up.Key.Big)}
		e.loadState(ctx, u, up.Parts)
		for _, p := range up.Parts {
			if p.Index >= e.cfg.PremiumMaxParts {
				continue
			}
			u.parts.put(p.Index, p.Size, p.Total, p.SavedAt.UnixNano())
			// The parts past the hashes kept are read back by the next
			// saves and hashed.
			if p.Index >= u.ahead.next {
				u.ahead.wait(p.Index, p.Version)
			}
			if p.SavedAt.After(u.touched) {
				u.touched = p.SavedAt
			}
		}
		u.seq = make([]uint64, len(u.parts.sizes))
		if old := e.uploads[up.Key]; old != nil {
			// Two generations of one key: keep the newer one.
			if old.touched.After(u.touched) {
				return e.temp.DeleteUpload(ctx, up.ID)
			}
			if err := e.temp.DeleteUpload(ctx, old.id); err != nil {
				return err
			}
		}
		e.uploads[up.Key] = u
		loaded = append(loaded, u)
		return nil
	})
	if err != nil {
		return err
	}
	// Rebuild the LRU order from the touch times found on disk.
	sortByTouched(loaded)
	for _, u := range loaded {
		if e.uploads[u.key] != u {
			continue
		}
		u.elem = e.lru.PushFront(u)
		u.owner = e.ownerLocked(u.key.Owner)
		u.owner.uploads++
		e.addBytes(u, u.parts.bytes)
	}
	if e.cfg.Shared {
		// Content without a record may be another process's finalization
		// between its seal and its commit: not ours to remove.
		return nil
	}
	var orphans []int64
	err = e.content.List(ctx, func(id int64) error {
		if _, err := e.meta.File(ctx, id); errors.Is(err, store.ErrNotFound) {
			orphans = append(orphans, id)
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range orphans {
		if err := e.content.Delete(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// Shared reports whether several processes share the engine's stores
// (Config.Shared).
func (e *Engine) Shared() bool { return e.cfg.Shared }

// ownerLocked returns the state of an account; the caller holds e.mu.
func (e *Engine) ownerLocked(id int64) *owner {
	o := e.owners[id]
	if o == nil {
		o = &owner{}
		e.owners[id] = o
	}
	return o
}

// addBytes accounts for temporary bytes of an upload, globally and for its owner.
func (e *Engine) addBytes(u *upload, delta int64) {
	e.tempBytes.Add(delta)
	u.owner.bytes.Add(delta)
}

func (e *Engine) floodWait(limit string) Error {
	err := ErrFloodWait(int((e.cfg.FloodWait + time.Second - 1) / time.Second))
	err.Limit = limit
	return err
}

// sortByTouched orders uploads oldest first: pushed to the front of the LRU
// in this order, the newest ends in front.
func sortByTouched(us []*upload) {
	slices.SortFunc(us, func(a, b *upload) int { return a.touched.Compare(b.touched) })
}

func (e *Engine) maxParts(premium bool) int {
	if premium {
		return e.cfg.PremiumMaxParts
	}
	return e.cfg.MaxParts
}

// TempBytes returns the bytes of temporary parts currently held.
func (e *Engine) TempBytes() int64 { return e.tempBytes.Load() }

// Uploads returns the number of temporary uploads currently held.
func (e *Engine) Uploads() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.uploads)
}

func (e *Engine) step(s Step) {
	if e.cfg.OnStep != nil {
		e.cfg.OnStep(s)
	}
}

func randomUploadID() store.UploadID {
	var id store.UploadID
	if _, err := rand.Read(id[:]); err != nil {
		panic(err)
	}
	return id
}
