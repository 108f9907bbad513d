package interop

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/transport"
)

// withBot runs f with a gotd client logged in as a bot, over intermediate.
func withBot(t testing.TB, srv *dc, token string, f func(ctx context.Context, api *tg.Client) error) {
	t.Helper()
	withBotOver(t, srv, transport.Intermediate, token, f)
}

// withBotOver runs f with a gotd client logged in as a bot, over proto.
func withBotOver(t testing.TB, srv *dc, proto dcs.Protocol, token string, f func(ctx context.Context, api *tg.Client) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	client := srv.client(proto)
	err := client.Run(ctx, func(ctx context.Context) error {
		// f runs on a goroutine of the client: when a t.Fatal there ends
		// it, cancelling lets Run return instead of waiting for it.
		returned := false
		defer func() {
			if !returned {
				cancel()
			}
		}()
		if _, err := client.Auth().Bot(ctx, token); err != nil {
			returned = true
			return fmt.Errorf("bot login: %w", err)
		}
		err := f(ctx, client.API())
		returned = true
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rpcErr returns the rpc_error of err as "CODE MESSAGE", or "ok".
func rpcErr(err error) string {
	if err == nil {
		return "ok"
	}
	if e, ok := tgerr.As(err); ok {
		return fmt.Sprintf("%d %s", e.Code, e.Message)
	}
	return err.Error()
}

func uploadDoc(ctx context.Context, api *tg.Client, file tg.InputFileClass) (*tg.Document, error) {
	media, err := api.MessagesUploadMedia(ctx, &tg.MessagesUploadMediaRequest{
		Peer:  &tg.InputPeerSelf{},
		Media: &tg.InputMediaUploadedDocument{File: file, MimeType: "application/octet-stream"},
	})
	if err != nil {
		return nil, err
	}
	return media.(*tg.MessageMediaDocument).Document.(*tg.Document), nil
}

// TestInterop_ErrorsOverTheWire provokes every error of rules U, F and
// D2–D6 with raw calls and checks the rpc_error the client receives.
func TestInterop_ErrorsOverTheWire(t *testing.T) {
	srv := startServer(t)
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		K := 1024
		check := func(what string, err error, want string) {
			t.Helper()
			if got := rpcErr(err); got != want {
				t.Errorf("%s: %s, want %s", what, got, want)
			}
		}
		save := func(id int64, part int, n int) error {
			_, err := api.UploadSaveFilePart(ctx, &tg.UploadSaveFilePartRequest{FileID: id, FilePart: part, Bytes: make([]byte, n)})
			return err
		}
		saveBig := func(id int64, part, total int, n int) error {
			_, err := api.UploadSaveBigFilePart(ctx, &tg.UploadSaveBigFilePartRequest{FileID: id, FilePart: part, FileTotalParts: total, Bytes: make([]byte, n)})
			return err
		}
		// U1, U3, U5, U6
		check("save", save(1, 0, K), "ok")
		check("empty part", save(2, 0, 0), "400 FILE_PART_EMPTY")
		check("part over 512 KiB", save(3, 0, 512*K+1), "400 FILE_PART_TOO_BIG")
		check("part -1", save(4, -1, K), "400 FILE_PART_INVALID")
		check("part 4000", save(4, 4000, K), "400 FILE_PART_INVALID")
		check("total 0", saveBig(5, 0, 0, K), "400 FILE_PARTS_INVALID")
		check("total 4001", saveBig(5, 0, 4001, K), "400 FILE_PARTS_INVALID")
		check("non-last size", saveBig(6, 0, 3, 3*K), "400 FILE_PART_SIZE_INVALID")
		check("first of 3", saveBig(7, 0, 3, 4*K), "ok")
		check("size changed", saveBig(7, 1, 3, 8*K), "400 FILE_PART_SIZE_CHANGED")
		// F1, F2, F3
		check("missing part", func() error {
			_, err := uploadDoc(ctx, api, &tg.InputFileBig{ID: 7, Parts: 3, Name: "a"})
			return err
		}(), "400 FILE_PART_1_MISSING")
		check("parts mismatch", func() error {
			_, err := uploadDoc(ctx, api, &tg.InputFileBig{ID: 7, Parts: 2, Name: "a"})
			return err
		}(), "400 FILE_PARTS_INVALID")
		check("save 8", save(8, 0, 5*K), "ok")
		check("md5 mismatch", func() error {
			_, err := uploadDoc(ctx, api, &tg.InputFile{ID: 8, Parts: 1, Name: "a", MD5Checksum: "00000000000000000000000000000000"})
			return err
		}(), "400 MD5_CHECKSUM_INVALID")
		sum := md5.Sum(make([]byte, 5*K))
		doc, err := uploadDoc(ctx, api, &tg.InputFile{ID: 8, Parts: 1, Name: "a", MD5Checksum: hex.EncodeToString(sum[:])})
		check("finalize with the right md5", err, "ok")
		if err != nil {
			return nil
		}
		// F4: consumed once.
		check("finalize again", func() error {
			_, err := uploadDoc(ctx, api, &tg.InputFile{ID: 8, Parts: 1, Name: "a"})
			return err
		}(), "400 FILE_PART_0_MISSING")
		// U7: the small path stops at 10 MiB.
		for i := 0; i < 21; i++ {
			if err := save(9, i, 512*K); err != nil {
				return err
			}
		}
		check("small path over 10 MiB", func() error {
			_, err := uploadDoc(ctx, api, &tg.InputFile{ID: 9, Parts: 21, Name: "big"})
			return err
		}(), "400 FILE_PARTS_INVALID")
		// D2–D6
		loc := &tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}
		get := func(l tg.InputFileLocationClass, off int64, limit int, precise bool) (*tg.UploadFile, error) {
			req := &tg.UploadGetFileRequest{Location: l, Offset: off, Limit: limit}
			req.SetPrecise(precise)
			r, err := api.UploadGetFile(ctx, req)
			if err != nil {
				return nil, err
			}
			return r.(*tg.UploadFile), nil
		}
		errOf := func(_ *tg.UploadFile, err error) error { return err }
		check("offset not 4 KiB", errOf(get(loc, 1024, 4096, false)), "400 OFFSET_INVALID")
		check("limit not dividing 1 MiB", errOf(get(loc, 0, 12*K, false)), "400 LIMIT_INVALID")
		check("precise offset not 1 KiB", errOf(get(loc, 512, 1024, true)), "400 OFFSET_INVALID")
		check("precise limit over 1 MiB", errOf(get(loc, 0, 1024*K+K, true)), "400 LIMIT_INVALID")
		check("crossing a 1 MiB block", errOf(get(loc, int64(1024*K-K), 2*K, true)), "400 LIMIT_INVALID")
		check("wrong access hash", errOf(get(&tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash + 1}, 0, 4096, false)), "400 FILE_ID_INVALID")
		check("unknown file", errOf(get(&tg.InputDocumentFileLocation{ID: doc.ID + 1, AccessHash: doc.AccessHash}, 0, 4096, false)), "400 FILE_ID_INVALID")
		forged := append([]byte(nil), doc.FileReference...)
		forged[len(forged)-1] ^= 1
		check("forged file reference", errOf(get(&tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: forged}, 0, 4096, false)), "400 FILE_REFERENCE_INVALID")
		check("no file reference", errOf(get(&tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash}, 0, 4096, false)), "400 FILE_REFERENCE_INVALID")
		check("unsupported location", errOf(get(&tg.InputStickerSetThumb{Stickerset: &tg.InputStickerSetEmpty{}}, 0, 4096, false)), "400 LOCATION_INVALID")
		f, err := get(loc, 4096, 4096, false)
		check("read", err, "ok")
		if err == nil {
			if len(f.Bytes) != K {
				t.Errorf("short last chunk: %d bytes, want %d", len(f.Bytes), K)
			}
			if _, ok := f.Type.(*tg.StorageFilePartial); !ok {
				t.Errorf("type of a later chunk: %T, want storage.filePartial", f.Type)
			}
		}
		f, err = get(loc, 8192, 4096, false)
		check("read past the end", err, "ok")
		if err == nil && len(f.Bytes) != 0 {
			t.Errorf("read past the end: %d bytes", len(f.Bytes))
		}
		_, err = api.UploadGetFileHashes(ctx, &tg.UploadGetFileHashesRequest{Location: loc, Offset: -1})
		check("hashes at a negative offset", err, "400 OFFSET_INVALID")
		return nil
	})
}

// TestInterop_AccountsAreIsolated: parts saved by one account are invisible
// to another with the same file_id (U2).
func TestInterop_AccountsAreIsolated(t *testing.T) {
	srv := startServer(t, "--bot-token", "7000002:second-secret")
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		_, err := api.UploadSaveFilePart(ctx, &tg.UploadSaveFilePartRequest{FileID: 42, FilePart: 0, Bytes: []byte("alice's part")})
		return err
	})
	withBot(t, srv, "7000002:second-secret", func(ctx context.Context, api *tg.Client) error {
		_, err := uploadDoc(ctx, api, &tg.InputFile{ID: 42, Parts: 1, Name: "x"})
		if got := rpcErr(err); got != "400 FILE_PART_0_MISSING" {
			t.Errorf("another account finalizing the same file_id: %s, want FILE_PART_0_MISSING", got)
		}
		return nil
	})
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		doc, err := uploadDoc(ctx, api, &tg.InputFile{ID: 42, Parts: 1, Name: "x"})
		if err != nil {
			return err
		}
		if doc.Size != int64(len("alice's part")) {
			t.Errorf("the owner's file has %d bytes", doc.Size)
		}
		return nil
	})
}

// TestInterop_ParallelOutOfOrderParts saves the parts of a big upload from
// many goroutines in random order over one client (U4).
func TestInterop_ParallelOutOfOrderParts(t *testing.T) {
	srv := startServer(t)
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		const ps, n = 64 << 10, 40
		data := randomBytes(3, ps*(n-1)+777)
		order := rand.New(rand.NewPCG(1, 2)).Perm(n)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for _, i := range order {
			wg.Add(1)
			go func() {
				defer wg.Done()
				part := data[i*ps : min(len(data), (i+1)*ps)]
				_, err := api.UploadSaveBigFilePart(ctx, &tg.UploadSaveBigFilePartRequest{
					FileID: 77, FilePart: i, FileTotalParts: n, Bytes: part})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				return err
			}
		}
		doc, err := uploadDoc(ctx, api, &tg.InputFileBig{ID: 77, Parts: n, Name: "p"})
		if err != nil {
			return err
		}
		if doc.Size != int64(len(data)) {
			t.Errorf("size %d, want %d", doc.Size, len(data))
		}
		return nil
	})
}
