package postgres

import (
	"context"
	"encoding/json"
	"errors"
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

// AddMessages implements store.Messages. Each owner's counter rows hand out
// message ids and pts; their row locks order concurrent senders to one owner.
func (s *Store) AddMessages(ctx context.Context, msgs []*store.Message) error {
	ids, pts, twins := make([]int, len(msgs)), make([]int, len(msgs)), make([]int, len(msgs))
	index := make(map[*store.Message]int, len(msgs))
	for i, m := range msgs {
		index[m] = i
		twins[i] = m.Twin
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Ids first, so that twins can name each other.
		for i, m := range msgs {
			err := tx.QueryRow(ctx, `INSERT INTO message_ids (owner, last) VALUES ($1, 1)
				ON CONFLICT (owner) DO UPDATE SET last = message_ids.last + 1
				RETURNING last`, m.Owner).Scan(&ids[i])
			if err != nil {
				return err
			}
			if pts[i], err = addPts(ctx, tx, m.Owner, 1); err != nil {
				return err
			}
		}
		for i, m := range msgs {
			if j, ok := index[m.TwinOf]; ok && m.TwinOf != nil {
				twins[i], twins[j] = ids[j], ids[i]
			}
		}
		for i, m := range msgs {
			objects := m.Objects
			if objects == nil {
				objects = []int64{}
			}
			_, err := tx.Exec(ctx, `INSERT INTO messages (owner, id, peer, sender, out, date, text, random_id, grouped_id, media, objects, twin)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
				m.Owner, ids[i], m.Peer, m.From, m.Out, unixNano(m.Date), m.Text, m.RandomID, m.GroupedID, m.Media, objects, twins[i])
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
		m.ID, m.Pts, m.Twin = ids[i], pts[i], twins[i]
	}
	return nil
}

// addPts moves an owner's event counter on by n and returns it.
func addPts(ctx context.Context, tx pgx.Tx, owner int64, n int) (int, error) {
	var pts int
	err := tx.QueryRow(ctx, `INSERT INTO pts (owner, pts) VALUES ($1, $2)
		ON CONFLICT (owner) DO UPDATE SET pts = pts.pts + $2 RETURNING pts`, owner, n).Scan(&pts)
	return pts, err
}

const messageColumns = `owner, id, peer, sender, out, date, text, random_id, grouped_id, media, objects, twin`

func collectMessages(rows pgx.Rows, err error) ([]store.Message, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Message, error) {
		var m store.Message
		var date int64
		err := row.Scan(&m.Owner, &m.ID, &m.Peer, &m.From, &m.Out, &date, &m.Text, &m.RandomID, &m.GroupedID,
			&m.Media, &m.Objects, &m.Twin)
		if len(m.Objects) == 0 {
			m.Objects = nil
		}
		m.Date = fromUnixNano(date)
		return m, err
	})
}

// messageIDs keeps the ids a message can have.
func messageIDs(ids []int) []int32 {
	want := make([]int32, 0, len(ids))
	for _, id := range ids {
		if id > 0 && id <= 1<<31-1 {
			want = append(want, int32(id))
		}
	}
	return want
}

// Messages implements store.Messages, in the order of ids.
func (s *Store) Messages(ctx context.Context, owner int64, ids []int) ([]store.Message, error) {
	want := messageIDs(ids)
	if len(want) == 0 {
		return nil, nil
	}
	return collectMessages(s.pool.Query(ctx, `SELECT m.owner, m.id, m.peer, m.sender, m.out, m.date, m.text, m.random_id, m.grouped_id, m.media, m.objects, m.twin
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

// DeleteMessages implements store.Messages.
func (s *Store) DeleteMessages(ctx context.Context, owner int64, ids []int) ([]store.Message, int, error) {
	var out []store.Message
	pts := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = collectMessages(tx.Query(ctx, `WITH d AS (
				DELETE FROM messages WHERE owner = $1 AND id = ANY($2::integer[]) RETURNING `+messageColumns+`)
			SELECT d.owner, d.id, d.peer, d.sender, d.out, d.date, d.text, d.random_id, d.grouped_id, d.media, d.objects, d.twin
			FROM unnest($2::integer[]) WITH ORDINALITY AS w(id, n) JOIN d ON d.id = w.id ORDER BY w.n`,
			owner, messageIDs(ids)))
		if err != nil {
			return err
		}
		pts, err = addPts(ctx, tx, owner, len(out))
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, pts, nil
}

// Referenced implements store.Messages through the index on objects.
func (s *Store) Referenced(ctx context.Context, object int64) (bool, error) {
	var found bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE objects @> ARRAY[$1::bigint])`, object).Scan(&found)
	return found, err
}

// Pts implements store.Messages.
func (s *Store) Pts(ctx context.Context, owner int64) (int, error) {
	var pts int
	err := s.pool.QueryRow(ctx, `SELECT pts FROM pts WHERE owner = $1`, owner).Scan(&pts)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return pts, err
}

// PutDocument implements store.Documents.
func (s *Store) PutDocument(ctx context.Context, d store.Document) error {
	var sum []byte
	if d.SHA256 != ([32]byte{}) {
		sum = d.SHA256[:]
	}
	thumbs, err := json.Marshal(d.Thumbs)
	if err != nil {
		return err
	}
	if d.Thumbs == nil {
		thumbs = []byte("[]")
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO documents (id, access_hash, file, mime, attributes, date, size, sha256, file_access, thumbs, stripped)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (id) DO UPDATE SET access_hash = $2, file = $3, mime = $4, attributes = $5, date = $6,
			size = $7, sha256 = $8, file_access = $9, thumbs = $10, stripped = $11,
			seq = nextval(pg_get_serial_sequence('documents', 'seq'))`,
		d.ID, d.AccessHash, d.File, d.Mime, d.Attributes, unixNano(d.Date), d.Size, sum, d.FileAccess, string(thumbs), d.Stripped)
	return err
}

const documentColumns = `id, access_hash, file, mime, attributes, date, size, sha256, file_access, thumbs::text, stripped`

func scanDocument(row pgx.Row) (store.Document, error) {
	var d store.Document
	var date int64
	var sum, thumbs []byte
	if err := row.Scan(&d.ID, &d.AccessHash, &d.File, &d.Mime, &d.Attributes, &date, &d.Size, &sum,
		&d.FileAccess, &thumbs, &d.Stripped); err != nil {
		return d, notFound(err)
	}
	if err := json.Unmarshal(thumbs, &d.Thumbs); err != nil {
		return d, fmt.Errorf("postgres: document %d: %w", d.ID, err)
	}
	if len(d.Thumbs) == 0 {
		d.Thumbs = nil
	}
	if d.FileAccess == 0 {
		d.FileAccess = d.AccessHash // documents stored before file_access
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

// DocumentsByContent implements store.Documents: for each mime type, the
// document DocumentByHash finds.
func (s *Store) DocumentsByContent(ctx context.Context, sum [32]byte, size int64) ([]store.Document, error) {
	if sum == ([32]byte{}) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (mime) `+documentColumns+` FROM documents
		WHERE sha256 = $1 AND size = $2 ORDER BY mime, seq DESC`, sum[:], size)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Document, error) { return scanDocument(row) })
}

// DeleteDocument implements store.Documents.
func (s *Store) DeleteDocument(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM documents WHERE id = $1`, id)
	return err
}

// PutPhoto implements store.Photos.
func (s *Store) PutPhoto(ctx context.Context, p store.Photo) error {
	sizes, err := json.Marshal(p.Sizes)
	if err != nil {
		return err
	}
	var video *string
	if p.Video != nil {
		v, err := json.Marshal(p.Video)
		if err != nil {
			return err
		}
		text := string(v)
		video = &text
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO photos (id, access_hash, owner, date, sizes, stripped, video, video_start)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET access_hash = $2, owner = $3, date = $4, sizes = $5, stripped = $6,
			video = $7, video_start = $8`,
		p.ID, p.AccessHash, p.Owner, unixNano(p.Date), string(sizes), p.Stripped, video, p.VideoStart)
	return err
}

// Photo implements store.Photos.
func (s *Store) Photo(ctx context.Context, id int64) (store.Photo, error) {
	p := store.Photo{ID: id}
	var date int64
	var sizes []byte
	var video *string
	err := s.pool.QueryRow(ctx, `SELECT access_hash, owner, date, sizes::text, stripped, video::text, video_start FROM photos WHERE id = $1`, id).
		Scan(&p.AccessHash, &p.Owner, &date, &sizes, &p.Stripped, &video, &p.VideoStart)
	if err != nil {
		return p, notFound(err)
	}
	if err := json.Unmarshal(sizes, &p.Sizes); err != nil {
		return p, fmt.Errorf("postgres: photo %d: %w", id, err)
	}
	if video != nil {
		p.Video = new(store.PhotoSize)
		if err := json.Unmarshal([]byte(*video), p.Video); err != nil {
			return p, fmt.Errorf("postgres: photo %d: %w", id, err)
		}
	}
	p.Date = fromUnixNano(date)
	return p, nil
}

// DeletePhoto implements store.Photos.
func (s *Store) DeletePhoto(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM photos WHERE id = $1`, id)
	return err
}
