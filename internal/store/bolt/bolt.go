// Package bolt keeps file records in an embedded bbolt database: one file,
// no server, every commit flushed to disk before it returns.
package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/filedc/filedc/internal/store"
)

var (
	bucketFiles    = []byte("files")    // file id -> JSON record
	bucketHashes   = []byte("hashes")   // file id -> SHA-256 of each 128 KiB range, concatenated
	bucketConsumed = []byte("consumed") // upload id -> commit time (unix ns)
)

// Meta implements store.Meta on a bbolt file.
type Meta struct {
	db *bolt.DB
}

var _ store.Meta = (*Meta)(nil)

// Open opens or creates the database at path. It fails after a second if
// another process holds the database.
func Open(path string) (*Meta, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketFiles, bucketHashes, bucketConsumed} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return upgradeDocHashes(tx)
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Meta{db: db}, nil
}

// Close closes the database.
func (m *Meta) Close() error { return m.db.Close() }

// DB exposes the database to other parts of the embedded backend that keep
// their own buckets in the same file.
func (m *Meta) DB() *bolt.DB { return m.db }

func idKey(id int64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(id))
	return k[:]
}

type record struct {
	ID         int64          `json:"id"`
	AccessHash int64          `json:"access_hash"`
	Owner      int64          `json:"owner"`
	Name       string         `json:"name,omitempty"`
	Size       int64          `json:"size"`
	PartSize   int            `json:"part_size"`
	Parts      int            `json:"parts"`
	SHA256     []byte         `json:"sha256"`
	Type       string         `json:"type"`
	Created    int64          `json:"created"`
	Upload     store.UploadID `json:"upload"`
}

func toRecord(r store.FileRecord) record {
	return record{r.ID, r.AccessHash, r.Owner, r.Name, r.Size, r.PartSize, r.Parts,
		r.SHA256[:], r.Type, r.Created.UnixNano(), r.Upload}
}

func (r record) file() store.FileRecord {
	f := store.FileRecord{ID: r.ID, AccessHash: r.AccessHash, Owner: r.Owner, Name: r.Name,
		Size: r.Size, PartSize: r.PartSize, Parts: r.Parts, Type: r.Type,
		Created: time.Unix(0, r.Created), Upload: r.Upload}
	copy(f.SHA256[:], r.SHA256)
	return f
}

// CommitFile implements store.Meta.
func (m *Meta) CommitFile(ctx context.Context, rec store.FileRecord, ranges []store.Hash) error {
	val, err := json.Marshal(toRecord(rec))
	if err != nil {
		return err
	}
	hashes := make([]byte, 0, len(ranges)*32)
	for _, h := range ranges {
		hashes = append(hashes, h[:]...)
	}
	return m.db.Update(func(tx *bolt.Tx) error {
		consumed := tx.Bucket(bucketConsumed)
		if consumed.Get(rec.Upload[:]) != nil {
			return store.ErrConsumed
		}
		files := tx.Bucket(bucketFiles)
		if files.Get(idKey(rec.ID)) != nil {
			return fmt.Errorf("bolt: file %d exists", rec.ID)
		}
		var at [8]byte
		binary.BigEndian.PutUint64(at[:], uint64(rec.Created.UnixNano()))
		if err := consumed.Put(rec.Upload[:], at[:]); err != nil {
			return err
		}
		if err := files.Put(idKey(rec.ID), val); err != nil {
			return err
		}
		return tx.Bucket(bucketHashes).Put(idKey(rec.ID), hashes)
	})
}

// File implements store.Meta.
func (m *Meta) File(ctx context.Context, id int64) (store.FileRecord, error) {
	var r record
	err := m.getJSON(bucketFiles, idKey(id), &r)
	if err != nil {
		return store.FileRecord{}, err
	}
	return r.file(), nil
}

// RangeHashes implements store.Meta.
func (m *Meta) RangeHashes(ctx context.Context, id int64, first, n int) ([]store.Hash, error) {
	if first < 0 || n < 0 {
		return nil, errors.New("bolt: negative range")
	}
	var out []store.Hash
	err := m.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketHashes).Get(idKey(id))
		if v == nil {
			return store.ErrNotFound
		}
		for i := first; i < first+n && (i+1)*32 <= len(v); i++ {
			var h store.Hash
			copy(h[:], v[i*32:])
			out = append(out, h)
		}
		return nil
	})
	return out, err
}

// Consumed implements store.Meta.
func (m *Meta) Consumed(ctx context.Context, id store.UploadID) (bool, error) {
	var ok bool
	err := m.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketConsumed).Get(id[:]) != nil
		return nil
	})
	return ok, err
}

// ForgetConsumed implements store.Meta.
func (m *Meta) ForgetConsumed(ctx context.Context, before time.Time) error {
	return m.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConsumed)
		c := b.Cursor()
		for k, v := c.First(); k != nil; {
			if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) < before.UnixNano() {
				if err := c.Delete(); err != nil {
					return err
				}
				k, v = c.Seek(k)
				continue
			}
			k, v = c.Next()
		}
		return nil
	})
}

// DeleteFile implements store.Meta.
func (m *Meta) DeleteFile(ctx context.Context, id int64) error {
	return m.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketFiles).Delete(idKey(id)); err != nil {
			return err
		}
		return tx.Bucket(bucketHashes).Delete(idKey(id))
	})
}

// Files implements store.Meta.
func (m *Meta) Files(ctx context.Context, fn func(store.FileRecord) error) error {
	return m.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFiles).ForEach(func(k, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			return fn(r.file())
		})
	})
}

// getJSON decodes the JSON value stored under key in bucket, or returns
// store.ErrNotFound.
func (m *Meta) getJSON(bucket, key []byte, v any) error {
	return m.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return store.ErrNotFound
		}
		raw := b.Get(key)
		if raw == nil {
			return store.ErrNotFound
		}
		return json.Unmarshal(raw, v)
	})
}
