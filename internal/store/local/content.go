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
	"strconv"

	"github.com/filedc/filedc/internal/store"
)

// The parts table of a sealed file:
//
//	"FDCT" | logs u32 | per log: name length u8, name | parts u32 |
//	per part: log u32, size u32, offset u64 | crc32c of all before
const (
	tableName  = "parts"
	tableMagic = "FDCT"
)

// location is where the content of one part of a sealed file lies.
type location struct {
	log  int
	size int
	off  int64 // of the content, past the record's header
}

func encodeTable(logs []string, locs []location) []byte {
	b := []byte(tableMagic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(logs)))
	for _, l := range logs {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(locs)))
	for _, l := range locs {
		b = binary.LittleEndian.AppendUint32(b, uint32(l.log))
		b = binary.LittleEndian.AppendUint32(b, uint32(l.size))
		b = binary.LittleEndian.AppendUint64(b, uint64(l.off))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeTable(b []byte) (logs []string, locs []location, err error) {
	if len(b) < 16 || string(b[:4]) != tableMagic ||
		binary.LittleEndian.Uint32(b[len(b)-4:]) != crc32.Checksum(b[:len(b)-4], castagnoli) {
		return nil, nil, store.ErrCorrupt
	}
	b = b[4 : len(b)-4]
	n := int(binary.LittleEndian.Uint32(b))
	b = b[4:]
	for range n {
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return nil, nil, store.ErrCorrupt
		}
		logs = append(logs, string(b[1:1+int(b[0])]))
		b = b[1+int(b[0]):]
	}
	if len(b) < 4 {
		return nil, nil, store.ErrCorrupt
	}
	n = int(binary.LittleEndian.Uint32(b))
	b = b[4:]
	if len(b) != 16*n {
		return nil, nil, store.ErrCorrupt
	}
	locs = make([]location, n)
	for i := range locs {
		e := b[16*i:]
		locs[i] = location{
			log:  int(binary.LittleEndian.Uint32(e)),
			size: int(binary.LittleEndian.Uint32(e[4:])),
			off:  int64(binary.LittleEndian.Uint64(e[8:])),
		}
		if locs[i].log >= len(logs) {
			return nil, nil, store.ErrCorrupt
		}
	}
	return logs, locs, nil
}

// Seal implements store.Content by hard-linking the upload's logs that hold
// the parts into the file's directory beside a table of where the parts
// lie, flushing them when Sync is set, and renaming the directory into place.
// The versions are checked again once the logs are linked: from then on a
// save does not punch the records they hold (see reclaim).
func (s *Store) Seal(ctx context.Context, from store.UploadID, to int64, versions []uint64) error {
	if len(versions) == 0 {
		return errors.New("local: seal of no parts")
	}
	logs, locs, err := s.sealedRecords(from, versions)
	if err != nil {
		return err
	}
	final := s.fileDir(to)
	sealing := final + ".sealing"
	if err := os.RemoveAll(sealing); err != nil {
		return err
	}
	if err := os.Mkdir(sealing, 0o700); err != nil {
		return err
	}
	fail := func(err error) error {
		os.RemoveAll(sealing)
		if errors.Is(err, fs.ErrNotExist) {
			return store.ErrNotFound
		}
		return err
	}
	src := s.uploadDir(from)
	for _, l := range logs {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		if err := os.Link(filepath.Join(src, l), filepath.Join(sealing, l)); err != nil {
			return fail(err)
		}
	}
	if _, _, err := s.sealedRecords(from, versions); err != nil {
		return fail(err)
	}
	if err := writeFile(filepath.Join(sealing, tableName), encodeTable(logs, locs), s.sync); err != nil {
		return fail(err)
	}
	if s.sync {
		if err := syncFiles(sealing, logs); err != nil {
			return fail(err)
		}
	}
	s.dropSealed(to)
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

// sealedRecords returns the logs and places of the records of the given
// versions of parts 0 to len(versions)-1, which must be the current ones.
func (s *Store) sealedRecords(from store.UploadID, versions []uint64) ([]string, []location, error) {
	u := s.state(from)
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := s.refresh(from, u, false); err != nil {
		return nil, nil, err
	}
	var (
		logs  []string
		locs  = make([]location, len(versions))
		index = map[string]int{}
	)
	for i, v := range versions {
		r := u.parts[i]
		if r == nil {
			return nil, nil, store.ErrNotFound
		}
		if r.version() != v {
			return nil, nil, fmt.Errorf("local: seal: part %d: %w", i, store.ErrPartChanged)
		}
		n, ok := index[r.log]
		if !ok {
			n = len(logs)
			index[r.log] = n
			logs = append(logs, r.log)
		}
		locs[i] = location{log: n, size: r.h.part.Size, off: r.off + headerSize}
	}
	return logs, locs, nil
}

func writeFile(name string, b []byte, sync bool) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// sealedFile is a sealed file's table and open logs, shared by reads.
type sealedFile struct {
	logs []*os.File
	locs []location
	refs int // guarded by Store.sealedMu; the cache holds one
}

// maxSealedOpen bounds the sealed files kept open between reads.
const maxSealedOpen = 64

// openSealed returns a sealed file, held once by the caller.
func (s *Store) openSealed(id int64) (*sealedFile, error) {
	s.sealedMu.Lock()
	if f := s.sealed[id]; f != nil {
		f.refs++
		s.sealedMu.Unlock()
		return f, nil
	}
	s.sealedMu.Unlock()

	dir := s.fileDir(id)
	raw, err := os.ReadFile(filepath.Join(dir, tableName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, store.ErrNotFound
		}
		return nil, err
	}
	names, locs, err := decodeTable(raw)
	if err != nil {
		return nil, err
	}
	f := &sealedFile{locs: locs, refs: 2}
	for _, n := range names {
		lf, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			f.close()
			if errors.Is(err, fs.ErrNotExist) {
				return nil, store.ErrNotFound
			}
			return nil, err
		}
		f.logs = append(f.logs, lf)
	}

	s.sealedMu.Lock()
	defer s.sealedMu.Unlock()
	if cur := s.sealed[id]; cur != nil {
		f.close() // opened meanwhile by another read
		cur.refs++
		return cur, nil
	}
	if len(s.sealed) >= maxSealedOpen {
		for k, old := range s.sealed {
			delete(s.sealed, k)
			s.unrefLocked(old)
			break
		}
	}
	s.sealed[id] = f
	return f, nil
}

func (f *sealedFile) close() {
	for _, l := range f.logs {
		l.Close()
	}
}

func (s *Store) unrefLocked(f *sealedFile) {
	if f.refs--; f.refs == 0 {
		f.close()
	}
}

func (s *Store) release(f *sealedFile) {
	s.sealedMu.Lock()
	s.unrefLocked(f)
	s.sealedMu.Unlock()
}

// dropSealed forgets the open logs of a file that is being replaced or deleted.
func (s *Store) dropSealed(id int64) {
	s.sealedMu.Lock()
	defer s.sealedMu.Unlock()
	if f := s.sealed[id]; f != nil {
		delete(s.sealed, id)
		s.unrefLocked(f)
	}
}

// ReadAt implements store.Content.
func (s *Store) ReadAt(ctx context.Context, file int64, l store.Layout, p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > l.Size || l.PartSize <= 0 {
		return fmt.Errorf("local: read [%d, %d) outside file of %d bytes", off, off+int64(len(p)), l.Size)
	}
	f, err := s.openSealed(file)
	if err != nil {
		return err
	}
	defer s.release(f)
	ps := int64(l.PartSize)
	for len(p) > 0 {
		index := off / ps
		within := off % ps
		n := min(int64(len(p)), ps-within)
		if index >= int64(len(f.locs)) || within+n > int64(f.locs[index].size) {
			return store.ErrCorrupt
		}
		loc := f.locs[index]
		if _, err := f.logs[loc.log].ReadAt(p[:n], loc.off+within); err != nil {
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
	s.dropSealed(file)
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
