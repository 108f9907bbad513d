// Package objstore keeps temporary parts and stored files in object storage
// (S3), with the state of temporary uploads in a shared index (Redis).
//
// Telegram's parts are at most 512 KiB, far below S3's 5 MiB minimum for the
// parts of a multipart upload, so a stored file is not one object: every part
// is written once, as its own object, and a stored file is a manifest that
// lists its part objects. Sealing an upload writes the manifest and nothing
// else (rule F5: no byte is copied, whatever the size); a read maps its offset
// to a part (offset / part size) and reads that range of that object. Object
// keys under the bucket's prefix:
//
//	parts/<slot>/<upload id>/<index>.<generation>   the bytes of one saved part
//	files/<file id>                                 manifest of a stored file
//	sealed/<upload id>/<file id>                    marks an upload sealed into a file
//	gc/collected                                    how far Collect got (see GC)
//
// A part saved again gets a new generation, so an object never changes once
// written: a reader of the old generation never sees a mix, and a manifest
// keeps pointing at the bytes it was sealed with. The index maps (upload,
// index) to the current generation, size, checksum and times.
//
// An object belongs to the temporary upload while the index names it and to
// every file whose manifest lists it; it is deleted when the last of them lets
// go. The sealed/ markers are durable, in the bucket: losing the index (Redis
// restarted without its data) can leak objects, never lose a stored file's.
// Scan, run when a process starts, removes leaked objects once they are older
// than a temporary part may live.
package objstore

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// maxSmallObject bounds what Bucket.Get reads: manifests of the largest
// files (8000 parts) are under 100 KiB.
const maxSmallObject = 1 << 20

// Bucket is object storage: S3, or a directory in tests.
type Bucket interface {
	Put(ctx context.Context, key string, data []byte) error
	// ReadAt fills p from offset off of the object; store.ErrNotFound if the
	// object does not exist.
	ReadAt(ctx context.Context, key string, p []byte, off int64) error
	// Get returns a small object whole, or store.ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes objects; missing ones are not an error.
	Delete(ctx context.Context, keys ...string) error
	// List calls fn for every object whose key starts with prefix.
	List(ctx context.Context, prefix string, fn func(key string, modified time.Time) error) error
}

// Entry is the index's record of one saved part.
type Entry struct {
	Index   int
	Gen     uint64 // names the part's object
	Size    int
	Total   int32
	SavedAt int64 // unix ns
	CRC     uint32
}

const entrySize = 8 + 4 + 4 + 8 + 4

func (e Entry) encode() []byte {
	b := make([]byte, entrySize)
	binary.BigEndian.PutUint64(b, e.Gen)
	binary.BigEndian.PutUint32(b[8:], uint32(e.Size))
	binary.BigEndian.PutUint32(b[12:], uint32(e.Total))
	binary.BigEndian.PutUint64(b[16:], uint64(e.SavedAt))
	binary.BigEndian.PutUint32(b[24:], e.CRC)
	return b
}

func decodeEntry(index int, b []byte) (Entry, error) {
	if len(b) != entrySize {
		return Entry{}, store.ErrCorrupt
	}
	e := Entry{
		Index:   index,
		Gen:     binary.BigEndian.Uint64(b),
		Size:    int(binary.BigEndian.Uint32(b[8:])),
		Total:   int32(binary.BigEndian.Uint32(b[12:])),
		SavedAt: int64(binary.BigEndian.Uint64(b[16:])),
		CRC:     binary.BigEndian.Uint32(b[24:]),
	}
	if e.Size <= 0 || e.Size > store.MaxPartSize {
		return Entry{}, store.ErrCorrupt
	}
	return e, nil
}

func (e Entry) part() store.Part {
	return store.Part{Index: e.Index, Size: e.Size, Total: e.Total, SavedAt: time.Unix(0, e.SavedAt), Version: e.Gen}
}

// Index keeps the state of temporary uploads: which generation of which part
// is current.
type Index interface {
	// Put records e as part e.Index of upload id and returns the entry it
	// replaced, if any.
	Put(ctx context.Context, id store.UploadID, key store.UploadKey, e Entry) (old Entry, replaced bool, err error)
	// Get returns one entry or store.ErrNotFound.
	Get(ctx context.Context, id store.UploadID, index int) (Entry, error)
	// GetMany returns the entries of the given indexes; ok[i] says whether
	// indexes[i] has one.
	GetMany(ctx context.Context, id store.UploadID, indexes []int) (entries []Entry, ok []bool, err error)
	// Delete removes one entry and returns it, if there was one.
	Delete(ctx context.Context, id store.UploadID, index int) (old Entry, deleted bool, err error)
	// DeleteUpload removes an upload and returns its entries.
	DeleteUpload(ctx context.Context, id store.UploadID) ([]Entry, error)
	// Scan calls fn for every upload with at least one entry.
	Scan(ctx context.Context, fn func(id store.UploadID, key store.UploadKey, entries []Entry) error) error
	// PutHashState and HashState keep a small state beside an upload's
	// entries (store.HashStateKeeper); DeleteUpload removes it.
	PutHashState(ctx context.Context, id store.UploadID, state []byte) error
	HashState(ctx context.Context, id store.UploadID) ([]byte, error)
}

var _ store.HashStateKeeper = (*Store)(nil)

// PutHashState implements store.HashStateKeeper in the index, beside the
// upload's entries: one write per checkpoint, none per part.
func (s *Store) PutHashState(ctx context.Context, id store.UploadID, state []byte) error {
	return s.index.PutHashState(ctx, id, state)
}

// HashState implements store.HashStateKeeper.
func (s *Store) HashState(ctx context.Context, id store.UploadID) ([]byte, error) {
	return s.index.HashState(ctx, id)
}

// Store implements store.Temp and store.Content on a Bucket and an Index.
type Store struct {
	bucket Bucket
	index  Index
	gc     GC

	mu        sync.Mutex
	manifests map[int64]*manifest // a bounded cache; manifests never change

	collecting  atomic.Bool
	lastCollect atomic.Int64   // unix ns of the last Collect started
	background  sync.WaitGroup // a Collect started by collectNow
}

// Close waits for a background Collect to end.
func (s *Store) Close() error {
	s.background.Wait()
	return nil
}

var (
	_ store.Temp    = (*Store)(nil)
	_ store.Content = (*Store)(nil)
)

// GC says when part objects nothing names any more are removed.
//
// Part objects are grouped by when they were written, one key prefix per
// Slot. Once a slot is older than MaxTTL + Grace, each of its objects is
// either listed by a stored file's manifest or garbage: a temporary part
// never lives longer than MaxTTL (U8). Scan, when a process starts, collects
// every such slot once and records how far it got in gc/collected, so the
// cost of a start does not grow with the number of stored files.
type GC struct {
	MaxTTL time.Duration // the engine's --temp-max-ttl (default 6h)
	Grace  time.Duration // for clock skew and saves in flight (default 10m; negative: none)
	Slot   time.Duration // whole seconds (default 1h)
}

func (g GC) withDefaults() GC {
	if g.MaxTTL <= 0 {
		g.MaxTTL = 6 * time.Hour
	}
	if g.Grace < 0 {
		g.Grace = 0
	} else if g.Grace == 0 {
		g.Grace = 10 * time.Minute
	}
	if g.Slot < time.Second {
		g.Slot = time.Hour
	}
	g.Slot = g.Slot.Truncate(time.Second)
	return g
}

// New returns a store on bucket and index.
func New(bucket Bucket, index Index, gc GC) *Store {
	return &Store{bucket: bucket, index: index, gc: gc.withDefaults(), manifests: make(map[int64]*manifest)}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// A generation's high 32 bits are the start of the slot (unix seconds) it
// was written in, its low 32 bits random: the key of a part object follows
// from (upload, index, generation).
func partKey(id store.UploadID, index int, gen uint64) string {
	return slotPrefix(uint32(gen>>32)) + id.String() + "/" + strconv.Itoa(index) + "." + strconv.FormatUint(gen, 16)
}

func slotPrefix(start uint32) string { return fmt.Sprintf("parts/%08x/", start) }

func fileKey(file int64) string { return fmt.Sprintf("files/%016x", uint64(file)) }

func sealedPrefix(id store.UploadID) string { return "sealed/" + id.String() + "/" }

func sealedKey(id store.UploadID, file int64) string {
	return sealedPrefix(id) + fmt.Sprintf("%016x", uint64(file))
}

// parsePartKey splits "parts/<slot>/<id>/<index>.<gen>".
func parsePartKey(key string) (id store.UploadID, index int, gen uint64, ok bool) {
	rest, found := strings.CutPrefix(key, "parts/")
	if !found {
		return id, 0, 0, false
	}
	_, rest, found = strings.Cut(rest, "/")
	if !found {
		return id, 0, 0, false
	}
	idText, name, found := strings.Cut(rest, "/")
	if !found {
		return id, 0, 0, false
	}
	id, err := store.ParseUploadID(idText)
	if err != nil {
		return id, 0, 0, false
	}
	indexText, genText, found := strings.Cut(name, ".")
	if !found {
		return id, 0, 0, false
	}
	index, err1 := strconv.Atoi(indexText)
	gen, err2 := strconv.ParseUint(genText, 16, 64)
	return id, index, gen, err1 == nil && err2 == nil && index >= 0 && key == partKey(id, index, gen)
}

// slotStart is the start of the slot that holds t.
func (s *Store) slotStart(t time.Time) int64 {
	n := int64(s.gc.Slot / time.Second)
	return t.Unix() / n * n
}

func (s *Store) newGen() uint64 {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return uint64(uint32(s.slotStart(time.Now())))<<32 | uint64(binary.LittleEndian.Uint32(b[:]))
}

// PutPart implements store.Temp: the bytes go to a new object, then the index
// points at it, then the object it replaced is released.
func (s *Store) PutPart(ctx context.Context, id store.UploadID, key store.UploadKey, p store.Part, data []byte) (uint64, error) {
	if len(data) != p.Size || p.Size <= 0 || p.Size > store.MaxPartSize || p.Index < 0 {
		return 0, fmt.Errorf("objstore: part %d: size %d does not match %d bytes", p.Index, p.Size, len(data))
	}
	e := Entry{Index: p.Index, Gen: s.newGen(), Size: p.Size, Total: p.Total, SavedAt: p.SavedAt.UnixNano(),
		CRC: crc32.Checksum(data, castagnoli)}
	obj := partKey(id, p.Index, e.Gen)
	if err := s.bucket.Put(ctx, obj, data); err != nil {
		return 0, fmt.Errorf("objstore: put part: %w", err)
	}
	old, replaced, err := s.index.Put(ctx, id, key, e)
	if err != nil {
		// The index may or may not hold the entry (the reply was lost): keep
		// the object; Scan removes it if nothing names it.
		return 0, fmt.Errorf("objstore: index part: %w", err)
	}
	if replaced && old.Gen != e.Gen {
		s.release(ctx, id, []Entry{old})
	}
	return e.Gen, nil
}

// ReadPart implements store.Temp.
func (s *Store) ReadPart(ctx context.Context, id store.UploadID, index int, buf []byte) (store.Part, []byte, error) {
	for attempt := 0; ; attempt++ {
		e, err := s.index.Get(ctx, id, index)
		if err != nil {
			return store.Part{}, nil, err
		}
		if len(buf) < e.Size {
			return store.Part{}, nil, store.ErrCorrupt
		}
		data := buf[:e.Size]
		err = s.bucket.ReadAt(ctx, partKey(id, index, e.Gen), data, 0)
		if errors.Is(err, store.ErrNotFound) {
			// Replaced and released meanwhile: read the new generation. If
			// the index still names the object, the object is lost.
			if now, gerr := s.index.Get(ctx, id, index); gerr == nil && now.Gen != e.Gen && attempt < 100 {
				continue
			}
			return store.Part{}, nil, store.ErrCorrupt
		}
		if err != nil {
			return store.Part{}, nil, err
		}
		if crc32.Checksum(data, castagnoli) != e.CRC {
			return store.Part{}, nil, store.ErrCorrupt
		}
		return e.part(), data, nil
	}
}

// DeletePart implements store.Temp.
func (s *Store) DeletePart(ctx context.Context, id store.UploadID, index int) error {
	old, deleted, err := s.index.Delete(ctx, id, index)
	if err != nil {
		return err
	}
	if deleted {
		s.release(ctx, id, []Entry{old})
	}
	return nil
}

// DeleteUpload implements store.Temp. A long-running process collects
// garbage from here too, once per slot, in the background.
func (s *Store) DeleteUpload(ctx context.Context, id store.UploadID) error {
	entries, err := s.index.DeleteUpload(ctx, id)
	if err != nil {
		return err
	}
	s.release(ctx, id, entries)
	s.collectNow()
	return nil
}

// collectLimit bounds one background Collect.
const collectLimit = 10 * time.Minute

func (s *Store) collectNow() {
	now := time.Now().UnixNano()
	if now-s.lastCollect.Load() < int64(s.gc.Slot) || !s.collecting.CompareAndSwap(false, true) {
		return
	}
	s.lastCollect.Store(now)
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		defer s.collecting.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), collectLimit)
		defer cancel()
		_ = s.Collect(ctx) // a failure is retried a slot later
	}()
}

// release deletes the objects of entries the index no longer names, unless a
// stored file lists them. A failure only leaks objects, which Scan removes.
func (s *Store) release(ctx context.Context, id store.UploadID, entries []Entry) {
	if len(entries) == 0 {
		return
	}
	sealed, err := s.sealedObjects(ctx, id, 0)
	if err != nil {
		return
	}
	var keys []string
	for _, e := range entries {
		if k := partKey(id, e.Index, e.Gen); !sealed[k] {
			keys = append(keys, k)
		}
	}
	_ = s.bucket.Delete(ctx, keys...)
}

// sealedObjects returns the part objects of upload id that the manifests of
// files it was sealed into list, leaving out file except.
func (s *Store) sealedObjects(ctx context.Context, id store.UploadID, except int64) (map[string]bool, error) {
	var files []int64
	err := s.bucket.List(ctx, sealedPrefix(id), func(key string, _ time.Time) error {
		f, err := strconv.ParseUint(strings.TrimPrefix(key, sealedPrefix(id)), 16, 64)
		if err == nil && int64(f) != except {
			files = append(files, int64(f))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	objs := make(map[string]bool)
	for _, f := range files {
		m, err := s.manifest(ctx, f)
		if errors.Is(err, store.ErrNotFound) {
			continue // a seal that never finished, or a file being deleted
		}
		if err != nil {
			return nil, err
		}
		if m.upload != id {
			continue
		}
		for i, gen := range m.gens {
			objs[partKey(id, i, gen)] = true
		}
	}
	return objs, nil
}

// Scan implements store.Temp, and then collects the part objects of slots
// that have become old enough (see GC).
func (s *Store) Scan(ctx context.Context, fn func(store.Upload) error) error {
	s.lastCollect.Store(time.Now().UnixNano())
	err := s.index.Scan(ctx, func(id store.UploadID, key store.UploadKey, entries []Entry) error {
		up := store.Upload{ID: id, Key: key}
		for _, e := range entries {
			up.Parts = append(up.Parts, e.part())
		}
		slices.SortFunc(up.Parts, func(a, b store.Part) int { return a.Index - b.Index })
		return fn(up)
	})
	if err != nil {
		return err
	}
	return s.Collect(ctx)
}

const collectedKey = "gc/collected" // unix seconds of the last slot collected

// Collect removes the part objects no manifest lists from every slot older
// than MaxTTL + Grace that was not collected yet.
func (s *Store) Collect(ctx context.Context) error {
	slot := int64(s.gc.Slot / time.Second)
	now := time.Now()
	last := s.slotStart(now) - 2*slot // a new bucket: nothing older exists
	b, err := s.bucket.Get(ctx, collectedKey)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// The first start on this bucket: later starts go on from here.
		if err := s.bucket.Put(ctx, collectedKey, []byte(strconv.FormatInt(last, 10))); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			last = v
		}
	}
	cutoff := now.Add(-s.gc.MaxTTL - s.gc.Grace).Unix()
	for start := last + slot; start+slot <= cutoff; start += slot {
		if err := s.collectSlot(ctx, start); err != nil {
			return err
		}
		if err := s.bucket.Put(ctx, collectedKey, []byte(strconv.FormatInt(start, 10))); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) collectSlot(ctx context.Context, start int64) error {
	byUpload := make(map[store.UploadID][]string)
	err := s.bucket.List(ctx, slotPrefix(uint32(start)), func(key string, _ time.Time) error {
		if id, _, _, ok := parsePartKey(key); ok {
			byUpload[id] = append(byUpload[id], key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id, keys := range byUpload {
		sealed, err := s.sealedObjects(ctx, id, 0)
		if err != nil {
			return err
		}
		var dead []string
		for _, k := range keys {
			if !sealed[k] {
				dead = append(dead, k)
			}
		}
		if err := s.bucket.Delete(ctx, dead...); err != nil {
			return err
		}
	}
	return nil
}
