// Package postgres keeps the records of the data center in PostgreSQL: file
// records with their range hashes and consumed uploads (store.Meta), auth
// keys, accounts, messages, documents and photos. Several filedc processes may
// share one database; every write that must be atomic is one statement or one
// transaction.
//
// The schema is created and migrated when the store opens; concurrent openers
// take an advisory lock, so one of them migrates and the others wait.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/trips"
)

// Store implements the metadata interfaces of package store on PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

var (
	_ store.Meta      = (*Store)(nil)
	_ store.AuthKeys  = (*Store)(nil)
	_ store.Accounts  = (*Store)(nil)
	_ store.Messages  = (*Store)(nil)
	_ store.Documents = (*Store)(nil)
	_ store.Photos    = (*Store)(nil)
)

// defaultMaxConns bounds the connections of one process when the URL does not
// say (pool_max_conns=N): enough for parallel finalizations, few enough that
// several processes fit under PostgreSQL's default of 100.
const defaultMaxConns = 16

// Open connects to the database at url (postgres://user:pass@host:port/db?...,
// any form pgx accepts) and brings its schema up to date.
func Open(ctx context.Context, url string) (*Store, error) { return OpenCounted(ctx, url, nil) }

// OpenCounted is Open, with every statement and batch sent after the
// schema is up to date counted in c.
func OpenCounted(ctx context.Context, url string, c *trips.Counter) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	counting := &atomic.Bool{}
	if c != nil {
		cfg.ConnConfig.Tracer = tripTracer{c, counting}
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	counting.Store(true)
	return s, nil
}

// Close closes the connections.
func (s *Store) Close() { s.pool.Close() }

// Pool exposes the connection pool to tests.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// migrations are applied in order, each once; never edit one that shipped,
// append a new one.
var migrations = [][]string{
	1: {
		`CREATE TABLE files (
			id          bigint PRIMARY KEY,
			access_hash bigint NOT NULL,
			owner       bigint NOT NULL,
			name        text NOT NULL,
			size        bigint NOT NULL,
			part_size   integer NOT NULL,
			parts       integer NOT NULL,
			sha256      bytea NOT NULL,
			type        text NOT NULL,
			created     bigint NOT NULL, -- unix ns
			upload      bytea NOT NULL,
			hashes      bytea NOT NULL   -- SHA-256 of each 128 KiB range, concatenated
		)`,
		// Random hashes do not compress; stored uncompressed, a range of them
		// is read without reading the whole value.
		`ALTER TABLE files ALTER COLUMN hashes SET STORAGE EXTERNAL`,
		`CREATE TABLE consumed (
			upload bytea PRIMARY KEY,
			at     bigint NOT NULL -- the record's created time, unix ns
		)`,
		`CREATE INDEX consumed_at ON consumed (at)`,
		`CREATE TABLE auth_keys (
			id      bytea PRIMARY KEY,
			value   bytea NOT NULL,
			created bigint NOT NULL,
			expires bigint NOT NULL,
			user_id bigint NOT NULL,
			layer   integer NOT NULL,
			perm_id bytea NOT NULL
		)`,
		`CREATE TABLE accounts (
			id         bigint PRIMARY KEY,
			bot        boolean NOT NULL,
			name       text NOT NULL,
			username   text NOT NULL,
			phone      text UNIQUE, -- NULL: none
			secret     text NOT NULL,
			access_key bigint NOT NULL,
			premium    boolean NOT NULL,
			created    bigint NOT NULL,
			photos     bigint[] NOT NULL
		)`,
		`CREATE TABLE message_ids (
			owner bigint PRIMARY KEY,
			last  integer NOT NULL
		)`,
		`CREATE TABLE messages (
			owner      bigint NOT NULL,
			id         integer NOT NULL,
			peer       bigint NOT NULL,
			sender     bigint NOT NULL,
			out        boolean NOT NULL,
			date       bigint NOT NULL,
			text       text NOT NULL,
			random_id  bigint NOT NULL,
			grouped_id bigint NOT NULL,
			media      bytea,
			PRIMARY KEY (owner, id)
		)`,
		`CREATE INDEX messages_chat ON messages (owner, peer, id)`,
		`CREATE TABLE documents (
			id          bigint PRIMARY KEY,
			access_hash bigint NOT NULL,
			file        bigint NOT NULL,
			mime        text NOT NULL,
			attributes  bytea,
			date        bigint NOT NULL,
			size        bigint NOT NULL,
			sha256      bytea, -- NULL: not indexed
			seq         bigserial NOT NULL -- the latest put wins a hash lookup
		)`,
		`CREATE INDEX documents_hash ON documents (sha256, size, mime, seq) WHERE sha256 IS NOT NULL`,
		`CREATE TABLE photos (
			id          bigint PRIMARY KEY,
			access_hash bigint NOT NULL,
			owner       bigint NOT NULL,
			date        bigint NOT NULL,
			sizes       jsonb NOT NULL,
			stripped    bytea
		)`,
	},
	2: {
		`CREATE TABLE once_tokens (
			id      bytea PRIMARY KEY,
			expires bigint NOT NULL -- unix ns
		)`,
		`CREATE INDEX once_tokens_expires ON once_tokens (expires)`,
	},
	3: { // deletion (M6): what messages refer to, twins, pts; thumbnails, profile videos
		`ALTER TABLE messages ADD COLUMN objects bigint[] NOT NULL DEFAULT '{}'`,
		`ALTER TABLE messages ADD COLUMN twin integer NOT NULL DEFAULT 0`,
		`CREATE INDEX messages_objects ON messages USING gin (objects)`,
		`CREATE TABLE pts (
			owner bigint PRIMARY KEY,
			pts   integer NOT NULL
		)`,
		`ALTER TABLE documents ADD COLUMN file_access bigint NOT NULL DEFAULT 0`,
		`ALTER TABLE documents ADD COLUMN thumbs jsonb NOT NULL DEFAULT '[]'`,
		`ALTER TABLE documents ADD COLUMN stripped bytea`,
		`ALTER TABLE photos ADD COLUMN video jsonb`,
		`ALTER TABLE photos ADD COLUMN video_start double precision NOT NULL DEFAULT 0`,
	},
	4: { // documents sharing a stored file (M6), found when the last one goes
		`CREATE INDEX documents_file ON documents (file)`,
	},
	5: { // sticker outlines (M9)
		`ALTER TABLE documents ADD COLUMN outline bytea`,
	},
	6: { // chats and channels, service messages (M8)
		`CREATE TABLE chats (
			id          bigint PRIMARY KEY,
			channel     boolean NOT NULL,
			megagroup   boolean NOT NULL,
			access_hash bigint NOT NULL,
			title       text NOT NULL,
			creator     bigint NOT NULL,
			date        bigint NOT NULL,
			version     integer NOT NULL,
			photo       bigint NOT NULL,
			members     jsonb NOT NULL
		)`,
		`CREATE INDEX chats_photo ON chats (photo) WHERE photo <> 0`,
		`ALTER TABLE messages ADD COLUMN action bytea`,
	},
	7: { // unused auth keys are collected (S7c)
		`ALTER TABLE auth_keys ADD COLUMN last_used bigint NOT NULL DEFAULT 0`,
		// Only keys that may become unused: anonymous and unbound, or temporary.
		`CREATE INDEX auth_keys_unused ON auth_keys (greatest(created, last_used))
			WHERE user_id = 0 AND perm_id = '\x0000000000000000'::bytea`,
		`CREATE INDEX auth_keys_expires ON auth_keys (expires) WHERE expires <> 0`,
	},
	8: { // each owner's documents keep their own metadata over shared content (S7e)
		`ALTER TABLE documents ADD COLUMN owner bigint NOT NULL DEFAULT 0`,
	},
}

// migrationLock is the advisory lock key that serializes migrations.
const migrationLock = 0x66696c6564630001

func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS filedc_migrations (
			version integer PRIMARY KEY,
			applied timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM filedc_migrations`).Scan(&have); err != nil {
			return err
		}
		for v := have + 1; v < len(migrations); v++ {
			for _, stmt := range migrations[v] {
				if _, err := tx.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("version %d: %w", v, err)
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO filedc_migrations (version) VALUES ($1)`, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// notFound turns pgx's "no rows" into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
