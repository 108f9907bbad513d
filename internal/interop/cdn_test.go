package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/transport"

	"github.com/filedc/filedc/internal/cdn"
	"github.com/filedc/filedc/internal/serverkey"
)

const cdnTestDC = 201

// cdnSetup is a master DC process and a CDN DC process (`serve --cdn`).
type cdnSetup struct {
	master  *dc
	cdn     *process
	cdnArgs []string
	cdnHTTP string
}

// startWithCDN starts a master that sends downloads through a CDN, then
// the CDN, given the secret the master wrote.
func startWithCDN(t *testing.T, extra ...string) *cdnSetup {
	t.Helper()
	cdnAddr, cdnHTTP := freePort(t), freePort(t)
	master := startServer(t, append([]string{"--cdn-dc", fmt.Sprintf("%d=%s@%s", cdnTestDC, cdnAddr, cdnHTTP)}, extra...)...)
	s := &cdnSetup{master: master, cdnHTTP: cdnHTTP, cdnArgs: []string{"serve", "--cdn", "--dc", fmt.Sprint(cdnTestDC),
		"--data", t.TempDir(), "--listen", cdnAddr, "--http", cdnHTTP,
		"--cdn-secret", filepath.Join(master.data, cdn.SecretFile), "--cdn-cache", "64MiB"}}
	s.cdn = launch(t, s.cdnArgs...)
	return s
}

// restartCDN kills the CDN process (its cache is gone) and starts it again.
func (s *cdnSetup) restartCDN(t *testing.T) {
	t.Helper()
	s.cdn.cmd.Process.Kill()
	s.cdn.cmd.Wait()
	s.cdn = launch(t, s.cdnArgs...)
}

// cacheBlocks reads how many blocks the CDN holds from its /healthz.
func (s *cdnSetup) cacheBlocks(t *testing.T) int {
	t.Helper()
	resp, err := http.Get("http://" + s.cdnHTTP + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		CDN    bool `json:"cdn"`
		Blocks int  `json:"cache_blocks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || !h.CDN {
		t.Fatalf("CDN health: %+v %v", h, err)
	}
	return h.Blocks
}

// run runs f with a gotd client of the master, logged in as the bot, whose
// downloads follow CDN redirects.
func (s *cdnSetup) run(t *testing.T, f func(ctx context.Context, client *telegram.Client) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	opts := s.master.options(transport.Intermediate)
	opts.AllowCDN = true
	client := telegram.NewClient(1, "interop", opts)
	err := client.Run(ctx, func(ctx context.Context) error {
		if _, err := client.Auth().Bot(ctx, botToken); err != nil {
			return err
		}
		// The CDN starts after the master (it needs the secret the master
		// writes); the master picks it up within its 5 s watch.
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			cfg, err := client.API().HelpGetCDNConfig(ctx)
			if err != nil {
				return err
			}
			if len(cfg.PublicKeys) == 1 {
				break
			}
			if time.Now().After(deadline) {
				return errors.New("the master did not reach its CDN within 20 s")
			}
		}
		return f(ctx, client)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// uploadDocument uploads data with gotd's uploader and returns the document.
func uploadDocument(ctx context.Context, api *tg.Client, data []byte) (*tg.Document, error) {
	file, err := uploader.NewUploader(api).WithThreads(4).Upload(ctx, uploader.NewUpload("cdn.bin", bytes.NewReader(data), int64(len(data))))
	if err != nil {
		return nil, err
	}
	return uploadDoc(ctx, api, file)
}

func docLocation(d *tg.Document) *tg.InputDocumentFileLocation {
	return &tg.InputDocumentFileLocation{ID: d.ID, AccessHash: d.AccessHash, FileReference: d.FileReference}
}

// downloadVia downloads a document with gotd's downloader through the
// client, so that it follows CDN redirects.
func downloadVia(ctx context.Context, client *telegram.Client, d *tg.Document, threads int) ([]byte, error) {
	out := &writerAt{}
	_, err := client.Download(docLocation(d)).WithThreads(threads).Parallel(ctx, out)
	return out.buf, err
}

// Rules C1–C4, D8 over the wire: gotd's downloader, with CDN allowed, is
// redirected by the master, fetches the CDN's key with help.getCdnConfig,
// exchanges a key with the CDN process, reads a 30 MiB file from it (every
// block pushed on reuploadCdnFile), decrypts and checks it against the
// master's hashes. Without cdn_supported the master serves the file itself.
// After the CDN restarts, its empty cache only costs reuploads.
func TestC1_GotdDownloadsThroughTheCDN(t *testing.T) {
	s := startWithCDN(t)
	data := randomBytes(201, 30<<20+4321)
	s.run(t, func(ctx context.Context, client *telegram.Client) error {
		api := client.API()
		doc, err := uploadDocument(ctx, api, data)
		if err != nil {
			return err
		}
		// The redirect, as the master answers it.
		res, err := api.UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: docLocation(doc), Limit: 512 << 10, CDNSupported: true})
		if err != nil {
			return err
		}
		redirect, ok := res.(*tg.UploadFileCDNRedirect)
		if !ok || redirect.DCID != cdnTestDC || len(redirect.FileHashes) != 8 {
			return fmt.Errorf("getFile with cdn_supported answered %T %+v", res, res)
		}
		cdnCfg, err := api.HelpGetCDNConfig(ctx)
		if err != nil || len(cdnCfg.PublicKeys) != 1 || cdnCfg.PublicKeys[0].DCID != cdnTestDC {
			return fmt.Errorf("help.getCdnConfig: %+v %v", cdnCfg, err)
		}
		listed := false
		for _, o := range client.Config().DCOptions {
			listed = listed || (o.ID == cdnTestDC && o.CDN)
		}
		if !listed {
			return fmt.Errorf("help.getConfig does not list the CDN: %+v", client.Config().DCOptions)
		}
		// Without cdn_supported: the bytes themselves.
		if res, err := api.UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: docLocation(doc), Limit: 4096}); err != nil {
			return err
		} else if f, ok := res.(*tg.UploadFile); !ok || !bytes.Equal(f.Bytes, data[:4096]) {
			return fmt.Errorf("getFile without cdn_supported answered %T", res)
		}

		got, err := downloadVia(ctx, client, doc, 4)
		if err != nil {
			return fmt.Errorf("download through the CDN: %w", err)
		}
		if sha256.Sum256(got) != sha256.Sum256(data) {
			return fmt.Errorf("downloaded %d bytes through the CDN that differ from the %d uploaded", len(got), len(data))
		}
		// 31 blocks, and an empty one past the end when a parallel worker
		// read ahead of the end.
		if n := s.cacheBlocks(t); n != 31 && n != 32 {
			return fmt.Errorf("the CDN holds %d blocks of a 31-block file", n)
		}
		s.restartCDN(t)
		if n := s.cacheBlocks(t); n != 0 {
			return fmt.Errorf("a restarted CDN holds %d blocks", n)
		}
		got, err = downloadVia(ctx, client, doc, 4)
		if err != nil {
			return fmt.Errorf("download after the CDN restarted: %w", err)
		}
		if sha256.Sum256(got) != sha256.Sum256(data) {
			return errors.New("after the CDN restarted, the bytes differ")
		}
		if n := s.cacheBlocks(t); n != 31 && n != 32 {
			return fmt.Errorf("after the restart the CDN holds %d blocks", n)
		}
		return nil
	})
}

// Rule C4 (trust): a CDN that serves altered bytes is caught by the
// client. Here a block in the CDN's cache is replaced by one pushed with
// the shared secret (as a compromised CDN would serve it); gotd's downloader
// decrypts it, checks it against the master's hashes and refuses it.
func TestC4_TamperedCDNBytesAreRefused(t *testing.T) {
	s := startWithCDN(t)
	data := randomBytes(202, 3<<20)
	shared, err := serverkey.ReadSecret(filepath.Join(s.master.data, cdn.SecretFile))
	if err != nil {
		t.Fatal(err)
	}
	s.run(t, func(ctx context.Context, client *telegram.Client) error {
		doc, err := uploadDocument(ctx, client.API(), data)
		if err != nil {
			return err
		}
		if got, err := downloadVia(ctx, client, doc, 1); err != nil || !bytes.Equal(got, data) {
			return fmt.Errorf("untampered download: %v", err)
		}
		res, err := client.API().UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: docLocation(doc), Limit: 4096, CDNSupported: true})
		if err != nil {
			return err
		}
		tok, ok := cdn.ParseFileToken(res.(*tg.UploadFileCDNRedirect).FileToken)
		if !ok {
			return errors.New("unreadable file token")
		}
		evil := make([]byte, cdn.BlockSize)
		rand.Read(evil)
		if err := cdn.PushBlock(ctx, http.DefaultClient, s.cdnHTTP, shared, cdnTestDC, tok.FileID, 1, int64(len(data)), evil); err != nil {
			return err
		}
		_, err = downloadVia(ctx, client, doc, 1)
		if !errors.Is(err, downloader.ErrHashMismatch) {
			return fmt.Errorf("download of tampered bytes: %v, want %v", err, downloader.ErrHashMismatch)
		}
		return nil
	})
}

// Rule C3 over the wire: a file token that expired is refused by the CDN
// with FILE_TOKEN_INVALID, and gotd's downloader goes back to the master
// for a fresh redirect by itself.
func TestC3_GotdRenewsAnExpiredFileToken(t *testing.T) {
	s := startWithCDN(t, "--cdn-token-ttl", "2s")
	data := randomBytes(203, 2<<20+100)
	s.run(t, func(ctx context.Context, client *telegram.Client) error {
		doc, err := uploadDocument(ctx, client.API(), data)
		if err != nil {
			return err
		}
		res, err := client.API().UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: docLocation(doc), Limit: 4096, CDNSupported: true})
		if err != nil {
			return err
		}
		old := res.(*tg.UploadFileCDNRedirect)
		time.Sleep(3 * time.Second) // the token's lifetime, in whole seconds
		if _, err := client.API().UploadGetCDNFileHashes(ctx, &tg.UploadGetCDNFileHashesRequest{FileToken: old.FileToken}); rpcErr(err) != "400 FILE_TOKEN_INVALID" {
			return fmt.Errorf("getCdnFileHashes with an expired token: %s", rpcErr(err))
		}
		if _, err := client.API().UploadReuploadCDNFile(ctx, &tg.UploadReuploadCDNFileRequest{FileToken: old.FileToken, RequestToken: []byte("x")}); rpcErr(err) != "400 FILE_TOKEN_INVALID" {
			return fmt.Errorf("reuploadCdnFile with an expired token: %s", rpcErr(err))
		}
		got, err := downloadVia(ctx, client, doc, 2)
		if err != nil || !bytes.Equal(got, data) {
			return fmt.Errorf("download: %v", err)
		}
		return nil
	})
}

// Rule C1 for our own client: `filedc download` follows the master's
// redirect to the CDN, and the bytes it writes are the uploaded ones.
func TestC1_FiledcDownloadFollowsTheCDN(t *testing.T) {
	s := startWithCDN(t)
	data := randomBytes(204, 6<<20+77)
	var doc *tg.Document
	s.run(t, func(ctx context.Context, client *telegram.Client) (err error) {
		doc, err = uploadDocument(ctx, client.API(), data)
		return err
	})
	out := filepath.Join(t.TempDir(), "out.bin")
	cmd := exec.Command(filedcBinary(t), "download", fmt.Sprint(doc.ID), fmt.Sprint(doc.AccessHash), hex.EncodeToString(doc.FileReference),
		"-o", out, "--bot-token", botToken, "--addr", s.master.addr.String(), "--key", filepath.Join(s.master.data, "public.pem"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("filedc download: %v\n%s", err, b)
	}
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("filedc download wrote %d bytes (%v) that differ from the %d uploaded", len(got), err, len(data))
	}
	if n := s.cacheBlocks(t); n < 7 {
		t.Fatalf("the CDN holds %d blocks: the download did not go through it", n)
	}
}

// Rule D8 over the wire: when the CDN process dies, the master notices
// within seconds (it asks each CDN for its key every 5 s), stops
// redirecting, and gotd's downloader, CDN allowed, gets the file from the
// master itself.
func TestD8_DeadCDNFallsBackToTheMaster(t *testing.T) {
	s := startWithCDN(t)
	data := randomBytes(205, 3<<20+5)
	s.run(t, func(ctx context.Context, client *telegram.Client) error {
		doc, err := uploadDocument(ctx, client.API(), data)
		if err != nil {
			return err
		}
		s.cdn.cmd.Process.Kill()
		s.cdn.cmd.Wait()
		deadline := time.Now().Add(20 * time.Second)
		for {
			cfg, err := client.API().HelpGetCDNConfig(ctx)
			if err != nil {
				return err
			}
			if len(cfg.PublicKeys) == 0 {
				break
			}
			if time.Now().After(deadline) {
				return errors.New("the master still lists a dead CDN after 20 s")
			}
			time.Sleep(500 * time.Millisecond)
		}
		res, err := client.API().UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: docLocation(doc), Limit: 4096, CDNSupported: true})
		if err != nil {
			return err
		}
		if _, ok := res.(*tg.UploadFile); !ok {
			return fmt.Errorf("with the CDN dead, getFile(cdn_supported) answered %T", res)
		}
		got, err := downloadVia(ctx, client, doc, 2)
		if err != nil || !bytes.Equal(got, data) {
			return fmt.Errorf("download with the CDN dead: %v", err)
		}
		return nil
	})
}
