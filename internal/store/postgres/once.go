package postgres

import (
	"context"
	"time"

	"github.com/filedc/filedc/internal/store"
)

var _ store.Once = (*Store)(nil)

// UseOnce implements store.Once: one insert decides between processes;
// expired tokens are removed first, so a token is blocked only until it
// expires.
func (s *Store) UseOnce(ctx context.Context, id [16]byte, expires time.Time) (bool, error) {
	if _, err := s.pool.Exec(ctx, `DELETE FROM once_tokens WHERE expires <= $1`, time.Now().UnixNano()); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO once_tokens (id, expires) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
		id[:], expires.UnixNano())
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}
