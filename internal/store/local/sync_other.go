//go:build !linux

package local

import (
	"os"
	"path/filepath"
	"strconv"
)

func startWriteback(f *os.File) {}

func syncParts(dir string, parts int) error {
	for i := 0; i < parts; i++ {
		f, err := os.Open(filepath.Join(dir, strconv.Itoa(i)))
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
