package local

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/filedc/filedc/internal/store"
)

var _ store.PartLister = (*Store)(nil)

// Parts implements store.PartLister: it reads the part headers of one
// upload. Unlike Scan it removes nothing, since on a directory several
// processes share a file that looks stray may be another's write in flight.
func (s *Store) Parts(ctx context.Context, id store.UploadID) ([]store.Part, error) {
	entries, err := os.ReadDir(s.uploadDir(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var parts []store.Part
	for _, e := range entries {
		index, err := strconv.Atoi(e.Name())
		if err != nil || index < 0 || e.IsDir() {
			continue
		}
		f, err := os.Open(filepath.Join(s.uploadDir(id), e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		h, err := readHeader(f)
		f.Close()
		if errors.Is(err, store.ErrCorrupt) || (err == nil && h.part.Index != index) {
			continue // read as missing; the client saves it again
		}
		if err != nil {
			return nil, err
		}
		parts = append(parts, h.part)
	}
	slices.SortFunc(parts, func(a, b store.Part) int { return a.Index - b.Index })
	return parts, nil
}
