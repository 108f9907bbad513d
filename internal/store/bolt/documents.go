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
	bucketDocuments = []byte("documents")  // id -> JSON document
	bucketDocHashes = []byte("dochashes2") // docHashKey -> id
	// bucketDocHashesV1 mapped sha256 + size + mime to the one document
	// of that content and mime type, before owners kept their own (S7e).
	bucketDocHashesV1 = []byte("dochashes")
)

// docHashKey is sha256 | size u64 | mime length u16 | mime | owner u64 | id:
// a document's content, then mime type, then owner are key prefixes.
func docHashKey(sum [32]byte, size int64, mime string, owner, id int64) []byte {
	k := docMimePrefix(sum, size, mime)
	k = binary.BigEndian.AppendUint64(k, uint64(owner))
	return binary.BigEndian.AppendUint64(k, uint64(id))
}

func docContentPrefix(sum [32]byte, size int64) []byte {
	k := make([]byte, 0, 64)
	k = append(k, sum[:]...)
	return binary.BigEndian.AppendUint64(k, uint64(size))
}

func docMimePrefix(sum [32]byte, size int64, mime string) []byte {
	k := binary.BigEndian.AppendUint16(docContentPrefix(sum, size), uint16(len(mime)))
	return append(k, mime...)
}

func (d *document) hashKey(id int64) ([]byte, bool) {
	if len(d.SHA256) != 32 || [32]byte(d.SHA256) == ([32]byte{}) {
		return nil, false
	}
	return docHashKey([32]byte(d.SHA256), d.Size, d.Mime, d.Owner, id), true
}

// upgradeDocHashes rebuilds the hash index of a database from before
// owners: every document with a content hash gets its key.
func upgradeDocHashes(tx *bolt.Tx) error {
	if tx.Bucket(bucketDocHashesV1) == nil {
		return nil
	}
	idx, err := tx.CreateBucketIfNotExists(bucketDocHashes)
	if err != nil {
		return err
	}
	if docs := tx.Bucket(bucketDocuments); docs != nil {
		err := docs.ForEach(func(k, v []byte) error {
			var r document
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if key, ok := r.hashKey(int64(binary.BigEndian.Uint64(k))); ok {
				return idx.Put(key, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return tx.DeleteBucket(bucketDocHashesV1)
}

var _ store.Documents = (*Meta)(nil)

type document struct {
	AccessHash int64             `json:"access_hash"`
	Owner      int64             `json:"owner,omitempty"`
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
			peers, err := documentsByContent(tx, d.SHA256, d.Size)
			if err != nil {
				return err
			}
			for _, p := range peers {
				if p.ID != d.ID && p.Owner == d.Owner && p.Mime == d.Mime && bytes.Equal(p.Attributes, d.Attributes) {
					out = p
					return nil
				}
			}
			for _, p := range peers {
				if p.ID != d.ID {
					out.File, out.FileAccess = p.File, p.FileAccess
					break
				}
			}
		}
		// A document put again may have changed its key.
		if raw := b.Get(idKey(d.ID)); raw != nil {
			var old document
			if err := json.Unmarshal(raw, &old); err != nil {
				return err
			}
			if key, ok := old.hashKey(d.ID); ok {
				if err := idx.Delete(key); err != nil {
					return err
				}
			}
		}
		r := document{AccessHash: out.AccessHash, Owner: out.Owner, File: out.File, FileAccess: out.FileAccess,
			Mime: out.Mime, Attributes: out.Attributes, Date: unixNano(out.Date), Size: out.Size,
			SHA256: out.SHA256[:], Thumbs: out.Thumbs, Stripped: out.Stripped, Outline: out.Outline}
		if key, ok := r.hashKey(d.ID); ok {
			if err := idx.Put(key, idKey(d.ID)); err != nil {
				return err
			}
		}
		v, err := json.Marshal(r)
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
	d := store.Document{ID: id, AccessHash: r.AccessHash, Owner: r.Owner, File: r.File, FileAccess: r.FileAccess, Mime: r.Mime,
		Attributes: r.Attributes, Date: fromUnixNano(r.Date), Size: r.Size, Thumbs: r.Thumbs, Stripped: r.Stripped, Outline: r.Outline}
	if d.FileAccess == 0 {
		d.FileAccess = d.AccessHash
	}
	copy(d.SHA256[:], r.SHA256)
	return d
}

// DocumentByHash implements store.Documents.
func (m *Meta) DocumentByHash(ctx context.Context, sum [32]byte, size int64, mime string, owner int64) (store.Document, error) {
	var id []byte
	err := m.db.View(func(tx *bolt.Tx) error {
		idx := tx.Bucket(bucketDocHashes)
		if idx == nil {
			return store.ErrNotFound
		}
		prefix := docMimePrefix(sum, size, mime)
		own := binary.BigEndian.AppendUint64(slices.Clip(prefix), uint64(owner))
		c := idx.Cursor()
		if k, v := c.Seek(own); k != nil && bytes.HasPrefix(k, own) {
			id = slices.Clone(v)
		} else if k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
			id = slices.Clone(v)
		}
		if len(id) != 8 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return store.Document{}, err
	}
	return m.Document(ctx, int64(binary.BigEndian.Uint64(id)))
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
	prefix := docContentPrefix(sum, size)
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
	if key, ok := r.hashKey(id); ok {
		if idx := tx.Bucket(bucketDocHashes); idx != nil {
			if err := idx.Delete(key); err != nil {
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
