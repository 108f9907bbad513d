package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/filedc/filedc/internal/store"
)

// PutAuthKey implements store.AuthKeys.
func (s *Store) PutAuthKey(ctx context.Context, k store.AuthKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO auth_keys (id, value, created, expires, user_id, layer, perm_id, last_used)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET value = $2, created = $3, expires = $4, user_id = $5, layer = $6, perm_id = $7, last_used = $8`,
		k.ID[:], k.Value[:], unixNano(k.Created), unixNano(k.ExpiresAt), k.UserID, k.Layer, k.PermID[:], unixNano(k.LastUsed))
	return err
}

// AuthKey implements store.AuthKeys.
func (s *Store) AuthKey(ctx context.Context, id [8]byte) (store.AuthKey, error) {
	k := store.AuthKey{ID: id}
	var value, perm []byte
	var created, expires, lastUsed int64
	err := s.pool.QueryRow(ctx, `SELECT value, created, expires, user_id, layer, perm_id, last_used FROM auth_keys WHERE id = $1`, id[:]).
		Scan(&value, &created, &expires, &k.UserID, &k.Layer, &perm, &lastUsed)
	if err != nil {
		return k, notFound(err)
	}
	if len(value) != len(k.Value) || len(perm) != len(k.PermID) {
		return k, fmt.Errorf("postgres: damaged auth key %x", id)
	}
	copy(k.Value[:], value)
	copy(k.PermID[:], perm)
	k.Created, k.ExpiresAt, k.LastUsed = fromUnixNano(created), fromUnixNano(expires), fromUnixNano(lastUsed)
	return k, nil
}

// DeleteAuthKey implements store.AuthKeys.
func (s *Store) DeleteAuthKey(ctx context.Context, id [8]byte) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM auth_keys WHERE id = $1`, id[:])
	return err
}

// DeleteUnusedAuthKeys implements store.AuthKeys; the partial indexes keep
// it to the keys that qualify.
func (s *Store) DeleteUnusedAuthKeys(ctx context.Context, idleBefore, now time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM auth_keys WHERE id IN (
			SELECT id FROM auth_keys WHERE user_id = 0 AND perm_id = '\x0000000000000000'::bytea
				AND greatest(created, last_used) < $1
			UNION
			SELECT id FROM auth_keys WHERE expires <> 0 AND expires < $2
			LIMIT $3)`,
		idleBefore.UnixNano(), now.UnixNano(), limit)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// PutAccount implements store.Accounts. A phone number names one account: an
// account that had it loses it, as in the embedded store's index.
func (s *Store) PutAccount(ctx context.Context, a store.Account) error {
	var phone *string
	if a.Phone != "" {
		phone = &a.Phone
	}
	photos := a.Photos
	if photos == nil {
		photos = []int64{}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if phone != nil {
			if _, err := tx.Exec(ctx, `UPDATE accounts SET phone = NULL WHERE phone = $1 AND id <> $2`, phone, a.ID); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO accounts (id, bot, name, username, phone, secret, access_key, premium, created, photos)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (id) DO UPDATE SET bot = $2, name = $3, username = $4, phone = $5, secret = $6,
				access_key = $7, premium = $8, created = $9, photos = $10`,
			a.ID, a.Bot, a.Name, a.Username, phone, a.Secret, a.AccessKey, a.Premium, unixNano(a.Created), photos)
		return err
	})
}

const accountColumns = `id, bot, name, username, phone, secret, access_key, premium, created, photos`

func scanAccount(row pgx.Row) (store.Account, error) {
	var a store.Account
	var phone *string
	var created int64
	err := row.Scan(&a.ID, &a.Bot, &a.Name, &a.Username, &phone, &a.Secret, &a.AccessKey, &a.Premium, &created, &a.Photos)
	if err != nil {
		return a, notFound(err)
	}
	if phone != nil {
		a.Phone = *phone
	}
	if len(a.Photos) == 0 {
		a.Photos = nil
	}
	a.Created = fromUnixNano(created)
	return a, nil
}

// Account implements store.Accounts.
func (s *Store) Account(ctx context.Context, id int64) (store.Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
}

// Bots implements store.Accounts.
func (s *Store) Bots(ctx context.Context) ([]store.Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE bot ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var bots []store.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		bots = append(bots, a)
	}
	return bots, rows.Err()
}

// LogOut implements store.AuthKeys.
func (s *Store) LogOut(ctx context.Context, user int64) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE auth_keys SET user_id = 0 WHERE user_id = $1`, user)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// AccountByPhone implements store.Accounts.
func (s *Store) AccountByPhone(ctx context.Context, phone string) (store.Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE phone = $1`, phone))
}
