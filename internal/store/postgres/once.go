package postgres

import (
	"context"
	"time"
)

// UseOnce records a one-time token (such as an exported authorization) as
// used until expires, and reports whether this was its first use; all
// processes sharing the database see the same answer. Expiry is judged by
// this process's clock, and expired tokens are dropped as new ones arrive.
func (s *Store) UseOnce(ctx context.Context, id [16]byte, expires time.Time) (bool, error) {
	now := time.Now().UnixNano()
	if _, err := s.pool.Exec(ctx, `DELETE FROM once_tokens WHERE expires <= $1`, now); err != nil {
		return false, err
	}
	// A concurrent first use of the same token waits on its key and then
	// finds it taken.
	tag, err := s.pool.Exec(ctx, `INSERT INTO once_tokens (id, expires) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET expires = EXCLUDED.expires WHERE once_tokens.expires <= $3`,
		id[:], max(expires.UnixNano(), 0), now)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}
