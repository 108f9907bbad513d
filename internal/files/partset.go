package files

import "github.com/filedc/filedc/internal/filehash"

// Part-size rules (U3) come from Telegram's upload guide: every part but the
// last has the same size part_size, with part_size % 1024 == 0 and
// 524288 % part_size == 0; the last part may be smaller.

const (
	maxPartSize   = 512 << 10          // FILE_PART_TOO_BIG above this
	smallFileMax  = 10 << 20           // larger files must use the big path (U7)
	rangeHashSize = filehash.RangeSize // upload.getFileHashes ranges (D9), hashed by filehash
	hashesPerCall = 8                  // one 1 MiB getFile block of ranges
	blockSize     = 1 << 20            // a getFile request stays inside one such block (D4)
)

// validPartSize reports whether a part of this size may be a non-last part.
func validPartSize(size int) bool {
	return size > 0 && size%1024 == 0 && maxPartSize%size == 0
}

// partSet is the state of one upload's parts: what the size and count rules
// need, kept in O(1) per change so that thousands of parallel saves of one
// upload stay cheap. It does not hold bytes.
type partSet struct {
	sizes   []int32 // by part index; 0 = absent
	saved   []int64 // by part index: engine clock at save, unix ns
	totals  []int32 // by part index: file_total_parts as sent (big path), else 0
	count   int     // parts present
	bytes   int64   // sum of sizes
	max     int     // highest index present, -1 if none
	bySize  map[int32]int
	byTotal map[int32]int // positive totals only
}

func newPartSet() *partSet {
	return &partSet{max: -1, bySize: make(map[int32]int, 2), byTotal: make(map[int32]int, 1)}
}

func (s *partSet) has(i int) bool { return i >= 0 && i < len(s.sizes) && s.sizes[i] != 0 }

func (s *partSet) size(i int) int {
	if i >= 0 && i < len(s.sizes) {
		return int(s.sizes[i])
	}
	return 0
}

// put adds or replaces part i. Growth is bounded by the caller's max_parts check.
func (s *partSet) put(i, size int, total int32, savedAt int64) {
	s.remove(i)
	if i >= len(s.sizes) {
		n := max(i+1, 2*len(s.sizes))
		s.sizes = append(s.sizes, make([]int32, n-len(s.sizes))...)
		s.saved = append(s.saved, make([]int64, n-len(s.saved))...)
		s.totals = append(s.totals, make([]int32, n-len(s.totals))...)
	}
	s.sizes[i], s.saved[i], s.totals[i] = int32(size), savedAt, total
	s.count++
	s.bytes += int64(size)
	s.bySize[int32(size)]++
	if total > 0 {
		s.byTotal[total]++
	}
	s.max = max(s.max, i)
}

// remove drops part i if present.
func (s *partSet) remove(i int) {
	if !s.has(i) {
		return
	}
	size, total := s.sizes[i], s.totals[i]
	s.sizes[i], s.saved[i], s.totals[i] = 0, 0, 0
	s.count--
	s.bytes -= int64(size)
	if s.bySize[size]--; s.bySize[size] == 0 {
		delete(s.bySize, size)
	}
	if total > 0 {
		if s.byTotal[total]--; s.byTotal[total] == 0 {
			delete(s.byTotal, total)
		}
	}
	if i == s.max {
		for s.max >= 0 && !s.has(s.max) {
			s.max--
		}
	}
}

// total returns the declared total when the parts agree on one (0 if none was
// declared) and whether they agree.
func (s *partSet) total() (int32, bool) {
	if len(s.byTotal) > 1 {
		return 0, false
	}
	for t := range s.byTotal {
		return t, true
	}
	return 0, true
}

// checkSizes applies U3 given that part last is the only part that may be the
// last one. Every other present part is a non-last part: they must share one
// valid size, and the last part must not exceed it.
func (s *partSet) checkSizes(last int) error {
	lastSize := int32(s.size(last))
	var partSize int32
	distinct := 0
	for size, n := range s.bySize {
		if size == lastSize {
			n-- // the last part's own size does not count
		}
		if n > 0 {
			partSize = size
			distinct++
		}
	}
	switch {
	case distinct > 1:
		return ErrFilePartSizeChanged
	case distinct == 0:
		return nil
	case !validPartSize(int(partSize)):
		return ErrFilePartSizeInvalid
	case lastSize > partSize:
		return ErrFilePartSizeChanged
	}
	return nil
}

// checkSave says whether the parts, just after part i was put, can still be a
// prefix of a valid upload (U3, U4, U6). It reports the error at the earliest
// point the data proves the upload invalid, and never for a valid upload
// whatever the order its parts arrive in.
func (s *partSet) checkSave(i int) error {
	total, ok := s.total()
	if !ok {
		return ErrFilePartsInvalid
	}
	last := s.max
	if total > 0 {
		if s.max >= int(total) {
			if i >= int(total) {
				return ErrFilePartInvalid
			}
			return ErrFilePartsInvalid
		}
		last = int(total) - 1
	}
	if i != last && !validPartSize(s.size(i)) {
		return ErrFilePartSizeInvalid
	}
	return s.checkSizes(last)
}

// checkFinal says whether the parts form a complete upload of n parts (F1, F2,
// U3, U7). big tells whether the parts came through saveBigFilePart.
func (s *partSet) checkFinal(n int, big bool) error {
	total, ok := s.total()
	if !ok || (total > 0 && int(total) != n) || s.max >= n {
		return ErrFilePartsInvalid
	}
	if s.count < n {
		for i := 0; i < n; i++ {
			if !s.has(i) {
				return ErrFilePartMissing(i)
			}
		}
	}
	if err := s.checkSizes(n - 1); err != nil {
		return err
	}
	if !big && s.bytes > smallFileMax {
		return ErrFilePartsInvalid
	}
	return nil
}
