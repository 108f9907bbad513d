package local

import (
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to begin writing a part to disk now, without
// waiting, so the flush at Seal finds little left to do.
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// syncParts flushes the content of every part, then the directory itself.
func syncParts(dir string, parts int) error {
	for i := 0; i < parts; i++ {
		f, err := os.Open(filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			return err
		}
		err = unix.Fdatasync(int(f.Fd()))
		f.Close()
		if err != nil {
			return err
		}
	}
	return syncDir(dir)
}
