package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/filedc/filedc/internal/store"
)

var bucketAuthKeys = []byte("authkeys") // key id -> value(256) created(8) expires(8) user(8) layer(4) perm(8) last used(8)

const (
	authKeyRecordV1 = 256 + 8 + 8 + 8 + 4 + 8 // before last used was kept
	authKeyRecord   = authKeyRecordV1 + 8
)

var _ store.AuthKeys = (*Meta)(nil)

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// PutAuthKey implements store.AuthKeys.
func (m *Meta) PutAuthKey(ctx context.Context, k store.AuthKey) error {
	v := make([]byte, authKeyRecord)
	copy(v, k.Value[:])
	binary.BigEndian.PutUint64(v[256:], uint64(unixNano(k.Created)))
	binary.BigEndian.PutUint64(v[264:], uint64(unixNano(k.ExpiresAt)))
	binary.BigEndian.PutUint64(v[272:], uint64(k.UserID))
	binary.BigEndian.PutUint32(v[280:], uint32(k.Layer))
	copy(v[284:], k.PermID[:])
	binary.BigEndian.PutUint64(v[292:], uint64(unixNano(k.LastUsed)))
	return m.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketAuthKeys)
		if err != nil {
			return err
		}
		return b.Put(k.ID[:], v)
	})
}

// AuthKey implements store.AuthKeys.
func (m *Meta) AuthKey(ctx context.Context, id [8]byte) (store.AuthKey, error) {
	k := store.AuthKey{ID: id}
	err := m.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAuthKeys)
		if b == nil {
			return store.ErrNotFound
		}
		v := b.Get(id[:])
		if v == nil {
			return store.ErrNotFound
		}
		return decodeAuthKey(&k, v)
	})
	return k, err
}

func decodeAuthKey(k *store.AuthKey, v []byte) error {
	if len(v) != authKeyRecord && len(v) != authKeyRecordV1 {
		return errors.New("bolt: damaged auth key record")
	}
	copy(k.Value[:], v)
	k.Created = fromUnixNano(int64(binary.BigEndian.Uint64(v[256:])))
	k.ExpiresAt = fromUnixNano(int64(binary.BigEndian.Uint64(v[264:])))
	k.UserID = int64(binary.BigEndian.Uint64(v[272:]))
	k.Layer = int(binary.BigEndian.Uint32(v[280:]))
	copy(k.PermID[:], v[284:])
	if len(v) == authKeyRecord {
		k.LastUsed = fromUnixNano(int64(binary.BigEndian.Uint64(v[292:])))
	}
	return nil
}

// DeleteUnusedAuthKeys implements store.AuthKeys. It scans the keys in a
// read transaction, which blocks no writer, and deletes the ones found in a
// short write transaction that checks each again.
func (m *Meta) DeleteUnusedAuthKeys(ctx context.Context, idleBefore, now time.Time, limit int) (int, error) {
	var unused [][8]byte
	err := m.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAuthKeys)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for id, v := c.First(); id != nil && len(unused) < limit; id, v = c.Next() {
			var k store.AuthKey
			if len(id) == 8 && decodeAuthKey(&k, v) == nil && k.Unused(idleBefore, now) {
				unused = append(unused, [8]byte(id))
			}
		}
		return nil
	})
	if err != nil || len(unused) == 0 {
		return 0, err
	}
	n := 0
	err = m.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAuthKeys)
		for _, id := range unused {
			var k store.AuthKey
			if v := b.Get(id[:]); v == nil || decodeAuthKey(&k, v) != nil || !k.Unused(idleBefore, now) {
				continue // used or logged in meanwhile
			}
			if err := b.Delete(id[:]); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// DeleteAuthKey implements store.AuthKeys.
func (m *Meta) DeleteAuthKey(ctx context.Context, id [8]byte) error {
	return m.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAuthKeys)
		if b == nil {
			return nil
		}
		return b.Delete(id[:])
	})
}

// LogOut implements store.AuthKeys.
func (m *Meta) LogOut(ctx context.Context, user int64) (int, error) {
	n := 0
	err := m.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAuthKeys)
		if b == nil {
			return nil
		}
		var out [][]byte
		err := b.ForEach(func(id, v []byte) error {
			if len(v) >= authKeyRecordV1 && int64(binary.BigEndian.Uint64(v[272:])) == user {
				out = append(out, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range out {
			v := bytes.Clone(b.Get(id))
			binary.BigEndian.PutUint64(v[272:], 0)
			if err := b.Put(id, v); err != nil {
				return err
			}
		}
		n = len(out)
		return nil
	})
	return n, err
}
