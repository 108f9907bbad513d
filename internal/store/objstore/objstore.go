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
//	parts/<upload id>/<index>.<generation>   the bytes of one saved part
//	files/<file id>                          manifest of a stored file
//	sealed/<upload id>/<file id>             marks an upload sealed into a file
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
// Scan, run when a process starts, removes leaked objects.
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
	return store.Part{Index: e.Index, Size: e.Size, Total: e.Total, SavedAt: time.Unix(0, e.SavedAt)}
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
}

// Store implements store.Temp and store.Content on a Bucket and an Index.
type Store struct {
	bucket Bucket
	index  Index
	grace  time.Duration

	mu        sync.Mutex
	manifests map[int64]*manifest // a bounded cache; manifests never change
}

var (
	_ store.Temp    = (*Store)(nil)
	_ store.Content = (*Store)(nil)
)

// DefaultGrace is how old an object nothing refers to must be before Scan
// removes it: younger ones may belong to a save in flight in another process.
const DefaultGrace = 10 * time.Minute

// New returns a store on bucket and index.
func New(bucket Bucket, index Index) *Store {
	return &Store{bucket: bucket, index: index, grace: DefaultGrace, manifests: make(map[int64]*manifest)}
}

// SetGrace changes DefaultGrace, for tests.
func (s *Store) SetGrace(d time.Duration) { s.grace = d }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func partKey(id store.UploadID, index int, gen uint64) string {
	return "parts/" + id.String() + "/" + strconv.Itoa(index) + "." + strconv.FormatUint(gen, 16)
}

func fileKey(file int64) string { return fmt.Sprintf("files/%016x", uint64(file)) }

func sealedPrefix(id store.UploadID) string { return "sealed/" + id.String() + "/" }

func sealedKey(id store.UploadID, file int64) string {
	return sealedPrefix(id) + fmt.Sprintf("%016x", uint64(file))
}

// parsePartKey splits "parts/<id>/<index>.<gen>".
func parsePartKey(key string) (id store.UploadID, index int, gen uint64, ok bool) {
	rest, found := strings.CutPrefix(key, "parts/")
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
	return id, index, gen, err1 == nil && err2 == nil && index >= 0
}

func newGen() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return binary.LittleEndian.Uint64(b[:])
}

// PutPart implements store.Temp: the bytes go to a new object, then the index
// points at it, then the object it replaced is released.
func (s *Store) PutPart(ctx context.Context, id store.UploadID, key store.UploadKey, p store.Part, data []byte) error {
	if len(data) != p.Size || p.Size <= 0 || p.Size > store.MaxPartSize || p.Index < 0 {
		return fmt.Errorf("objstore: part %d: size %d does not match %d bytes", p.Index, p.Size, len(data))
	}
	e := Entry{Index: p.Index, Gen: newGen(), Size: p.Size, Total: p.Total, SavedAt: p.SavedAt.UnixNano(),
		CRC: crc32.Checksum(data, castagnoli)}
	obj := partKey(id, p.Index, e.Gen)
	if err := s.bucket.Put(ctx, obj, data); err != nil {
		return fmt.Errorf("objstore: put part: %w", err)
	}
	old, replaced, err := s.index.Put(ctx, id, key, e)
	if err != nil {
		// The index may or may not hold the entry (the reply was lost): keep
		// the object; Scan removes it if nothing names it.
		return fmt.Errorf("objstore: index part: %w", err)
	}
	if replaced && old.Gen != e.Gen {
		s.release(ctx, id, []Entry{old})
	}
	return nil
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

// DeleteUpload implements store.Temp.
func (s *Store) DeleteUpload(ctx context.Context, id store.UploadID) error {
	entries, err := s.index.DeleteUpload(ctx, id)
	if err != nil {
		return err
	}
	s.release(ctx, id, entries)
	return nil
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

// Scan implements store.Temp, and removes part objects that nothing names
// any more (left by a crash, a lost reply or expired state) once they are
// older than the grace period.
func (s *Store) Scan(ctx context.Context, fn func(store.Upload) error) error {
	live := make(map[store.UploadID]map[int]uint64)
	err := s.index.Scan(ctx, func(id store.UploadID, key store.UploadKey, entries []Entry) error {
		up := store.Upload{ID: id, Key: key}
		gens := make(map[int]uint64, len(entries))
		for _, e := range entries {
			up.Parts = append(up.Parts, e.part())
			gens[e.Index] = e.Gen
		}
		live[id] = gens
		sortParts(up.Parts)
		return fn(up)
	})
	if err != nil {
		return err
	}
	return s.collect(ctx, live)
}

func sortParts(ps []store.Part) {
	slices.SortFunc(ps, func(a, b store.Part) int { return a.Index - b.Index })
}

// collect deletes old part objects that neither the index (as scanned in
// live) nor a manifest names.
func (s *Store) collect(ctx context.Context, live map[store.UploadID]map[int]uint64) error {
	cutoff := time.Now().Add(-s.grace)
	stray := make(map[store.UploadID][]string)
	err := s.bucket.List(ctx, "parts/", func(key string, modified time.Time) error {
		id, index, gen, ok := parsePartKey(key)
		if !ok || modified.After(cutoff) {
			return nil
		}
		if gens, found := live[id]; found && gens[index] == gen {
			return nil
		}
		stray[id] = append(stray[id], key)
		return nil
	})
	if err != nil {
		return err
	}
	for id, keys := range stray {
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
