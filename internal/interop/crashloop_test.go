package interop

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/filedc/filedc/internal/files"
)

// The crash loop (rule S7f): one data directory, N starts of the real
// `filedc serve`, each killed with SIGKILL at a random moment while several
// gotd clients upload, finalize, re-save and download. Every file whose
// finalization was answered must then download intact, every start must have
// served calls, and the temporary space must be back within its budget.
//
// FILEDC_CRASHLOOP=N sets the iterations of each test (default 6 embedded,
// 3 distributed; `make crashloop` runs 200); FILEDC_CRASHLOOP_SEED replays
// the choices and kill delays of a logged run.

const thirdBot = "7000003:third-secret"

var crashBots = []string{botToken, secondBot, thirdBot}

const (
	crashWorkers = 4
	crashBudget  = 48 << 20 // --temp-budget: what kills leave behind can reach it
)

// crashFile is a file whose finalization a client got the answer to.
type crashFile struct {
	bot  string
	iter int
	loc  *tg.InputDocumentFileLocation
	size int64
	sum  [32]byte
}

// crashJob is one upload, carried to the next start when a kill interrupts it.
type crashJob struct {
	fileID   int64
	big      bool
	viaSend  bool // finalized with messages.sendMedia, else messages.uploadMedia
	data     []byte
	partSize int
	md5      string // md5_checksum sent with a small file, or empty
	acked    map[int]bool
	// finalizing is set once a finalization was sent: parts may then be
	// gone with a consumed upload whose answer the kill took.
	finalizing bool
	resumed    bool
	// holder is the worker ("iteration/worker") busy with the job, empty
	// while it waits for one: two workers of one bot never share a job.
	holder string
}

// keepDir is a directory of the test, under FILEDC_CRASHLOOP_KEEP when set
// so that the data and server logs of a failed run can be looked at after.
func keepDir(t *testing.T, name string) string {
	if k := os.Getenv("FILEDC_CRASHLOOP_KEEP"); k != "" {
		d := filepath.Join(k, t.Name(), name)
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func (j *crashJob) parts() int { return (len(j.data) + j.partSize - 1) / j.partSize }

func (j *crashJob) part(i int) []byte {
	return j.data[i*j.partSize : min(len(j.data), (i+1)*j.partSize)]
}

// crashFigures are what the loop counts, logged at the end.
type crashFigures struct {
	iterations, starts, kills, earlyKills  atomic.Int64
	finalized, midDownloads, resumed       atomic.Int64
	floodWaits, missingResaved, corruptMid atomic.Int64
	partsLostByRestart                     atomic.Int64
	finalizing, killsInFinalize            atomic.Int64 // finalizations in flight; kills that cut one
	maxTempLive                            atomic.Int64 // temp_bytes polled while the workers run
	maxTempBytes, maxTempDisk              atomic.Int64
}

func storeMax(a *atomic.Int64, v int64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

type crashLoop struct {
	t        *testing.T
	data     string
	logs     string
	flags    []string // backend flags, the same for every start
	embedded bool
	maxDelay time.Duration
	fig      crashFigures

	// sessions keep each worker's auth key from one start to the next: a
	// key the server lost to a kill is made again (gotd does on -404).
	sessions [crashWorkers]session.StorageMemory

	mu      sync.Mutex
	files   []crashFile
	pending map[string][]*crashJob // by bot token
}

// crashProc is one start of the server.
type crashProc struct {
	srv     *dc
	cmd     *exec.Cmd
	health  string
	log     string
	exited  chan struct{}
	killed  atomic.Bool
	started time.Time
}

func crashIterations(t *testing.T, def int) int {
	if v := os.Getenv("FILEDC_CRASHLOOP"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("FILEDC_CRASHLOOP=%q: want a positive number", v)
		}
		return n
	}
	return def
}

func crashSeed(t *testing.T) uint64 {
	if v := os.Getenv("FILEDC_CRASHLOOP_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("FILEDC_CRASHLOOP_SEED=%q: %v", v, err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// TestS7f_CrashLoopEmbedded runs the crash loop on the embedded stores
// (local disk and bbolt).
func TestS7f_CrashLoopEmbedded(t *testing.T) {
	runCrashLoop(t, crashIterations(t, 6), 2500*time.Millisecond)
}

// TestS7f_CrashLoopDistributed runs the crash loop on PostgreSQL, Redis and
// S3, as the scale-out tests do.
func TestS7f_CrashLoopDistributed(t *testing.T) {
	useDistributed(t)
	runCrashLoop(t, crashIterations(t, 3), 3*time.Second)
}

func runCrashLoop(t *testing.T, iterations int, maxDelay time.Duration) {
	seed := crashSeed(t)
	t.Logf("crash loop: %d iterations, seed %d (FILEDC_CRASHLOOP_SEED=%d replays it)", iterations, seed, seed)
	filedcBinary(t)
	l := &crashLoop{t: t, data: keepDir(t, "data"), logs: keepDir(t, "logs"), maxDelay: maxDelay, pending: map[string][]*crashJob{}}
	l.flags = backendFlags(t, l.data) // one namespace for every start
	l.embedded = !distributed
	rng := rand.New(rand.NewPCG(seed, 0x57f))
	began := time.Now()
	for i := range iterations {
		if !l.iteration(i, rng) {
			break
		}
	}
	t.Logf("loop: %v", time.Since(began).Round(time.Millisecond))
	l.verify()
}

// hashStatesLoaded counts, in the logs of every start, the uploads a start
// went on from the kept state of their hashes.
func (l *crashLoop) hashStatesLoaded() int {
	logs, _ := filepath.Glob(filepath.Join(l.logs, "*.log"))
	n := 0
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err == nil {
			n += strings.Count(string(b), files.HashStateLoadedMessage)
		}
	}
	return n
}

// serveArgs are the arguments of every start: a sweep every second, so that
// one runs within each start.
func (l *crashLoop) serveArgs() []string {
	args := []string{"serve", "--data", l.data, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--dc", "2",
		"--temp-budget", strconv.Itoa(crashBudget), "--temp-min-ttl", "2s", "--temp-sweep-every", "1s",
		// A state of an upload's hashes every 256 KiB, so that restarts go
		// on from them (F5) and the files verified say they were right.
		"--hash-state-every", strconv.Itoa(256 << 10)}
	for _, b := range crashBots {
		args = append(args, "--bot-token", b)
	}
	return append(args, l.flags...)
}

// spawn starts `filedc serve` on the loop's data directory, its log to a
// file of its own; the process is killed when the test ends at the latest.
func (l *crashLoop) spawn(name string) (*crashProc, io.Reader, error) {
	p := &crashProc{log: filepath.Join(l.logs, name+".log"), exited: make(chan struct{}), started: time.Now()}
	logf, err := os.Create(p.log)
	if err != nil {
		return nil, nil, err
	}
	p.cmd = exec.Command(filedcBinary(l.t), l.serveArgs()...)
	p.cmd.Stderr = logf
	stdout, err := p.cmd.StdoutPipe()
	if err == nil {
		err = p.cmd.Start()
	}
	if err != nil {
		logf.Close()
		return nil, nil, err
	}
	l.fig.starts.Add(1)
	go func() { p.cmd.Wait(); logf.Close(); close(p.exited) }()
	l.t.Cleanup(func() { p.kill() })
	return p, stdout, nil
}

// start runs `filedc serve` on the loop's data directory and waits for its
// start line.
func (l *crashLoop) start(name string) (*crashProc, error) {
	p, stdout, err := l.spawn(name)
	if err != nil {
		return nil, err
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(2 * time.Minute):
		p.kill()
		return p, fmt.Errorf("%s: no start line in 2 minutes", name)
	}
	// "filedc: listening on ADDR, DC 2, ..., health http://HOST:PORT/healthz"
	fields := strings.Fields(line)
	if len(fields) < 4 || fields[1] != "listening" {
		p.kill()
		return p, fmt.Errorf("%s: start line %q", name, line)
	}
	addr, err := net.ResolveTCPAddr("tcp", strings.TrimSuffix(fields[3], ","))
	if err != nil {
		p.kill()
		return p, err
	}
	p.health = fields[len(fields)-1]
	p.srv = &dc{addr: addr, key: readPublicKey(l.t, filepath.Join(l.data, "public.pem")), data: l.data, pid: p.cmd.Process.Pid}
	return p, nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *crashProc) kill() {
	p.killed.Store(true)
	p.cmd.Process.Kill()
	<-p.exited
}

// logTail is the end of the process's log, for failure messages.
func (p *crashProc) logTail() string {
	b, _ := os.ReadFile(p.log)
	return tail(string(b), 3000)
}

// tempBytes is the engine's count of temporary bytes, from /healthz.
func (p *crashProc) tempBytes() (int64, error) {
	c := http.Client{Timeout: 10 * time.Second}
	res, err := c.Get(p.health)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var h struct {
		TempBytes int64 `json:"temp_bytes"`
	}
	err = json.NewDecoder(res.Body).Decode(&h)
	return h.TempBytes, err
}

// tempDisk is what the temporary parts hold on disk (embedded stores only).
func (l *crashLoop) tempDisk() int64 {
	if !l.embedded {
		return 0
	}
	return dirUsage(l.t, filepath.Join(l.data, "tmp"))
}

// iteration starts the server (sometimes after a start killed within its
// first moments, recovery included), runs the workers and kills the server
// at a random moment. It reports whether the loop can go on.
func (l *crashLoop) iteration(i int, rng *rand.Rand) bool {
	t := l.t
	seed := rng.Uint64()
	delay := time.Duration(rng.Int64N(int64(l.maxDelay)))
	var early time.Duration = -1
	if rng.IntN(6) == 0 {
		early = time.Duration(rng.Int64N(int64(400 * time.Millisecond)))
	}
	t.Logf("iteration %d: worker seed %d, kill after %v, early kill %v", i, seed, delay, early)
	l.fig.iterations.Add(1)
	if early >= 0 {
		// Killed at any point of its start: only the next start is judged.
		p, _, err := l.spawn(fmt.Sprintf("%03d-early", i))
		if err != nil {
			t.Errorf("iteration %d: early start: %v", i, err)
			return false
		}
		time.Sleep(early)
		select {
		case <-p.exited:
			if !p.killed.Load() {
				t.Errorf("iteration %d: the server exited by itself during its start: %v\n%s", i, p.cmd.ProcessState, p.logTail())
				return false
			}
		default:
			p.kill()
			l.fig.earlyKills.Add(1)
		}
	}
	p, err := l.start(fmt.Sprintf("%03d", i))
	if err != nil {
		msg := ""
		if p != nil {
			msg = p.logTail()
		}
		t.Errorf("iteration %d: start failed: %v\n%s", i, err, msg)
		return false
	}
	if tb, err := p.tempBytes(); err != nil {
		t.Errorf("iteration %d: /healthz: %v", i, err)
	} else {
		storeMax(&l.fig.maxTempBytes, tb)
	}
	storeMax(&l.fig.maxTempDisk, l.tempDisk())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan struct{}, crashWorkers)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		// Eviction only happens near the budget: the peak tells whether a
		// part lost across a restart may have been evicted.
		defer wg.Done()
		for ctx.Err() == nil {
			if tb, err := p.tempBytes(); err == nil {
				storeMax(&l.fig.maxTempLive, tb)
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	for w := range crashWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.worker(ctx, p, i, w, seed, served)
		}()
	}
	// The start is judged by its first login (minutes allowed: key
	// exchanges of a loaded CI machine under -race are slow); the kill delay
	// counts from the last, so that it lands in the work more often than in
	// key exchanges (the early kills cover starts).
	select {
	case <-served:
	case <-time.After(3 * time.Minute):
		t.Errorf("iteration %d: no client logged in within 3 minutes of the start\n%s", i, p.logTail())
		p.kill()
		cancel()
		wg.Wait()
		return false
	}
	others := time.After(20 * time.Second)
wait:
	for range crashWorkers - 1 {
		select {
		case <-served:
		case <-others:
			break wait
		}
	}
	time.Sleep(delay)
	select {
	case <-p.exited:
		t.Errorf("iteration %d: the server exited before the kill: %v\n%s", i, p.cmd.ProcessState, p.logTail())
		cancel()
		wg.Wait()
		return false
	default:
	}
	if l.fig.finalizing.Load() > 0 {
		l.fig.killsInFinalize.Add(1)
	}
	p.kill()
	l.fig.kills.Add(1)
	cancel()
	wg.Wait()
	t.Logf("iteration %d: %v from the start to the workers' end", i, time.Since(p.started).Round(time.Millisecond))
	return !t.Failed()
}

// worker is one client of an iteration: it logs in as one of the bots,
// finishes an upload a kill interrupted, then uploads, finalizes and
// downloads until the server dies.
func (l *crashLoop) worker(ctx context.Context, p *crashProc, iter, w int, seed uint64, served chan<- struct{}) {
	bot := crashBots[w%len(crashBots)]
	rng := rand.New(rand.NewPCG(seed, uint64(w)))
	opts := p.srv.options(transports[rng.IntN(len(transports))].proto)
	opts.SessionStorage = &l.sessions[w]
	client := telegram.NewClient(1, "interop", opts)
	me := fmt.Sprintf("%d/%d", iter, w)
	defer l.release(bot, me)
	err := client.Run(ctx, func(ctx context.Context) error {
		if _, err := client.Auth().Bot(ctx, bot); err != nil {
			return fmt.Errorf("bot login: %w", err)
		}
		served <- struct{}{}
		api := client.API()
		if j := l.takePending(bot, me); j != nil {
			l.fig.resumed.Add(1)
			if err := l.finish(ctx, api, rng, bot, iter, j); err != nil {
				return err
			}
		}
		for ctx.Err() == nil {
			var err error
			switch r := rng.IntN(100); {
			case r < 15:
				err = l.upload(ctx, api, rng, bot, me, iter, true)
			case r < 65:
				err = l.upload(ctx, api, rng, bot, me, iter, false)
			default:
				err = l.downloadOne(ctx, api, rng, bot, me, iter)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !p.killed.Load() {
		l.t.Errorf("iteration %d, worker %d (%s): %v", iter, w, bot, err)
	}
}

func (l *crashLoop) takePending(bot, me string) *crashJob {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, j := range l.pending[bot] {
		if j.holder == "" {
			j.holder = me
			return j
		}
	}
	return nil
}

// release hands the jobs a worker leaves unfinished to the next start.
func (l *crashLoop) release(bot, me string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, j := range l.pending[bot] {
		if j.holder == me {
			j.holder = ""
		}
	}
}

// sleepFlood waits out a FLOOD_WAIT_X (capped: the limit is usually lifted
// by eviction well before X seconds) and reports whether err was one.
func (l *crashLoop) sleepFlood(ctx context.Context, err error) bool {
	d, ok := tgerr.AsFloodWait(err)
	if !ok {
		return false
	}
	l.fig.floodWaits.Add(1)
	select {
	case <-ctx.Done():
	case <-time.After(min(d, 500*time.Millisecond)):
	}
	return true
}

// save saves part i of j with the given bytes, waiting out FLOOD_WAIT.
func (l *crashLoop) save(ctx context.Context, api *tg.Client, j *crashJob, i int, b []byte) error {
	for {
		var err error
		if j.big {
			_, err = api.UploadSaveBigFilePart(ctx, &tg.UploadSaveBigFilePartRequest{FileID: j.fileID, FilePart: i, FileTotalParts: j.parts(), Bytes: b})
		} else {
			_, err = api.UploadSaveFilePart(ctx, &tg.UploadSaveFilePartRequest{FileID: j.fileID, FilePart: i, Bytes: b})
		}
		if l.sleepFlood(ctx, err) && ctx.Err() == nil {
			continue
		}
		if err != nil {
			return fmt.Errorf("save part %d of %d (file %d): %w", i, j.parts(), j.fileID, err)
		}
		return nil
	}
}

// upload makes a new upload: parts in a shuffled order, now and then a part
// saved first with other bytes (the last save wins) or saved twice, then
// finalized. Until it is, the job is pending: a kill hands it to the next
// start.
func (l *crashLoop) upload(ctx context.Context, api *tg.Client, rng *rand.Rand, bot, me string, iter int, big bool) error {
	j := &crashJob{fileID: rng.Int64(), big: big, viaSend: rng.IntN(2) == 0, acked: map[int]bool{}, holder: me}
	if big {
		j.partSize = 512 << 10
		j.data = randomBytes(rng.Uint64(), 10<<20+1+rng.IntN(2<<20))
	} else {
		j.partSize = (32 << 10) << rng.IntN(5) // 32 KiB .. 512 KiB
		j.data = randomBytes(rng.Uint64(), 1+rng.IntN(3<<20))
		if rng.IntN(2) == 0 {
			sum := md5.Sum(j.data)
			j.md5 = hex.EncodeToString(sum[:])
		}
	}
	l.mu.Lock()
	l.pending[bot] = append(l.pending[bot], j)
	l.mu.Unlock()
	order := rng.Perm(j.parts())
	for _, i := range order {
		if rng.IntN(10) == 0 {
			other := randomBytes(rng.Uint64(), len(j.part(i)))
			if err := l.save(ctx, api, j, i, other); err != nil {
				return err
			}
		}
		if err := l.save(ctx, api, j, i, j.part(i)); err != nil {
			return err
		}
		l.mu.Lock()
		j.acked[i] = true
		l.mu.Unlock()
		if rng.IntN(20) == 0 {
			if err := l.save(ctx, api, j, i, j.part(i)); err != nil {
				return err
			}
		}
	}
	if err := l.finalize(ctx, api, rng, bot, iter, j); err != nil {
		return err
	}
	return nil
}

// finish completes a job a kill interrupted: the parts whose save was not
// answered are saved, then it is finalized (parts lost since are re-saved
// when FILE_PART_X_MISSING names them).
func (l *crashLoop) finish(ctx context.Context, api *tg.Client, rng *rand.Rand, bot string, iter int, j *crashJob) error {
	l.mu.Lock()
	j.resumed = true
	l.mu.Unlock()
	for i := range j.parts() {
		l.mu.Lock()
		acked := j.acked[i]
		l.mu.Unlock()
		if acked {
			continue
		}
		if err := l.save(ctx, api, j, i, j.part(i)); err != nil {
			return err
		}
		l.mu.Lock()
		j.acked[i] = true
		l.mu.Unlock()
	}
	return l.finalize(ctx, api, rng, bot, iter, j)
}

// finalize consumes j with messages.uploadMedia or messages.sendMedia and
// records the document once the answer came.
func (l *crashLoop) finalize(ctx context.Context, api *tg.Client, rng *rand.Rand, bot string, iter int, j *crashJob) error {
	resavedAll := false
	l.mu.Lock()
	consumedMaybe := j.finalizing
	j.finalizing = true
	l.mu.Unlock()
	for attempt := 0; attempt < 2*j.parts()+8; attempt++ {
		var file tg.InputFileClass = &tg.InputFile{ID: j.fileID, Parts: j.parts(), Name: "crash.bin", MD5Checksum: j.md5}
		if j.big {
			file = &tg.InputFileBig{ID: j.fileID, Parts: j.parts(), Name: "crash.bin"}
		}
		media := &tg.InputMediaUploadedDocument{File: file, MimeType: "application/octet-stream",
			Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: "crash.bin"}}}
		var doc *tg.Document
		var err error
		l.fig.finalizing.Add(1)
		if j.viaSend {
			var res tg.UpdatesClass
			res, err = api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{}, Media: media, RandomID: rng.Int64()})
			if err == nil {
				doc, err = sentDocument(res)
			}
		} else {
			var res tg.MessageMediaClass
			res, err = api.MessagesUploadMedia(ctx, &tg.MessagesUploadMediaRequest{Peer: &tg.InputPeerSelf{}, Media: media})
			if err == nil {
				doc, err = mediaDocument(res)
			}
		}
		l.fig.finalizing.Add(-1)
		if err == nil {
			if doc.Size != int64(len(j.data)) || doc.DCID != 2 {
				return fmt.Errorf("file %d finalized as %d bytes on DC %d, uploaded %d", j.fileID, doc.Size, doc.DCID, len(j.data))
			}
			l.finalized(bot, iter, j, doc)
			return nil
		}
		if l.sleepFlood(ctx, err) {
			continue
		}
		if e, ok := tgerr.As(err); ok && e.Type == "FILE_PART_MISSING" && e.Argument >= 0 && e.Argument < j.parts() {
			l.fig.missingResaved.Add(1)
			l.mu.Lock()
			if j.resumed && !consumedMaybe && j.acked[e.Argument] {
				// Answered before the kill, never finalized: U9 says it
				// survives, unless the budget evicted it.
				l.fig.partsLostByRestart.Add(1)
			}
			l.mu.Unlock()
			if err := l.save(ctx, api, j, e.Argument, j.part(e.Argument)); err != nil {
				return err
			}
			continue
		}
		if tgerr.Is(err, "FILE_PARTS_INVALID") && !resavedAll {
			// The parts counted are those of a new upload under this id
			// (the old one was consumed by a finalization whose answer was
			// lost, or evicted): save them all.
			resavedAll = true
			for i := range j.parts() {
				if err := l.save(ctx, api, j, i, j.part(i)); err != nil {
					return err
				}
			}
			continue
		}
		return fmt.Errorf("finalize file %d (%d parts, big %v): %w", j.fileID, j.parts(), j.big, err)
	}
	return fmt.Errorf("finalize file %d: parts still missing after %d attempts", j.fileID, 2*j.parts()+8)
}

func (l *crashLoop) finalized(bot string, iter int, j *crashJob, doc *tg.Document) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.files = append(l.files, crashFile{bot: bot, iter: iter, size: int64(len(j.data)), sum: sha256.Sum256(j.data),
		loc: &tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}})
	jobs := l.pending[bot]
	for k, p := range jobs {
		if p == j {
			l.pending[bot] = append(jobs[:k:k], jobs[k+1:]...)
			break
		}
	}
	l.fig.finalized.Add(1)
}

func mediaDocument(m tg.MessageMediaClass) (*tg.Document, error) {
	md, ok := m.(*tg.MessageMediaDocument)
	if !ok {
		return nil, fmt.Errorf("media %T, want a document", m)
	}
	doc, ok := md.Document.(*tg.Document)
	if !ok {
		return nil, fmt.Errorf("document %T", md.Document)
	}
	return doc, nil
}

// sentDocument is the document of the message an Updates answer carries.
func sentDocument(res tg.UpdatesClass) (*tg.Document, error) {
	u, ok := res.(*tg.Updates)
	if !ok {
		return nil, fmt.Errorf("sendMedia answered %T", res)
	}
	for _, up := range u.Updates {
		if nm, ok := up.(*tg.UpdateNewMessage); ok {
			if m, ok := nm.Message.(*tg.Message); ok {
				return mediaDocument(m.Media)
			}
		}
	}
	return nil, errors.New("sendMedia answered no new message")
}

// downloadOne downloads a file finalized earlier (in this start or before a
// kill) and checks its bytes.
func (l *crashLoop) downloadOne(ctx context.Context, api *tg.Client, rng *rand.Rand, bot, me string, iter int) error {
	l.mu.Lock()
	var mine []crashFile
	for _, f := range l.files {
		if f.bot == bot {
			mine = append(mine, f)
		}
	}
	l.mu.Unlock()
	if len(mine) == 0 {
		return l.upload(ctx, api, rng, bot, me, iter, false)
	}
	f := mine[rng.IntN(len(mine))]
	got, err := fetchCrashFile(ctx, api, f, 1+rng.IntN(3), rng.IntN(2) == 0)
	if err != nil {
		return fmt.Errorf("download of document %d (iteration %d): %w", f.loc.ID, f.iter, err)
	}
	l.fig.midDownloads.Add(1)
	if sha256.Sum256(got) != f.sum || int64(len(got)) != f.size {
		l.fig.corruptMid.Add(1)
		return fmt.Errorf("document %d (iteration %d): downloaded %d bytes that differ from the %d uploaded", f.loc.ID, f.iter, len(got), f.size)
	}
	return nil
}

// fetchCrashFile downloads f with upload.getFile.
func fetchCrashFile(ctx context.Context, api *tg.Client, f crashFile, threads int, verify bool) ([]byte, error) {
	out := &writerAt{}
	_, err := downloader.NewDownloader().Download(api, f.loc).WithThreads(threads).WithVerify(verify).Parallel(ctx, out)
	return out.buf, err
}

// asBot runs f logged in as bot k on the auth key of worker k (which logged
// in as that bot), so that no key exchange is needed unless a kill lost it.
func (l *crashLoop) asBot(p *crashProc, k int, f func(ctx context.Context, api *tg.Client) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	opts := p.srv.options(transports[1].proto)
	opts.SessionStorage = &l.sessions[k]
	client := telegram.NewClient(1, "interop", opts)
	err := client.Run(ctx, func(ctx context.Context) error {
		if _, err := client.Auth().Bot(ctx, crashBots[k]); err != nil {
			return fmt.Errorf("bot login: %w", err)
		}
		return f(ctx, client.API())
	})
	if err != nil {
		l.t.Fatalf("%s: %v", crashBots[k], err)
	}
}

// verify starts the server once more: every file whose finalization was
// answered downloads with its SHA-256, and a sweep brings the temporary
// space back within the budget.
func (l *crashLoop) verify() {
	t := l.t
	p, err := l.start("final")
	if err != nil {
		msg := ""
		if p != nil {
			msg = p.logTail()
		}
		t.Fatalf("final start failed: %v\n%s", err, msg)
	}
	defer p.kill()
	if tb, err := p.tempBytes(); err == nil {
		storeMax(&l.fig.maxTempBytes, tb)
	}
	storeMax(&l.fig.maxTempDisk, l.tempDisk())
	var verified, lost, corrupt int
	for k, bot := range crashBots {
		var mine []crashFile
		for _, f := range l.files {
			if f.bot == bot {
				mine = append(mine, f)
			}
		}
		if len(mine) == 0 {
			continue
		}
		l.asBot(p, k, func(ctx context.Context, api *tg.Client) error {
			for _, f := range mine {
				got, err := fetchCrashFile(ctx, api, f, 4, false)
				switch {
				case err != nil:
					lost++
					t.Errorf("lost: document %d of %s (iteration %d, %d bytes): %v", f.loc.ID, bot, f.iter, f.size, err)
				case sha256.Sum256(got) != f.sum || int64(len(got)) != f.size:
					corrupt++
					t.Errorf("corrupt: document %d of %s (iteration %d): %d bytes that differ from the %d uploaded", f.loc.ID, bot, f.iter, len(got), f.size)
				default:
					verified++
				}
			}
			return nil
		})
	}
	// The sweep runs every second (--temp-sweep-every): within a few, what
	// the kills left is back within the budget, in the engine's count and
	// on disk.
	var tb, disk int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		tb, err = p.tempBytes()
		if err != nil {
			t.Fatalf("/healthz: %v", err)
		}
		disk = l.tempDisk()
		if tb <= crashBudget && disk <= crashBudget+crashDiskSlack || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if tb > crashBudget {
		t.Errorf("temporary bytes %d after the sweep, budget %d", tb, crashBudget)
	}
	if disk > crashBudget+crashDiskSlack {
		t.Errorf("temporary parts hold %d bytes of disk after the sweep, budget %d (+%d for record headers)", disk, crashBudget, crashDiskSlack)
	}
	f := &l.fig
	t.Logf("S7f figures: %d uploads gone on from their kept hashes after a restart", l.hashStatesLoaded())
	t.Logf("S7f figures: %d iterations, %d starts, %d kills (%d during a finalization, +%d during a start), %d files finalized, %d verified, %d lost, %d corrupt; "+
		"%d downloads checked during the loop (%d corrupt), %d uploads resumed after a kill, %d parts re-saved on FILE_PART_X_MISSING (%d answered before a kill, never finalized), %d FLOOD_WAITs; "+
		"max temporary bytes after a restart %d (disk %d), while working %d, after the final sweep %d (disk %d), budget %d",
		f.iterations.Load(), f.starts.Load(), f.kills.Load(), f.killsInFinalize.Load(), f.earlyKills.Load(), f.finalized.Load(), verified, lost, corrupt,
		f.midDownloads.Load(), f.corruptMid.Load(), f.resumed.Load(), f.missingResaved.Load(), f.partsLostByRestart.Load(), f.floodWaits.Load(),
		f.maxTempBytes.Load(), f.maxTempDisk.Load(), f.maxTempLive.Load(), tb, disk, crashBudget)
	if verified != int(f.finalized.Load()) {
		t.Errorf("%d files finalized, %d verified", f.finalized.Load(), verified)
	}
	// Every distinct content verified is a stored file (a job finalized
	// twice, its first answer lost, shares its content: M6).
	distinct := map[[32]byte]bool{}
	for _, f := range l.files {
		distinct[f.sum] = true
	}
	if keys, err := storedFileKeys(context.Background(), p.srv); err != nil {
		t.Errorf("listing stored files: %v", err)
	} else if len(keys) < len(distinct) {
		t.Errorf("%d stored files for %d distinct contents finalized", len(keys), len(distinct))
	}
	// U9: a part answered before a kill is still there after it, unless the
	// budget was near enough for eviction (a save needs room for 512 KiB;
	// the poll every 100 ms may miss a peak by what 4 workers save meanwhile).
	if n := f.partsLostByRestart.Load(); n > 0 && f.maxTempLive.Load() < crashBudget-16<<20 {
		t.Errorf("%d parts answered before a kill were missing after the restart, temporary bytes peaked at %d of %d", n, f.maxTempLive.Load(), crashBudget)
	}
	if verified == 0 {
		t.Error("no file was finalized: the loop tested nothing")
	}
}

// crashDiskSlack is the disk temporary parts may hold beyond the budget:
// the 4 KiB header block each replaced record keeps, and block rounding.
const crashDiskSlack = 8 << 20
