package bolt

import (
	"context"
	"encoding/json"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/filedc/filedc/internal/store"
)

var bucketPhotos = []byte("photos") // id -> JSON photo

var _ store.Photos = (*Meta)(nil)

type photo struct {
	AccessHash int64             `json:"access_hash"`
	Owner      int64             `json:"owner"`
	Date       int64             `json:"date"`
	Sizes      []store.PhotoSize `json:"sizes"`
	Stripped   []byte            `json:"stripped,omitempty"`
	Video      *store.PhotoSize  `json:"video,omitempty"`
	VideoStart float64           `json:"video_start,omitempty"`
}

// PutPhoto implements store.Photos.
func (m *Meta) PutPhoto(ctx context.Context, p store.Photo) error {
	v, err := json.Marshal(photo{p.AccessHash, p.Owner, unixNano(p.Date), p.Sizes, p.Stripped, p.Video, p.VideoStart})
	if err != nil {
		return err
	}
	return m.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketPhotos)
		if err != nil {
			return err
		}
		return b.Put(idKey(p.ID), v)
	})
}

// Photo implements store.Photos.
func (m *Meta) Photo(ctx context.Context, id int64) (store.Photo, error) {
	var r photo
	err := m.getJSON(bucketPhotos, idKey(id), &r)
	if err != nil {
		return store.Photo{}, err
	}
	return store.Photo{ID: id, AccessHash: r.AccessHash, Owner: r.Owner, Date: fromUnixNano(r.Date),
		Sizes: r.Sizes, Stripped: r.Stripped, Video: r.Video, VideoStart: r.VideoStart}, nil
}

// DeletePhoto implements store.Photos.
func (m *Meta) DeletePhoto(ctx context.Context, id int64) error {
	return m.db.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketPhotos); b != nil {
			return b.Delete(idKey(id))
		}
		return nil
	})
}

// CollectPhoto implements store.Photos.
func (m *Meta) CollectPhoto(ctx context.Context, id int64) (store.Photo, bool, error) {
	var p store.Photo
	deleted := false
	err := m.db.Update(func(tx *bolt.Tx) error {
		deleted = false
		b := tx.Bucket(bucketPhotos)
		if b == nil || referenced(tx, id) {
			return nil
		}
		raw := b.Get(idKey(id))
		if raw == nil {
			return nil
		}
		var r photo
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		if accounts := tx.Bucket(bucketAccounts); accounts != nil {
			if v := accounts.Get(idKey(r.Owner)); v != nil {
				var a account
				if err := json.Unmarshal(v, &a); err != nil {
					return err
				}
				if slices.Contains(a.Photos, id) {
					return nil
				}
			}
		}
		if chatPhoto(tx, id) {
			return nil
		}
		p = store.Photo{ID: id, AccessHash: r.AccessHash, Owner: r.Owner, Date: fromUnixNano(r.Date),
			Sizes: r.Sizes, Stripped: r.Stripped, Video: r.Video, VideoStart: r.VideoStart}
		deleted = true
		return b.Delete(idKey(id))
	})
	if err != nil || !deleted {
		return store.Photo{}, false, err
	}
	return p, true, nil
}
