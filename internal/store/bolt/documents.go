package bolt

import (
	"context"
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/filedc/filedc/internal/store"
)

var bucketDocuments = []byte("documents") // id -> JSON document

var _ store.Documents = (*Meta)(nil)

type document struct {
	AccessHash int64  `json:"access_hash"`
	File       int64  `json:"file"`
	Mime       string `json:"mime"`
	Attributes []byte `json:"attributes,omitempty"`
	Date       int64  `json:"date"`
	Size       int64  `json:"size"`
}

// PutDocument implements store.Documents.
func (m *Meta) PutDocument(ctx context.Context, d store.Document) error {
	v, err := json.Marshal(document{d.AccessHash, d.File, d.Mime, d.Attributes, unixNano(d.Date), d.Size})
	if err != nil {
		return err
	}
	return m.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketDocuments)
		if err != nil {
			return err
		}
		return b.Put(idKey(d.ID), v)
	})
}

// Document implements store.Documents.
func (m *Meta) Document(ctx context.Context, id int64) (store.Document, error) {
	var r document
	err := m.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDocuments)
		if b == nil {
			return store.ErrNotFound
		}
		v := b.Get(idKey(id))
		if v == nil {
			return store.ErrNotFound
		}
		return json.Unmarshal(v, &r)
	})
	if err != nil {
		return store.Document{}, err
	}
	return store.Document{ID: id, AccessHash: r.AccessHash, File: r.File, Mime: r.Mime,
		Attributes: r.Attributes, Date: fromUnixNano(r.Date), Size: r.Size}, nil
}
