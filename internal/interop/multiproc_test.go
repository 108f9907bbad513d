package interop

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/backendtest"
)

// oneDCTwoProcesses starts two processes of DC 2 ("a" and "b") on one set of
// distributed backends (PostgreSQL, Redis, S3), each with its own data
// directory; help.getConfig lists both.
func oneDCTwoProcesses(t *testing.T) *testCluster {
	t.Helper()
	stores := []string{"--postgres", backendtest.Postgres(t), "--redis", backendtest.Redis(t), "--s3", backendtest.S3(t)}
	c := newCluster(t)
	c.addrs["a"], c.addrs["b"] = freePort(t), freePort(t)
	options := []string{"2=" + c.addrs["a"], "2=" + c.addrs["b"]}
	for _, name := range []string{"a", "b"} {
		c.start(t, name, 2, t.TempDir(), options, append([]string{"--bot-token", botToken}, stores...)...)
	}
	return c
}

// runWith runs f with a gotd client of DC 2 on storage, knowing the given
// addresses at first.
func (c *testCluster) runWith(ctx context.Context, storage session.Storage, addrs []string, f func(ctx context.Context, client *telegram.Client) error) error {
	client := c.client(2, storage, addrs...)
	return client.Run(ctx, func(ctx context.Context) error { return f(ctx, client) })
}

// saveParts saves parts [from, to) of data with saveBigFilePart.
func saveParts(ctx context.Context, api *tg.Client, fileID int64, data []byte, partSize, from, to int) error {
	total := (len(data) + partSize - 1) / partSize
	for i := from; i < to; i++ {
		part := data[i*partSize : min(len(data), (i+1)*partSize)]
		if _, err := api.UploadSaveBigFilePart(ctx, &tg.UploadSaveBigFilePartRequest{
			FileID: fileID, FilePart: i, FileTotalParts: total, Bytes: part}); err != nil {
			return fmt.Errorf("part %d: %w", i, err)
		}
	}
	return nil
}

// TestO2_TwoProcessesOfOneDCShareLoginsAndUploads: one auth key (one gotd
// session storage) used through both processes of DC 2. A login made through
// a is seen by b, which had cached the key before it; half the parts are
// saved through a, the rest through b, which finalizes; both serve the file.
func TestO2_TwoProcessesOfOneDCShareLoginsAndUploads(t *testing.T) {
	c := oneDCTwoProcesses(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	storage := &session.StorageMemory{}
	onA, onB := []string{c.addrs["a"]}, []string{c.addrs["b"]}
	// The key is made through a; b learns it from the shared store.
	err := c.runWith(ctx, storage, onA, func(ctx context.Context, client *telegram.Client) error {
		_, err := client.API().HelpGetConfig(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	const partSize = 128 << 10
	data := randomBytes(61, 11<<20+4321) // > 10 MiB: the big path
	parts := (len(data) + partSize - 1) / partSize
	const fileID = 4242
	var doc *tg.Document
	err = c.runWith(ctx, storage, onB, func(ctx context.Context, clientB *telegram.Client) error {
		// b caches the key before the login.
		if _, err := clientB.API().UpdatesGetState(ctx); rpcErr(err) != "401 AUTH_KEY_UNREGISTERED" {
			return fmt.Errorf("updates.getState before login: %s", rpcErr(err))
		}
		err := c.runWith(ctx, storage, onA, func(ctx context.Context, clientA *telegram.Client) error {
			if _, err := clientA.Auth().Bot(ctx, botToken); err != nil {
				return fmt.Errorf("login through a: %w", err)
			}
			return saveParts(ctx, clientA.API(), fileID, data, partSize, 0, parts/2)
		})
		if err != nil {
			return err
		}
		// The login reached b through the store.
		if _, err := clientB.API().UpdatesGetState(ctx); err != nil {
			return fmt.Errorf("updates.getState through b after logging in through a: %w", err)
		}
		api := clientB.API()
		if err := saveParts(ctx, api, fileID, data, partSize, parts/2, parts); err != nil {
			return err
		}
		doc, err = uploadDoc(ctx, api, &tg.InputFileBig{ID: fileID, Parts: parts, Name: "split.bin"})
		if err != nil {
			return fmt.Errorf("finalize through b: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	loc := &tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}
	for _, addrs := range [][]string{onA, onB} {
		err := c.runWith(ctx, storage, addrs, func(ctx context.Context, client *telegram.Client) error {
			out := &writerAt{}
			if _, err := downloader.NewDownloader().Download(client.API(), loc).WithThreads(4).WithVerify(true).Parallel(ctx, out); err != nil {
				return err
			}
			if sha256.Sum256(out.buf) != sha256.Sum256(data) {
				return errors.New("downloaded bytes differ from the upload")
			}
			return nil
		})
		if err != nil {
			t.Fatalf("download through %s: %v", addrs[0], err)
		}
	}
}

// TestO2_KillOneProcessDuringParallelUpload (rule O2, fault half of the
// scale-out issue): a client uploads with 4 parallel workers through process
// a; a third of the way a is killed with SIGKILL. The client reconnects by
// itself to b, which help.getConfig listed for DC 2, with the same auth key
// and session storage; parts whose answer was lost are saved again, the
// upload is finalized through b and downloads intact.
func TestO2_KillOneProcessDuringParallelUpload(t *testing.T) {
	c := oneDCTwoProcesses(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const partSize = 512 << 10
	data := randomBytes(62, 24<<20+777)
	parts := (len(data) + partSize - 1) / partSize
	const fileID = 777
	var saved, retried, afterKill atomic.Int32
	var killed atomic.Bool
	err := c.runWith(ctx, &session.StorageMemory{}, []string{c.addrs["a"]}, func(ctx context.Context, client *telegram.Client) error {
		if _, err := client.Auth().Bot(ctx, botToken); err != nil {
			return err
		}
		api := client.API()
		next := make(chan int, parts)
		for i := range parts {
			next <- i
		}
		close(next)
		var killOnce sync.Once
		var wg sync.WaitGroup
		errc := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					for attempt := 0; ; attempt++ {
						err := saveParts(ctx, api, fileID, data, partSize, i, i+1)
						if err == nil {
							break
						}
						if attempt == 20 || ctx.Err() != nil {
							errc <- fmt.Errorf("part %d after %d attempts: %w", i, attempt+1, err)
							return
						}
						retried.Add(1)
						time.Sleep(100 * time.Millisecond)
					}
					if killed.Load() {
						afterKill.Add(1)
					}
					if saved.Add(1) == int32(parts/3) {
						killOnce.Do(func() {
							if err := c.procs["a"].cmd.Process.Kill(); err != nil {
								errc <- err
							}
							killed.Store(true)
						})
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		if err := <-errc; err != nil {
			return err
		}
		doc, err := uploadDoc(ctx, api, &tg.InputFileBig{ID: fileID, Parts: parts, Name: "survivor.bin"})
		if err != nil {
			return fmt.Errorf("finalize after the kill: %w", err)
		}
		out := &writerAt{}
		loc := &tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}
		if _, err := downloader.NewDownloader().Download(api, loc).WithThreads(4).Parallel(ctx, out); err != nil {
			return fmt.Errorf("download after the kill: %w", err)
		}
		if sha256.Sum256(out.buf) != sha256.Sum256(data) {
			return errors.New("the file differs from the upload")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.procs["a"].cmd.Wait(); err == nil {
		t.Fatal("process a was not killed")
	}
	if afterKill.Load() == 0 {
		t.Fatal("no part was saved after the kill")
	}
	t.Logf("%d parts, %d saved after the kill (through b), %d saves retried", parts, afterKill.Load(), retried.Load())
}
