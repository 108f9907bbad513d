//go:build !linux

package local

import (
	"os"
	"path/filepath"
)

func writeRecord(f *os.File, off int64, header, data []byte) error {
	if _, err := f.WriteAt(header, off); err != nil {
		return err
	}
	_, err := f.WriteAt(data, off+int64(len(header)))
	return err
}

func startWriteback(f *os.File, off, n int64) {}

// waitWriteback cannot wait for part of a file here: Seal flushes it all.
func waitWriteback(f *os.File, end int64) bool { return false }

func syncFiles(dir string, names []string) error {
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// punchHole is not available here: a re-saved part's old bytes stay until
// the upload is removed.
func punchHole(f *os.File, off, n int64) error { return nil }

// uploadsOnly reports false: nothing is punched here anyway.
func uploadsOnly(f *os.File, name string) bool { return false }
