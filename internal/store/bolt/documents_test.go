package bolt_test

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"
)

// TestS7e_OpenIndexesDocumentsStoredBeforeOwners: a database whose hash
// index predates owners gets the new index on open, so getDocumentByHash
// still finds its documents.
func TestS7e_OpenIndexesDocumentsStoredBeforeOwners(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	m := open(t, path)
	sum := [32]byte{1, 2, 3}
	err := m.DB().Update(func(tx *bbolt.Tx) error {
		docs, err := tx.CreateBucketIfNotExists([]byte("documents"))
		if err != nil {
			return err
		}
		old, err := tx.CreateBucketIfNotExists([]byte("dochashes"))
		if err != nil {
			return err
		}
		id := binary.BigEndian.AppendUint64(nil, 77)
		raw := `{"access_hash":5,"file":77,"mime":"image/png","date":0,"size":10,"sha256":"AQID` +
			`AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`
		if err := docs.Put(id, []byte(raw)); err != nil {
			return err
		}
		key := binary.BigEndian.AppendUint64(append([]byte(nil), sum[:]...), 10)
		return old.Put(append(key, "image/png"...), id)
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	m = open(t, path)
	defer m.Close()
	d, err := m.DocumentByHash(t.Context(), sum, 10, "image/png", 9)
	if err != nil || d.ID != 77 || d.AccessHash != 5 {
		t.Fatalf("a document from before owners by hash: %+v, %v", d, err)
	}
	err = m.DB().View(func(tx *bbolt.Tx) error {
		if tx.Bucket([]byte("dochashes")) != nil {
			t.Error("the old hash index is still there")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
