package objstore_test

import (
	"testing"
	"time"

	"github.com/filedc/filedc/internal/backendtest"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/objstore"
	"github.com/filedc/filedc/internal/store/storetest"
)

// openS3Redis returns a store on a prefix of its own in the test bucket and
// on a key prefix of its own in the test Redis.
func openS3Redis(t *testing.T) (*objstore.Store, *objstore.S3, *objstore.Redis) {
	t.Helper()
	bucket, err := objstore.OpenS3(t.Context(), backendtest.S3(t))
	if err != nil {
		t.Fatal(err)
	}
	index, err := objstore.OpenRedis(t.Context(), backendtest.Redis(t), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { index.Close() })
	return objstore.New(bucket, index), bucket, index
}

func TestTemp(t *testing.T) {
	storetest.TestTemp(t, func(t *testing.T) store.Temp {
		s, _, _ := openS3Redis(t)
		return s
	})
}

func TestContent(t *testing.T) {
	storetest.TestContent(t, func(t *testing.T) (store.Temp, store.Content) {
		s, _, _ := openS3Redis(t)
		return s, s
	})
}
