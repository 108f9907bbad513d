package local

import (
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// writeRecord writes a record's header and content with one pwritev.
func writeRecord(f *os.File, off int64, header, data []byte) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	want := len(header) + len(data)
	var n int
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		n, werr = unix.Pwritev(int(fd), [][]byte{header, data}, off)
		return true
	})
	if err == nil {
		err = werr
	}
	if err == nil && n < want {
		// Short writes happen only on a full disk or a signal; finish plainly.
		rest := append(append([]byte(nil), header...), data...)[n:]
		_, err = f.WriteAt(rest, off+int64(n))
	}
	return err
}

// startWriteback asks the kernel to begin writing a record to disk now,
// without waiting, so the flush at Seal finds little left to do.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}

// waitWriteback starts writing the dirty bytes of f before end to disk and
// waits until every one of them has been handed to it. It does not flush
// the disk's cache or the file's metadata: the fdatasync at Seal does, and
// finds little left to write. It reports whether it did wait.
func waitWriteback(f *os.File, end int64) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	if err := rc.Control(func(fd uintptr) {
		err = unix.SyncFileRange(int(fd), 0, end, unix.SYNC_FILE_RANGE_WRITE_AND_WAIT)
	}); err != nil {
		return false
	}
	return err == nil
}

// syncFiles flushes the content of the named files in dir, then dir itself.
func syncFiles(dir string, names []string) error {
	for _, n := range names {
		if err := fdatasync(filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

func fdatasync(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	err = unix.Fdatasync(int(f.Fd()))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// punchHole frees the disk blocks of [off, off+n) of f, keeping its size:
// the bytes read back as zeros.
func punchHole(f *os.File, off, n int64) error {
	return unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
}

// uploadsOnly reports whether the open log f has one name, name, its
// upload's: no sealed file links it, and no other process removed the
// upload (the log may then be a sealed file's only name).
func uploadsOnly(f *os.File, name string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Nlink != 1 {
		return false
	}
	named, err := os.Stat(name)
	return err == nil && os.SameFile(fi, named)
}
