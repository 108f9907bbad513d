package local

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// FuzzHeader: any 64 bytes either fail to decode or decode to a header
// that encodes back to the same bytes.
func FuzzHeader(f *testing.F) {
	var b [headerSize]byte
	(&header{key: store.UploadKey{Owner: 1, FileID: 2, Big: true}, part: store.Part{Index: 3, Size: 4096, Total: 9,
		SavedAt: time.Unix(0, 12345)}, crc: 7}).encode(b[:])
	f.Add(b[:])
	f.Fuzz(func(t *testing.T, raw []byte) {
		var h header
		if h.decode(raw) != nil {
			return
		}
		var out [headerSize]byte
		h.encode(out[:])
		if !bytes.Equal(out[:60], raw[:60]) {
			t.Fatalf("decoded %+v encodes to %x, was %x", h, out[:60], raw[:60])
		}
	})
}

// FuzzTable: a sealed file's table decodes only when it re-encodes to the
// same bytes, and its locations name its logs.
func FuzzTable(f *testing.F) {
	f.Add(encodeTable([]string{"0123456789abcdef.log"}, []location{{log: 0, size: 100, off: 64}}))
	f.Add([]byte(tableMagic))
	f.Fuzz(func(t *testing.T, raw []byte) {
		logs, locs, err := decodeTable(raw)
		if err != nil {
			return
		}
		for _, l := range locs {
			if l.log < 0 || l.log >= len(logs) {
				t.Fatalf("location names log %d of %d", l.log, len(logs))
			}
		}
		if !bytes.Equal(encodeTable(logs, locs), raw) {
			t.Fatal("a table that decodes does not encode back")
		}
	})
}

// FuzzScanLog: scanning any log file, damaged or cut anywhere, never
// panics, reports records only at aligned offsets within the file, and
// never reads past its end.
func FuzzScanLog(f *testing.F) {
	var rec [headerSize]byte
	(&header{part: store.Part{Index: 0, Size: 10, SavedAt: time.Unix(0, 1)}}).encode(rec[:])
	log := append(rec[:], make([]byte, align-headerSize)...)
	f.Add(log)
	f.Add(append(append([]byte{}, log...), rec[:]...))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, raw []byte) {
		name := filepath.Join(dir, "fuzz.log")
		if err := os.WriteFile(name, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		end, err := scanLog(name, 0, func(off int64, h header) {
			if off%align != 0 || off+headerSize > int64(len(raw)) {
				t.Fatalf("record at %d in a log of %d bytes", off, len(raw))
			}
		})
		if err == nil && (end < 0 || end%align != 0) {
			t.Fatalf("scan ends at %d", end)
		}
	})
}
