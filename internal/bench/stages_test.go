package bench

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// cpuProfile builds a CPU profile of the given stacks (leaf first), each
// with the given CPU time.
func cpuProfile(t testing.TB, stacks map[time.Duration][]string) []byte {
	t.Helper()
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     10_000_000,
	}
	funcs := map[string]*profile.Function{}
	for d, stack := range stacks {
		s := &profile.Sample{Value: []int64{1, int64(d)}}
		for _, name := range stack {
			f := funcs[name]
			if f == nil {
				f = &profile.Function{ID: uint64(len(funcs) + 1), Name: name}
				funcs[name] = f
				p.Function = append(p.Function, f)
			}
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: f}}}
			p.Location = append(p.Location, loc)
			s.Location = append(s.Location, loc)
		}
		p.Sample = append(p.Sample, s)
	}
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSplitProfileByStage: each sample goes to the stage of its innermost
// frame that names one; SHA-256 is content hashing under the file engine
// and transport crypto under MTProto; anything under an allocation is GC.
func TestSplitProfileByStage(t *testing.T) {
	ms := time.Millisecond
	data := cpuProfile(t, map[time.Duration][]string{
		1 * ms:  {"crypto/internal/fips140/sha256.blockSHANI", "crypto/sha256.(*Digest).Write", "github.com/filedc/filedc/internal/files.(*ahead).add"},
		2 * ms:  {"crypto/internal/fips140/sha256.blockSHANI", "github.com/gotd/td/crypto.MessageKey", "github.com/filedc/filedc/internal/mtproto/server.(*conn).decrypt"},
		4 * ms:  {"crypto/internal/fips140/aes.encryptBlockAsm", "github.com/gotd/ige.(*igeDecrypter).CryptBlocks"},
		9 * ms:  {"github.com/go-faster/xor.xorBytesSSE2", "github.com/go-faster/xor.Bytes", "github.com/gotd/ige.DecryptBlocks"},
		8 * ms:  {"github.com/gotd/td/bin.(*Buffer).Bytes", "github.com/gotd/td/tg.(*UploadSaveBigFilePartRequest).Decode"},
		16 * ms: {"internal/runtime/syscall.Syscall6", "syscall.pwritev", "github.com/filedc/filedc/internal/store/local.writeRecord"},
		32 * ms: {"runtime.memmove", "github.com/filedc/filedc/internal/store/local.(*Store).ReadPart"},
		64 * ms: {"runtime.memclrNoHeapPointers", "runtime.mallocgc", "github.com/gotd/td/bin.(*Buffer).Expand"},
		3 * ms:  {"runtime.futex", "runtime.notesleep", "runtime.stopm", "runtime.findRunnable", "runtime.schedule"},
		5 * ms:  {"compress/flate.(*decompressor).huffSym", "compress/gzip.(*Reader).Read"},
		6 * ms:  {"github.com/filedc/filedc/internal/store/objstore.(*Store).PutPart"},
		7 * ms:  {"github.com/filedc/filedc/internal/files.(*partSet).put"},
		10 * ms: {"github.com/filedc/filedc/internal/filehash.blockPair", "github.com/filedc/filedc/internal/filehash.(*Hasher).Write", "github.com/filedc/filedc/internal/files.(*ahead).add"},
		11 * ms: {"github.com/filedc/filedc/internal/aesige.decryptHashBlocks", "github.com/filedc/filedc/internal/aesige.DecryptHashed"},
		12 * ms: {"crypto/internal/fips140/sha256.blockSHANI", "github.com/filedc/filedc/internal/aesige.finishSHA256", "github.com/filedc/filedc/internal/mtproto/server.decrypt"},
	})
	s, err := SplitProfile(data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Stage]time.Duration{
		ContentHashing: 11 * ms, TransportCrypto: 38 * ms, TL: 8 * ms, Syscalls: 16 * ms, Copies: 32 * ms,
		GC: 64 * ms, Scheduling: 3 * ms, Gzip: 5 * ms, Storage: 6 * ms, Rest: 7 * ms,
	}
	var total time.Duration
	for st := range NumStages {
		if s.Time[st] != want[st] {
			t.Errorf("%s: %v, want %v", st, s.Time[st], want[st])
		}
		total += want[st]
	}
	if s.Total != total {
		t.Errorf("total %v, want %v", s.Total, total)
	}
	if _, err := SplitProfile([]byte("not a profile")); err == nil {
		t.Error("a profile of garbage was read")
	}
}

// FuzzSplitProfile: any bytes give an error or a split whose stages add up.
func FuzzSplitProfile(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x1f\x8b"))
	f.Add(cpuProfile(f, map[time.Duration][]string{
		time.Millisecond:     {"runtime.memmove", "github.com/gotd/td/bin.(*Buffer).Bytes"},
		2 * time.Millisecond: {"crypto/sha256.(*Digest).Write", "github.com/filedc/filedc/internal/files.(*ahead).add"},
	}))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := SplitProfile(data)
		if err != nil {
			return
		}
		var sum time.Duration
		for _, d := range s.Time {
			sum += d
		}
		if sum != s.Total {
			t.Fatalf("stages add up to %v, total %v", sum, s.Total)
		}
	})
}
