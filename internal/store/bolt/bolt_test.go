package bolt_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/bolt"
	"github.com/filedc/filedc/internal/store/storetest"
)

func open(t *testing.T, path string) *bolt.Meta {
	t.Helper()
	m, err := bolt.Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return m
}

func TestMeta(t *testing.T) {
	storetest.TestMeta(t, func(t *testing.T) store.Meta {
		m := open(t, filepath.Join(t.TempDir(), "meta.db"))
		t.Cleanup(func() {
			if err := m.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return m
	})
}

// TestReopen: records, hashes and consumed markers survive Close and Open,
// and so do the effects of DeleteFile and ForgetConsumed.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	m := open(t, path)
	ctx := t.Context()
	var recs []store.FileRecord
	for i := range 4 {
		rec := storetest.Record(i)
		rec.Created = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
		if err := m.CommitFile(ctx, rec, storetest.Hashes(i, i+1)); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if err := m.DeleteFile(ctx, recs[3].ID); err != nil {
		t.Fatal(err)
	}
	if err := m.ForgetConsumed(ctx, recs[1].Created); err != nil { // forgets recs[0]
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	m = open(t, path)
	defer m.Close()
	for i, want := range recs[:3] {
		got, err := m.File(ctx, want.ID)
		if err != nil {
			t.Fatalf("File %d after reopening: %v", i, err)
		}
		if !got.Created.Equal(want.Created) {
			t.Fatalf("File %d created %s after reopening, want %s", i, got.Created, want.Created)
		}
		got.Created = want.Created
		if got != want {
			t.Fatalf("File %d after reopening = %+v, want %+v", i, got, want)
		}
		hs, err := m.RangeHashes(ctx, want.ID, 0, 10)
		if err != nil || !slices.Equal(hs, storetest.Hashes(i, i+1)) {
			t.Fatalf("RangeHashes %d after reopening = %x, %v", i, hs, err)
		}
	}
	if _, err := m.File(ctx, recs[3].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted record after reopening: %v, want store.ErrNotFound", err)
	}
	for i, want := range []bool{false, true, true, true} {
		got, err := m.Consumed(ctx, recs[i].Upload)
		if err != nil || got != want {
			t.Fatalf("Consumed %d after reopening = %v, %v; want %v", i, got, err, want)
		}
	}
	n := 0
	if err := m.Files(ctx, func(store.FileRecord) error { n++; return nil }); err != nil || n != 3 {
		t.Fatalf("Files after reopening: %d records, %v; want 3", n, err)
	}
}

// TestSecondOpenFails: the database is locked while open; a second Open fails
// after its lock timeout instead of waiting forever, and succeeds once the
// first is closed.
func TestSecondOpenFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	first := open(t, path)

	type result struct {
		m   *bolt.Meta
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := bolt.Open(path)
		done <- result{m, err}
	}()
	// A generous bound: Open gives up after a second; this only keeps a hang
	// from blocking the test binary until its global timeout.
	select {
	case r := <-done:
		if r.err == nil {
			r.m.Close()
			t.Fatal("a second Open of a database in use succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a second Open of a database in use hangs")
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	m := open(t, path)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAuthKeys(t *testing.T) {
	storetest.TestAuthKeys(t, func(t *testing.T) store.AuthKeys {
		m, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	})
}

func TestAccounts(t *testing.T) {
	storetest.TestAccounts(t, func(t *testing.T) store.Accounts {
		m, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	})
}

func openRecords(t *testing.T) storetest.MediaRecords {
	m, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMessages(t *testing.T) {
	storetest.TestMessages(t, openRecords)
}

func TestCollect(t *testing.T) {
	storetest.TestCollect(t, openRecords)
}

func TestCollectRace(t *testing.T) {
	m := openRecords(t)
	storetest.TestCollectRace(t, m, m)
}

func TestDocuments(t *testing.T) {
	storetest.TestDocuments(t, func(t *testing.T) store.Documents {
		m, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	})
}

func TestPhotos(t *testing.T) {
	storetest.TestPhotos(t, func(t *testing.T) store.Photos {
		m, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	})
}

func TestOnce(t *testing.T) {
	storetest.TestOnce(t, func(t *testing.T) store.Once {
		m, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	})
}

func TestChats(t *testing.T) {
	storetest.TestChats(t, func(t *testing.T) storetest.ChatRecords {
		m, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	})
}
