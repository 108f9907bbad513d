package objstore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// Dir is a Bucket in a local directory: objects are files named by their
// keys. With --redis and no --s3, part bytes stay on this machine's disk
// while the part state is shared in Redis.
type Dir struct {
	root string
	seq  atomic.Uint64
}

// OpenDir returns a bucket in dir, creating it.
func OpenDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Dir{root: dir}, nil
}

func (d *Dir) path(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }

// Put implements Bucket: written under a temporary name and renamed, so a
// reader sees the whole object or none.
func (d *Dir) Put(ctx context.Context, key string, data []byte) error {
	name := d.path(key)
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return err
	}
	tmp := name + "." + strconv.FormatUint(d.seq.Add(1), 10) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// ReadAt implements Bucket.
func (d *Dir) ReadAt(ctx context.Context, key string, p []byte, off int64) error {
	f, err := os.Open(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.ReadAt(p, off); err != nil {
		if errors.Is(err, io.EOF) {
			return store.ErrCorrupt
		}
		return err
	}
	return nil
}

// Get implements Bucket.
func (d *Dir) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := os.ReadFile(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, store.ErrNotFound
	}
	return b, err
}

// Delete implements Bucket.
func (d *Dir) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if err := os.Remove(d.path(k)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// List implements Bucket. Files being written (".tmp") are not objects.
func (d *Dir) List(ctx context.Context, prefix string, fn func(key string, modified time.Time) error) error {
	start := d.path(prefix)
	if !strings.HasSuffix(prefix, "/") {
		start = filepath.Dir(start)
	}
	err := filepath.WalkDir(start, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if e.IsDir() || strings.HasSuffix(path, ".tmp") {
			return nil
		}
		rel, err := filepath.Rel(d.root, path)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		return fn(key, info.ModTime())
	})
	return err
}
