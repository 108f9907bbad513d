package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/filedc/filedc/internal/store"
)

var (
	bucketDocuments = []byte("documents") // id -> JSON document
	bucketDocHashes = []byte("dochashes") // sha256 + size + mime -> id
)

func docHashKey(sum [32]byte, size int64, mime string) []byte {
	k := make([]byte, 0, 40+len(mime))
	k = append(k, sum[:]...)
	k = binary.BigEndian.AppendUint64(k, uint64(size))
	return append(k, mime...)
}

var _ store.Documents = (*Meta)(nil)

type document struct {
	AccessHash int64             `json:"access_hash"`
	File       int64             `json:"file"`
	FileAccess int64             `json:"file_access,omitempty"` // 0: the document's own access hash
	Mime       string            `json:"mime"`
	Attributes []byte            `json:"attributes,omitempty"`
	Date       int64             `json:"date"`
	Size       int64             `json:"size"`
	SHA256     []byte            `json:"sha256,omitempty"`
	Thumbs     []store.PhotoSize `json:"thumbs,omitempty"`
	Stripped   []byte            `json:"stripped,omitempty"`
}

// PutDocument implements store.Documents.
func (m *Meta) PutDocument(ctx context.Context, d store.Document) error {
	v, err := json.Marshal(document{d.AccessHash, d.File, d.FileAccess, d.Mime, d.Attributes, unixNano(d.Date), d.Size, d.SHA256[:], d.Thumbs, d.Stripped})
	if err != nil {
		return err
	}
	return m.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketDocuments)
		if err != nil {
			return err
		}
		idx, err := tx.CreateBucketIfNotExists(bucketDocHashes)
		if err != nil {
			return err
		}
		if d.SHA256 != ([32]byte{}) {
			if err := idx.Put(docHashKey(d.SHA256, d.Size, d.Mime), idKey(d.ID)); err != nil {
				return err
			}
		}
		return b.Put(idKey(d.ID), v)
	})
}

// Document implements store.Documents.
func (m *Meta) Document(ctx context.Context, id int64) (store.Document, error) {
	var r document
	err := m.getJSON(bucketDocuments, idKey(id), &r)
	if err != nil {
		return store.Document{}, err
	}
	return r.document(id), nil
}

func (r document) document(id int64) store.Document {
	d := store.Document{ID: id, AccessHash: r.AccessHash, File: r.File, FileAccess: r.FileAccess, Mime: r.Mime,
		Attributes: r.Attributes, Date: fromUnixNano(r.Date), Size: r.Size, Thumbs: r.Thumbs, Stripped: r.Stripped}
	if d.FileAccess == 0 {
		d.FileAccess = d.AccessHash
	}
	copy(d.SHA256[:], r.SHA256)
	return d
}

// DocumentByHash implements store.Documents.
func (m *Meta) DocumentByHash(ctx context.Context, sum [32]byte, size int64, mime string) (store.Document, error) {
	var id int64
	err := m.db.View(func(tx *bolt.Tx) error {
		idx := tx.Bucket(bucketDocHashes)
		if idx == nil {
			return store.ErrNotFound
		}
		v := idx.Get(docHashKey(sum, size, mime))
		if len(v) != 8 {
			return store.ErrNotFound
		}
		id = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	if err != nil {
		return store.Document{}, err
	}
	return m.Document(ctx, id)
}

// DocumentsByContent implements store.Documents: the hash index keys of one
// content share the prefix sha256 + size.
func (m *Meta) DocumentsByContent(ctx context.Context, sum [32]byte, size int64) ([]store.Document, error) {
	var out []store.Document
	err := m.db.View(func(tx *bolt.Tx) error {
		idx, docs := tx.Bucket(bucketDocHashes), tx.Bucket(bucketDocuments)
		if idx == nil || docs == nil {
			return nil
		}
		prefix := docHashKey(sum, size, "")
		c := idx.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			raw := docs.Get(v)
			if raw == nil {
				continue
			}
			var r document
			if err := json.Unmarshal(raw, &r); err != nil {
				return err
			}
			out = append(out, r.document(int64(binary.BigEndian.Uint64(v))))
		}
		return nil
	})
	return out, err
}

// DeleteDocument implements store.Documents.
func (m *Meta) DeleteDocument(ctx context.Context, id int64) error {
	return m.db.Update(func(tx *bolt.Tx) error {
		docs := tx.Bucket(bucketDocuments)
		if docs == nil {
			return nil
		}
		raw := docs.Get(idKey(id))
		if raw == nil {
			return nil
		}
		var r document
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		if idx := tx.Bucket(bucketDocHashes); idx != nil && len(r.SHA256) == 32 {
			k := docHashKey([32]byte(r.SHA256), r.Size, r.Mime)
			if v := idx.Get(k); v != nil && bytes.Equal(v, idKey(id)) {
				if err := idx.Delete(k); err != nil {
					return err
				}
			}
		}
		return docs.Delete(idKey(id))
	})
}
