package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"github.com/filedc/filedc/internal/admin"
	"github.com/filedc/filedc/internal/bots"
	"github.com/filedc/filedc/internal/ready"
)

// opsOptions are what an operator sets about running the server: its logs,
// the file that says it is ready, and the admin API.
type opsOptions struct {
	logFormat   string
	readyFile   string
	adminToken  string
	adminRemote bool
}

func opsFlags(f *pflag.FlagSet, o *opsOptions) {
	f.StringVar(&o.logFormat, "log-format", envOr("FILEDC_LOG_FORMAT", "text"), "logs on stderr as text or json (env FILEDC_LOG_FORMAT)")
	f.StringVar(&o.readyFile, "ready-file", "", "once accepting connections, write a JSON object here: listen, dc, fingerprint, public_key, http, data, pid")
	f.StringVar(&o.adminToken, "admin-token", "", "token of the admin API on --http (env FILEDC_ADMIN_TOKEN; default: made once and kept in DIR/admin.token)")
	f.BoolVar(&o.adminRemote, "admin-remote", false, "take admin requests from other machines too, not only loopback")
}

func (o opsOptions) logger() (*slog.Logger, error) {
	switch o.logFormat {
	case "text", "":
		return slog.New(slog.NewTextHandler(os.Stderr, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: text or json", o.logFormat)
}

// clearReady removes a ready file left by an earlier run, so that nobody
// takes it for this one's.
func (o opsOptions) clearReady() error {
	if o.readyFile == "" {
		return nil
	}
	if err := os.Remove(o.readyFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("--ready-file: %w", err)
	}
	return nil
}

func (o opsOptions) writeReady(info ready.Info) error {
	if o.readyFile == "" {
		return nil
	}
	info.PID = os.Getpid()
	if err := ready.Write(o.readyFile, info); err != nil {
		return fmt.Errorf("--ready-file: %w", err)
	}
	return nil
}

// admin returns the admin API over svc, with the token given or the one
// kept in the data directory.
func (o opsOptions) admin(data string, svc *bots.Service) (*admin.Handler, error) {
	token := o.adminToken
	if token == "" {
		token = os.Getenv("FILEDC_ADMIN_TOKEN")
	}
	if token == "" {
		var err error
		if token, err = admin.LoadOrCreateToken(data); err != nil {
			return nil, fmt.Errorf("admin token: %w", err)
		}
	}
	return &admin.Handler{Bots: svc, Token: token, Remote: o.adminRemote}, nil
}
