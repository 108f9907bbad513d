package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/filedc/filedc/internal/store"
)

// PutAuthKey implements store.AuthKeys.
func (s *Store) PutAuthKey(ctx context.Context, k store.AuthKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO auth_keys (id, value, created, expires, user_id, layer, perm_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET value = $2, created = $3, expires = $4, user_id = $5, layer = $6, perm_id = $7`,
		k.ID[:], k.Value[:], unixNano(k.Created), unixNano(k.ExpiresAt), k.UserID, k.Layer, k.PermID[:])
	return err
}

// AuthKey implements store.AuthKeys.
func (s *Store) AuthKey(ctx context.Context, id [8]byte) (store.AuthKey, error) {
	k := store.AuthKey{ID: id}
	var value, perm []byte
	var created, expires int64
	err := s.pool.QueryRow(ctx, `SELECT value, created, expires, user_id, layer, perm_id FROM auth_keys WHERE id = $1`, id[:]).
		Scan(&value, &created, &expires, &k.UserID, &k.Layer, &perm)
	if err != nil {
		return k, notFound(err)
	}
	if len(value) != len(k.Value) || len(perm) != len(k.PermID) {
		return k, fmt.Errorf("postgres: damaged auth key %x", id)
	}
	copy(k.Value[:], value)
	copy(k.PermID[:], perm)
	k.Created, k.ExpiresAt = fromUnixNano(created), fromUnixNano(expires)
	return k, nil
}

// DeleteAuthKey implements store.AuthKeys.
func (s *Store) DeleteAuthKey(ctx context.Context, id [8]byte) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM auth_keys WHERE id = $1`, id[:])
	return err
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

// AccountByPhone implements store.Accounts.
func (s *Store) AccountByPhone(ctx context.Context, phone string) (store.Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE phone = $1`, phone))
}

// AddMessages implements store.Messages. Each owner's counter row hands out
// its ids; the row lock orders concurrent senders to one owner.
func (s *Store) AddMessages(ctx context.Context, msgs []*store.Message) error {
	ids := make([]int, len(msgs))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for i, m := range msgs {
			err := tx.QueryRow(ctx, `INSERT INTO message_ids (owner, last) VALUES ($1, 1)
				ON CONFLICT (owner) DO UPDATE SET last = message_ids.last + 1
				RETURNING last`, m.Owner).Scan(&ids[i])
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO messages (owner, id, peer, sender, out, date, text, random_id, grouped_id, media)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
				m.Owner, ids[i], m.Peer, m.From, m.Out, unixNano(m.Date), m.Text, m.RandomID, m.GroupedID, m.Media)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Ids are handed back only once the transaction holds.
	for i, m := range msgs {
		m.ID = ids[i]
	}
	return nil
}

const messageColumns = `owner, id, peer, sender, out, date, text, random_id, grouped_id, media`

func collectMessages(rows pgx.Rows, err error) ([]store.Message, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Message, error) {
		var m store.Message
		var date int64
		err := row.Scan(&m.Owner, &m.ID, &m.Peer, &m.From, &m.Out, &date, &m.Text, &m.RandomID, &m.GroupedID, &m.Media)
		m.Date = fromUnixNano(date)
		return m, err
	})
}

// Messages implements store.Messages, in the order of ids.
func (s *Store) Messages(ctx context.Context, owner int64, ids []int) ([]store.Message, error) {
	want := make([]int32, 0, len(ids))
	for _, id := range ids {
		if id > 0 && id <= 1<<31-1 {
			want = append(want, int32(id))
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	return collectMessages(s.pool.Query(ctx, `SELECT m.owner, m.id, m.peer, m.sender, m.out, m.date, m.text, m.random_id, m.grouped_id, m.media
		FROM unnest($2::integer[]) WITH ORDINALITY AS w(id, n) JOIN messages m ON m.owner = $1 AND m.id = w.id
		ORDER BY w.n`, owner, want))
}

// History implements store.Messages.
func (s *Store) History(ctx context.Context, owner, peer int64, before, limit int) ([]store.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	if before <= 0 || before > 1<<31-1 {
		before = 1<<31 - 1
	}
	return collectMessages(s.pool.Query(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE owner = $1 AND peer = $2 AND id < $3 ORDER BY id DESC LIMIT $4`, owner, peer, before, limit))
}

// PutDocument implements store.Documents.
func (s *Store) PutDocument(ctx context.Context, d store.Document) error {
	var sum []byte
	if d.SHA256 != ([32]byte{}) {
		sum = d.SHA256[:]
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO documents (id, access_hash, file, mime, attributes, date, size, sha256)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET access_hash = $2, file = $3, mime = $4, attributes = $5, date = $6,
			size = $7, sha256 = $8, seq = nextval(pg_get_serial_sequence('documents', 'seq'))`,
		d.ID, d.AccessHash, d.File, d.Mime, d.Attributes, unixNano(d.Date), d.Size, sum)
	return err
}

const documentColumns = `id, access_hash, file, mime, attributes, date, size, sha256`

func scanDocument(row pgx.Row) (store.Document, error) {
	var d store.Document
	var date int64
	var sum []byte
	if err := row.Scan(&d.ID, &d.AccessHash, &d.File, &d.Mime, &d.Attributes, &date, &d.Size, &sum); err != nil {
		return d, notFound(err)
	}
	copy(d.SHA256[:], sum)
	d.Date = fromUnixNano(date)
	return d, nil
}

// Document implements store.Documents.
func (s *Store) Document(ctx context.Context, id int64) (store.Document, error) {
	return scanDocument(s.pool.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents WHERE id = $1`, id))
}

// DocumentByHash implements store.Documents: the latest document put with
// that content, size and mime type.
func (s *Store) DocumentByHash(ctx context.Context, sum [32]byte, size int64, mime string) (store.Document, error) {
	if sum == ([32]byte{}) {
		return store.Document{}, store.ErrNotFound
	}
	return scanDocument(s.pool.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE sha256 = $1 AND size = $2 AND mime = $3 ORDER BY seq DESC LIMIT 1`, sum[:], size, mime))
}

// PutPhoto implements store.Photos.
func (s *Store) PutPhoto(ctx context.Context, p store.Photo) error {
	sizes, err := json.Marshal(p.Sizes)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO photos (id, access_hash, owner, date, sizes, stripped)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET access_hash = $2, owner = $3, date = $4, sizes = $5, stripped = $6`,
		p.ID, p.AccessHash, p.Owner, unixNano(p.Date), string(sizes), p.Stripped)
	return err
}

// Photo implements store.Photos.
func (s *Store) Photo(ctx context.Context, id int64) (store.Photo, error) {
	p := store.Photo{ID: id}
	var date int64
	var sizes []byte
	err := s.pool.QueryRow(ctx, `SELECT access_hash, owner, date, sizes::text, stripped FROM photos WHERE id = $1`, id).
		Scan(&p.AccessHash, &p.Owner, &date, &sizes, &p.Stripped)
	if err != nil {
		return p, notFound(err)
	}
	if err := json.Unmarshal(sizes, &p.Sizes); err != nil {
		return p, fmt.Errorf("postgres: photo %d: %w", id, err)
	}
	p.Date = fromUnixNano(date)
	return p, nil
}
