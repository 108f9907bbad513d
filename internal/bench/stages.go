// Package bench holds what filedc's benchmarks share, so that "filedc
// bench" only wires it up and go test -bench reuses it: the crypto floors
// a server's CPU is held against (MeasureFloors), a filedc server in a
// process of its own (Server), the load generators (Transfer for one
// connection at a time, Crowd for many clients at once, with KeyMaker for
// their auth keys), the calls' latencies, the split of the server's CPU
// profile into the stages of the data path, and its round trips to the
// stores. Other processes' CPU and memory come from internal/procstat.
package bench

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// Stage is a part of the server's work on the data path.
type Stage int

// The stages, in the order a table prints them.
const (
	TransportCrypto Stage = iota // AES-256-IGE and SHA-256 of msg_key, both ways
	TL                           // TL decoding and encoding, layer translation
	Gzip                         // gzip_packed, both ways
	ContentHashing               // SHA-256 (and MD5) of the file's bytes
	Storage                      // the stores' own code: writes and reads
	Syscalls                     // system calls: network and disk
	Copies                       // memmove and memclr outside the stages above
	GC                           // allocation and garbage collection
	Scheduling                   // the Go scheduler: parking and waking goroutines
	Rest                         // everything else
	NumStages
)

var stageNames = [NumStages]string{
	"transport crypto", "TL decode and encode", "gzip", "content hashing", "storage",
	"syscalls", "copies", "GC and allocation", "scheduling", "rest",
}

func (s Stage) String() string { return stageNames[s] }

// Split is a CPU profile's time by stage.
type Split struct {
	Time  [NumStages]time.Duration
	Total time.Duration
}

// SplitProfile reads a CPU profile (pprof's format, as runtime/pprof
// writes it) and adds up its samples by stage.
func SplitProfile(data []byte) (Split, error) {
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		return Split{}, fmt.Errorf("reading the CPU profile: %w", err)
	}
	cpu := slices.IndexFunc(p.SampleType, func(t *profile.ValueType) bool { return t.Type == "cpu" })
	if cpu < 0 {
		return Split{}, fmt.Errorf("the profile has no CPU samples")
	}
	var s Split
	for _, sample := range p.Sample {
		d := time.Duration(sample.Value[cpu])
		s.Time[classify(sample)] += d
		s.Total += d
	}
	return s, nil
}

// classify gives a sample the stage of the innermost frame that names one,
// walking from the leaf outwards; a sample inside the garbage collector or
// an allocation is GC whatever its leaf.
func classify(s *profile.Sample) Stage {
	var funcs []string
	for _, loc := range s.Location {
		for _, line := range loc.Line { // inlined frames first, as pprof lists them
			if line.Function != nil {
				funcs = append(funcs, line.Function.Name)
			}
		}
	}
	onContent := slices.ContainsFunc(funcs, func(f string) bool {
		return hasAnyPrefix(f, "github.com/filedc/filedc/internal/files.", "github.com/filedc/filedc/internal/library.",
			"github.com/filedc/filedc/internal/cdn.")
	})
	for _, f := range funcs {
		if hasAnyPrefix(f, "runtime.gcBgMarkWorker", "runtime.gcAssistAlloc", "runtime.bgsweep",
			"runtime.bgscavenge", "runtime.mallocgc", "runtime.gcStart", "runtime.markroot", "runtime.gcDrain") {
			return GC
		}
	}
	for _, f := range funcs {
		switch {
		case hasAnyPrefix(f, "syscall.", "internal/runtime/syscall.", "runtime/internal/syscall."):
			return Syscalls
		case hasAnyPrefix(f, "crypto/sha256.", "crypto/md5.", "crypto/internal/fips140/sha256.",
			"crypto/internal/fips140/md5.", "crypto/internal/fips140deps/"):
			// SHA-256 serves both msg_key and the file's hashes: the
			// file engine's frames tell them apart.
			if onContent {
				return ContentHashing
			}
			return TransportCrypto
		case hasAnyPrefix(f, "github.com/filedc/filedc/internal/filehash."):
			return ContentHashing
		case hasAnyPrefix(f, "github.com/filedc/filedc/internal/aesige.",
			"crypto/aes.", "crypto/internal/fips140/aes.", "crypto/cipher.",
			"github.com/gotd/ige.", "github.com/go-faster/xor.", "crypto/subtle.", "crypto/internal/fips140/subtle."):
			return TransportCrypto
		case hasAnyPrefix(f, "compress/", "github.com/klauspost/compress/"):
			return Gzip
		case hasAnyPrefix(f, "github.com/gotd/td/bin.", "github.com/gotd/td/tg.", "github.com/gotd/td/mt.",
			"github.com/gotd/td/tdp.", "github.com/filedc/filedc/internal/layer", "github.com/filedc/filedc/internal/invoke."):
			return TL
		case hasAnyPrefix(f, "runtime.memmove", "runtime.memclrNoHeapPointers"):
			return Copies
		case hasAnyPrefix(f, "github.com/filedc/filedc/internal/store/", "go.etcd.io/bbolt.",
			"github.com/minio/", "github.com/jackc/", "github.com/redis/"):
			return Storage
		case hasAnyPrefix(f, "runtime.schedule", "runtime.findRunnable", "runtime.park_m", "runtime.mcall",
			"runtime.goready", "runtime.ready", "runtime.futex", "runtime.netpoll", "runtime.stealWork",
			"runtime.notesleep", "runtime.notewakeup", "runtime.wakep", "runtime.startm", "runtime.stopm"):
			return Scheduling
		}
	}
	return Rest
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
