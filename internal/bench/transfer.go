package bench

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"
)

// Transfer is the load generator of filedc bench's sizes: gotd's client at
// its own pace, as a bot would use it. For one size it uploads random bytes
// with gotd's uploader, finalizes them with messages.uploadMedia, downloads
// them with gotd's downloader (into memory, without hash checks) and
// compares SHA-256, reading the CPU of the client (this process) and of the
// servers around each direction.
type Transfer struct {
	// Spread carries the calls: one client per server process, logged in.
	Spread *Spread
	// Servers are the processes of the DC, in the order of Spread's clients.
	Servers []*Server
	// Latencies is the middleware that times the clients' calls.
	Latencies *Latencies
	Streams   int       // parallel calls each way
	Profiles  *Profiles // nil: no profiles
	// Progress, when set, shows each direction to a person watching.
	Progress func(label string, total int64) Progress
}

// Progress shows a transfer as it goes.
type Progress interface {
	uploader.Progress // an upload's parts
	Add(n int64)      // bytes a download wrote
	Finish(ok bool)   // the transfer ended, whole or not
}

// Result is what a transfer of one size measured.
type Result struct {
	Size      int64
	Up, Down  time.Duration // all parts saved; all bytes downloaded
	Finalize  time.Duration // messages.uploadMedia
	Save, Get []time.Duration
	// CPU time (user+sys) of the client and of the servers (summed) while
	// saving the parts and while downloading; -1 where it is unknown.
	UpCPU, DownCPU [2]time.Duration
	// PeakRSS is the servers' peak RSS in bytes, summed; -1 when unknown.
	// It counts from the transfer's start if PeakRSSSinceReset, else from
	// the servers' start (no clear_refs).
	PeakRSS           int64
	PeakRSSSinceReset bool
	Procs             []ProcFigures
	// The servers' CPU by stage, with Profiles; nil without.
	UpStages, DownStages *Split
	// Round trips to the stores per part saved, finalization, getFile and
	// sendMedia, in that order; nil on the embedded stores.
	Trips []TripsPer
	// The document the bytes were stored as, and their SHA-256.
	Document *tg.Document
	SHA256   [32]byte
}

// ProcFigures is what one server process did during a transfer.
type ProcFigures struct {
	Addr           string
	Saves, Gets    int64         // part and chunk calls it answered
	UpCPU, DownCPU time.Duration // -1 where /proc has none
	PeakRSS        int64         // bytes, -1 when unknown
}

// Ratios are the two directions' rates as fractions of the floor of both
// ends: what share of the machine's crypto rate the pair reached.
func (r Result) Ratios(f Floors) (up, down float64) {
	return MiBps(r.Size, r.Up) / f.BothEnds, MiBps(r.Size, r.Down) / f.BothEnds
}

// Run uploads and downloads size random bytes. name stands for the size in
// the file's name, the progress labels and the profiles' files ("5MiB").
func (t Transfer) Run(ctx context.Context, size int64, name string) (Result, error) {
	r := Result{Size: size}
	api := tg.NewClient(t.Spread)
	data := make([]byte, size)
	var seed [32]byte
	crand.Read(seed[:])
	rand.NewChaCha8(seed).Read(data)
	r.SHA256 = sha256.Sum256(data)

	t.Latencies.Reset()
	r.PeakRSSSinceReset = true
	for _, srv := range t.Servers {
		r.PeakRSSSinceReset = srv.ResetPeakRSS() && r.PeakRSSSinceReset
	}
	calls0 := t.Spread.Counts()
	trips, err := startTrips(ctx, t.Servers)
	if err != nil {
		return r, err
	}

	doc, upCPU, err := t.upload(ctx, api, &r, trips, data, name)
	if err != nil {
		return r, err
	}
	out, downCPU, err := t.download(ctx, api, &r, trips, doc, name)
	if err != nil {
		return r, err
	}
	if err := t.Profiles.Allocs(ctx, name); err != nil {
		return r, err
	}
	if sha256.Sum256(out) != r.SHA256 {
		return r, errors.New("the downloaded bytes differ from the uploaded ones (SHA-256)")
	}
	r.Save, r.Get = t.Latencies.Take()
	r.UpCPU, r.DownCPU = [2]time.Duration{upCPU[0], SumKnown(upCPU[1:])}, [2]time.Duration{downCPU[0], SumKnown(downCPU[1:])}
	calls := t.Spread.Counts()
	var rss []int64
	for i, srv := range t.Servers {
		p := ProcFigures{Addr: srv.Addr, UpCPU: upCPU[1+i], DownCPU: downCPU[1+i], PeakRSS: srv.PeakRSS(),
			Saves: calls[i].Saves - calls0[i].Saves, Gets: calls[i].Gets - calls0[i].Gets}
		r.Procs = append(r.Procs, p)
		rss = append(rss, p.PeakRSS>>10)
	}
	r.PeakRSS = SumKnown(rss) << 10
	return r, nil
}

// upload saves data with gotd's uploader and finalizes it; it returns the
// document and the CPU of the client and of each server while saving.
func (t Transfer) upload(ctx context.Context, api *tg.Client, r *Result, trips *tripMeter, data []byte, name string) (*tg.Document, []time.Duration, error) {
	fileName := "bench-" + name + ".bin"
	bar := t.progress("upload "+name, r.Size)
	up := uploader.NewUploader(api).WithThreads(t.Streams).WithProgress(bar)
	if err := t.Profiles.Start(ctx); err != nil {
		return nil, nil, err
	}
	cpu0 := CPUTimes(t.Servers)
	start := time.Now()
	file, err := up.Upload(ctx, uploader.NewUpload(fileName, bytes.NewReader(data), r.Size))
	r.Up = time.Since(start)
	cpu := CPUSince(cpu0, CPUTimes(t.Servers))
	bar.Finish(err == nil)
	if err != nil {
		return nil, nil, fmt.Errorf("upload: %w", err)
	}
	if r.UpStages, err = t.Profiles.Stop(ctx, name+"-upload"); err != nil {
		return nil, nil, err
	}
	saves, _ := t.Latencies.Counts()
	if err := trips.add(ctx, r, "part saved", saves); err != nil {
		return nil, nil, err
	}
	start = time.Now()
	doc, err := Finalize(ctx, api, file, fileName, "application/octet-stream")
	r.Finalize = time.Since(start)
	if err != nil {
		return nil, nil, err
	}
	if err := trips.add(ctx, r, "finalization (messages.uploadMedia)", 1); err != nil {
		return nil, nil, err
	}
	if doc.Size != r.Size {
		return nil, nil, fmt.Errorf("stored %d bytes, uploaded %d", doc.Size, r.Size)
	}
	r.Document = doc
	return doc, cpu, nil
}

// download reads doc back with gotd's downloader, then, on the scale-out
// stores, sends it in a message to count sendMedia's round trips; it
// returns the bytes and the CPU of the client and of each server while
// downloading.
func (t Transfer) download(ctx context.Context, api *tg.Client, r *Result, trips *tripMeter, doc *tg.Document, name string) ([]byte, []time.Duration, error) {
	out := make([]byte, r.Size)
	bar := t.progress("download "+name, r.Size)
	if err := t.Profiles.Start(ctx); err != nil {
		return nil, nil, err
	}
	cpu0 := CPUTimes(t.Servers)
	start := time.Now()
	_, err := downloader.NewDownloader().Download(api, documentLocation(doc)).WithThreads(t.Streams).WithVerify(false).
		Parallel(ctx, progressWriter{w: sliceWriterAt(out), p: bar})
	r.Down = time.Since(start)
	cpu := CPUSince(cpu0, CPUTimes(t.Servers))
	bar.Finish(err == nil)
	if err != nil {
		return nil, nil, fmt.Errorf("download: %w", err)
	}
	if r.DownStages, err = t.Profiles.Stop(ctx, name+"-download"); err != nil {
		return nil, nil, err
	}
	if trips == nil {
		return out, cpu, nil
	}
	_, gets := t.Latencies.Counts()
	if err := trips.add(ctx, r, "getFile", gets); err != nil {
		return nil, nil, err
	}
	_, err = api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{}, RandomID: rand.Int64(),
		Media: &tg.InputMediaDocument{ID: &tg.InputDocument{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}}})
	if err != nil {
		return nil, nil, fmt.Errorf("messages.sendMedia: %w", err)
	}
	return out, cpu, trips.add(ctx, r, "sendMedia", 1)
}

// tripMeter counts the round trips to the scale-out stores between the
// steps of a transfer; nil on the embedded stores, where it counts nothing.
type tripMeter struct {
	servers []*Server
	last    TripCounts
}

func startTrips(ctx context.Context, servers []*Server) (*tripMeter, error) {
	if len(servers[0].StoreArgs) == 0 {
		return nil, nil
	}
	last, err := ScrapeTrips(ctx, servers)
	if err != nil {
		return nil, err
	}
	return &tripMeter{servers: servers, last: last}, nil
}

// add adds to r what the stores did since the last step, per one of n
// operations.
func (m *tripMeter) add(ctx context.Context, r *Result, what string, n int) error {
	if m == nil {
		return nil
	}
	now, err := ScrapeTrips(ctx, m.servers)
	if err != nil {
		return err
	}
	r.Trips = append(r.Trips, now.Since(m.last, what, n))
	m.last = now
	return nil
}

// progress returns the progress of one direction, one that shows nothing
// without t.Progress.
func (t Transfer) progress(label string, total int64) Progress {
	if t.Progress == nil {
		return noProgress{}
	}
	return t.Progress(label, total)
}

// CDNFigures is one download through a CDN DC.
type CDNFigures struct {
	Label string        // cold or warm
	Took  time.Duration // all bytes received
	// CPU time (user+sys) of the client, the master and the CDN; -1 where
	// it is unknown.
	CPU [3]time.Duration
}

// ViaCDN downloads a transfer's document twice more with gotd's downloader
// following the master's (the first server's) redirect,
// upload.fileCdnRedirect: cold, each block pushed on
// upload.reuploadCdnFile, and warm, from the CDN's cache. client is a
// client of the master that allows CDNs; name is Run's.
func (t Transfer) ViaCDN(ctx context.Context, client *telegram.Client, cdn *Server, r Result, name string) ([]CDNFigures, error) {
	procs := []*Server{t.Servers[0], cdn}
	var out []CDNFigures
	for _, label := range []string{"cold", "warm"} {
		buf := make([]byte, r.Size)
		bar := t.progress("download via CDN ("+label+") "+name, r.Size)
		cpu0 := CPUTimes(procs)
		start := time.Now()
		_, err := client.Download(documentLocation(r.Document)).WithThreads(t.Streams).Parallel(ctx, progressWriter{w: sliceWriterAt(buf), p: bar})
		f := CDNFigures{Label: label, Took: time.Since(start)}
		copy(f.CPU[:], CPUSince(cpu0, CPUTimes(procs)))
		bar.Finish(err == nil)
		if err != nil {
			return out, fmt.Errorf("download through the CDN (%s): %w", label, err)
		}
		if sha256.Sum256(buf) != r.SHA256 {
			return out, errors.New("the bytes downloaded through the CDN differ from the uploaded ones (SHA-256)")
		}
		out = append(out, f)
	}
	return out, nil
}

// Finalize turns an uploaded file into a document named name, as a bot
// sends a file: messages.uploadMedia(inputPeerSelf,
// inputMediaUploadedDocument), forced to be a file.
func Finalize(ctx context.Context, api *tg.Client, file tg.InputFileClass, name, mimeType string) (*tg.Document, error) {
	media, err := api.MessagesUploadMedia(ctx, &tg.MessagesUploadMediaRequest{
		Peer: &tg.InputPeerSelf{},
		Media: &tg.InputMediaUploadedDocument{
			File:       file,
			MimeType:   mimeType,
			Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: name}},
			ForceFile:  true,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("messages.uploadMedia: %w", err)
	}
	md, ok := media.(*tg.MessageMediaDocument)
	if !ok {
		return nil, fmt.Errorf("messages.uploadMedia answered %T, want messageMediaDocument", media)
	}
	doc, ok := md.Document.(*tg.Document)
	if !ok {
		return nil, fmt.Errorf("messages.uploadMedia answered a %T", md.Document)
	}
	return doc, nil
}

func documentLocation(doc *tg.Document) *tg.InputDocumentFileLocation {
	return &tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}
}

// sliceWriterAt writes a parallel download into memory. Parallel writes go
// to distinct ranges, so no lock is needed.
type sliceWriterAt []byte

func (s sliceWriterAt) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(s)) {
		return 0, fmt.Errorf("write of %d bytes at %d past the file's %d", len(p), off, len(s))
	}
	return copy(s[off:], p), nil
}

// progressWriter counts what a download writes into its progress.
type progressWriter struct {
	w io.WriterAt
	p Progress
}

func (c progressWriter) WriteAt(b []byte, off int64) (int, error) {
	n, err := c.w.WriteAt(b, off)
	c.p.Add(int64(n))
	return n, err
}

// noProgress shows nothing.
type noProgress struct{}

func (noProgress) Chunk(context.Context, uploader.ProgressState) error { return nil }
func (noProgress) Add(int64)                                           {}
func (noProgress) Finish(bool)                                         {}
