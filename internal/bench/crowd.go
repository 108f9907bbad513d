package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
)

// PartSize is what a crowd's active clients save and fetch per call.
const PartSize = 512 << 10

// Crowd is many clients on one DC at once (filedc bench --clients). Each
// client has its own connection and auth key and logs in as the bot. The
// active ones loop until the traffic time is over: upload a file of
// FileParts parts (upload.saveBigFilePart), finalize it
// (messages.uploadMedia) and download it (upload.getFile), Streams calls at
// a time as gotd's uploader and downloader do. The others are idle: logged
// in, pinging.
type Crowd struct {
	Clients   int
	Active    int           // clients that transfer; at most Clients
	Traffic   time.Duration // how long the active clients transfer
	PingEvery time.Duration // how often an idle client pings
	FileParts int           // parts of each file an active client uploads
	Streams   int           // calls an active client runs at once
	Dialers   int           // clients connecting and logging in at once
	Token     string        // the bot token every client logs in with
	// NewClient returns a client with a session of its own, so with an auth
	// key of its own. It runs Dialers at a time, as the clients connect.
	NewClient func(ctx context.Context) (*telegram.Client, error)
	// Ready runs once every client is logged in, before the traffic; an
	// error ends the run.
	Ready func(ctx context.Context) error
	// TrafficDone, when set, runs once the traffic's last call has ended,
	// before the clients disconnect (to read CPU counters, say); an error
	// ends the run.
	TrafficDone func(ctx context.Context) error
}

// CrowdResult is what a crowd measured.
type CrowdResult struct {
	LoggedIn  time.Duration // from the start until every client was logged in
	Traffic   time.Duration // from the start of the traffic until the last call ended
	Bytes     int64         // saved and downloaded
	Save, Get []time.Duration
	Files     int // files finalized
	Pings     int
}

// errCrowdDone ends the clients once the crowd has measured what it came for.
var errCrowdDone = errors.New("crowd done")

// Run connects the clients, runs the traffic and disconnects them all.
func (c Crowd) Run(ctx context.Context) (CrowdResult, error) {
	if c.Clients < 1 || c.Active < 1 || c.Active > c.Clients || c.FileParts < 1 || c.Dialers < 1 || c.PingEvery <= 0 {
		return CrowdResult{}, fmt.Errorf("crowd: %d clients, %d active, %d parts, %d dialers, ping every %v", c.Clients, c.Active, c.FileParts, c.Dialers, c.PingEvery)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(errCrowdDone)
	var (
		rec      recorder
		loggedIn sync.WaitGroup
		clients  sync.WaitGroup
		active   sync.WaitGroup
		start    = make(chan struct{}) // closed when the traffic begins
		stop     = make(chan struct{}) // closed when it is over
		gate     = make(chan struct{}, c.Dialers)
	)
	t0 := time.Now()
	loggedIn.Add(c.Clients)
	active.Add(c.Active)
	for i := range c.Clients {
		clients.Go(func() {
			var in, out, ended sync.Once
			signalIn := func() { in.Do(loggedIn.Done) }
			release := func() { out.Do(func() { <-gate }) }
			isActive := i < c.Active
			endActive := func() {
				if isActive {
					ended.Do(active.Done)
				}
			}
			defer signalIn()
			defer endActive()
			select {
			case gate <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer release()
			client, err := c.NewClient(ctx)
			if err != nil {
				cancel(fmt.Errorf("client %d: %w", i, err))
				return
			}
			err = client.Run(ctx, func(ctx context.Context) error {
				if _, err := client.Auth().Bot(ctx, c.Token); err != nil {
					return fmt.Errorf("bot login: %w", err)
				}
				release()
				signalIn()
				select {
				case <-start:
				case <-ctx.Done():
					return nil
				}
				if isActive {
					err := c.transfer(ctx, client.API(), uint64(i), stop, &rec)
					endActive()
					if err != nil {
						return err
					}
				}
				return c.idle(ctx, client, &rec)
			})
			if err != nil && ctx.Err() == nil {
				cancel(fmt.Errorf("client %d: %w", i, err))
			}
		})
	}
	all := make(chan struct{})
	go func() { loggedIn.Wait(); close(all) }()
	select {
	case <-all:
	case <-ctx.Done():
	}
	var res CrowdResult
	err := context.Cause(ctx)
	if err == nil {
		res.LoggedIn = time.Since(t0)
		if c.Ready != nil {
			err = c.Ready(ctx)
		}
	}
	if err == nil {
		close(start)
		t1 := time.Now()
		select {
		case <-time.After(c.Traffic):
		case <-ctx.Done():
		}
		close(stop)
		active.Wait()
		res.Traffic = time.Since(t1)
		if err = context.Cause(ctx); err == nil && c.TrafficDone != nil {
			err = c.TrafficDone(ctx)
		}
	}
	cancel(errCrowdDone)
	clients.Wait()
	if err != nil && !errors.Is(err, errCrowdDone) {
		return res, err
	}
	res.Save, res.Get = rec.lat.Take()
	res.Bytes, res.Files, res.Pings = rec.bytes.Load(), int(rec.files.Load()), int(rec.pings.Load())
	return res, nil
}

// transfer uploads, finalizes and downloads files until stop is closed,
// Streams calls at a time. Every part is unique, so dedup never spares the
// server a byte.
func (c Crowd) transfer(ctx context.Context, api *tg.Client, client uint64, stop <-chan struct{}, rec *recorder) error {
	streams := max(1, c.Streams)
	bufs := make([][]byte, streams)
	for i := range bufs {
		bufs[i] = make([]byte, PartSize)
		rand.NewChaCha8([32]byte{byte(client), byte(client >> 8), byte(client >> 16), byte(i)}).Read(bufs[i])
	}
	size := int64(c.FileParts) * PartSize
	for {
		fileID := rand.Int64()
		if err := c.parts(ctx, streams, stop, func(stream, p int) error {
			part := bufs[stream]
			binary.LittleEndian.PutUint64(part[0:], uint64(fileID))
			binary.LittleEndian.PutUint64(part[8:], uint64(p))
			t := time.Now()
			if _, err := api.UploadSaveBigFilePart(ctx, &tg.UploadSaveBigFilePartRequest{
				FileID: fileID, FilePart: p, FileTotalParts: c.FileParts, Bytes: part,
			}); err != nil {
				return fmt.Errorf("upload.saveBigFilePart: %w", err)
			}
			rec.saved(time.Since(t))
			return nil
		}); err != nil || stopped(stop) {
			return err
		}
		doc, err := Finalize(ctx, api, &tg.InputFileBig{ID: fileID, Parts: c.FileParts, Name: "crowd.bin"}, "crowd.bin", "application/octet-stream")
		if err != nil {
			return err
		}
		if doc.Size != size {
			return fmt.Errorf("messages.uploadMedia stored %d bytes, want %d", doc.Size, size)
		}
		rec.finalized()
		loc := documentLocation(doc)
		if err := c.parts(ctx, streams, stop, func(_, p int) error {
			t := time.Now()
			got, err := api.UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: loc, Offset: int64(p) * PartSize, Limit: PartSize, Precise: true})
			if err != nil {
				return fmt.Errorf("upload.getFile: %w", err)
			}
			f, ok := got.(*tg.UploadFile)
			if !ok || len(f.Bytes) != PartSize || binary.LittleEndian.Uint64(f.Bytes[0:]) != uint64(fileID) || binary.LittleEndian.Uint64(f.Bytes[8:]) != uint64(p) {
				return fmt.Errorf("upload.getFile of part %d answered other bytes", p)
			}
			rec.got(time.Since(t))
			return nil
		}); err != nil || stopped(stop) {
			return err
		}
	}
}

// parts runs fn for parts 0 to FileParts-1, streams at a time, each stream
// taking the next part when its call ends, until one fails or stop closes.
func (c Crowd) parts(ctx context.Context, streams int, stop <-chan struct{}, fn func(stream, part int) error) error {
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		failed atomic.Pointer[error]
	)
	for s := range streams {
		wg.Go(func() {
			for failed.Load() == nil && !stopped(stop) && ctx.Err() == nil {
				p := int(next.Add(1) - 1)
				if p >= c.FileParts {
					return
				}
				if err := fn(s, p); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return *err
	}
	return nil
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// idle pings every PingEvery, first at a random point of the interval, so
// that the crowd's pings spread out, until the crowd ends.
func (c Crowd) idle(ctx context.Context, client *telegram.Client, rec *recorder) error {
	wait := time.Duration(rand.Int64N(int64(c.PingEvery)))
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		if err := client.Ping(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("ping: %w", err)
		}
		rec.pings.Add(1)
		wait = c.PingEvery
	}
}

// recorder collects what the clients did.
type recorder struct {
	lat                 Latencies
	bytes, files, pings atomic.Int64
}

func (r *recorder) saved(d time.Duration) {
	r.lat.record(true, d)
	r.bytes.Add(PartSize)
}

func (r *recorder) got(d time.Duration) {
	r.lat.record(false, d)
	r.bytes.Add(PartSize)
}

func (r *recorder) finalized() { r.files.Add(1) }
