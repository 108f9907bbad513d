package memstore_test

import (
	"testing"

	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/memstore"
	"github.com/filedc/filedc/internal/store/storetest"
)

// The conformance suites the bolt, local and objstore backends run.

func TestTemp(t *testing.T) {
	storetest.TestTemp(t, func(t *testing.T) store.Temp { return memstore.New() })
}

func TestContent(t *testing.T) {
	storetest.TestContent(t, func(t *testing.T) (store.Temp, store.Content) {
		s := memstore.New()
		return s, s
	})
}

func TestPartLister(t *testing.T) {
	storetest.TestPartLister(t, func(t *testing.T) store.Temp { return memstore.New() })
}

func TestHashStateKeeper(t *testing.T) {
	storetest.TestHashStateKeeper(t, func(t *testing.T) store.Temp { return memstore.New() }, nil)
}

func TestMeta(t *testing.T) {
	storetest.TestMeta(t, func(t *testing.T) store.Meta { return memstore.New() })
}

func TestAuthKeys(t *testing.T) {
	storetest.TestAuthKeys(t, func(t *testing.T) store.AuthKeys { return memstore.New() })
}

func TestAccounts(t *testing.T) {
	storetest.TestAccounts(t, func(t *testing.T) store.Accounts { return memstore.New() })
}

func openRecords(t *testing.T) storetest.MediaRecords { return memstore.New() }

func TestMessages(t *testing.T) { storetest.TestMessages(t, openRecords) }

func TestCollect(t *testing.T) { storetest.TestCollect(t, openRecords) }

func TestCollectRace(t *testing.T) {
	s := memstore.New()
	storetest.TestCollectRace(t, s, s)
}

func TestDocuments(t *testing.T) {
	storetest.TestDocuments(t, func(t *testing.T) store.Documents { return memstore.New() })
}

func TestPhotos(t *testing.T) {
	storetest.TestPhotos(t, func(t *testing.T) store.Photos { return memstore.New() })
}

func TestOnce(t *testing.T) {
	storetest.TestOnce(t, func(t *testing.T) store.Once { return memstore.New() })
}

func TestChats(t *testing.T) {
	storetest.TestChats(t, func(t *testing.T) storetest.ChatRecords { return memstore.New() })
}

// TestCopiesInAndOut: what a caller passes or gets back is its own; changing
// it changes nothing stored.
func TestCopiesInAndOut(t *testing.T) {
	ctx := t.Context()
	s := memstore.New()
	id := storetest.UploadID(1)
	data := []byte("part bytes")
	if _, err := s.PutPart(ctx, id, store.UploadKey{Owner: 1, FileID: 1}, store.Part{Index: 0, Size: len(data)}, data); err != nil {
		t.Fatal(err)
	}
	data[0] = 'X'
	buf := make([]byte, store.MaxPartSize)
	_, got, err := s.ReadPart(ctx, id, 0, buf)
	if err != nil || string(got) != "part bytes" {
		t.Fatalf("part after the caller changed its slice: %q, %v", got, err)
	}
	got[0] = 'Y'
	if _, again, _ := s.ReadPart(ctx, id, 0, make([]byte, store.MaxPartSize)); string(again) != "part bytes" {
		t.Fatalf("part after the caller changed what it read: %q", again)
	}

	doc := store.Document{ID: 1, Attributes: []byte{1}, Thumbs: []store.PhotoSize{{Type: "m"}}}
	if _, err := s.PutDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	doc.Attributes[0], doc.Thumbs[0].Type = 9, "x"
	d, err := s.Document(ctx, 1)
	if err != nil || d.Attributes[0] != 1 || d.Thumbs[0].Type != "m" {
		t.Fatalf("document after the caller changed its slices: %+v, %v", d, err)
	}
	d.Attributes[0] = 7
	if d, _ := s.Document(ctx, 1); d.Attributes[0] != 1 {
		t.Fatal("changing a document read back changed the stored one")
	}

	msg := &store.Message{Owner: 1, Peer: 1, Media: []byte{5}, Objects: []int64{1}}
	if err := s.AddMessages(ctx, []*store.Message{msg}); err != nil {
		t.Fatal(err)
	}
	msg.Media[0], msg.Objects[0] = 6, 2
	if ms, err := s.Messages(ctx, 1, []int{msg.ID}); err != nil || ms[0].Media[0] != 5 || ms[0].Objects[0] != 1 {
		t.Fatalf("message after the caller changed its slices: %+v, %v", ms, err)
	}
}
