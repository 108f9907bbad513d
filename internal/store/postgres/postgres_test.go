package postgres_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/backendtest"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/postgres"
	"github.com/filedc/filedc/internal/store/storetest"
)

// open returns a store on a schema of its own.
func open(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), backendtest.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestMeta(t *testing.T) {
	storetest.TestMeta(t, func(t *testing.T) store.Meta { return open(t) })
}

func TestAuthKeys(t *testing.T) {
	storetest.TestAuthKeys(t, func(t *testing.T) store.AuthKeys { return open(t) })
}

func TestAccounts(t *testing.T) {
	storetest.TestAccounts(t, func(t *testing.T) store.Accounts { return open(t) })
}

func TestMessages(t *testing.T) {
	storetest.TestMessages(t, func(t *testing.T) storetest.MediaRecords { return open(t) })
}

func TestCollect(t *testing.T) {
	storetest.TestCollect(t, func(t *testing.T) storetest.MediaRecords { return open(t) })
}

// TestCollectRace: two processes on one database, one sending a document
// while the other deletes its last message and collects it.
func TestCollectRace(t *testing.T) {
	url := backendtest.Postgres(t)
	var stores [2]*postgres.Store
	for i := range stores {
		s, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		stores[i] = s
	}
	storetest.TestCollectRace(t, stores[0], stores[1])
}

func TestDocuments(t *testing.T) {
	storetest.TestDocuments(t, func(t *testing.T) store.Documents { return open(t) })
}

func TestPhotos(t *testing.T) {
	storetest.TestPhotos(t, func(t *testing.T) store.Photos { return open(t) })
}

func TestChats(t *testing.T) {
	storetest.TestChats(t, func(t *testing.T) storetest.ChatRecords { return open(t) })
}

// TestO2_ProcessesShareOneDatabase: several processes opening one database at
// once migrate it once, and each sees what the others commit.
func TestO2_ProcessesShareOneDatabase(t *testing.T) {
	url := backendtest.Postgres(t)
	const n = 4
	stores := make([]*postgres.Store, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			s, err := postgres.Open(t.Context(), url)
			stores[i] = s
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	for _, s := range stores {
		defer s.Close()
	}
	var versions int
	if err := stores[0].Pool().QueryRow(t.Context(), `SELECT count(*) FROM filedc_migrations`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if want := postgres.Migrations; versions != want {
		t.Fatalf("%d migrations recorded, want %d", versions, want)
	}
	rec := storetest.Record(1)
	if err := stores[1].CommitFile(t.Context(), rec, storetest.Hashes(1, 2)); err != nil {
		t.Fatal(err)
	}
	got, err := stores[3].File(t.Context(), rec.ID)
	if err != nil || got.ID != rec.ID || got.Name != rec.Name {
		t.Fatalf("another process reads %+v, %v", got, err)
	}
	if err := stores[2].CommitFile(t.Context(), storetest.Record(2), nil); err != nil {
		t.Fatal(err)
	}
	again := storetest.Record(3)
	again.Upload = rec.Upload
	if err := stores[0].CommitFile(t.Context(), again, nil); err != store.ErrConsumed {
		t.Fatalf("committing an upload another process consumed: %v, want ErrConsumed", err)
	}
}

// TestUseOnce: a token is accepted once until it expires, also when many
// callers race for it.
func TestUseOnce(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	id := func(n byte) [16]byte { return [16]byte{n, 9, 8, 7} }
	exp := time.Now().Add(time.Hour)
	for i, want := range []bool{true, false, false} {
		if ok, err := s.UseOnce(ctx, id(1), exp); err != nil || ok != want {
			t.Fatalf("use %d: %v, %v; want %v", i, ok, err, want)
		}
	}
	if ok, err := s.UseOnce(ctx, id(2), exp); err != nil || !ok {
		t.Fatalf("another token: %v, %v", ok, err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.UseOnce(ctx, id(3), exp)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent uses succeeded, want 1", wins.Load())
	}
	if ok, err := s.UseOnce(ctx, id(4), time.Now().Add(-time.Second)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, err := s.UseOnce(ctx, id(4), exp); err != nil || !ok {
		t.Fatalf("after expiry: %v, %v", ok, err)
	}
	if ok, err := s.UseOnce(ctx, id(4), exp); err != nil || ok {
		t.Fatalf("second use: %v, %v", ok, err)
	}
}
