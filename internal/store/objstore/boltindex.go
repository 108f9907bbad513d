package objstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/filedc/filedc/internal/store"
)

// BoltIndex is an Index in a local bbolt file, for --s3 without --redis: the
// part bytes are in S3, their state belongs to this one process. The engine's
// sweep expires its entries.
//
//	uploads/<upload id>/"k"          the upload key
//	uploads/<upload id>/<index u32>  entry
//	uploads/<upload id>/"h"          the hash state (store.HashStateKeeper)
type BoltIndex struct {
	db *bolt.DB
}

var bucketUploads = []byte("uploads")

// OpenBoltIndex opens or creates the index at path.
func OpenBoltIndex(path string) (*BoltIndex, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketUploads)
		return err
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &BoltIndex{db: db}, nil
}

// Close closes the file.
func (b *BoltIndex) Close() error { return b.db.Close() }

func indexKey(i int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(i)) }

// Put implements Index.
func (b *BoltIndex) Put(ctx context.Context, id store.UploadID, key store.UploadKey, e Entry) (old Entry, replaced bool, err error) {
	err = b.db.Update(func(tx *bolt.Tx) error {
		up, err := tx.Bucket(bucketUploads).CreateBucketIfNotExists(id[:])
		if err != nil {
			return err
		}
		if v := up.Get(indexKey(e.Index)); v != nil {
			old, err = decodeEntry(e.Index, v)
			replaced = err == nil
		}
		if err := up.Put([]byte(keyField), encodeKey(key)); err != nil {
			return err
		}
		return up.Put(indexKey(e.Index), e.encode())
	})
	return old, replaced, err
}

// Get implements Index.
func (b *BoltIndex) Get(ctx context.Context, id store.UploadID, index int) (Entry, error) {
	var e Entry
	err := b.db.View(func(tx *bolt.Tx) error {
		up := tx.Bucket(bucketUploads).Bucket(id[:])
		if up == nil {
			return store.ErrNotFound
		}
		v := up.Get(indexKey(index))
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		e, err = decodeEntry(index, v)
		return err
	})
	return e, err
}

// GetMany implements Index.
func (b *BoltIndex) GetMany(ctx context.Context, id store.UploadID, indexes []int) ([]Entry, []bool, error) {
	entries, ok := make([]Entry, len(indexes)), make([]bool, len(indexes))
	err := b.db.View(func(tx *bolt.Tx) error {
		up := tx.Bucket(bucketUploads).Bucket(id[:])
		if up == nil {
			return nil
		}
		for i, index := range indexes {
			if v := up.Get(indexKey(index)); v != nil {
				if e, err := decodeEntry(index, v); err == nil {
					entries[i], ok[i] = e, true
				}
			}
		}
		return nil
	})
	return entries, ok, err
}

// Delete implements Index.
func (b *BoltIndex) Delete(ctx context.Context, id store.UploadID, index int) (old Entry, deleted bool, err error) {
	err = b.db.Update(func(tx *bolt.Tx) error {
		up := tx.Bucket(bucketUploads).Bucket(id[:])
		if up == nil {
			return nil
		}
		if v := up.Get(indexKey(index)); v != nil {
			old, err = decodeEntry(index, v)
			deleted = err == nil
		}
		return up.Delete(indexKey(index))
	})
	return old, deleted, err
}

const stateField = "h"

// PutHashState implements Index; an upload without entries keeps none.
func (b *BoltIndex) PutHashState(ctx context.Context, id store.UploadID, state []byte) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		up := tx.Bucket(bucketUploads).Bucket(id[:])
		if up == nil {
			return store.ErrNotFound
		}
		return up.Put([]byte(stateField), state)
	})
}

// HashState implements Index.
func (b *BoltIndex) HashState(ctx context.Context, id store.UploadID) ([]byte, error) {
	var state []byte
	err := b.db.View(func(tx *bolt.Tx) error {
		if up := tx.Bucket(bucketUploads).Bucket(id[:]); up != nil {
			state = bytes.Clone(up.Get([]byte(stateField)))
		}
		return nil
	})
	if err == nil && state == nil {
		err = store.ErrNotFound
	}
	return state, err
}

// DeleteUpload implements Index.
func (b *BoltIndex) DeleteUpload(ctx context.Context, id store.UploadID) ([]Entry, error) {
	var entries []Entry
	err := b.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketUploads)
		up := root.Bucket(id[:])
		if up == nil {
			return nil
		}
		_, entries = decodeBoltUpload(up)
		return root.DeleteBucket(id[:])
	})
	return entries, err
}

func decodeBoltUpload(up *bolt.Bucket) (key store.UploadKey, entries []Entry) {
	up.ForEach(func(k, v []byte) error {
		if string(k) == keyField {
			key, _ = decodeKey(v)
		} else if len(k) == 4 {
			if e, err := decodeEntry(int(binary.BigEndian.Uint32(k)), v); err == nil {
				entries = append(entries, e)
			}
		}
		return nil
	})
	return key, entries
}

// Scan implements Index. The uploads are read first and fn runs outside the
// transaction, since it may delete uploads.
func (b *BoltIndex) Scan(ctx context.Context, fn func(id store.UploadID, key store.UploadKey, entries []Entry) error) error {
	type upload struct {
		id      store.UploadID
		key     store.UploadKey
		entries []Entry
	}
	var all []upload
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUploads).ForEachBucket(func(k []byte) error {
			if len(k) != len(store.UploadID{}) {
				return nil
			}
			u := upload{}
			copy(u.id[:], k)
			u.key, u.entries = decodeBoltUpload(tx.Bucket(bucketUploads).Bucket(k))
			if len(u.entries) > 0 {
				all = append(all, u)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, u := range all {
		if err := fn(u.id, u.key, u.entries); err != nil {
			return err
		}
	}
	return nil
}
