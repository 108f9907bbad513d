package objstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/backendtest"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/objstore"
	"github.com/filedc/filedc/internal/store/storetest"
)

func openS3(t *testing.T) *objstore.S3 {
	t.Helper()
	b, err := objstore.OpenS3(t.Context(), backendtest.S3(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openRedis(t *testing.T, ttl time.Duration) *objstore.Redis {
	t.Helper()
	r, err := objstore.OpenRedis(t.Context(), backendtest.Redis(t), ttl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func openBolt(t *testing.T) *objstore.BoltIndex {
	t.Helper()
	b, err := objstore.OpenBoltIndex(filepath.Join(t.TempDir(), "parts.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func openDir(t *testing.T) *objstore.Dir {
	t.Helper()
	d, err := objstore.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// newStore returns a store that is closed (its background work waited for)
// before the test's directories and connections go.
func newStore(t *testing.T, b objstore.Bucket, i objstore.Index, gc objstore.GC) *objstore.Store {
	s := objstore.New(b, i, gc)
	t.Cleanup(func() { s.Close() })
	return s
}

// combos are the ways `filedc serve` combines a bucket and an index:
// --s3 --redis, --s3 alone, --redis alone.
var combos = []struct {
	name string
	open func(t *testing.T) (objstore.Bucket, objstore.Index)
}{
	{"S3Redis", func(t *testing.T) (objstore.Bucket, objstore.Index) { return openS3(t), openRedis(t, time.Hour) }},
	{"S3Bolt", func(t *testing.T) (objstore.Bucket, objstore.Index) { return openS3(t), openBolt(t) }},
	{"DirRedis", func(t *testing.T) (objstore.Bucket, objstore.Index) { return openDir(t), openRedis(t, time.Hour) }},
}

func TestTemp(t *testing.T) {
	for _, c := range combos {
		t.Run(c.name, func(t *testing.T) {
			storetest.TestTemp(t, func(t *testing.T) store.Temp {
				b, i := c.open(t)
				return newStore(t, b, i, objstore.GC{})
			})
		})
	}
}

func TestContent(t *testing.T) {
	for _, c := range combos {
		t.Run(c.name, func(t *testing.T) {
			storetest.TestContent(t, func(t *testing.T) (store.Temp, store.Content) {
				b, i := c.open(t)
				s := newStore(t, b, i, objstore.GC{})
				return s, s
			})
		})
	}
	t.Run("DirBolt", func(t *testing.T) {
		storetest.TestContent(t, func(t *testing.T) (store.Temp, store.Content) {
			s := newStore(t, openDir(t), openBolt(t), objstore.GC{})
			return s, s
		})
	})
}

// counting is a Bucket that counts what goes through it.
type counting struct {
	objstore.Bucket
	puts, putBytes, reads, deletes int
}

func (c *counting) Put(ctx context.Context, key string, data []byte) error {
	c.puts++
	c.putBytes += len(data)
	return c.Bucket.Put(ctx, key, data)
}

func (c *counting) ReadAt(ctx context.Context, key string, p []byte, off int64) error {
	c.reads++
	return c.Bucket.ReadAt(ctx, key, p, off)
}

func (c *counting) Delete(ctx context.Context, keys ...string) error {
	c.deletes += len(keys)
	return c.Bucket.Delete(ctx, keys...)
}

// objects returns the keys under prefix.
func objects(t *testing.T, b objstore.Bucket, prefix string) []string {
	t.Helper()
	var keys []string
	if err := b.List(t.Context(), prefix, func(k string, _ time.Time) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	return keys
}

func putParts(t *testing.T, s *objstore.Store, id store.UploadID, data []byte, partSize int) int {
	t.Helper()
	n := 0
	for off := 0; off < len(data); off += partSize {
		p := data[off:min(len(data), off+partSize)]
		if _, err := s.PutPart(t.Context(), id, store.UploadKey{Owner: 1, FileID: 2, Big: true},
			store.Part{Index: n, Size: len(p), Total: -1, SavedAt: time.Now()}, p); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// TestF5_SealWritesOnlyAManifest: sealing 40 parts of 512 KiB (20 MiB) reads
// no part and writes two small objects, the marker and the manifest; the
// file then reads back whole, also after its upload is deleted.
func TestF5_SealWritesOnlyAManifest(t *testing.T) {
	c := &counting{Bucket: openS3(t)}
	s := newStore(t, c, openRedis(t, time.Hour), objstore.GC{})
	data := storetest.Data(1, 40*store.MaxPartSize)
	id := storetest.UploadID(1)
	parts := putParts(t, s, id, data, store.MaxPartSize)
	versions := storetest.Versions(t, s, id, parts)
	c.puts, c.putBytes, c.reads = 0, 0, 0
	if err := s.Seal(t.Context(), id, 77, versions); err != nil {
		t.Fatal(err)
	}
	if c.reads != 0 || c.puts != 2 || c.putBytes > 1024 {
		t.Fatalf("Seal of %d MiB: %d reads, %d puts of %d bytes; want 0 reads, 2 puts under 1 KiB", len(data)>>20, c.reads, c.puts, c.putBytes)
	}
	if err := s.DeleteUpload(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	l := store.Layout{Size: int64(len(data)), PartSize: store.MaxPartSize, Parts: parts}
	if err := s.ReadAt(t.Context(), 77, l, got, 0); err != nil || string(got) != string(data) {
		t.Fatalf("ReadAt after DeleteUpload: %v", err)
	}
	// Deleting the file releases its part objects, the last references.
	if err := s.Delete(t.Context(), 77); err != nil {
		t.Fatal(err)
	}
	if left := append(objects(t, c, "parts/"), append(objects(t, c, "files/"), objects(t, c, "sealed/")...)...); len(left) != 0 {
		t.Fatalf("after deleting the upload and the file, objects are left: %v", left)
	}
}

// TestU8_RedisStateExpires: the state of an upload nobody touches expires in
// Redis by itself after the time to live, with no filedc process sweeping;
// Scan then reports nothing and, past the grace period, removes the objects.
func TestU8_RedisStateExpires(t *testing.T) {
	b := openS3(t)
	s := newStore(t, b, openRedis(t, 300*time.Millisecond), quickGC)
	putParts(t, s, storetest.UploadID(1), storetest.Data(1, 3000), 1000)
	if n := len(objects(t, b, "parts/")); n != 3 {
		t.Fatalf("%d part objects, want 3", n)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, _, err := s.ReadPart(t.Context(), storetest.UploadID(1), 0, make([]byte, store.MaxPartSize)); err == store.ErrNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the upload's state did not expire")
		}
		time.Sleep(50 * time.Millisecond)
	}
	ups := 0
	if err := s.Scan(t.Context(), func(store.Upload) error { ups++; return nil }); err != nil {
		t.Fatal(err)
	}
	if ups != 0 {
		t.Fatalf("Scan after expiry reported %d uploads", ups)
	}
	scanUntilGone(t, s, b, "parts/")
}

// quickGC collects slots of one second as soon as they are over.
var quickGC = objstore.GC{MaxTTL: time.Millisecond, Grace: -1, Slot: time.Second}

// scanUntilGone runs Scan until no object under prefix is left; the slot of
// the newest object must end first.
func scanUntilGone(t *testing.T, s *objstore.Store, b objstore.Bucket, prefix string) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		if err := s.Scan(t.Context(), func(store.Upload) error { return nil }); err != nil {
			t.Fatal(err)
		}
		left := objects(t, b, prefix)
		if len(left) == 0 {
			return
		}
		if attempt == 100 {
			t.Fatalf("Scan leaves objects nothing names: %v", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestO1_IndexLossKeepsStoredFiles: when Redis loses its data, stored files
// are intact (their manifests and markers are in the bucket) and Scan removes
// only the objects of the lost temporary uploads.
func TestO1_IndexLossKeepsStoredFiles(t *testing.T) {
	b := openS3(t)
	s := newStore(t, b, openRedis(t, time.Hour), quickGC)
	sealedData, tempData := storetest.Data(1, 5000), storetest.Data(2, 4000)
	n := putParts(t, s, storetest.UploadID(1), sealedData, 1024)
	if err := s.Seal(t.Context(), storetest.UploadID(1), 42, storetest.Versions(t, s, storetest.UploadID(1), n)); err != nil {
		t.Fatal(err)
	}
	n1 := len(objects(t, b, "parts/"))
	putParts(t, s, storetest.UploadID(2), tempData, 1024)

	// A fresh index: everything Redis knew is gone.
	lost := newStore(t, b, openRedis(t, time.Hour), quickGC)
	for attempt := 0; ; attempt++ {
		if err := lost.Scan(t.Context(), func(store.Upload) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if n := len(objects(t, b, "parts/")); n == n1 {
			break // only the stored file's parts are left
		} else if attempt == 100 {
			t.Fatalf("%d part objects left, want the stored file's %d", n, n1)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := make([]byte, len(sealedData))
	l := store.Layout{Size: int64(len(sealedData)), PartSize: 1024, Parts: n}
	if err := lost.ReadAt(t.Context(), 42, l, got, 0); err != nil || string(got) != string(sealedData) {
		t.Fatalf("stored file after losing the index: %v", err)
	}
}
