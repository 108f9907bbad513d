package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// TestAuthKeys runs the conformance suite for store.AuthKeys.
func TestAuthKeys(t *testing.T, open func(t *testing.T) store.AuthKeys) {
	ctx := context.Background()
	key := func(n byte) store.AuthKey {
		k := store.AuthKey{ID: [8]byte{n, 1, 2, 3, 4, 5, 6, 7}, Created: savedAt(int(n)), Layer: 198 + int(n)}
		copy(k.Value[:], Data(uint64(n), 256))
		return k
	}
	same := func(a, b store.AuthKey) bool {
		return a.ID == b.ID && a.Value == b.Value && a.Created.Equal(b.Created) &&
			a.ExpiresAt.Equal(b.ExpiresAt) && a.UserID == b.UserID && a.Layer == b.Layer && a.PermID == b.PermID &&
			a.LastUsed.Equal(b.LastUsed)
	}
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		perm := key(1)
		temp := key(2)
		temp.ExpiresAt = savedAt(2).Add(24 * time.Hour)
		temp.UserID = -5
		temp.PermID = perm.ID
		temp.LastUsed = savedAt(3)
		for _, k := range []store.AuthKey{perm, temp} {
			if err := s.PutAuthKey(ctx, k); err != nil {
				t.Fatal(err)
			}
			got, err := s.AuthKey(ctx, k.ID)
			if err != nil || !same(got, k) {
				t.Fatalf("got %+v, %v; want %+v", got, err, k)
			}
		}
		if got, _ := s.AuthKey(ctx, perm.ID); !got.ExpiresAt.IsZero() {
			t.Fatal("a permanent key came back with an expiry")
		}
	})
	t.Run("Replace", func(t *testing.T) {
		s := open(t)
		k := key(3)
		if err := s.PutAuthKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		k.UserID, k.Layer = 42, 229
		if err := s.PutAuthKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if got, err := s.AuthKey(ctx, k.ID); err != nil || !same(got, k) {
			t.Fatalf("after replace: %+v, %v", got, err)
		}
	})
	t.Run("NotFoundAndDelete", func(t *testing.T) {
		s := open(t)
		if _, err := s.AuthKey(ctx, [8]byte{9}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown key: %v", err)
		}
		k := key(4)
		if err := s.PutAuthKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := s.DeleteAuthKey(ctx, k.ID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AuthKey(ctx, k.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted key: %v", err)
		}
	})
	// S7c: keys nobody logged in on and nobody used for the TTL go, and so
	// do expired temporary keys; the rest stays.
	t.Run("DeleteUnused", func(t *testing.T) {
		s := open(t)
		now := savedAt(0).Add(48 * time.Hour)
		idleBefore := now.Add(-24 * time.Hour)
		old, recent := now.Add(-30*time.Hour), now.Add(-time.Hour)
		var keep, drop []store.AuthKey
		add := func(list *[]store.AuthKey, n byte, f func(*store.AuthKey)) {
			k := key(n)
			k.Created = old
			f(&k)
			if err := s.PutAuthKey(ctx, k); err != nil {
				t.Fatal(err)
			}
			*list = append(*list, k)
		}
		add(&drop, 10, func(k *store.AuthKey) {})                                                      // anonymous, never used since
		add(&drop, 11, func(k *store.AuthKey) { k.LastUsed = old })                                    // anonymous, used long ago
		add(&drop, 12, func(k *store.AuthKey) { k.ExpiresAt = recent })                                // temporary, expired
		add(&keep, 20, func(k *store.AuthKey) { k.LastUsed = recent })                                 // anonymous, used lately
		add(&keep, 21, func(k *store.AuthKey) { k.Created = recent })                                  // anonymous, new
		add(&keep, 22, func(k *store.AuthKey) { k.UserID = 7 })                                        // logged in
		add(&keep, 23, func(k *store.AuthKey) { k.PermID = [8]byte{1} })                               // bound, unexpired
		add(&keep, 24, func(k *store.AuthKey) { k.Created, k.ExpiresAt = recent, now.Add(time.Hour) }) // temporary, alive
		n, err := s.DeleteUnusedAuthKeys(ctx, idleBefore, now, 2)
		if err != nil || n != 2 {
			t.Fatalf("first batch of 2: deleted %d, %v", n, err)
		}
		n, err = s.DeleteUnusedAuthKeys(ctx, idleBefore, now, 100)
		if err != nil || n != 1 {
			t.Fatalf("second batch: deleted %d, %v; want the last 1", n, err)
		}
		for _, k := range drop {
			if _, err := s.AuthKey(ctx, k.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("unused key %x survived: %v", k.ID[0], err)
			}
		}
		for _, k := range keep {
			if got, err := s.AuthKey(ctx, k.ID); err != nil || !same(got, k) {
				t.Errorf("key %x: %+v, %v", k.ID[0], got, err)
			}
		}
	})
	t.Run("LogOut", func(t *testing.T) {
		s := open(t)
		var keys []store.AuthKey
		for i, user := range []int64{7, 7, 8, 0} {
			k := key(byte(30 + i))
			k.UserID = user
			if err := s.PutAuthKey(ctx, k); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
		}
		if n, err := s.LogOut(ctx, 7); err != nil || n != 2 {
			t.Fatalf("logged out %d keys, %v; want 2", n, err)
		}
		for i, want := range []int64{0, 0, 8, 0} {
			got, err := s.AuthKey(ctx, keys[i].ID)
			keys[i].UserID = want
			if err != nil || !same(got, keys[i]) {
				t.Errorf("key %d after the log-out: %+v, %v", i, got, err)
			}
		}
	})
}
