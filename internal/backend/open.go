package backend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/bolt"
	"github.com/filedc/filedc/internal/store/local"
	"github.com/filedc/filedc/internal/store/objstore"
	"github.com/filedc/filedc/internal/store/postgres"
	"github.com/filedc/filedc/internal/store/trips"
)

// Options says where each part of a backend lives. An empty URL keeps that
// part embedded under Dir.
type Options struct {
	Dir      string // the embedded default's directory
	S3       string // content and part bytes: http[s]://KEY:SECRET@HOST:PORT/BUCKET[/PREFIX][?region=R]
	Postgres string // records: postgres://USER:PASSWORD@HOST:PORT/DB[?...]
	Redis    string // temporary part state: redis://[:PASSWORD@]HOST:PORT[/DB][?prefix=P]
}

// Describe says in one line where things are, for the log.
func (o Options) Describe() string {
	content, records, parts := "disk "+o.Dir, "bbolt "+filepath.Join(o.Dir, "meta.db"), "disk"
	switch {
	case o.S3 != "" && o.Redis != "":
		content, parts = "s3", "s3 + redis"
	case o.S3 != "":
		content, parts = "s3", "s3 + bbolt "+filepath.Join(o.Dir, "parts.db")
	case o.Redis != "":
		content, parts = "disk "+filepath.Join(o.Dir, "objects"), "disk + redis"
	}
	if o.Postgres != "" {
		records = "postgres"
	}
	return fmt.Sprintf("content: %s; temporary parts: %s; records: %s", content, parts, records)
}

// Validate checks the URLs without connecting, so that a typo fails before
// anything starts.
func (o Options) Validate() error {
	if o.S3 != "" {
		if _, err := objstore.ParseS3URL(o.S3); err != nil {
			return fmt.Errorf("--s3: %w", err)
		}
	}
	if o.Postgres != "" && !strings.HasPrefix(o.Postgres, "postgres://") && !strings.HasPrefix(o.Postgres, "postgresql://") {
		return fmt.Errorf("--postgres: want postgres://USER:PASSWORD@HOST:PORT/DATABASE, got %q", redact(o.Postgres))
	}
	if o.Redis != "" && !strings.HasPrefix(o.Redis, "redis://") && !strings.HasPrefix(o.Redis, "rediss://") {
		return fmt.Errorf("--redis: want redis://[:PASSWORD@]HOST:PORT[/DB], got %q", redact(o.Redis))
	}
	return nil
}

// redact hides what could be a password in a URL that failed to parse.
func redact(u string) string {
	if at := strings.LastIndex(u, "@"); at >= 0 {
		if scheme := strings.Index(u, "://"); scheme >= 0 && scheme < at {
			return u[:scheme+3] + "…" + u[at:]
		}
		return "…" + u[at:]
	}
	return u
}

// Open assembles a backend: PostgreSQL for records when o.Postgres is set;
// S3 and/or Redis for content and temporary parts when set; the embedded
// default under o.Dir for the rest.
func Open(ctx context.Context, o Options, cfg files.Config) (*Embedded, error) {
	if o.S3 == "" && o.Postgres == "" && o.Redis == "" {
		return OpenEmbedded(ctx, o.Dir, cfg)
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	b := &Embedded{Trips: trips.New()}
	fail := func(err error) (*Embedded, error) { return nil, errors.Join(err, b.Close()) }

	if o.Postgres != "" {
		pg, err := postgres.OpenCounted(ctx, o.Postgres, b.Trips)
		if err != nil {
			return fail(err)
		}
		b.closers = append(b.closers, func() error { pg.Close(); return nil })
		b.Meta = pg
	} else {
		meta, err := bolt.Open(filepath.Join(o.Dir, "meta.db"))
		if err != nil {
			return fail(err)
		}
		b.closers = append(b.closers, meta.Close)
		b.Meta = meta
	}

	var temp store.Temp
	var content store.Content
	if o.S3 == "" && o.Redis == "" {
		disk, err := local.Open(o.Dir, local.Options{Sync: true})
		if err != nil {
			return fail(err)
		}
		b.Disk, temp, content = disk, disk, disk
	} else {
		var bucket objstore.Bucket
		var index objstore.Index
		if o.S3 != "" {
			s3, err := objstore.OpenS3(ctx, o.S3)
			if err != nil {
				return fail(err)
			}
			bucket = objstore.CountTrips(s3, "s3", b.Trips)
		} else {
			dir, err := objstore.OpenDir(filepath.Join(o.Dir, "objects"))
			if err != nil {
				return fail(err)
			}
			bucket = dir
		}
		if o.Redis != "" {
			ttl := cfg.MaxTTL
			if ttl <= 0 {
				ttl = 6 * time.Hour // the engine's default
			}
			r, err := objstore.OpenRedis(ctx, o.Redis, ttl)
			if err != nil {
				return fail(err)
			}
			b.closers = append(b.closers, r.Close)
			r.CountTrips(b.Trips)
			index = r
		} else {
			bi, err := objstore.OpenBoltIndex(filepath.Join(o.Dir, "parts.db"))
			if err != nil {
				return fail(err)
			}
			b.closers = append(b.closers, bi.Close)
			index = bi
		}
		s := objstore.New(bucket, index, objstore.GC{MaxTTL: cfg.MaxTTL})
		b.closers = append(b.closers, s.Close)
		temp, content = s, s
	}
	// Records in PostgreSQL and part state in Redis are what several
	// processes of a DC can share: the engine then reads parts saved
	// through the others (O2).
	cfg.Shared = o.Postgres != "" && o.Redis != ""
	eng, err := files.New(ctx, cfg, temp, content, b.Meta)
	if err != nil {
		return fail(err)
	}
	b.Engine = eng
	return b, nil
}

// Args returns the serve flags that select these backends (Dir aside).
func (o Options) Args() []string {
	var args []string
	for _, f := range []struct{ flag, url string }{{"--s3", o.S3}, {"--postgres", o.Postgres}, {"--redis", o.Redis}} {
		if f.url != "" {
			args = append(args, f.flag, f.url)
		}
	}
	return args
}
