package objstore

import (
	"context"
	"errors"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/filedc/filedc/internal/store"
)

// entryLister is implemented by indexes that list one upload's entries.
type entryLister interface {
	Entries(ctx context.Context, id store.UploadID) ([]Entry, error)
}

var (
	_ store.PartLister = (*Store)(nil)
	_ entryLister      = (*Redis)(nil)
	_ entryLister      = (*BoltIndex)(nil)
)

var errNoLister = errors.New("objstore: the part index cannot list an upload")

// Parts implements store.PartLister from the index alone: no object is read.
func (s *Store) Parts(ctx context.Context, id store.UploadID) ([]store.Part, error) {
	l, ok := s.index.(entryLister)
	if !ok {
		return nil, errNoLister
	}
	entries, err := l.Entries(ctx, id)
	if err != nil {
		return nil, err
	}
	parts := make([]store.Part, 0, len(entries))
	for _, e := range entries {
		parts = append(parts, e.part())
	}
	slices.SortFunc(parts, func(a, b store.Part) int { return a.Index - b.Index })
	return parts, nil
}

// Entries implements entryLister with one HGETALL.
func (r *Redis) Entries(ctx context.Context, id store.UploadID) ([]Entry, error) {
	fields, err := r.client.HGetAll(ctx, r.hash(id)).Result()
	if err != nil {
		return nil, err
	}
	_, entries := decodeUpload(fields)
	return entries, nil
}

// Entries implements entryLister.
func (b *BoltIndex) Entries(ctx context.Context, id store.UploadID) ([]Entry, error) {
	var entries []Entry
	err := b.db.View(func(tx *bolt.Tx) error {
		if up := tx.Bucket(bucketUploads).Bucket(id[:]); up != nil {
			_, entries = decodeBoltUpload(up)
		}
		return nil
	})
	return entries, err
}
