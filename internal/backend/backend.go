// Package backend assembles a file engine on the configured stores.
package backend

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/bolt"
	"github.com/filedc/filedc/internal/store/local"
	"github.com/filedc/filedc/internal/store/memstore"
	"github.com/filedc/filedc/internal/store/trips"
)

// Records is everything a DC keeps besides file content: the embedded bbolt
// database or PostgreSQL.
type Records interface {
	store.Meta
	store.AuthKeys
	store.Accounts
	store.Messages
	store.Documents
	store.Photos
	store.Chats
}

// Embedded is an assembled backend: the engine and the records it serves
// from. By default (OpenEmbedded) parts and content are on local disk under
// one directory and records in an embedded bbolt database beside them;
// Open puts any of them on distributed systems instead.
type Embedded struct {
	Engine *files.Engine
	Disk   *local.Store // nil when content is not on local disk
	Meta   Records
	// Trips counts the round trips to S3, Redis and PostgreSQL; nil on
	// the embedded stores.
	Trips *trips.Counter

	closers []func() error
}

// OpenEmbedded opens (or creates) the embedded backend in dir.
func OpenEmbedded(ctx context.Context, dir string, cfg files.Config) (*Embedded, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	disk, err := local.Open(dir, local.Options{Sync: true})
	if err != nil {
		return nil, err
	}
	meta, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		return nil, err
	}
	eng, err := files.New(ctx, cfg, disk, disk, meta)
	if err != nil {
		return nil, errors.Join(err, meta.Close())
	}
	return &Embedded{Engine: eng, Disk: disk, Meta: meta, closers: []func() error{meta.Close}}, nil
}

// OpenMemory assembles a backend whose stores all live in memory
// (internal/store/memstore): for tests and pkg/filedctest, nothing survives
// the process.
func OpenMemory(ctx context.Context, cfg files.Config) (*Embedded, error) {
	mem := memstore.New()
	eng, err := files.New(ctx, cfg, mem, mem, mem)
	if err != nil {
		return nil, err
	}
	return &Embedded{Engine: eng, Meta: mem}, nil
}

// Close releases the stores.
func (b *Embedded) Close() error {
	var errs []error
	for i := len(b.closers) - 1; i >= 0; i-- {
		errs = append(errs, b.closers[i]())
	}
	return errors.Join(errs...)
}
