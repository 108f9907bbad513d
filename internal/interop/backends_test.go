package interop

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/transport"

	"github.com/filedc/filedc/internal/backendtest"
	"github.com/filedc/filedc/internal/store/objstore"
)

// distributed, while set, makes startServer run its server on PostgreSQL,
// Redis and S3 instead of the embedded default. Tests of this package run
// one at a time, so package variables are enough.
var (
	distributed bool
	s3Of        = make(map[string]string) // a server's --data -> its --s3
)

// backendFlags returns the serve flags of the backends startServer uses:
// none for the embedded default; for the distributed ones, a schema, key
// prefix and bucket prefix of the test's own.
func backendFlags(t testing.TB, data string) []string {
	if !distributed {
		return nil
	}
	s3 := backendtest.S3(t)
	s3Of[data] = s3
	return []string{"--s3", s3, "--postgres", backendtest.Postgres(t), "--redis", backendtest.Redis(t)}
}

// storedFileKeys lists the stored files of a server: files on disk for the
// embedded default, manifests in the bucket for S3.
func storedFileKeys(ctx context.Context, srv *dc) ([]string, error) {
	s3, ok := s3Of[srv.data]
	if !ok {
		entries, err := os.ReadDir(filepath.Join(srv.data, "files"))
		if os.IsNotExist(err) {
			err = nil
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names, err
	}
	bucket, err := objstore.OpenS3(ctx, s3)
	if err != nil {
		return nil, err
	}
	var keys []string
	err = bucket.List(ctx, "files/", func(key string, _ time.Time) error { keys = append(keys, key); return nil })
	return keys, err
}

// useDistributed makes the servers the test starts use the distributed
// backends, until it ends.
func useDistributed(t *testing.T) {
	// Outside CI without the services the test skips here, as a whole.
	backendtest.S3(t)
	backendtest.Redis(t)
	backendtest.Postgres(t)
	distributed = true
	t.Cleanup(func() { distributed = false })
}

// TestO1_DistributedBackends runs the client tests again with content in S3,
// records in PostgreSQL and part state in Redis: the same clients see the
// same behaviour as on the embedded default.
func TestO1_DistributedBackends(t *testing.T) {
	useDistributed(t)
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"RoundtripOverEveryTransport", TestInterop_GotdRoundtripOverEveryTransport},
		{"BigFileFourThreads", testBigFileFourThreadsIntermediate},
		{"ErrorsOverTheWire", TestInterop_ErrorsOverTheWire},
		{"AccountsAreIsolated", TestInterop_AccountsAreIsolated},
		{"ParallelOutOfOrderParts", TestInterop_ParallelOutOfOrderParts},
		{"M2_SendMedia", TestM2_SendMediaToSavedMessagesAndAnotherAccount},
		{"M3_Album", TestM3_AlbumOfThreeWithCaptions},
		{"M5_PhotoSizes", TestM5_PhotoSizesOverTheWire},
		{"M6_Dedup", TestM6_IdenticalContentStoredOnceAndFoundByHash},
		{"M6_SharedContentDeleted", TestM6_SharedContentDeletedWithItsLastReference},
		{"M6_DeleteMessagesRevokes", TestM6_DeleteMessagesRevokesAndDropsThumbsAndPhotos},
		{"M5_DocumentAttributes", TestM5_DocumentAttributesFromContent},
		{"D7_References", TestD7_ReferencesPerOriginExpireAndRefresh},
		{"M7_ProfileVideos", TestM7_ProfileVideos},
		{"M7_ProfilePhotos", TestM7_ProfilePhotos},
		{"M4_ClientAttributesAndThumb", TestM4_ClientAttributesAndThumbWin},
		{"S2_PerfectForwardSecrecy", TestS2_PerfectForwardSecrecy},
		{"S6_TestPhones", TestS6_TestPhoneSignUpAndSignIn},
	} {
		t.Run(tc.name, tc.test)
	}
}

// testBigFileFourThreadsIntermediate: a 50 MiB file with 4 upload and 4
// download threads, with and without verification, over one transport (the
// embedded run covers the others).
func testBigFileFourThreadsIntermediate(t *testing.T) {
	srv := startServer(t)
	data := randomBytes(51, 50<<20)
	withBotOver(t, srv, transport.Intermediate, botToken, func(ctx context.Context, api *tg.Client) error {
		return roundtrips(ctx, t, api, data, 4)
	})
}
