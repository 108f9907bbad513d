// Package tgtestmem is an in-memory file storage for gotd's tgtest file
// service, for the benchmarks that compare filedc with tgtest. It is
// tgtest's own storage, except that a file grows by doubling: tgtest's
// (syncio.BufWriterAt) copies the whole file on every part that extends
// it, which makes a 200 MiB upload quadratic.
package tgtestmem

import (
	"sync"

	"github.com/gotd/td/tgtest/services/file"
)

// Storage implements tgtest's file.Storage in memory.
type Storage struct {
	mu    sync.Mutex
	files map[string]*memFile
}

// New returns an empty storage.
func New() *Storage { return &Storage{files: map[string]*memFile{}} }

// Open implements file.Storage: it returns the named file, made empty the
// first time.
func (s *Storage) Open(name string) (file.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[name]
	if !ok {
		f = &memFile{}
		s.files[name] = f
	}
	return f, nil
}

type memFile struct {
	mu       sync.RWMutex
	buf      []byte
	partSize int
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	end := int(off) + len(p)
	if end > cap(f.buf) {
		grown := make([]byte, len(f.buf), max(end, 2*cap(f.buf)))
		copy(grown, f.buf)
		f.buf = grown
	}
	if end > len(f.buf) {
		f.buf = f.buf[:end]
	}
	copy(f.buf[off:], p)
	return len(p), nil
}

// ReadAt answers like tgtest's storage: a short read at the end is no error.
func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if off >= int64(len(f.buf)) {
		return 0, nil
	}
	return copy(p, f.buf[off:]), nil
}

func (f *memFile) Close() error { return nil }

func (f *memFile) Size() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.buf)
}

func (f *memFile) PartSize() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.partSize
}

func (f *memFile) SetPartSize(v int) {
	f.mu.Lock()
	f.partSize = v
	f.mu.Unlock()
}
