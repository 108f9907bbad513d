package objstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// manifest lists the part objects of a stored file.
//
//	"FDCM" | version 1 | upload id (16) | parts u32 | per part: generation u64, size u32
type manifest struct {
	upload store.UploadID
	gens   []uint64
	sizes  []int
}

const (
	manifestMagic   = "FDCM"
	manifestVersion = 1
	manifestHeader  = 4 + 1 + 16 + 4
	maxManifestSize = 1 << 20 // a bound for decoding, far above 8000 parts
	maxCached       = 4096
)

func (m *manifest) encode() []byte {
	b := make([]byte, 0, manifestHeader+12*len(m.gens))
	b = append(b, manifestMagic...)
	b = append(b, manifestVersion)
	b = append(b, m.upload[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.gens)))
	for i, g := range m.gens {
		b = binary.BigEndian.AppendUint64(b, g)
		b = binary.BigEndian.AppendUint32(b, uint32(m.sizes[i]))
	}
	return b
}

func decodeManifest(b []byte) (*manifest, error) {
	if len(b) < manifestHeader || len(b) > maxManifestSize || string(b[:4]) != manifestMagic || b[4] != manifestVersion {
		return nil, store.ErrCorrupt
	}
	m := &manifest{}
	copy(m.upload[:], b[5:21])
	n := int(binary.BigEndian.Uint32(b[21:]))
	if n <= 0 || len(b) != manifestHeader+12*n {
		return nil, store.ErrCorrupt
	}
	m.gens, m.sizes = make([]uint64, n), make([]int, n)
	for i := range n {
		rec := b[manifestHeader+12*i:]
		m.gens[i] = binary.BigEndian.Uint64(rec)
		m.sizes[i] = int(binary.BigEndian.Uint32(rec[8:]))
		if m.sizes[i] <= 0 || m.sizes[i] > store.MaxPartSize {
			return nil, store.ErrCorrupt
		}
	}
	return m, nil
}

// manifest returns the manifest of file, from the cache when it is there.
func (s *Store) manifest(ctx context.Context, file int64) (*manifest, error) {
	s.mu.Lock()
	m := s.manifests[file]
	s.mu.Unlock()
	if m != nil {
		return m, nil
	}
	b, err := s.bucket.Get(ctx, fileKey(file))
	if err != nil {
		return nil, err
	}
	m, err = decodeManifest(b)
	if err != nil {
		return nil, err
	}
	s.cache(file, m)
	return m, nil
}

func (s *Store) cache(file int64, m *manifest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.manifests) >= maxCached {
		clear(s.manifests)
	}
	s.manifests[file] = m
}

// Seal implements store.Content: it writes the manifest of the part objects
// of the versions given, then checks that the index still names them. No
// part's bytes move. The check comes last because a part saved again
// releases its old object only after the index names the new one: a save
// the check does not see finds the manifest when it releases, and keeps
// the object.
func (s *Store) Seal(ctx context.Context, from store.UploadID, to int64, versions []uint64) error {
	if len(versions) == 0 {
		return errors.New("objstore: seal of no parts")
	}
	m := &manifest{upload: from, gens: slices.Clone(versions), sizes: make([]int, len(versions))}
	if err := s.checkVersions(ctx, m); err != nil {
		return err
	}
	// The marker goes first: from then on, releasing the upload's parts
	// looks for this manifest and keeps what it lists.
	if err := s.bucket.Put(ctx, sealedKey(from, to), nil); err != nil {
		return fmt.Errorf("objstore: seal: %w", err)
	}
	if err := s.bucket.Put(ctx, fileKey(to), m.encode()); err != nil {
		return fmt.Errorf("objstore: seal: %w", err)
	}
	if err := s.checkVersions(ctx, m); err != nil {
		// A part changed before the manifest protected its object, which
		// may be gone: undo the seal. A failed undo leaves a file no record
		// names, removed at the next start.
		_ = s.Delete(ctx, to)
		return err
	}
	s.cache(to, m)
	return nil
}

// checkVersions fails unless the index names the generations m lists, and
// sets m's sizes from it.
func (s *Store) checkVersions(ctx context.Context, m *manifest) error {
	indexes := make([]int, len(m.gens))
	for i := range indexes {
		indexes[i] = i
	}
	entries, ok, err := s.index.GetMany(ctx, m.upload, indexes)
	if err != nil {
		return fmt.Errorf("objstore: seal: %w", err)
	}
	for i, e := range entries {
		switch {
		case !ok[i]:
			return fmt.Errorf("objstore: seal: part %d: %w", i, store.ErrNotFound)
		case e.Gen != m.gens[i]:
			return fmt.Errorf("objstore: seal: part %d: %w", i, store.ErrPartChanged)
		}
		m.sizes[i] = e.Size
	}
	return nil
}

// ReadAt implements store.Content: each part of the range is one ranged read
// of that part's object.
func (s *Store) ReadAt(ctx context.Context, file int64, l store.Layout, p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > l.Size || l.PartSize <= 0 {
		return fmt.Errorf("objstore: read [%d, %d) outside file of %d bytes", off, off+int64(len(p)), l.Size)
	}
	if len(p) == 0 {
		return nil
	}
	m, err := s.manifest(ctx, file)
	if err != nil {
		return err
	}
	ps := int64(l.PartSize)
	for len(p) > 0 {
		index := off / ps
		within := off % ps
		n := min(int64(len(p)), ps-within)
		if index >= int64(len(m.gens)) || within+n > int64(m.sizes[index]) {
			return store.ErrCorrupt
		}
		if err := s.bucket.ReadAt(ctx, partKey(m.upload, int(index), m.gens[index]), p[:n], within); err != nil {
			return err
		}
		p = p[n:]
		off += n
	}
	return nil
}

// Delete implements store.Content. The part objects go unless the upload
// still names them or another file lists them; the manifest goes last, so
// an interrupted Delete leaves the file listed and is done again.
func (s *Store) Delete(ctx context.Context, file int64) error {
	m, err := s.manifest(ctx, file)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrCorrupt) {
		s.uncache(file)
		return s.bucket.Delete(ctx, fileKey(file))
	}
	if err != nil {
		return err
	}
	keep, err := s.sealedObjects(ctx, m.upload, file)
	if err != nil {
		return err
	}
	indexes := make([]int, len(m.gens))
	for i := range indexes {
		indexes[i] = i
	}
	entries, ok, err := s.index.GetMany(ctx, m.upload, indexes)
	if err != nil {
		return err
	}
	var dead []string
	for i, gen := range m.gens {
		k := partKey(m.upload, i, gen)
		if keep[k] || (ok[i] && entries[i].Gen == gen) {
			continue
		}
		dead = append(dead, k)
	}
	if err := s.bucket.Delete(ctx, dead...); err != nil {
		return err
	}
	if err := s.bucket.Delete(ctx, sealedKey(m.upload, file)); err != nil {
		return err
	}
	s.uncache(file)
	return s.bucket.Delete(ctx, fileKey(file))
}

func (s *Store) uncache(file int64) {
	s.mu.Lock()
	delete(s.manifests, file)
	s.mu.Unlock()
}

// List implements store.Content.
func (s *Store) List(ctx context.Context, fn func(file int64) error) error {
	return s.bucket.List(ctx, "files/", func(key string, _ time.Time) error {
		name := strings.TrimPrefix(key, "files/")
		id, err := strconv.ParseUint(name, 16, 64)
		if err != nil || len(name) != 16 {
			return nil
		}
		return fn(int64(id))
	})
}
