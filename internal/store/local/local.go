// Package local keeps temporary parts and stored files on a local file system.
//
// Layout under the root directory:
//
//	tmp/<upload id>/<index>          one part: a 48-byte header, then the content
//	files/<file id>/<index>          hard links to the parts of a sealed upload
//	files/<file id>.sealing/         a seal in progress (removed on open)
//
// Both trees live on one file system, so sealing an upload into a stored file
// links its parts instead of copying them (rule F5): the cost of finalization
// does not grow with the file's size beyond the checksums the engine computes.
//
// Parts are written to a temporary name and renamed, so a crash of the process
// (kill -9 included) leaves either the old part or the new one. The header
// carries a CRC-32C of the content, so a torn write after a power loss is
// detected when the part is read, and the part is treated as missing.
package local

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// Options tune the store.
type Options struct {
	// Sync flushes sealed parts and directories to stable storage before Seal
	// returns, so finalized files survive a power loss and not only a crash of
	// the process. Temporary parts are never flushed individually: a client
	// re-saves whatever a power loss took.
	Sync bool
}

// Store implements store.Temp and store.Content on one directory tree.
type Store struct {
	tmp   string
	files string
	sync  bool
	seq   atomic.Uint64 // names of files being written
}

var (
	_ store.Temp    = (*Store)(nil)
	_ store.Content = (*Store)(nil)
)

// Open prepares the directory tree under dir and removes what an interrupted
// write or seal left behind.
func Open(dir string, opt Options) (*Store, error) {
	s := &Store{
		tmp:   filepath.Join(dir, "tmp"),
		files: filepath.Join(dir, "files"),
		sync:  opt.Sync,
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
	headerSize = 48
	magic      = "FDCP"
	version    = 1
	flagBig    = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is the fixed prefix of every part file:
//
//	0 magic "FDCP" | 4 version | 5 flags | 8 index u32 | 12 size u32 | 16 crc32c
//	20 total i32 | 24 saved-at unix ns | 32 owner | 40 file_id
type header struct {
	key  store.UploadKey
	part store.Part
	crc  uint32
}

func (h *header) encode(b []byte) {
	copy(b[0:4], magic)
	b[4] = version
	b[5] = 0
	if h.key.Big {
		b[5] = flagBig
	}
	b[6], b[7] = 0, 0
	binary.LittleEndian.PutUint32(b[8:], uint32(h.part.Index))
	binary.LittleEndian.PutUint32(b[12:], uint32(h.part.Size))
	binary.LittleEndian.PutUint32(b[16:], h.crc)
	binary.LittleEndian.PutUint32(b[20:], uint32(h.part.Total))
	binary.LittleEndian.PutUint64(b[24:], uint64(h.part.SavedAt.UnixNano()))
	binary.LittleEndian.PutUint64(b[32:], uint64(h.key.Owner))
	binary.LittleEndian.PutUint64(b[40:], uint64(h.key.FileID))
}

func (h *header) decode(b []byte) error {
	if len(b) < headerSize || string(b[0:4]) != magic || b[4] != version {
		return store.ErrCorrupt
	}
	h.key.Big = b[5]&flagBig != 0
	h.part.Index = int(binary.LittleEndian.Uint32(b[8:]))
	h.part.Size = int(binary.LittleEndian.Uint32(b[12:]))
	h.crc = binary.LittleEndian.Uint32(b[16:])
	h.part.Total = int32(binary.LittleEndian.Uint32(b[20:]))
	h.part.SavedAt = time.Unix(0, int64(binary.LittleEndian.Uint64(b[24:])))
	h.key.Owner = int64(binary.LittleEndian.Uint64(b[32:]))
	h.key.FileID = int64(binary.LittleEndian.Uint64(b[40:]))
	if h.part.Size <= 0 || h.part.Size > store.MaxPartSize {
		return store.ErrCorrupt
	}
	return nil
}

func (s *Store) uploadDir(id store.UploadID) string { return filepath.Join(s.tmp, id.String()) }

func fileDirName(id int64) string { return fmt.Sprintf("%016x", uint64(id)) }

func (s *Store) fileDir(id int64) string { return filepath.Join(s.files, fileDirName(id)) }

// PutPart implements store.Temp.
func (s *Store) PutPart(ctx context.Context, id store.UploadID, key store.UploadKey, p store.Part, data []byte) error {
	if len(data) != p.Size || p.Size <= 0 || p.Size > store.MaxPartSize || p.Index < 0 {
		return fmt.Errorf("local: part %d: size %d does not match %d bytes", p.Index, p.Size, len(data))
	}
	dir := s.uploadDir(id)
	name := filepath.Join(dir, strconv.Itoa(p.Index))
	// The pid keeps writes of processes sharing the directory apart.
	tmp := name + "." + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(s.seq.Add(1), 10) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o700); err == nil {
			f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		}
	}
	if err != nil {
		return err
	}
	h := header{key: key, part: p, crc: crc32.Checksum(data, castagnoli)}
	var hb [headerSize]byte
	h.encode(hb[:])
	_, err = f.Write(hb[:])
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil && s.sync {
		startWriteback(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// readHeader reads and checks the header of an open part file.
func readHeader(f *os.File) (header, error) {
	var h header
	var hb [headerSize]byte
	if _, err := f.ReadAt(hb[:], 0); err != nil {
		if errors.Is(err, io.EOF) {
			return h, store.ErrCorrupt
		}
		return h, err
	}
	if err := h.decode(hb[:]); err != nil {
		return h, err
	}
	st, err := f.Stat()
	if err != nil {
		return h, err
	}
	if st.Size() != int64(headerSize+h.part.Size) {
		return h, store.ErrCorrupt
	}
	return h, nil
}

// ReadPart implements store.Temp.
func (s *Store) ReadPart(ctx context.Context, id store.UploadID, index int, buf []byte) (store.Part, []byte, error) {
	f, err := os.Open(filepath.Join(s.uploadDir(id), strconv.Itoa(index)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return store.Part{}, nil, store.ErrNotFound
		}
		return store.Part{}, nil, err
	}
	defer f.Close()
	h, err := readHeader(f)
	if err != nil {
		return store.Part{}, nil, err
	}
	if h.part.Index != index || len(buf) < h.part.Size {
		return store.Part{}, nil, store.ErrCorrupt
	}
	data := buf[:h.part.Size]
	if _, err := f.ReadAt(data, headerSize); err != nil {
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

// DeletePart implements store.Temp.
func (s *Store) DeletePart(ctx context.Context, id store.UploadID, index int) error {
	err := os.Remove(filepath.Join(s.uploadDir(id), strconv.Itoa(index)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// DeleteUpload implements store.Temp.
func (s *Store) DeleteUpload(ctx context.Context, id store.UploadID) error {
	return os.RemoveAll(s.uploadDir(id))
}

// Scan implements store.Temp. It removes stray files left by interrupted
// writes and parts whose header is damaged; content checksums are verified
// later, when a part is read for finalization.
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
		up, err := s.scanUpload(id, path)
		if err != nil {
			return err
		}
		if len(up.Parts) == 0 {
			os.RemoveAll(path)
			continue
		}
		if err := fn(up); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) scanUpload(id store.UploadID, path string) (store.Upload, error) {
	up := store.Upload{ID: id}
	entries, err := os.ReadDir(path)
	if err != nil {
		return up, err
	}
	keySet := false
	for _, e := range entries {
		name := filepath.Join(path, e.Name())
		index, err := strconv.Atoi(e.Name())
		if err != nil || index < 0 || e.IsDir() {
			os.RemoveAll(name) // an interrupted write's temporary file, or junk
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return up, err
		}
		h, err := readHeader(f)
		f.Close()
		if errors.Is(err, store.ErrCorrupt) || (err == nil && (h.part.Index != index || (keySet && h.key != up.Key))) {
			os.Remove(name)
			continue
		}
		if err != nil {
			return up, err
		}
		up.Key, keySet = h.key, true
		up.Parts = append(up.Parts, h.part)
	}
	sort.Slice(up.Parts, func(i, j int) bool { return up.Parts[i].Index < up.Parts[j].Index })
	return up, nil
}

// Seal implements store.Content by hard-linking the parts into the file's
// directory, flushing them when Sync is set, and renaming the directory into
// place.
func (s *Store) Seal(ctx context.Context, from store.UploadID, to int64, parts int) error {
	final := s.fileDir(to)
	sealing := final + ".sealing"
	if err := os.RemoveAll(sealing); err != nil {
		return err
	}
	if err := os.Mkdir(sealing, 0o700); err != nil {
		return err
	}
	src := s.uploadDir(from)
	for i := 0; i < parts; i++ {
		if err := ctx.Err(); err != nil {
			os.RemoveAll(sealing)
			return err
		}
		name := strconv.Itoa(i)
		if err := os.Link(filepath.Join(src, name), filepath.Join(sealing, name)); err != nil {
			os.RemoveAll(sealing)
			if errors.Is(err, fs.ErrNotExist) {
				return store.ErrNotFound
			}
			return err
		}
	}
	if s.sync {
		if err := syncParts(sealing, parts); err != nil {
			os.RemoveAll(sealing)
			return err
		}
	}
	if err := os.RemoveAll(final); err != nil {
		return err
	}
	if err := os.Rename(sealing, final); err != nil {
		return err
	}
	if s.sync {
		return syncDir(s.files)
	}
	return nil
}

// ReadAt implements store.Content.
func (s *Store) ReadAt(ctx context.Context, file int64, l store.Layout, p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > l.Size || l.PartSize <= 0 {
		return fmt.Errorf("local: read [%d, %d) outside file of %d bytes", off, off+int64(len(p)), l.Size)
	}
	dir := s.fileDir(file)
	ps := int64(l.PartSize)
	for len(p) > 0 {
		index := off / ps
		within := off % ps
		n := min(int64(len(p)), ps-within)
		f, err := os.Open(filepath.Join(dir, strconv.FormatInt(index, 10)))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return store.ErrNotFound
			}
			return err
		}
		_, err = f.ReadAt(p[:n], headerSize+within)
		f.Close()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return store.ErrCorrupt
			}
			return err
		}
		p = p[n:]
		off += n
	}
	return nil
}

// Delete implements store.Content.
func (s *Store) Delete(ctx context.Context, file int64) error {
	return os.RemoveAll(s.fileDir(file))
}

// List implements store.Content.
func (s *Store) List(ctx context.Context, fn func(file int64) error) error {
	entries, err := os.ReadDir(s.files)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if len(e.Name()) != 16 {
			continue
		}
		id, err := strconv.ParseUint(e.Name(), 16, 64)
		if err != nil {
			continue
		}
		if err := fn(int64(id)); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
