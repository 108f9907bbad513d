package filedctest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/filedc/filedc/pkg/filedctest"
)

// TestNewServesAClient: New takes about a millisecond, and a client with
// ClientOptions calls the DC without a key exchange.
func TestNewServesAClient(t *testing.T) {
	start := time.Now()
	srv := filedctest.New(t, filedctest.WithDC(4))
	t.Logf("New took %v", time.Since(start))
	if srv.DC() != 4 || srv.Addr() == nil || srv.PublicKey() == nil {
		t.Fatalf("DC %d at %v", srv.DC(), srv.Addr())
	}
	client := telegram.NewClient(filedctest.AppID, filedctest.AppHash, srv.ClientOptions())
	start = time.Now()
	err := client.Run(t.Context(), func(ctx context.Context) error {
		nearest, err := client.API().HelpGetNearestDC(ctx)
		if err == nil && nearest.ThisDC != 4 {
			t.Errorf("help.getNearestDc says DC %d", nearest.ThisDC)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a client connected and called in %v", time.Since(start))
	if n := srv.Calls("help.getNearestDc"); n != 1 {
		t.Fatalf("Calls(help.getNearestDc) = %d, want 1", n)
	}
}

// TestClientOptionsTrustTheKey: a client with an empty session exchanges a
// key with the DC, which proves the options' public key is the DC's.
func TestClientOptionsTrustTheKey(t *testing.T) {
	srv := filedctest.New(t)
	opts := srv.ClientOptions()
	opts.SessionStorage = &session.StorageMemory{}
	client := telegram.NewClient(filedctest.AppID, filedctest.AppHash, opts)
	err := client.Run(t.Context(), func(ctx context.Context) error {
		_, err := client.Auth().Bot(ctx, srv.BotToken())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBotRoundTrip: Bot's client is logged in and moves a file both ways.
func TestBotRoundTrip(t *testing.T) {
	srv := filedctest.New(t, filedctest.WithBotToken("4242:s3cret"))
	if srv.BotToken() != "4242:s3cret" {
		t.Fatalf("BotToken %q", srv.BotToken())
	}
	client := srv.Bot(t)
	ctx := t.Context()
	self, err := client.Self(ctx)
	if err != nil || !self.Bot || self.ID != 4242 {
		t.Fatalf("self %+v, %v", self, err)
	}
	data := randomBytes(t, 1<<20+17)
	got := roundTrip(t, ctx, client, data, 4)
	if !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes that differ from the %d uploaded", len(got), len(data))
	}
}

// TestFail: the next calls fail as told, then the method works again.
func TestFail(t *testing.T) {
	srv := filedctest.New(t)
	flood := srv.Fail("upload.saveFilePart", tgerr.New(420, "FLOOD_WAIT_7")).Times(2)
	srv.Fail("upload.saveBigFilePart", errors.New("any other error"))
	err := srv.RunBot(t.Context(), func(ctx context.Context, client *telegram.Client) error {
		api := client.API()
		save := func() error {
			_, err := api.UploadSaveFilePart(ctx, &tg.UploadSaveFilePartRequest{FileID: 1, FilePart: 0, Bytes: []byte("abc")})
			return err
		}
		for i := range 2 {
			if d, ok := tgerr.AsFloodWait(save()); !ok || d != 7*time.Second {
				t.Errorf("save %d: flood wait %v, %v; want 7s", i, d, ok)
			}
		}
		if err := save(); err != nil {
			t.Errorf("the third save: %v", err)
		}
		_, err := api.UploadSaveBigFilePart(ctx, &tg.UploadSaveBigFilePartRequest{FileID: 2, FileTotalParts: 1, Bytes: []byte("abc")})
		if !tgerr.Is(err, "INTERNAL") {
			t.Errorf("a plain error: %v, want 500 INTERNAL", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if flood.Hits() != 2 || srv.Calls("upload.saveFilePart") != 3 {
		t.Fatalf("%d hits of %d calls, want 2 of 3", flood.Hits(), srv.Calls("upload.saveFilePart"))
	}
}

// TestRemove: a removed fault hits no more calls.
func TestRemove(t *testing.T) {
	srv := filedctest.New(t)
	f := srv.Fail("help.getNearestDc", tgerr.New(400, "NOPE"))
	client := srv.Bot(t)
	if _, err := client.API().HelpGetNearestDC(t.Context()); !tgerr.Is(err, "NOPE") {
		t.Fatalf("with the fault: %v", err)
	}
	f.Remove()
	if _, err := client.API().HelpGetNearestDC(t.Context()); err != nil {
		t.Fatalf("after Remove: %v", err)
	}
}

// TestFailUnknownMethod: a misspelt method panics instead of never firing.
func TestFailUnknownMethod(t *testing.T) {
	srv := filedctest.New(t)
	defer func() {
		if recover() == nil {
			t.Fatal("Fail of an unknown method did not panic")
		}
	}()
	srv.Fail("upload.saveFilepart", tgerr.New(420, "FLOOD_WAIT_1"))
}

// TestDelay: the delayed call takes at least the delay; the next does not.
func TestDelay(t *testing.T) {
	srv := filedctest.New(t)
	const d = 300 * time.Millisecond
	delay := srv.Delay("help.getNearestDc", d).Times(1)
	client := srv.Bot(t)
	for i, slow := range []bool{true, false} {
		start := time.Now()
		if _, err := client.API().HelpGetNearestDC(t.Context()); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); (took >= d) != slow {
			t.Errorf("call %d took %v; delayed: %v", i, took, slow)
		}
	}
	if delay.Hits() != 1 {
		t.Fatalf("Hits %d, want 1", delay.Hits())
	}
}

// TestDrop: a dropped call closes the connection; gotd reconnects, sends it
// again, and the upload completes. One part at a time: gotd sends again
// only calls that were on the wire unacknowledged, and a part being
// written when the connection closes fails the upload.
func TestDrop(t *testing.T) {
	srv := filedctest.New(t)
	drop := srv.Drop("upload.saveFilePart").Times(2)
	client := srv.Bot(t)
	data := randomBytes(t, 2<<20-100) // 4 parts
	got := roundTrip(t, t.Context(), client, data, 1)
	if !bytes.Equal(got, data) {
		t.Fatal("the file differs after dropped connections")
	}
	if drop.Hits() != 2 {
		t.Fatalf("Hits %d, want 2", drop.Hits())
	}
	if parts, calls := 4, srv.Calls("upload.saveFilePart"); calls != parts+2 {
		t.Fatalf("%d saveFilePart calls, want %d parts and 2 sent again", calls, parts)
	}
}

// TestLimits: WithLimits reaches the engine.
func TestLimits(t *testing.T) {
	srv := filedctest.New(t, filedctest.WithLimits(filedctest.Limits{MaxUploads: 1, FloodWait: 3 * time.Second}))
	api := srv.Bot(t).API()
	ctx := t.Context()
	for id, want := range []time.Duration{0, 3 * time.Second} { // in order: the second upload is one too many
		_, err := api.UploadSaveFilePart(ctx, &tg.UploadSaveFilePartRequest{FileID: int64(id + 1), Bytes: []byte("x")})
		if d, _ := tgerr.AsFloodWait(err); d != want || (want == 0 && err != nil) {
			t.Fatalf("upload %d: %v, want flood wait %v", id+1, err, want)
		}
	}
}

// TestWithInterceptor: an extra interceptor sees every call by name.
func TestWithInterceptor(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := filedctest.New(t, filedctest.WithInterceptor(
		func(ctx context.Context, method string, next func(context.Context) (bin.Encoder, error)) (bin.Encoder, error) {
			mu.Lock()
			seen[method]++
			mu.Unlock()
			return next(ctx)
		}), filedctest.WithLogger(slog.New(slog.DiscardHandler)))
	srv.Bot(t)
	mu.Lock()
	defer mu.Unlock()
	if seen["auth.importBotAuthorization"] != 1 {
		t.Fatalf("the interceptor saw %v", seen)
	}
}

func randomBytes(tb testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

// roundTrip uploads data as a document and downloads it again.
func roundTrip(tb testing.TB, ctx context.Context, client *telegram.Client, data []byte, threads int) []byte {
	tb.Helper()
	return transfer(tb, ctx, client.API(), data, threads, func(file tg.InputFileClass) tg.InputFileLocationClass {
		media, err := client.API().MessagesUploadMedia(ctx, &tg.MessagesUploadMediaRequest{
			Peer:  &tg.InputPeerSelf{},
			Media: &tg.InputMediaUploadedDocument{File: file, MimeType: "application/octet-stream"},
		})
		if err != nil {
			tb.Fatalf("messages.uploadMedia: %v", err)
		}
		return media.(*tg.MessageMediaDocument).Document.(*tg.Document).AsInputDocumentFileLocation("")
	})
}

// transfer uploads data in 512 KiB parts, then downloads it from where
// locate says the upload is.
func transfer(tb testing.TB, ctx context.Context, api *tg.Client, data []byte, threads int, locate func(tg.InputFileClass) tg.InputFileLocationClass) []byte {
	tb.Helper()
	file, err := uploader.NewUploader(api).WithPartSize(uploader.MaximumPartSize).WithThreads(threads).FromBytes(ctx, "file.bin", data)
	if err != nil {
		tb.Fatalf("upload: %v", err)
	}
	var out bytes.Buffer
	out.Grow(len(data))
	_, err = downloader.NewDownloader().Download(api, locate(file)).WithThreads(threads).Stream(ctx, &out)
	if err != nil {
		tb.Fatalf("download: %v", err)
	}
	return out.Bytes()
}
