package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/filedc/filedc/internal/store"
)

const fileColumns = `id, access_hash, owner, name, size, part_size, parts, sha256, type, created, upload`

// commitFile marks the upload consumed and inserts the record in one
// statement, so both happen or neither: the record is inserted only when the
// consumed marker was new. A concurrent commit of the same upload waits on the
// marker's key and then finds it taken.
const commitFile = `WITH c AS (
	INSERT INTO consumed (upload, at) VALUES ($11, $10)
	ON CONFLICT (upload) DO NOTHING
	RETURNING upload
)
INSERT INTO files (` + fileColumns + `, hashes)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, upload, $12 FROM c`

// CommitFile implements store.Meta.
func (s *Store) CommitFile(ctx context.Context, rec store.FileRecord, ranges []store.Hash) error {
	hashes := make([]byte, 0, len(ranges)*32)
	for _, h := range ranges {
		hashes = append(hashes, h[:]...)
	}
	tag, err := s.pool.Exec(ctx, commitFile, rec.ID, rec.AccessHash, rec.Owner, rec.Name, rec.Size,
		rec.PartSize, rec.Parts, rec.SHA256[:], rec.Type, rec.Created.UnixNano(), rec.Upload[:], hashes)
	if err != nil {
		return fmt.Errorf("postgres: commit file %d: %w", rec.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrConsumed
	}
	return nil
}

func scanFile(row pgx.Row) (store.FileRecord, error) {
	var r store.FileRecord
	var sum, upload []byte
	var created int64
	err := row.Scan(&r.ID, &r.AccessHash, &r.Owner, &r.Name, &r.Size, &r.PartSize, &r.Parts,
		&sum, &r.Type, &created, &upload)
	if err != nil {
		return r, notFound(err)
	}
	if len(sum) != len(r.SHA256) || len(upload) != len(r.Upload) {
		return r, fmt.Errorf("postgres: damaged record of file %d", r.ID)
	}
	copy(r.SHA256[:], sum)
	copy(r.Upload[:], upload)
	r.Created = time.Unix(0, created)
	return r, nil
}

// File implements store.Meta.
func (s *Store) File(ctx context.Context, id int64) (store.FileRecord, error) {
	return scanFile(s.pool.QueryRow(ctx, `SELECT `+fileColumns+` FROM files WHERE id = $1`, id))
}

// RangeHashes implements store.Meta. Only the hashes asked for leave the
// database.
func (s *Store) RangeHashes(ctx context.Context, id int64, first, n int) ([]store.Hash, error) {
	if first < 0 || n < 0 {
		return nil, errors.New("postgres: negative range")
	}
	if n == 0 {
		return nil, nil
	}
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT substring(hashes FROM $2 FOR $3) FROM files WHERE id = $1`,
		id, int64(first)*32+1, int64(n)*32).Scan(&raw)
	if err != nil {
		return nil, notFound(err)
	}
	var out []store.Hash
	for i := 0; i+32 <= len(raw); i += 32 {
		out = append(out, store.Hash(raw[i:i+32]))
	}
	return out, nil
}

// Consumed implements store.Meta.
func (s *Store) Consumed(ctx context.Context, id store.UploadID) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM consumed WHERE upload = $1)`, id[:]).Scan(&ok)
	return ok, err
}

// ForgetConsumed implements store.Meta.
func (s *Store) ForgetConsumed(ctx context.Context, before time.Time) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM consumed WHERE at < $1`, before.UnixNano())
	return err
}

// DeleteFile implements store.Meta.
func (s *Store) DeleteFile(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM files WHERE id = $1`, id)
	return err
}

// Files implements store.Meta.
func (s *Store) Files(ctx context.Context, fn func(store.FileRecord) error) error {
	rows, err := s.pool.Query(ctx, `SELECT `+fileColumns+` FROM files`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanFile(rows)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
