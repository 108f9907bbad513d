package files

import (
	"context"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/filedc/filedc/internal/store"
)

// The hashes taken as parts arrive (ahead.go) are kept in the Temp store
// (store.HashStateKeeper) every Config.HashStateEvery bytes hashed, so that
// a restart in the middle of an upload goes on from the last of them
// instead of reading back every part saved before it (rule F5). A state
// names the version of every part it covers; a start uses it only if the
// store still holds exactly those versions, and Seal checks them again.
//
// Layout, integers little-endian:
//
//	"FDH1"
//	u32 next: parts 0..next-1 are hashed
//	u64 bytes hashed
//	u8  length, file type
//	u16 length, SHA-256 state of the whole file
//	u16 length, SHA-256 state of the open 128 KiB range
//	u16 length, MD5 state (0: the upload is big and has none)
//	u32 count, then the SHA-256 of each complete range
//	next × u64 versions
//	u32 CRC-32C of all the above
const hashStateMagic = "FDH1"

// maxHashStateLen bounds one marshalled hash state: crypto/sha256's and
// crypto/md5's are about 100 bytes.
const maxHashStateLen = 1 << 10

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errHashState marks a kept state that cannot be used.
var errHashState = errors.New("files: unusable hash state")

type hashState struct {
	next     int
	hashed   int64
	fileType FileType
	whole    []byte
	ranges   []byte
	md5      []byte
	done     []store.Hash
	versions []uint64
}

// encodeState returns the state of a's hashes; the caller holds a.mu.
func (a *ahead) encodeState() ([]byte, error) {
	whole, ranges := a.sums.MarshalStates()
	done := a.sums.Done()
	var md []byte
	if a.md5 != nil {
		var err error
		if md, err = a.md5.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
			return nil, err
		}
	}
	b := make([]byte, 0, 4+4+8+1+len(a.fileType)+6+len(whole)+len(ranges)+len(md)+4+32*len(done)+8*a.next+4)
	b = append(b, hashStateMagic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(a.next))
	b = binary.LittleEndian.AppendUint64(b, uint64(a.hashed))
	b = append(b, byte(len(a.fileType)))
	b = append(b, a.fileType...)
	for _, s := range [][]byte{whole, ranges, md} {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(done)))
	for _, h := range done {
		b = append(b, h[:]...)
	}
	for _, v := range a.versions {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

// decodeHashState parses a kept state of an upload of at most maxParts
// parts. Every length is checked against what is left, so a damaged state
// is refused without allocating more than its own size.
func decodeHashState(b []byte, maxParts int) (hashState, error) {
	bad := func(what string) (hashState, error) {
		return hashState{}, fmt.Errorf("%w: %s", errHashState, what)
	}
	if len(b) < len(hashStateMagic)+4 || string(b[:len(hashStateMagic)]) != hashStateMagic {
		return bad("not a hash state")
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return bad("checksum")
	}
	r := reader{b: body[len(hashStateMagic):]}
	var s hashState
	next, hashed := r.u32(), r.u64()
	if next == 0 || next > uint64(maxParts) || hashed < next || hashed > next*maxPartSize {
		return bad("parts or bytes out of range")
	}
	s.next, s.hashed = int(next), int64(hashed)
	s.fileType = FileType(r.bytes(int(r.u8())))
	s.whole = r.bytes(int(r.u16()))
	s.ranges = r.bytes(int(r.u16()))
	s.md5 = r.bytes(int(r.u16()))
	ranges := r.u32()
	if r.err || len(s.whole) > maxHashStateLen || len(s.ranges) > maxHashStateLen || len(s.md5) > maxHashStateLen ||
		ranges != hashed/rangeHashSize {
		return bad("hashes")
	}
	if uint64(len(r.b)) != ranges*32+next*8 {
		return bad("length")
	}
	s.done = make([]store.Hash, ranges)
	for i := range s.done {
		copy(s.done[i][:], r.bytes(32))
	}
	s.versions = make([]uint64, next)
	for i := range s.versions {
		s.versions[i] = r.u64()
	}
	return s, nil
}

// reader takes little-endian fields off a byte slice; err is set, and zero
// values returned, once a field runs past the end.
type reader struct {
	b   []byte
	err bool
}

func (r *reader) bytes(n int) []byte {
	if r.err || n > len(r.b) {
		r.err = true
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint64 {
	if b := r.bytes(1); b != nil {
		return uint64(b[0])
	}
	return 0
}

func (r *reader) u16() uint64 {
	if b := r.bytes(2); b != nil {
		return uint64(binary.LittleEndian.Uint16(b))
	}
	return 0
}

func (r *reader) u32() uint64 {
	if b := r.bytes(4); b != nil {
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.bytes(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// restore makes a go on from s, if s covers exactly the first parts of
// parts (ordered by index, as Temp.Scan gives them) in the versions the
// store holds now; the caller holds a.mu or owns a alone.
func (a *ahead) restore(s hashState, parts []store.Part) error {
	if s.next > len(parts) || (a.md5 == nil) != (len(s.md5) == 0) {
		return fmt.Errorf("%w: covers parts not there", errHashState)
	}
	var bytes int64
	for i := range s.next {
		if parts[i].Index != i || parts[i].Version != s.versions[i] {
			return fmt.Errorf("%w: part %d saved again since", errHashState, i)
		}
		bytes += int64(parts[i].Size)
	}
	if bytes != s.hashed {
		return fmt.Errorf("%w: %d bytes hashed, the parts hold %d", errHashState, s.hashed, bytes)
	}
	if err := a.sums.UnmarshalStates(s.whole, s.ranges, s.done); err != nil || a.sums.Len() != s.hashed {
		a.reset()
		return fmt.Errorf("%w: the SHA-256 states do not describe %d bytes", errHashState, s.hashed)
	}
	if a.md5 != nil {
		if err := a.md5.(encoding.BinaryUnmarshaler).UnmarshalBinary(s.md5); err != nil {
			a.reset()
			return fmt.Errorf("%w: %v", errHashState, err)
		}
	}
	a.next, a.hashed, a.kept = s.next, s.hashed, s.hashed
	a.fileType = s.fileType
	a.versions = s.versions
	return nil
}

// pendingState is a state taken under ahead.mu, to be kept after it is
// released.
type pendingState struct {
	data      []byte
	gen, next int
}

// takeState returns a's state if HashStateEvery more bytes were hashed
// since the last one taken; the caller holds a.mu.
func (e *Engine) takeState(a *ahead) *pendingState {
	if e.keeper == nil || e.cfg.HashStateEvery <= 0 || a.hashed-a.kept < e.cfg.HashStateEvery {
		return nil
	}
	data, err := a.encodeState()
	if err != nil {
		return nil
	}
	a.kept = a.hashed
	return &pendingState{data: data, gen: a.gen, next: a.next}
}

// keepState writes s to the store unless a newer state of the upload was
// written already (saves take states in order but may write them out of
// it). A failure only costs a restart some reads.
func (e *Engine) keepState(ctx context.Context, u *upload, s *pendingState) {
	a := u.ahead
	a.keepMu.Lock()
	defer a.keepMu.Unlock()
	if s.gen < a.keptGen || (s.gen == a.keptGen && s.next <= a.keptNext) {
		return
	}
	if err := storeErr(&e.stats.tempErrs, e.keeper.PutHashState(ctx, u.id, s.data)); err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			e.cfg.Logger.Warn("keeping an upload's hash state", "upload", u.id, "err", err)
		}
		return
	}
	a.keptGen, a.keptNext = s.gen, s.next
	e.stats.hashStatesKept.Add(1)
}

// loadState makes u's hashes go on from the state kept for it, if it still
// matches the parts the store holds; recover calls it for each upload found.
func (e *Engine) loadState(ctx context.Context, u *upload, parts []store.Part) {
	if e.keeper == nil {
		return
	}
	b, err := e.keeper.HashState(ctx, u.id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			e.cfg.Logger.Warn("reading an upload's hash state", "upload", u.id, "err", err)
		}
		return
	}
	s, err := decodeHashState(b, e.cfg.PremiumMaxParts)
	if err == nil {
		err = u.ahead.restore(s, parts)
	}
	if err != nil {
		e.cfg.Logger.Info("not going on from an upload's hash state; its parts are hashed again", "upload", u.id, "err", err)
		return
	}
	e.stats.hashStatesLoaded.Add(1)
	e.cfg.Logger.Info(HashStateLoadedMessage, "upload", u.id, "parts", s.next, "bytes", s.hashed)
}

// HashStateLoadedMessage is logged for every upload a start goes on from.
const HashStateLoadedMessage = "going on from an upload's kept hashes"
