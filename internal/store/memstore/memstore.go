// Package memstore keeps every store of a DC in one process's memory:
// temporary parts, stored content and all records. It backs
// pkg/filedctest and the engine's unit tests, where disk is not the point.
//
// Byte slices are copied on the way in and out, so callers never alias what
// is stored; the bytes of a part are immutable once stored, so sealing a
// file shares them without a copy (F5) and reads copy outside the locks.
// Nothing survives the process.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/filedc/filedc/internal/store"
)

// Store implements store.Temp, store.Content, store.PartLister and every
// record interface (Meta, AuthKeys, Accounts, Messages, Documents, Photos,
// Chats, Once). The zero value is not usable; call New.
type Store struct {
	// bytes guards uploads and files; records guards everything else, so
	// that part traffic never waits for a record transaction.
	bytes   sync.RWMutex
	uploads map[store.UploadID]*upload
	files   map[int64][][]byte // sealed parts, shared with the uploads they came from
	version atomic.Uint64      // the last part version handed out

	records   sync.Mutex
	meta      metaTables
	keys      map[[8]byte]store.AuthKey
	accounts  map[int64]store.Account
	phones    map[string]int64
	histories map[int64]*history
	pts       map[int64]int
	refs      map[int64]int // object -> messages naming it
	documents map[int64]store.Document
	contents  map[contentKey]map[int64]bool // document ids by content
	photos    map[int64]store.Photo
	chats     map[int64]store.Chat
	chatPhoto map[int64]int // photo -> chats it is the current photo of
	once      store.MemOnce
}

// New returns an empty store.
func New() *Store {
	return &Store{
		uploads:   make(map[store.UploadID]*upload),
		files:     make(map[int64][][]byte),
		meta:      newMetaTables(),
		keys:      make(map[[8]byte]store.AuthKey),
		accounts:  make(map[int64]store.Account),
		phones:    make(map[string]int64),
		histories: make(map[int64]*history),
		pts:       make(map[int64]int),
		refs:      make(map[int64]int),
		documents: make(map[int64]store.Document),
		contents:  make(map[contentKey]map[int64]bool),
		photos:    make(map[int64]store.Photo),
		chats:     make(map[int64]store.Chat),
		chatPhoto: make(map[int64]int),
	}
}

var (
	_ store.Temp            = (*Store)(nil)
	_ store.Content         = (*Store)(nil)
	_ store.PartLister      = (*Store)(nil)
	_ store.HashStateKeeper = (*Store)(nil)
)

type upload struct {
	key       store.UploadKey
	parts     map[int]part
	hashState []byte
}

type part struct {
	desc store.Part
	data []byte // never written after PutPart
}

// PutPart implements store.Temp.
func (s *Store) PutPart(ctx context.Context, id store.UploadID, key store.UploadKey, p store.Part, data []byte) (uint64, error) {
	if len(data) != p.Size {
		return 0, fmt.Errorf("memstore: part of %d bytes declared as %d", len(data), p.Size)
	}
	p.Version = s.version.Add(1)
	stored := part{desc: p, data: slices.Clone(data)} // copied before the lock
	s.bytes.Lock()
	defer s.bytes.Unlock()
	u := s.uploads[id]
	if u == nil {
		u = &upload{key: key, parts: make(map[int]part)}
		s.uploads[id] = u
	}
	u.key = key
	u.parts[p.Index] = stored
	return p.Version, nil
}

// ReadPart implements store.Temp.
func (s *Store) ReadPart(ctx context.Context, id store.UploadID, index int, buf []byte) (store.Part, []byte, error) {
	s.bytes.RLock()
	var p part
	var ok bool
	if u := s.uploads[id]; u != nil {
		p, ok = u.parts[index]
	}
	s.bytes.RUnlock()
	if !ok {
		return store.Part{}, nil, store.ErrNotFound
	}
	if len(buf) < len(p.data) {
		return store.Part{}, nil, fmt.Errorf("memstore: buffer of %d bytes for a part of %d", len(buf), len(p.data))
	}
	return p.desc, buf[:copy(buf, p.data)], nil
}

// DeletePart implements store.Temp.
func (s *Store) DeletePart(ctx context.Context, id store.UploadID, index int) error {
	s.bytes.Lock()
	defer s.bytes.Unlock()
	if u := s.uploads[id]; u != nil {
		delete(u.parts, index)
		if len(u.parts) == 0 {
			delete(s.uploads, id)
		}
	}
	return nil
}

// PutHashState implements store.HashStateKeeper. The state goes with the
// upload: an upload without parts keeps none.
func (s *Store) PutHashState(ctx context.Context, id store.UploadID, state []byte) error {
	state = slices.Clone(state)
	s.bytes.Lock()
	defer s.bytes.Unlock()
	if u := s.uploads[id]; u != nil {
		u.hashState = state
	}
	return nil
}

// HashState implements store.HashStateKeeper.
func (s *Store) HashState(ctx context.Context, id store.UploadID) ([]byte, error) {
	s.bytes.RLock()
	defer s.bytes.RUnlock()
	if u := s.uploads[id]; u != nil && u.hashState != nil {
		return slices.Clone(u.hashState), nil
	}
	return nil, store.ErrNotFound
}

// DeleteUpload implements store.Temp.
func (s *Store) DeleteUpload(ctx context.Context, id store.UploadID) error {
	s.bytes.Lock()
	defer s.bytes.Unlock()
	delete(s.uploads, id)
	return nil
}

// Scan implements store.Temp. fn runs outside the lock (the engine deletes
// uploads from it).
func (s *Store) Scan(ctx context.Context, fn func(store.Upload) error) error {
	s.bytes.RLock()
	ups := make([]store.Upload, 0, len(s.uploads))
	for id, u := range s.uploads {
		ups = append(ups, store.Upload{ID: id, Key: u.key, Parts: u.sorted()})
	}
	s.bytes.RUnlock()
	for _, u := range ups {
		if err := fn(u); err != nil {
			return err
		}
	}
	return nil
}

// Parts implements store.PartLister.
func (s *Store) Parts(ctx context.Context, id store.UploadID) ([]store.Part, error) {
	s.bytes.RLock()
	defer s.bytes.RUnlock()
	if u := s.uploads[id]; u != nil {
		return u.sorted(), nil
	}
	return nil, nil
}

// sorted returns the parts' descriptions by index; bytes is held.
func (u *upload) sorted() []store.Part {
	out := make([]store.Part, 0, len(u.parts))
	for _, i := range slices.Sorted(maps.Keys(u.parts)) {
		out = append(out, u.parts[i].desc)
	}
	return out
}

// Seal implements store.Content: the file shares the parts' bytes.
func (s *Store) Seal(ctx context.Context, from store.UploadID, to int64, versions []uint64) error {
	s.bytes.Lock()
	defer s.bytes.Unlock()
	u := s.uploads[from]
	sealed := make([][]byte, len(versions))
	for i, v := range versions {
		var p part
		var ok bool
		if u != nil {
			p, ok = u.parts[i]
		}
		switch {
		case !ok:
			return fmt.Errorf("memstore: seal upload %s part %d: %w", from, i, store.ErrNotFound)
		case p.desc.Version != v:
			return fmt.Errorf("memstore: seal upload %s part %d: %w", from, i, store.ErrPartChanged)
		}
		sealed[i] = p.data
	}
	s.files[to] = sealed
	return nil
}

// ReadAt implements store.Content.
func (s *Store) ReadAt(ctx context.Context, file int64, l store.Layout, p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > l.Size || l.PartSize <= 0 {
		return fmt.Errorf("memstore: read [%d, %d) of file %d of %d bytes", off, off+int64(len(p)), file, l.Size)
	}
	s.bytes.RLock()
	parts, ok := s.files[file]
	s.bytes.RUnlock()
	if !ok {
		return fmt.Errorf("memstore: file %d: %w", file, store.ErrNotFound)
	}
	for len(p) > 0 {
		i, in := int(off/int64(l.PartSize)), int(off%int64(l.PartSize))
		if i >= len(parts) || in >= len(parts[i]) {
			return fmt.Errorf("memstore: file %d holds no byte %d of its layout", file, off)
		}
		n := copy(p, parts[i][in:])
		p, off = p[n:], off+int64(n)
	}
	return nil
}

// Delete implements store.Content.
func (s *Store) Delete(ctx context.Context, file int64) error {
	s.bytes.Lock()
	defer s.bytes.Unlock()
	delete(s.files, file)
	return nil
}

// List implements store.Content.
func (s *Store) List(ctx context.Context, fn func(file int64) error) error {
	s.bytes.RLock()
	ids := slices.Collect(maps.Keys(s.files))
	s.bytes.RUnlock()
	for _, id := range ids {
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

// errNegativeRange is RangeHashes' answer to a negative window.
var errNegativeRange = errors.New("memstore: negative range")
