package server

import (
	"context"
	"testing"

	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/memstore"
)

// TestS5_ReloadKeepsALayerNotStoredYet: a call that needs a login reloads
// its key (the login may have come through another process) while the
// invokeWithLayer of another call in the same container is in memory but
// not yet stored. The reload takes the login and keeps the layer; mtcute
// sends exactly this (users.getUsers beside invokeWithLayer(227, ...)).
func TestS5_ReloadKeepsALayerNotStoredYet(t *testing.T) {
	keys := memstore.New()
	s := New(Config{Keys: keys})
	id := [8]byte{1, 2, 3}
	keys.PutAuthKey(context.Background(), store.AuthKey{ID: id, UserID: 42})
	k := &Key{}
	k.Update(func(r *store.AuthKey) { r.ID, r.Layer = id, 227 })
	rec, err := (&Request{Key: k, srv: s}).ReloadKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rec.UserID != 42 || rec.Layer != 227 || k.Record().Layer != 227 {
		t.Fatalf("after the reload: %+v", rec)
	}
	// An older layer stored before does not take it back either; a key
	// that declared nothing here takes the stored one.
	keys.PutAuthKey(context.Background(), store.AuthKey{ID: id, UserID: 42, Layer: 198})
	if rec, _ := (&Request{Key: k, srv: s}).ReloadKey(context.Background()); rec.Layer != 227 {
		t.Fatalf("over a stored older layer: %+v", rec)
	}
	fresh := &Key{}
	fresh.Update(func(r *store.AuthKey) { r.ID = id })
	if rec, _ := (&Request{Key: fresh, srv: s}).ReloadKey(context.Background()); rec.Layer != 198 || rec.UserID != 42 {
		t.Fatalf("a key that declared nothing here: %+v", rec)
	}
}
