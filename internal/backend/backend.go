// Package backend assembles a file engine on the configured stores.
package backend

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store/bolt"
	"github.com/filedc/filedc/internal/store/local"
)

// Embedded is the default backend: parts and content on local disk under one
// directory, records in an embedded bbolt database beside them. Nothing to
// install.
type Embedded struct {
	Engine *files.Engine
	Disk   *local.Store
	Meta   *bolt.Meta
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
	return &Embedded{Engine: eng, Disk: disk, Meta: meta}, nil
}

// Close releases the database.
func (b *Embedded) Close() error { return b.Meta.Close() }
