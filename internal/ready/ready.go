// Package ready is the file `filedc serve --ready-file` writes once the
// server accepts connections, and the wait for it: tests, the bench and
// scripts learn the server's addresses and key from it instead of parsing
// a log line.
package ready

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Info is what the file holds.
type Info struct {
	Listen      string `json:"listen"`      // MTProto, host:port
	DC          int    `json:"dc"`          // the DC id
	Fingerprint int64  `json:"fingerprint"` // of the RSA key clients trust
	PublicKey   string `json:"public_key"`  // path of the PEM clients load
	HTTP        string `json:"http"`        // health, metrics and admin, host:port
	Data        string `json:"data"`        // the data directory
	CDN         bool   `json:"cdn,omitempty"`
	PID         int    `json:"pid"`
}

// Write writes info to path atomically: a reader sees the whole object or
// no file.
func Write(path string, info Info) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Wait waits for the file at path, until ctx ends or exited is closed (the
// server's process ended first).
func Wait(ctx context.Context, path string, exited <-chan struct{}) (Info, error) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			var info Info
			if err := json.Unmarshal(b, &info); err != nil {
				return Info{}, fmt.Errorf("ready file %s: %w", path, err)
			}
			return info, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return Info{}, err
		}
		select {
		case <-tick.C:
		case <-exited:
			return Info{}, errors.New("the server exited before it was ready")
		case <-ctx.Done():
			return Info{}, fmt.Errorf("waiting for %s: %w", path, ctx.Err())
		}
	}
}
