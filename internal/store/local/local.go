// Package local keeps temporary parts and stored files on a local file system.
//
// Layout under the root directory:
//
//	tmp/<upload id>/<writer>.log   the parts one Store saved for the upload
//	files/<file id>/<writer>.log   hard links to the logs of a sealed upload
//	files/<file id>/parts          where each part of the file lies in them
//	files/<file id>.sealing/       a seal in progress (removed on open)
//
// Every Store draws a writer name when it opens, so processes sharing the
// directory, and a process after a restart, never write to the same log.
// A log is a sequence of records, each at a 4 KiB-aligned offset: a 64-byte
// header (part index, size, owner, file_id, the CRC-32C of the content and
// of the header itself), then the content. Saving a part appends a record at
// an offset reserved in memory and writes it with one pwritev: no file is
// created or renamed per part, which on ext4 cost about a millisecond each.
// Saving a part again appends a new record; the newest record of an index
// wins, so a reader sees the old part or the new one, never a mix. A record
// cut short by a crash fails its checksum and the part reads as missing.
//
// Both trees live on one file system, so sealing an upload into a stored file
// links its logs instead of copying them (rule F5), and writes a small table
// of where the parts lie. Sealed bytes are never written again: later saves
// append past them, and deleting a part only marks its header.
package local

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// Options tune the store.
type Options struct {
	// Sync flushes sealed files and directories to stable storage before Seal
	// returns, so finalized files survive a power loss and not only a crash of
	// the process. Temporary parts are never flushed individually: a client
	// re-saves whatever a power loss took.
	Sync bool
	// DirtyLimit bounds, when Sync is set, how many bytes of an upload's log
	// may wait in the page cache: a save waits until the log up to
	// DirtyLimit bytes before its own record has been handed to the disk.
	// Seal's flush then has at most that much to write, whatever the size
	// of the file (rule F5), and a client faster than the disk is slowed to
	// its pace rather than filling memory. Zero means DefaultDirtyLimit.
	DirtyLimit int64
}

// DefaultDirtyLimit is a few tens of milliseconds of a solid-state disk.
const DefaultDirtyLimit = 32 << 20

// Store implements store.Temp and store.Content on one directory tree.
type Store struct {
	tmp    string
	files  string
	sync   bool
	dirty  int64  // Options.DirtyLimit
	writer string // this Store's log name: <16 hex digits>.log

	mu      sync.Mutex
	uploads map[store.UploadID]*upload
	open    int // uploads whose log is open

	sealedMu sync.Mutex
	sealed   map[int64]*sealedFile
}

var (
	_ store.Temp    = (*Store)(nil)
	_ store.Content = (*Store)(nil)
)

// Open prepares the directory tree under dir and removes what an interrupted
// seal left behind.
func Open(dir string, opt Options) (*Store, error) {
	var w [8]byte
	if _, err := rand.Read(w[:]); err != nil {
		return nil, err
	}
	s := &Store{
		tmp:     filepath.Join(dir, "tmp"),
		files:   filepath.Join(dir, "files"),
		sync:    opt.Sync,
		dirty:   cmp.Or(opt.DirtyLimit, DefaultDirtyLimit),
		writer:  hex.EncodeToString(w[:]) + logSuffix,
		uploads: make(map[store.UploadID]*upload),
		sealed:  make(map[int64]*sealedFile),
	}
	for _, d := range []string{s.tmp, s.files} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	entries, err := os.ReadDir(s.files)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sealing") {
			if err := os.RemoveAll(filepath.Join(s.files, e.Name())); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

const (
	logSuffix  = ".log"
	headerSize = 64
	align      = 4096
	magic      = "FDCR"
	version    = 2
	flagBig    = 1
	flagGone   = 2 // the part was deleted
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is the fixed prefix of every record:
//
//	0 magic "FDCR" | 4 version | 5 flags | 8 index u32 | 12 size u32 | 16 crc32c
//	20 total i32 | 24 saved-at unix ns | 32 owner | 40 file_id | 48 zero
//	60 crc32c of bytes 0..60
type header struct {
	key   store.UploadKey
	part  store.Part
	crc   uint32
	flags byte
}

func (h *header) encode(b []byte) {
	clear(b[:headerSize])
	copy(b[0:4], magic)
	b[4] = version
	b[5] = h.flags
	if h.key.Big {
		b[5] |= flagBig
	}
	binary.LittleEndian.PutUint32(b[8:], uint32(h.part.Index))
	binary.LittleEndian.PutUint32(b[12:], uint32(h.part.Size))
	binary.LittleEndian.PutUint32(b[16:], h.crc)
	binary.LittleEndian.PutUint32(b[20:], uint32(h.part.Total))
	binary.LittleEndian.PutUint64(b[24:], uint64(h.part.SavedAt.UnixNano()))
	binary.LittleEndian.PutUint64(b[32:], uint64(h.key.Owner))
	binary.LittleEndian.PutUint64(b[40:], uint64(h.key.FileID))
	binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
}

func (h *header) decode(b []byte) error {
	if len(b) < headerSize || string(b[0:4]) != magic || b[4] != version ||
		binary.LittleEndian.Uint32(b[60:]) != crc32.Checksum(b[:60], castagnoli) {
		return store.ErrCorrupt
	}
	h.flags = b[5] &^ flagBig
	h.key.Big = b[5]&flagBig != 0
	h.part.Index = int(binary.LittleEndian.Uint32(b[8:]))
	h.part.Size = int(binary.LittleEndian.Uint32(b[12:]))
	h.crc = binary.LittleEndian.Uint32(b[16:])
	h.part.Total = int32(binary.LittleEndian.Uint32(b[20:]))
	h.part.SavedAt = time.Unix(0, int64(binary.LittleEndian.Uint64(b[24:])))
	h.key.Owner = int64(binary.LittleEndian.Uint64(b[32:]))
	h.key.FileID = int64(binary.LittleEndian.Uint64(b[40:]))
	if h.part.Size <= 0 || h.part.Size > store.MaxPartSize || h.part.Index < 0 {
		return store.ErrCorrupt
	}
	return nil
}

// recordLen is the space a record of size content bytes takes in a log.
func recordLen(size int) int64 { return int64(headerSize+size+align-1) &^ (align - 1) }

func (s *Store) uploadDir(id store.UploadID) string { return filepath.Join(s.tmp, id.String()) }

func fileDirName(id int64) string { return fmt.Sprintf("%016x", uint64(id)) }

func (s *Store) fileDir(id int64) string { return filepath.Join(s.files, fileDirName(id)) }

// record is where one saved part lies.
type record struct {
	log  string // file name in the upload's directory
	off  int64
	h    header
	seen uint64 // order of discovery within the Store, for ties
}

// version names the record for store.Part.Version: its log and offset,
// which no other record of the upload shares, hashed to 64 bits.
func (r *record) version() uint64 {
	h := fnv.New64a()
	h.Write([]byte(r.log))
	var off [8]byte
	binary.LittleEndian.PutUint64(off[:], uint64(r.off))
	h.Write(off[:])
	return h.Sum64()
}

// newer reports whether a should replace b as the current record of a part.
func (a *record) newer(b *record) bool {
	if !a.h.part.SavedAt.Equal(b.h.part.SavedAt) {
		return a.h.part.SavedAt.After(b.h.part.SavedAt)
	}
	if a.log == b.log {
		return a.off > b.off
	}
	return a.seen > b.seen
}

// upload is what the Store knows of one upload: its own log, open for
// appending, and the current record of every part it has seen.
type upload struct {
	mu    sync.Mutex
	f     *os.File // this Store's log, nil until the first save or after closing
	inUse int      // writes in flight on f
	next  int64    // where the next record of this Store goes
	// flushed is how much of this Store's log is known to have been
	// handed to the disk (see Options.DirtyLimit).
	flushed atomic.Int64
	parts   map[int]*record
	scanned map[string]int64 // other writers' logs: bytes read so far
	seen    uint64
	// reads counts ReadParts in flight; stale records replaced meanwhile
	// wait in stale to be punched once none is (a reader sees the old part
	// or the new one, never zeros).
	reads int
	stale []*record
}

// maxOpenLogs bounds the logs kept open between saves.
const maxOpenLogs = 256

// state returns the Store's state of an upload, creating it.
func (s *Store) state(id store.UploadID) *upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.uploads[id]
	if u == nil {
		u = &upload{parts: make(map[int]*record), scanned: make(map[string]int64)}
		s.uploads[id] = u
	}
	return u
}

// openLog opens this Store's log of an upload for a save; the caller holds
// u.mu and calls u.done when the write is over.
func (s *Store) openLog(id store.UploadID, u *upload) error {
	if u.f != nil {
		u.inUse++
		return nil
	}
	dir := s.uploadDir(id)
	name := filepath.Join(dir, s.writer)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o700); err == nil {
			f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
		}
	}
	if err != nil {
		return err
	}
	// The log may exist from before: the upload was deleted, and so
	// forgotten, as this save began. Records go past what it holds, never
	// over it, since a sealed file may share those bytes.
	if st, err := f.Stat(); err != nil {
		f.Close()
		return err
	} else if end := (st.Size() + align - 1) &^ (align - 1); end > u.next {
		u.next = end
	}
	u.f = f
	u.inUse++
	s.mu.Lock()
	s.open++
	over := s.open > maxOpenLogs
	s.mu.Unlock()
	if over {
		s.closeIdle(u)
	}
	return nil
}

// closeIdle closes the logs of uploads without a write in flight, but keep's.
func (s *Store) closeIdle(keep *upload) {
	s.mu.Lock()
	list := make([]*upload, 0, len(s.uploads))
	for _, u := range s.uploads {
		if u != keep {
			list = append(list, u)
		}
	}
	s.mu.Unlock()
	for _, u := range list {
		if u.mu.TryLock() {
			s.closeLog(u)
			u.mu.Unlock()
		}
	}
}

// closeLog closes an upload's log if no write uses it; the caller holds u.mu.
func (s *Store) closeLog(u *upload) {
	if u.f == nil || u.inUse > 0 {
		return
	}
	u.f.Close()
	u.f = nil
	s.mu.Lock()
	s.open--
	s.mu.Unlock()
}

var headerBufs = sync.Pool{New: func() any { return new([headerSize]byte) }}

// PutPart implements store.Temp.
func (s *Store) PutPart(ctx context.Context, id store.UploadID, key store.UploadKey, p store.Part, data []byte) (uint64, error) {
	if len(data) != p.Size || p.Size <= 0 || p.Size > store.MaxPartSize || p.Index < 0 {
		return 0, fmt.Errorf("local: part %d: size %d does not match %d bytes", p.Index, p.Size, len(data))
	}
	h := header{key: key, part: p, crc: crc32.Checksum(data, castagnoli)}
	hb := headerBufs.Get().(*[headerSize]byte) // the write keeps it past the stack
	defer headerBufs.Put(hb)
	h.encode(hb[:])

	u := s.state(id)
	u.mu.Lock()
	if err := s.openLog(id, u); err != nil {
		u.mu.Unlock()
		return 0, err
	}
	f, off := u.f, u.next
	u.next += recordLen(p.Size)
	u.mu.Unlock()

	err := writeRecord(f, off, hb[:], data)
	if err == nil && s.sync {
		startWriteback(f, off, int64(headerSize+len(data)))
		s.trailWriteback(u, f, off)
	}

	u.mu.Lock()
	defer u.mu.Unlock()
	u.inUse--
	if err != nil {
		return 0, err
	}
	u.seen++
	r := &record{log: s.writer, off: off, h: h, seen: u.seen}
	cur := u.parts[p.Index]
	if cur == nil || r.newer(cur) {
		u.parts[p.Index] = r
		switch {
		case cur == nil:
		case u.reads > 0:
			u.stale = append(u.stale, cur)
		default:
			s.reclaim(id, u, cur)
		}
	}
	return r.version(), nil
}

// trailWriteback waits until the log f, written by a save at off, has been
// handed to the disk up to s.dirty bytes before off. The caller counts the
// save in u.inUse, so f stays open.
func (s *Store) trailWriteback(u *upload, f *os.File, off int64) {
	end := off - s.dirty
	if end <= u.flushed.Load() || !waitWriteback(f, end) {
		return
	}
	for {
		cur := u.flushed.Load()
		if end <= cur || u.flushed.CompareAndSwap(cur, end) {
			return
		}
	}
}

// Unflushed returns how many bytes of this Store's log of an upload may
// still wait in the page cache, besides saves still writing: what the flush
// at Seal would have to write.
func (s *Store) Unflushed(id store.UploadID) int64 {
	s.mu.Lock()
	u := s.uploads[id]
	s.mu.Unlock()
	if u == nil {
		return 0
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.next - u.flushed.Load()
}

// reclaim frees the disk space of a part's record that a newer save
// replaced (S7b): its content past the first 4 KiB block is punched out, so
// that re-saving one part a thousand times costs one part of disk. The
// header stays, so that the log still scans; the record fails its checksum
// if it is ever read, and it never is while the newer one is there. Only
// this Store's own log is punched, and never a sealed one: a log linked
// into a file (or into a seal in progress, which checks the parts' versions
// after linking) has more than one link, and once another process that
// finalized the upload has removed its directory, the open log may be a
// sealed file's only name, so it must still be the upload's. The caller
// holds u.mu.
func (s *Store) reclaim(id store.UploadID, u *upload, old *record) {
	if old.log != s.writer || u.f == nil || !uploadsOnly(u.f, filepath.Join(s.uploadDir(id), s.writer)) {
		return
	}
	start := old.off + align
	end := old.off + recordLen(old.h.part.Size)
	if end > start {
		if err := punchHole(u.f, start, end-start); err != nil {
			return // a file system without holes keeps the bytes until the upload goes
		}
	}
}

// refresh adds to u the records other writers appended to the upload's logs
// since the last refresh; the caller holds u.mu. A full refresh forgets what
// u knew and reads every log again, this Store's too.
func (s *Store) refresh(id store.UploadID, u *upload, full bool) error {
	if full {
		u.parts = make(map[int]*record)
		u.scanned = make(map[string]int64)
	}
	dir := s.uploadDir(id)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if (name == s.writer && !full) || !strings.HasSuffix(name, logSuffix) || e.IsDir() {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		from := u.scanned[name]
		if info.Size() <= from {
			continue
		}
		upto, err := scanLog(filepath.Join(dir, name), from, func(off int64, h header) {
			u.seen++
			r := &record{log: name, off: off, h: h, seen: u.seen}
			if cur := u.parts[h.part.Index]; cur == nil || r.newer(cur) || (cur.log == r.log && cur.off == r.off) {
				u.parts[h.part.Index] = r
			}
		})
		if err != nil {
			return err
		}
		if name != s.writer {
			u.scanned[name] = upto
		}
	}
	return nil
}

// scanLog calls fn for every record of a log from offset from whose header
// is sound and not marked deleted, and returns up to where the log was read
// in full: a header that does not check out (a record being written, or one a
// crash cut short) is read again next time, and the records after it are
// found by looking at every aligned offset.
func scanLog(name string, from int64, fn func(off int64, h header)) (int64, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return from, nil
	}
	if err != nil {
		return from, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return from, err
	}
	size := st.Size()
	upto, complete := from, true
	var hb [headerSize]byte
	for off := from; off+headerSize <= size; {
		if _, err := f.ReadAt(hb[:], off); err != nil {
			return from, err
		}
		var h header
		if h.decode(hb[:]) != nil || off+int64(headerSize+h.part.Size) > size {
			complete = false
			off += align
			continue
		}
		if h.flags&flagGone == 0 {
			fn(off, h)
		}
		off += recordLen(h.part.Size)
		if complete {
			upto = off
		}
	}
	return upto, nil
}

// current returns the record of a part, or nil; the caller holds u.mu.
func (s *Store) current(id store.UploadID, u *upload, index int) (*record, error) {
	if err := s.refresh(id, u, false); err != nil {
		return nil, err
	}
	return u.parts[index], nil
}

// readRecord reads a record's header and content and checks both.
func readRecord(name string, r *record, index int, buf []byte) (store.Part, []byte, error) {
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return store.Part{}, nil, store.ErrNotFound
		}
		return store.Part{}, nil, err
	}
	defer f.Close()
	var hb [headerSize]byte
	if _, err := f.ReadAt(hb[:], r.off); err != nil {
		if errors.Is(err, io.EOF) {
			return store.Part{}, nil, store.ErrCorrupt
		}
		return store.Part{}, nil, err
	}
	var h header
	if err := h.decode(hb[:]); err != nil {
		return store.Part{}, nil, err
	}
	if h.flags&flagGone != 0 {
		return store.Part{}, nil, store.ErrNotFound
	}
	if h.part.Index != index || len(buf) < h.part.Size {
		return store.Part{}, nil, store.ErrCorrupt
	}
	data := buf[:h.part.Size]
	if _, err := f.ReadAt(data, r.off+headerSize); err != nil {
		if errors.Is(err, io.EOF) {
			return store.Part{}, nil, store.ErrCorrupt
		}
		return store.Part{}, nil, err
	}
	if crc32.Checksum(data, castagnoli) != h.crc {
		return store.Part{}, nil, store.ErrCorrupt
	}
	return h.part, data, nil
}

// ReadPart implements store.Temp.
func (s *Store) ReadPart(ctx context.Context, id store.UploadID, index int, buf []byte) (store.Part, []byte, error) {
	u := s.state(id)
	u.mu.Lock()
	r, err := s.current(id, u, index)
	if err != nil || r == nil {
		u.mu.Unlock()
		if err == nil {
			err = store.ErrNotFound
		}
		return store.Part{}, nil, err
	}
	u.reads++
	u.mu.Unlock()
	p, data, err := readRecord(filepath.Join(s.uploadDir(id), r.log), r, index, buf)
	p.Version = r.version()
	u.mu.Lock()
	if u.reads--; u.reads == 0 {
		for _, old := range u.stale {
			s.reclaim(id, u, old)
		}
		u.stale = nil
	}
	u.mu.Unlock()
	return p, data, err
}

// DeletePart implements store.Temp. It marks the part's records deleted, in
// the order they were written, so that a crash midway leaves the newest.
func (s *Store) DeletePart(ctx context.Context, id store.UploadID, index int) error {
	u := s.state(id)
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.parts, index)
	dir := s.uploadDir(id)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), logSuffix) || e.IsDir() {
			continue
		}
		var offs []int64
		if _, err := scanLog(filepath.Join(dir, e.Name()), 0, func(off int64, h header) {
			if h.part.Index == index {
				offs = append(offs, off)
			}
		}); err != nil {
			return err
		}
		if err := markGone(filepath.Join(dir, e.Name()), offs); err != nil {
			return err
		}
	}
	return nil
}

// markGone sets the deleted flag in the headers at offs.
func markGone(name string, offs []int64) error {
	if len(offs) == 0 {
		return nil
	}
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	var hb [headerSize]byte
	for _, off := range offs {
		if _, err := f.ReadAt(hb[:], off); err != nil {
			return err
		}
		var h header
		if h.decode(hb[:]) != nil {
			continue
		}
		h.flags |= flagGone
		h.encode(hb[:])
		if _, err := f.WriteAt(hb[:], off); err != nil {
			return err
		}
	}
	return nil
}

// forget drops the Store's state of an upload and closes its log.
func (s *Store) forget(id store.UploadID) {
	s.mu.Lock()
	u := s.uploads[id]
	delete(s.uploads, id)
	s.mu.Unlock()
	if u == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.f != nil {
		// A write still in flight fails on the closed file or lands in the
		// removed directory's log; either way the part is gone, as asked.
		u.f.Close()
		u.f = nil
		s.mu.Lock()
		s.open--
		s.mu.Unlock()
	}
}

// DeleteUpload implements store.Temp.
func (s *Store) DeleteUpload(ctx context.Context, id store.UploadID) error {
	s.forget(id)
	return os.RemoveAll(s.uploadDir(id))
}

// Scan implements store.Temp. It removes files that are not logs and uploads
// without a sound part; content checksums are verified later, when a part is
// read for finalization.
func (s *Store) Scan(ctx context.Context, fn func(store.Upload) error) error {
	dirs, err := os.ReadDir(s.tmp)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(s.tmp, d.Name())
		id, err := store.ParseUploadID(d.Name())
		if err != nil || !d.IsDir() {
			os.RemoveAll(path)
			continue
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if (!strings.HasSuffix(e.Name(), logSuffix) && e.Name() != hashStateName) || e.IsDir() {
				os.RemoveAll(filepath.Join(path, e.Name())) // junk, or a state cut short
			}
		}
		up, err := s.Parts(ctx, id)
		if err != nil {
			return err
		}
		if len(up) == 0 {
			s.DeleteUpload(ctx, id)
			continue
		}
		if err := fn(store.Upload{ID: id, Key: s.keyOf(id, up[0].Index), Parts: up}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) keyOf(id store.UploadID, index int) store.UploadKey {
	u := s.state(id)
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.parts[index].h.key
}

var (
	_ store.PartLister      = (*Store)(nil)
	_ store.HashStateKeeper = (*Store)(nil)
)

// hashStateName is the file, beside an upload's logs, that keeps the state
// of the hashes over its first parts.
const hashStateName = "hashes"

// PutHashState implements store.HashStateKeeper: the state is written to a
// file of its own and renamed over the last one, so a reader finds one state
// or the other whole. It is not flushed: like the parts, it only has to
// survive the process, and a state a power loss cut short fails the
// engine's checksum and is not used.
func (s *Store) PutHashState(ctx context.Context, id store.UploadID, state []byte) error {
	dir := s.uploadDir(id)
	f, err := os.CreateTemp(dir, s.writer+".hashes-*") // fails, as it should, once the upload is gone
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return store.ErrNotFound
		}
		return err
	}
	_, err = f.Write(state)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, hashStateName))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// maxHashState bounds what HashState reads; the state of an upload of the
// most parts allowed is under 1.2 MiB.
const maxHashState = 4 << 20

// HashState implements store.HashStateKeeper.
func (s *Store) HashState(ctx context.Context, id store.UploadID) ([]byte, error) {
	f, err := os.Open(filepath.Join(s.uploadDir(id), hashStateName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxHashState+1))
	if err == nil && len(b) > maxHashState {
		err = fmt.Errorf("local: hash state of upload %s over %d bytes: %w", id, maxHashState, store.ErrCorrupt)
	}
	return b, err
}

// Parts returns the parts of one upload, read afresh from its logs (those of
// other processes sharing the directory too). Parts whose key differs from
// the first part's (damage, or junk) are left out.
func (s *Store) Parts(ctx context.Context, id store.UploadID) ([]store.Part, error) {
	u := s.state(id)
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := s.refresh(id, u, true); err != nil {
		return nil, err
	}
	var (
		parts []store.Part
		key   store.UploadKey
		first = -1
	)
	for index, r := range u.parts {
		if first < 0 || index < first {
			first, key = index, r.h.key
		}
	}
	for index, r := range u.parts {
		if r.h.key != key {
			delete(u.parts, index)
			continue
		}
		p := r.h.part
		p.Version = r.version()
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Index < parts[j].Index })
	return parts, nil
}
