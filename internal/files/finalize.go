package files

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/filedc/filedc/internal/filehash"
	"github.com/filedc/filedc/internal/randid"
	"github.com/filedc/filedc/internal/store"
)

// Finalize is the consumption of an inputFile or inputFileBig by a final
// method such as messages.uploadMedia.
type Finalize struct {
	Key     store.UploadKey // Key.Big for inputFileBig
	Parts   int             // the parts field
	MD5     string          // md5_checksum of inputFile: hex, or empty for "not given"
	Name    string
	Premium bool
}

// Finalize turns a complete upload into a stored file (F1–F6). It is atomic:
// a crash leaves either the parts or the complete file, and an upload is
// consumed at most once; finalizing it again finds no parts.
func (e *Engine) Finalize(ctx context.Context, r Finalize) (store.FileRecord, error) {
	start := time.Now()
	rec, err := e.finalize(ctx, r)
	if err != nil {
		e.stats.finalizeErrs.Add(1)
	} else {
		e.stats.finalized.Add(1)
	}
	if e.cfg.OnFinalize != nil {
		e.cfg.OnFinalize(time.Since(start), err)
	}
	return rec, err
}

func (e *Engine) finalize(ctx context.Context, r Finalize) (store.FileRecord, error) {
	if r.Parts < 1 || r.Parts > e.maxParts(r.Premium) {
		return store.FileRecord{}, ErrFilePartsInvalid
	}
	if e.cfg.Shared {
		// The parts may have been saved through another process.
		id, err := e.newUploadID(ctx, r.Key, true)
		if err == nil {
			_, err = e.touch(r.Key, id)
		}
		if err != nil {
			return store.FileRecord{}, err
		}
	}
	e.mu.Lock()
	u := e.uploads[r.Key]
	e.mu.Unlock()
	if u == nil {
		return store.FileRecord{}, ErrFilePartMissing(0)
	}
	u.rw.Lock()
	defer u.rw.Unlock()
	if u.gone {
		return store.FileRecord{}, ErrFilePartMissing(0)
	}
	rec, ranges, err := e.hashAndSeal(ctx, u, r)
	if err != nil {
		return store.FileRecord{}, err
	}
	e.step(StepCommit)
	if err := storeErr(&e.stats.recordErrs, e.meta.CommitFile(ctx, rec, ranges)); err != nil {
		if errors.Is(err, store.ErrConsumed) {
			_ = e.content.Delete(ctx, rec.ID)
			return store.FileRecord{}, ErrFilePartMissing(0)
		}
		// The commit may have happened with its answer lost (a database over
		// the network): the content stays, and a start removes it if no
		// record names it.
		return store.FileRecord{}, fmt.Errorf("files: commit: %w", err)
	}
	e.step(StepCleanup)
	e.drop(u)
	if err := e.temp.DeleteUpload(ctx, u.id); err != nil {
		// Harmless: the upload is marked consumed and is removed on restart.
		e.cfg.Logger.Warn("deleting finalized upload", "upload", u.id, "err", err)
	}
	e.files.Store(rec.ID, rec)
	return rec, nil
}

// maxSealAttempts bounds how often a finalization hashes the parts again
// because one was saved again through another process meanwhile.
const maxSealAttempts = 3

// hashAndSeal hashes the upload's parts and seals exactly the versions it
// hashed into a new file (S7e), and returns the file's record and range
// hashes. When a part changed in between, through another process sharing
// the store, it reads the parts again. The caller holds u.rw for writing.
func (e *Engine) hashAndSeal(ctx context.Context, u *upload, r Finalize) (store.FileRecord, []store.Hash, error) {
	for attempt := 1; ; attempt++ {
		if e.cfg.Shared {
			if err := e.refresh(ctx, u); err != nil {
				return store.FileRecord{}, nil, fmt.Errorf("files: reading shared parts: %w", err)
			}
			if u.parts.count == 0 {
				e.evict(ctx, u)
				return store.FileRecord{}, nil, ErrFilePartMissing(0)
			}
		}
		if err := u.parts.checkFinal(r.Parts, r.Key.Big); err != nil {
			return store.FileRecord{}, nil, err
		}
		sums, err := e.hashUpload(ctx, u, r.Parts, r.MD5 != "" && !r.Key.Big)
		if err != nil {
			return store.FileRecord{}, nil, err
		}
		if r.MD5 != "" && !r.Key.Big && !strings.EqualFold(r.MD5, hex.EncodeToString(sums.md5)) {
			return store.FileRecord{}, nil, ErrMD5ChecksumInvalid
		}
		rec := store.FileRecord{
			ID:         randid.InDC(e.cfg.DC),
			AccessHash: randid.Int63(),
			Owner:      r.Key.Owner,
			Name:       r.Name,
			Size:       u.parts.bytes,
			PartSize:   u.parts.size(0),
			Parts:      r.Parts,
			SHA256:     sums.whole,
			Type:       string(sums.fileType),
			Created:    e.cfg.Clock.Now(),
			Upload:     u.id,
		}
		e.step(StepSeal)
		err = storeErr(&e.stats.contentErrs, e.content.Seal(ctx, u.id, rec.ID, sums.versions))
		if err == nil {
			return rec, sums.ranges, nil
		}
		// A part saved again or removed meanwhile: what is there now is
		// read again, and a part that went is reported missing.
		changed := errors.Is(err, store.ErrPartChanged) || errors.Is(err, store.ErrNotFound)
		if !changed || attempt == maxSealAttempts {
			return store.FileRecord{}, nil, fmt.Errorf("files: seal: %w", err)
		}
		u.ahead.mu.Lock()
		u.ahead.reset()
		u.ahead.mu.Unlock()
	}
}

// drop removes an upload from the engine's state; the caller holds u.rw for
// writing and deletes the parts from the store.
func (e *Engine) drop(u *upload) {
	u.gone = true
	e.mu.Lock()
	if e.uploads[u.key] == u {
		delete(e.uploads, u.key)
	}
	e.lru.Remove(u.elem)
	if u.owner.uploads--; u.owner.uploads == 0 {
		delete(e.owners, u.key.Owner)
	}
	e.mu.Unlock()
	u.mu.Lock()
	e.addBytes(u, -u.parts.bytes)
	u.mu.Unlock()
}

type sums struct {
	whole    [32]byte
	ranges   []store.Hash
	md5      []byte
	fileType FileType
	versions []uint64 // of the parts hashed, for Seal
}

// hashUpload goes on from the hashes taken as the parts arrived: it reads
// the parts past them in order once and computes the whole file's SHA-256
// and the range hashes in one pass, and MD5 when asked on another core. A
// part whose bytes fail their checksum is dropped and reported
// missing, so the client saves it again.
func (e *Engine) hashUpload(ctx context.Context, u *upload, n int, withMD5 bool) (sums, error) {
	size := u.parts.bytes
	st := u.ahead.snapshot(n, withMD5)
	if st.next == 0 {
		st.sums = filehash.New(size)
		if withMD5 {
			st.md5 = md5.New()
		}
		st.versions = make([]uint64, 0, n)
	}

	type chunk struct {
		data []byte
		buf  *[]byte
		refs atomic.Int32
	}
	const depth = 8
	free := make(chan *[]byte, depth)
	for range depth {
		free <- e.partBufs.Get().(*[]byte)
	}
	release := func(c *chunk) {
		if c.refs.Add(-1) == 0 {
			free <- c.buf
		}
	}
	hashers := []io.Writer{st.sums}
	if st.md5 != nil {
		hashers = append(hashers, st.md5)
	}
	feeds := make([]chan *chunk, len(hashers))
	var wg sync.WaitGroup
	for i, h := range hashers {
		feeds[i] = make(chan *chunk, depth)
		wg.Add(1)
		go func(feed <-chan *chunk) {
			defer wg.Done()
			for c := range feed {
				h.Write(c.data)
				release(c)
			}
		}(feeds[i])
	}

	// Parts are read ahead, several at a time (object storage answers each
	// read after a round trip), and hashed in order.
	type read struct {
		part store.Part
		data []byte
		buf  *[]byte
		err  error
	}
	reads := make(chan chan read, depth)
	stop := make(chan struct{})
	go func() {
		defer close(reads)
		for i := st.next; i < n; i++ {
			var buf *[]byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			ch := make(chan read, 1)
			reads <- ch
			go func() {
				p, data, err := e.temp.ReadPart(ctx, u.id, i, *buf)
				storeErr(&e.stats.tempErrs, err)
				ch <- read{p, data, buf, err}
			}()
		}
	}()

	s := sums{versions: st.versions, fileType: st.fileType}
	var err error
	i := st.next
	for ch := range reads {
		r := <-ch
		if err != nil {
			free <- r.buf // draining the reads started before the failure
			continue
		}
		if r.err == nil && r.part.Size != u.parts.size(i) {
			r.err = store.ErrCorrupt
		}
		if r.err != nil {
			free <- r.buf
			close(stop)
			if errors.Is(r.err, store.ErrCorrupt) || errors.Is(r.err, store.ErrNotFound) {
				e.dropPart(ctx, u, i)
				err = ErrFilePartMissing(i)
			} else {
				err = fmt.Errorf("files: read part %d: %w", i, r.err)
			}
			continue
		}
		if i == 0 {
			s.fileType = DetectType(r.data[:min(len(r.data), sniffLen)])
		}
		s.versions = append(s.versions, r.part.Version)
		c := &chunk{data: r.data, buf: r.buf}
		c.refs.Store(int32(len(feeds)))
		for _, feed := range feeds {
			feed <- c
		}
		i++
	}
	for _, feed := range feeds {
		close(feed)
	}
	wg.Wait()
	for range depth {
		e.partBufs.Put(<-free)
	}
	if err != nil {
		return sums{}, err
	}
	s.whole, s.ranges = st.sums.Sum()
	if st.md5 != nil {
		s.md5 = st.md5.Sum(nil)
	}
	return s, nil
}

// dropPart forgets a part whose bytes are damaged or gone; the caller holds
// u.rw for writing.
func (e *Engine) dropPart(ctx context.Context, u *upload, i int) {
	u.ahead.mu.Lock()
	if i < u.ahead.next {
		u.ahead.reset()
	}
	u.ahead.unwait(i)
	u.ahead.mu.Unlock()
	u.mu.Lock()
	size := u.parts.size(i)
	u.parts.remove(i)
	u.mu.Unlock()
	e.addBytes(u, -int64(size))
	if err := e.temp.DeletePart(ctx, u.id, i); err != nil {
		e.cfg.Logger.Warn("deleting damaged part", "upload", u.id, "part", i, "err", err)
	}
}

// StoreBytes stores content the server made itself, such as a photo size or
// a thumbnail, as a file of owner: it is saved in parts and finalized
// through the same rules and commit as a client's upload.
func (e *Engine) StoreBytes(ctx context.Context, owner int64, name string, data []byte) (store.FileRecord, error) {
	if len(data) == 0 {
		return store.FileRecord{}, ErrFilePartEmpty
	}
	key := store.UploadKey{Owner: owner, FileID: randid.Int63(), Big: true}
	parts := (len(data) + maxPartSize - 1) / maxPartSize
	if parts > e.cfg.PremiumMaxParts {
		return store.FileRecord{}, ErrFilePartsInvalid
	}
	for i := 0; i < parts; i++ {
		chunk := data[i*maxPartSize : min(len(data), (i+1)*maxPartSize)]
		if err := e.SavePart(ctx, SavePart{Key: key, Part: i, TotalParts: int32(parts), Premium: true, Data: chunk}); err != nil {
			return store.FileRecord{}, err
		}
	}
	return e.Finalize(ctx, Finalize{Key: key, Parts: parts, Name: name, Premium: true})
}
