package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/filedc/filedc/internal/store"
)

// bucketOnce: expiry (unix ns, big-endian) + token id -> nothing, so expired
// tokens are a prefix of the bucket; bucketOnceIDs: token id -> expiry key.
var (
	bucketOnce    = []byte("once")
	bucketOnceIDs = []byte("once-ids")
)

var _ store.Once = (*Meta)(nil)

// UseOnce implements store.Once, dropping expired tokens in the same
// transaction.
func (m *Meta) UseOnce(ctx context.Context, id [16]byte, expires time.Time) (bool, error) {
	fresh := false
	err := m.db.Update(func(tx *bolt.Tx) error {
		byExp, err := tx.CreateBucketIfNotExists(bucketOnce)
		if err != nil {
			return err
		}
		ids, err := tx.CreateBucketIfNotExists(bucketOnceIDs)
		if err != nil {
			return err
		}
		var now [8]byte
		binary.BigEndian.PutUint64(now[:], uint64(time.Now().UnixNano()))
		c := byExp.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], now[:]) <= 0; k, _ = c.First() {
			if err := ids.Delete(k[8:]); err != nil {
				return err
			}
			if err := byExp.Delete(k); err != nil {
				return err
			}
		}
		if ids.Get(id[:]) != nil {
			return nil
		}
		key := binary.BigEndian.AppendUint64(nil, uint64(max(expires.UnixNano(), 0)))
		key = append(key, id[:]...)
		if err := byExp.Put(key, nil); err != nil {
			return err
		}
		fresh = true
		return ids.Put(id[:], key)
	})
	return fresh, err
}
