package interop

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/transport"
)

// A cluster of filedc processes sharing one cluster directory.
type testCluster struct {
	dir   string
	key   *rsa.PublicKey
	procs map[string]*process // by name, such as "dc1"
	addrs map[string]string   // name -> 127.0.0.1:PORT
}

// freePort returns a loopback port nothing listens on. Processes of a
// cluster must know each other's addresses before they start.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// newCluster runs `filedc cluster init` into a fresh directory.
func newCluster(t *testing.T) *testCluster {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cluster")
	if out, err := exec.Command(filedcBinary(t), "cluster", "init", dir).CombinedOutput(); err != nil {
		t.Fatalf("cluster init: %v\n%s", err, out)
	}
	if out, err := exec.Command(filedcBinary(t), "cluster", "init", dir).CombinedOutput(); err == nil {
		t.Fatalf("cluster init ran twice on one directory: %s", out)
	}
	return &testCluster{dir: dir, key: readPublicKey(t, filepath.Join(dir, "public.pem")),
		procs: map[string]*process{}, addrs: map[string]string{}}
}

// start runs process name of DC dc on its reserved address with data dir
// data, listing every DC option of the cluster.
func (c *testCluster) start(t *testing.T, name string, dc int, data string, options []string, extra ...string) *process {
	t.Helper()
	args := []string{"serve", "--data", data, "--listen", c.addrs[name], "--http", "127.0.0.1:0",
		"--dc", strconv.Itoa(dc), "--cluster", c.dir}
	for _, o := range options {
		args = append(args, "--dc-option", o)
	}
	p := launch(t, append(args, extra...)...)
	c.procs[name] = p
	return p
}

// client returns a gotd client whose home is DC home, knowing only the
// given addresses of it at first (help.getConfig tells it the rest).
func (c *testCluster) client(home int, storage session.Storage, addrs ...string) *telegram.Client {
	var opts []tg.DCOption
	for _, a := range addrs {
		host, port, _ := net.SplitHostPort(a)
		p, _ := strconv.Atoi(port)
		opts = append(opts, tg.DCOption{ID: home, IPAddress: host, Port: p, Static: true})
	}
	if storage == nil {
		storage = &session.StorageMemory{}
	}
	return telegram.NewClient(1, "interop", telegram.Options{
		PublicKeys:     []telegram.PublicKey{{RSA: c.key}},
		DC:             home,
		DCList:         dcs.List{Options: opts},
		Resolver:       dcs.Plain(dcs.PlainOptions{Protocol: transport.Intermediate}),
		SessionStorage: storage,
		NoUpdates:      true,
	})
}

// twoDCs starts DC 1 and DC 2, one process each, on stores of their own
// (the embedded default, or the distributed backends when the interop tests
// run on them), with the bot token on the DCs listed.
func twoDCs(t *testing.T, botOn ...int) *testCluster {
	t.Helper()
	c := newCluster(t)
	c.addrs["dc1"], c.addrs["dc2"] = freePort(t), freePort(t)
	options := []string{"1=" + c.addrs["dc1"], "2=" + c.addrs["dc2"]}
	for _, dc := range []int{1, 2} {
		var extra []string
		for _, b := range botOn {
			if b == dc {
				extra = append(extra, "--bot-token", botToken)
			}
		}
		data := t.TempDir()
		extra = append(extra, backendFlags(t, data)...) // each DC its own stores
		c.start(t, "dc"+strconv.Itoa(dc), dc, data, options, extra...)
	}
	return c
}

// run runs f with a gotd client of home DC logged in as the bot.
func (c *testCluster) run(t *testing.T, home int, addrs []string, f func(ctx context.Context, client *telegram.Client) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	client := c.client(home, nil, addrs...)
	err := client.Run(ctx, func(ctx context.Context) error {
		if _, err := client.Auth().Bot(ctx, botToken); err != nil {
			return fmt.Errorf("bot login on DC %d: %w", home, err)
		}
		return f(ctx, client)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestS6_ExportImportAuthorizationAcrossProcesses: two real DC processes;
// the bot exists on DC 1 only. gotd's client, at home on DC 1, opens DC 2 by
// exporting its login and importing it there, which creates the account on
// DC 2 from the signed grant. Replayed and misdirected bytes are refused.
func TestS6_ExportImportAuthorizationAcrossProcesses(t *testing.T) {
	c := twoDCs(t, 1)
	c.run(t, 1, []string{c.addrs["dc1"]}, func(ctx context.Context, client *telegram.Client) error {
		// help.getConfig on DC 1 told the client where DC 2 is.
		got := map[int]string{}
		for _, o := range client.Config().DCOptions {
			got[o.ID] = net.JoinHostPort(o.IPAddress, strconv.Itoa(o.Port))
		}
		if got[1] != c.addrs["dc1"] || got[2] != c.addrs["dc2"] || len(got) != 2 {
			return fmt.Errorf("dc_options from DC 1: %v", got)
		}
		self, err := client.Self(ctx)
		if err != nil {
			return err
		}
		// gotd exports on DC 1 and imports on DC 2 when it opens the pool.
		pool, err := client.DC(ctx, 2, 1)
		if err != nil {
			return fmt.Errorf("open DC 2: %w", err)
		}
		defer pool.Close()
		dc2 := tg.NewClient(pool)
		users, err := dc2.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
		if err != nil {
			return fmt.Errorf("users.getUsers on DC 2: %w", err)
		}
		if u := users[0].(*tg.User); u.ID != self.ID || !u.Bot || u.FirstName != self.FirstName || u.AccessHash != self.AccessHash {
			return fmt.Errorf("DC 2 sees %+v, DC 1 %+v", u, self)
		}
		api := client.API()
		for _, dc := range []int{1, 3} {
			if _, err := api.AuthExportAuthorization(ctx, dc); rpcErr(err) != "400 DC_ID_INVALID" {
				return fmt.Errorf("export to DC %d: %s", dc, rpcErr(err))
			}
		}
		ex, err := api.AuthExportAuthorization(ctx, 2)
		if err != nil {
			return err
		}
		if ex.ID != self.ID {
			return fmt.Errorf("exported for %d, logged in as %d", ex.ID, self.ID)
		}
		// The bytes are for DC 2 only: DC 1 refuses them.
		if _, err := api.AuthImportAuthorization(ctx, &tg.AuthImportAuthorizationRequest{ID: ex.ID, Bytes: ex.Bytes}); rpcErr(err) != "400 AUTH_BYTES_INVALID" {
			return fmt.Errorf("import on the exporting DC: %s", rpcErr(err))
		}
		if _, err := dc2.AuthImportAuthorization(ctx, &tg.AuthImportAuthorizationRequest{ID: ex.ID, Bytes: ex.Bytes}); err != nil {
			return fmt.Errorf("import on DC 2: %w", err)
		}
		if _, err := dc2.AuthImportAuthorization(ctx, &tg.AuthImportAuthorizationRequest{ID: ex.ID, Bytes: ex.Bytes}); rpcErr(err) != "400 AUTH_BYTES_INVALID" {
			return fmt.Errorf("replayed import: %s", rpcErr(err))
		}
		return nil
	})
}

// TestD5_FileMigrateAcrossProcesses: a file uploaded on DC 2 carries dc_id 2;
// DC 1 answers its download with 303 FILE_MIGRATE_2, and gotd's downloader,
// at home on DC 1, follows it by itself (export/import, a connection to DC
// 2) and gets every byte, range hashes included.
func TestD5_FileMigrateAcrossProcesses(t *testing.T) {
	c := twoDCs(t, 1, 2)
	data := randomBytes(52, 3<<20+12345)
	var doc *tg.Document
	c.run(t, 2, []string{c.addrs["dc2"]}, func(ctx context.Context, client *telegram.Client) error {
		api := client.API()
		file, err := uploader.NewUploader(api).WithThreads(4).Upload(ctx, uploader.NewUpload("dc2.bin", bytes.NewReader(data), int64(len(data))))
		if err != nil {
			return err
		}
		if doc, err = uploadDoc(ctx, api, file); err != nil {
			return err
		}
		if doc.DCID != 2 {
			return fmt.Errorf("a document stored on DC 2 says dc_id %d", doc.DCID)
		}
		return nil
	})
	loc := &tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}
	c.run(t, 1, []string{c.addrs["dc1"]}, func(ctx context.Context, client *telegram.Client) error {
		// A raw call on a connection to DC 1 sees the redirect itself.
		pool, err := client.Pool(1)
		if err != nil {
			return err
		}
		defer pool.Close()
		raw := tg.NewClient(pool)
		_, err = raw.UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: loc, Limit: 4096})
		if rpcErr(err) != "303 FILE_MIGRATE_2" {
			return fmt.Errorf("getFile on DC 1: %s, want 303 FILE_MIGRATE_2", rpcErr(err))
		}
		_, err = raw.UploadGetFileHashes(ctx, &tg.UploadGetFileHashesRequest{Location: loc})
		if rpcErr(err) != "303 FILE_MIGRATE_2" {
			return fmt.Errorf("getFileHashes on DC 1: %s, want 303 FILE_MIGRATE_2", rpcErr(err))
		}
		// gotd's downloader follows it.
		out := &writerAt{}
		if _, err := downloader.NewDownloader().Download(client.API(), loc).WithThreads(4).WithVerify(true).Parallel(ctx, out); err != nil {
			return fmt.Errorf("download through DC 1: %w", err)
		}
		if sha256.Sum256(out.buf) != sha256.Sum256(data) {
			return fmt.Errorf("downloaded %d bytes that differ from the %d uploaded", len(out.buf), len(data))
		}
		return nil
	})
}
