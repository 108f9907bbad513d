package main

import (
	"context"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gotd/td/crypto"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/transport"
	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/filedc/filedc/internal/bench"
)

// The client commands (upload, download) talk to a filedc DC with gotd's
// client, the way any Telegram bot would: bot login, the uploader and
// messages.uploadMedia, the downloader with upload.getFileHashes checks.

const defaultThreads = 4

// protocols are the transports a client can speak, by flag value.
var protocols = map[string]dcs.Protocol{
	"abridged":            transport.Abridged,
	"intermediate":        transport.Intermediate,
	"padded-intermediate": transport.PaddedIntermediate,
	"full":                transport.Full,
}

func protocol(name string) (dcs.Protocol, error) {
	if p, ok := protocols[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("--transport %q: want abridged, intermediate, padded-intermediate or full", name)
}

// dcTarget is where a client connects: a DC's address, id and public key.
type dcTarget struct {
	addr      string // HOST:PORT
	dc        int
	key       *rsa.PublicKey
	transport string
	// compress is gotd's CompressThreshold: requests larger than this go
	// out gzip_packed; 0 is gotd's default (1 KiB), -1 never.
	compress int
}

// connFlags are the connection flags upload and download share.
type connFlags struct {
	addr, key, token, transport string
	dc                          int
}

func (f *connFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", envOr("FILEDC_ADDR", defaultListen), "the DC's MTProto address HOST:PORT (env FILEDC_ADDR)")
	fs.IntVar(&f.dc, "dc", envInt("FILEDC_DC", defaultDC), "the DC's id (env FILEDC_DC)")
	fs.StringVar(&f.key, "key", envOr("FILEDC_KEY", filepath.Join(defaultData, "public.pem")),
		"the DC's public key, as \"filedc serve\" writes it (env FILEDC_KEY)")
	fs.StringVar(&f.token, "bot-token", "", "bot token ID:SECRET to log in with (default env FILEDC_BOT_TOKEN)")
	fs.StringVar(&f.transport, "transport", "intermediate", "MTProto transport: abridged, intermediate, padded-intermediate or full")
}

func (f *connFlags) target() (dcTarget, string, error) {
	token := f.token
	if token == "" {
		token = os.Getenv("FILEDC_BOT_TOKEN")
	}
	if token == "" {
		return dcTarget{}, "", fmt.Errorf("no bot token: pass --bot-token ID:SECRET or set FILEDC_BOT_TOKEN")
	}
	if _, err := protocol(f.transport); err != nil {
		return dcTarget{}, "", err
	}
	key, err := readPublicKey(f.key)
	if err != nil {
		return dcTarget{}, "", err
	}
	return dcTarget{addr: f.addr, dc: f.dc, key: key, transport: f.transport}, token, nil
}

// readPublicKey reads the PEM public key "filedc serve" publishes.
func readPublicKey(path string) (*rsa.PublicKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the DC's public key: %w", err)
	}
	keys, err := crypto.ParseRSAPublicKeys(raw)
	if err != nil {
		return nil, fmt.Errorf("the DC's public key %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("the DC's public key %s: no PEM RSA public key in it", path)
	}
	return keys[0], nil
}

// client returns a gotd client for the DC; it keeps its session in memory.
func (d dcTarget) client(mws ...telegram.Middleware) (*telegram.Client, error) {
	return d.clientWith(&session.StorageMemory{}, mws...)
}

// clientWith returns a gotd client for the DC that starts from and keeps its
// session in storage.
func (d dcTarget) clientWith(storage session.Storage, mws ...telegram.Middleware) (*telegram.Client, error) {
	host, portText, err := net.SplitHostPort(d.addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %q: %w", d.addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("--addr %q: bad port", d.addr)
	}
	proto, err := protocol(d.transport)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host)
	return telegram.NewClient(1, "filedc", telegram.Options{
		PublicKeys: []telegram.PublicKey{{RSA: d.key}},
		DC:         d.dc,
		DCList: dcs.List{Options: []tg.DCOption{{
			ID: d.dc, IPAddress: host, Port: port, Static: true, Ipv6: ip != nil && ip.To4() == nil,
		}}},
		Resolver:          dcs.Plain(dcs.PlainOptions{Protocol: proto}),
		SessionStorage:    storage,
		NoUpdates:         true,
		Middlewares:       mws,
		CompressThreshold: d.compress,
		AllowCDN:          true, // downloads follow upload.fileCdnRedirect (C1)
	}), nil
}

// asBot connects, logs in with the bot token and runs f.
func (d dcTarget) asBot(ctx context.Context, token string, f func(ctx context.Context, api *tg.Client) error, mws ...telegram.Middleware) error {
	return d.asBotClient(ctx, token, func(ctx context.Context, client *telegram.Client) error {
		return f(ctx, client.API())
	}, mws...)
}

// asBotClient is asBot handing f the whole client (its downloader follows
// CDN redirects).
func (d dcTarget) asBotClient(ctx context.Context, token string, f func(ctx context.Context, client *telegram.Client) error, mws ...telegram.Middleware) error {
	client, err := d.client(mws...)
	if err != nil {
		return err
	}
	return client.Run(ctx, func(ctx context.Context) error {
		if _, err := client.Auth().Bot(ctx, token); err != nil {
			return fmt.Errorf("bot login: %w", err)
		}
		return f(ctx, client)
	})
}

// docRef names a stored document: what upload prints and download takes.
type docRef struct {
	ID, AccessHash, Size int64
	FileReference        []byte
}

// String is the line upload prints: "document ID ACCESS_HASH SIZE FILE_REFERENCE_HEX".
// An empty file reference is written "-".
func (r docRef) String() string {
	ref := hex.EncodeToString(r.FileReference)
	if ref == "" {
		ref = "-"
	}
	return fmt.Sprintf("document %d %d %d %s", r.ID, r.AccessHash, r.Size, ref)
}

// parseDocRef reads download's arguments: either "ID ACCESS_HASH
// [FILE_REFERENCE_HEX]" or the whole line upload printed, "document ID
// ACCESS_HASH SIZE [FILE_REFERENCE_HEX]". Size is -1 when not given.
func parseDocRef(args []string) (docRef, error) {
	r := docRef{Size: -1}
	var id, hash, size, ref string
	switch {
	case len(args) >= 4 && len(args) <= 5 && args[0] == "document":
		id, hash, size = args[1], args[2], args[3]
		if len(args) == 5 {
			ref = args[4]
		}
	case len(args) >= 2 && len(args) <= 3 && args[0] != "document":
		id, hash = args[0], args[1]
		if len(args) == 3 {
			ref = args[2]
		}
	default:
		return r, fmt.Errorf("want ID ACCESS_HASH [FILE_REFERENCE_HEX] or the line upload printed (document ID ACCESS_HASH SIZE FILE_REFERENCE_HEX), got %d arguments", len(args))
	}
	var err error
	if r.ID, err = strconv.ParseInt(id, 10, 64); err != nil {
		return r, fmt.Errorf("document id %q: %w", id, err)
	}
	if r.AccessHash, err = strconv.ParseInt(hash, 10, 64); err != nil {
		return r, fmt.Errorf("access hash %q: %w", hash, err)
	}
	if size != "" {
		if r.Size, err = strconv.ParseInt(size, 10, 64); err != nil || r.Size < 0 {
			return r, fmt.Errorf("size %q: not a byte count", size)
		}
	}
	if ref != "" && ref != "-" {
		if r.FileReference, err = hex.DecodeString(ref); err != nil {
			return r, fmt.Errorf("file reference %q: %w", ref, err)
		}
	}
	return r, nil
}

// mimeType guesses a document's mime type from its file name.
func mimeType(name string) string {
	if t := mime.TypeByExtension(filepath.Ext(name)); t != "" {
		if base, _, err := mime.ParseMediaType(t); err == nil {
			return base
		}
	}
	return "application/octet-stream"
}

// uploadDocument uploads r with gotd's uploader and finalizes it with
// messages.uploadMedia(inputPeerSelf, inputMediaUploadedDocument).
func uploadDocument(ctx context.Context, api *tg.Client, name string, r io.Reader, size int64, threads int, bar *progressBar) (*tg.Document, error) {
	up := uploader.NewUploader(api).WithThreads(threads).WithProgress(bar)
	file, err := up.Upload(ctx, uploader.NewUpload(name, r, size))
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	return bench.Finalize(ctx, api, file, name, mimeType(name))
}

// downloadBuilder prepares a download of a document with gotd's downloader.
func downloadBuilder(api *tg.Client, ref docRef, threads int, verify bool) *downloader.Builder {
	loc := &tg.InputDocumentFileLocation{ID: ref.ID, AccessHash: ref.AccessHash, FileReference: ref.FileReference}
	return downloader.NewDownloader().Download(api, loc).WithThreads(threads).WithVerify(verify)
}

// progressBar draws a transfer's progress on a terminal with mpb: a bar,
// the share done, bytes and the average speed. A nil *progressBar draws
// nothing.
type progressBar struct {
	out  io.Writer
	p    *mpb.Progress
	bar  *mpb.Bar
	done atomic.Int64 // the most an upload's callbacks reported
}

// startProgress starts a progress bar on stderr when stderr is a terminal,
// else returns nil.
func startProgress(label string, total int64) *progressBar {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil
	}
	return newProgressBar(os.Stderr, label, total)
}

// newProgressBar draws on out; total < 0 when unknown.
func newProgressBar(out io.Writer, label string, total int64) *progressBar {
	p := mpb.New(mpb.WithOutput(out), mpb.WithWidth(100), mpb.WithRefreshRate(200*time.Millisecond), mpb.WithAutoRefresh())
	bar := p.AddBar(max(total, 0), mpb.BarWidth(30),
		mpb.PrependDecorators(decor.Name(label+" ")),
		mpb.AppendDecorators(
			decor.Percentage(decor.WCSyncSpace),
			decor.CountersKibiByte("  % .1f / % .1f"),
			decor.AverageSpeed(decor.SizeB1024(0), "  % .1f"),
		))
	return &progressBar{out: out, p: p, bar: bar}
}

// add counts n more bytes done.
func (p *progressBar) add(n int64) {
	if p != nil {
		p.bar.IncrInt64(n)
	}
}

// Chunk implements uploader.Progress (also on a nil bar).
func (p *progressBar) Chunk(_ context.Context, s uploader.ProgressState) error {
	if p == nil {
		return nil
	}
	for { // callbacks of parallel parts may arrive out of order: keep the largest
		old := p.done.Load()
		if s.Uploaded <= old {
			return nil
		}
		if p.done.CompareAndSwap(old, s.Uploaded) {
			p.bar.SetCurrent(s.Uploaded)
			return nil
		}
	}
}

// finish completes the bar after a whole transfer, or leaves it where it
// stopped, and waits until it is drawn.
func (p *progressBar) finish(ok bool) {
	if p == nil {
		return
	}
	if ok {
		p.bar.SetTotal(-1, true) // complete at what was done
	} else {
		p.bar.Abort(false)
	}
	p.p.Wait()
}

// countingWriterAt counts what a download writes into a progress bar.
type countingWriterAt struct {
	w io.WriterAt
	p *progressBar
}

func (c countingWriterAt) WriteAt(b []byte, off int64) (int, error) {
	n, err := c.w.WriteAt(b, off)
	c.p.add(int64(n))
	return n, err
}

// countingWriter counts what a streamed download writes.
type countingWriter struct {
	w io.Writer
	p *progressBar
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.p.add(int64(n))
	return n, err
}

// interruptible returns a context that ends on SIGINT or SIGTERM.
func interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

func uploadCmd() *cobra.Command {
	var (
		conn    connFlags
		threads int
	)
	cmd := &cobra.Command{
		Use:   "upload FILE",
		Short: "Upload a file to a DC as a bot and print the document",
		Long: `Upload FILE to a filedc DC with gotd's client: log in as a bot, save the
parts with the uploader (--threads parallel calls for files over 10 MiB),
finalize them with messages.uploadMedia and print one line on stdout:

  document ID ACCESS_HASH SIZE FILE_REFERENCE_HEX

"filedc download" takes that line as its arguments, e.g.
  filedc download $(filedc upload photo.jpg) -o copy.jpg

A progress bar goes to stderr when stderr is a terminal.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			dc, token, err := conn.target()
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			if !st.Mode().IsRegular() {
				return fmt.Errorf("%s: not a regular file", args[0])
			}
			name := filepath.Base(args[0])
			var doc *tg.Document
			err = dc.asBot(ctx, token, func(ctx context.Context, api *tg.Client) error {
				bar := startProgress("upload "+name, st.Size())
				d, err := uploadDocument(ctx, api, name, f, st.Size(), threads, bar)
				bar.finish(err == nil)
				doc = d
				return err
			})
			if err != nil {
				return err
			}
			ref := docRef{ID: doc.ID, AccessHash: doc.AccessHash, Size: doc.Size, FileReference: doc.FileReference}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), ref)
			return err
		},
	}
	conn.register(cmd)
	cmd.Flags().IntVar(&threads, "threads", defaultThreads, "parallel upload.saveBigFilePart calls (files over 10 MiB)")
	return cmd
}

func downloadCmd() *cobra.Command {
	var (
		conn     connFlags
		threads  int
		out      string
		noVerify bool
	)
	cmd := &cobra.Command{
		Use:   "download ID ACCESS_HASH [FILE_REFERENCE_HEX] -o OUT",
		Short: "Download a document from a DC as a bot",
		Long: `Download a document with gotd's downloader into OUT ("-" for stdout), with
--threads parallel upload.getFile calls. Every 128 KiB range is checked
against upload.getFileHashes unless --no-verify is given. A file the DC sends
through a CDN DC (upload.fileCdnRedirect) is fetched from the CDN, decrypted
and checked against the master's hashes.

The arguments are the document's ID, ACCESS_HASH and optional
FILE_REFERENCE_HEX, or the whole line "filedc upload" printed:
  filedc download $(filedc upload photo.jpg) -o copy.jpg

A progress bar goes to stderr when stderr is a terminal.`,
		Args: func(cmd *cobra.Command, args []string) error {
			_, err := parseDocRef(args)
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			ref, err := parseDocRef(args)
			if err != nil {
				return err
			}
			if out == "" {
				return fmt.Errorf("-o OUT is required (\"-\" writes to stdout)")
			}
			dc, token, err := conn.target()
			if err != nil {
				return err
			}
			return dc.asBotClient(ctx, token, func(ctx context.Context, client *telegram.Client) error {
				loc := &tg.InputDocumentFileLocation{ID: ref.ID, AccessHash: ref.AccessHash, FileReference: ref.FileReference}
				b := client.Download(loc).WithThreads(threads).WithVerify(!noVerify)
				return downloadTo(ctx, b, ref, out, cmd.OutOrStdout())
			})
		},
	}
	conn.register(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (\"-\": stdout)")
	cmd.Flags().IntVar(&threads, "threads", defaultThreads, "parallel upload.getFile calls")
	cmd.Flags().BoolVar(&noVerify, "no-verify", false, "do not check the data against upload.getFileHashes")
	return cmd
}

// downloadTo downloads a document into the file out, or to stdout for "-".
// A failed download removes what it wrote.
func downloadTo(ctx context.Context, b *downloader.Builder, ref docRef, out string, stdout io.Writer) error {
	if out == "-" {
		bar := startProgress("download", ref.Size)
		_, err := b.Stream(ctx, countingWriter{w: stdout, p: bar}) // a pipe cannot take parallel writes
		bar.finish(err == nil)
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	bar := startProgress("download "+filepath.Base(out), ref.Size)
	_, err = b.Parallel(ctx, countingWriterAt{w: f, p: bar})
	bar.finish(err == nil)
	if err == nil && ref.Size >= 0 {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil && st.Size() != ref.Size {
			err = fmt.Errorf("downloaded %d bytes, the document has %d", st.Size(), ref.Size)
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("download: %w", err)
	}
	return nil
}
