package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"slices"

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
	Outline    []byte            `json:"outline,omitempty"`
}

// PutDocument implements store.Documents. Bolt runs one write transaction
// at a time, so the lookups and the write are atomic.
func (m *Meta) PutDocument(ctx context.Context, d store.Document) (store.Document, error) {
	out := d
	err := m.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketDocuments)
		if err != nil {
			return err
		}
		idx, err := tx.CreateBucketIfNotExists(bucketDocHashes)
		if err != nil {
			return err
		}
		out = d
		if d.SHA256 != ([32]byte{}) {
			if v := idx.Get(docHashKey(d.SHA256, d.Size, d.Mime)); len(v) == 8 && !bytes.Equal(v, idKey(d.ID)) {
				if raw := b.Get(v); raw != nil {
					var r document
					if err := json.Unmarshal(raw, &r); err != nil {
						return err
					}
					out = r.document(int64(binary.BigEndian.Uint64(v)))
					return nil
				}
			}
			peers, err := documentsByContent(tx, d.SHA256, d.Size)
			if err != nil {
				return err
			}
			for _, p := range peers {
				if p.ID != d.ID {
					out.File, out.FileAccess = p.File, p.FileAccess
					break
				}
			}
			if err := idx.Put(docHashKey(d.SHA256, d.Size, d.Mime), idKey(d.ID)); err != nil {
				return err
			}
		}
		v, err := json.Marshal(document{out.AccessHash, out.File, out.FileAccess, out.Mime, out.Attributes, unixNano(out.Date), out.Size, out.SHA256[:], out.Thumbs, out.Stripped, out.Outline})
		if err != nil {
			return err
		}
		return b.Put(idKey(d.ID), v)
	})
	if err != nil {
		return store.Document{}, err
	}
	return out, nil
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
		Attributes: r.Attributes, Date: fromUnixNano(r.Date), Size: r.Size, Thumbs: r.Thumbs, Stripped: r.Stripped, Outline: r.Outline}
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

// DocumentsByContent implements store.Documents.
func (m *Meta) DocumentsByContent(ctx context.Context, sum [32]byte, size int64) ([]store.Document, error) {
	var out []store.Document
	err := m.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = documentsByContent(tx, sum, size)
		return err
	})
	return out, err
}

// documentsByContent reads the documents of one content: their hash index
// keys share the prefix sha256 + size.
func documentsByContent(tx *bolt.Tx, sum [32]byte, size int64) ([]store.Document, error) {
	var out []store.Document
	idx, docs := tx.Bucket(bucketDocHashes), tx.Bucket(bucketDocuments)
	if idx == nil || docs == nil {
		return nil, nil
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
			return nil, err
		}
		out = append(out, r.document(int64(binary.BigEndian.Uint64(v))))
	}
	return out, nil
}

// DeleteDocument implements store.Documents.
func (m *Meta) DeleteDocument(ctx context.Context, id int64) error {
	return m.db.Update(func(tx *bolt.Tx) error {
		_, err := deleteDocument(tx, id)
		return err
	})
}

// deleteDocument removes a document and its hash index entry, and returns
// it (nil when it did not exist).
func deleteDocument(tx *bolt.Tx, id int64) (*store.Document, error) {
	docs := tx.Bucket(bucketDocuments)
	if docs == nil {
		return nil, nil
	}
	raw := docs.Get(idKey(id))
	if raw == nil {
		return nil, nil
	}
	var r document
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	if idx := tx.Bucket(bucketDocHashes); idx != nil && len(r.SHA256) == 32 {
		k := docHashKey([32]byte(r.SHA256), r.Size, r.Mime)
		if v := idx.Get(k); v != nil && bytes.Equal(v, idKey(id)) {
			if err := idx.Delete(k); err != nil {
				return nil, err
			}
		}
	}
	d := r.document(id)
	return &d, docs.Delete(idKey(id))
}

// CollectDocument implements store.Documents.
func (m *Meta) CollectDocument(ctx context.Context, id int64) (store.Document, bool, bool, error) {
	var d *store.Document
	free := false
	err := m.db.Update(func(tx *bolt.Tx) error {
		d, free = nil, false
		if referenced(tx, id) {
			return nil
		}
		var err error
		if d, err = deleteDocument(tx, id); err != nil || d == nil {
			return err
		}
		// Only documents of one content share its file.
		peers, err := documentsByContent(tx, d.SHA256, d.Size)
		if err != nil {
			return err
		}
		free = !slices.ContainsFunc(peers, func(p store.Document) bool { return p.File == d.File })
		return nil
	})
	if err != nil || d == nil {
		return store.Document{}, false, false, err
	}
	return *d, true, free, nil
}
