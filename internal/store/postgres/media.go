package postgres

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/filedc/filedc/internal/store"
)

// Messages, documents and photos. Several processes send and delete at once
// (M6), so what must not interleave is ordered by locks that end with the
// transaction:
//
//   - AddMessages locks the rows of the documents and photos its messages
//     name (FOR KEY SHARE) and fails if one is gone; CollectDocument and
//     CollectPhoto lock the row FOR UPDATE before they check that no message
//     names it and delete it. Whichever comes second sees the first's
//     commit: a send either keeps the object alive or fails.
//   - PutDocument and CollectDocument hold an advisory lock on the content
//     (SHA-256 and size) while they look at the documents sharing its file,
//     so a new document never takes a file whose last document is being
//     deleted, and two uploads of one content make one document.

// contentLockClass is the first key of the two-key advisory locks on
// content; two-key locks never collide with single-key ones (migrationLock).
const contentLockClass = 0x66646331

// lockContent takes the transaction's advisory lock on one content. Distinct
// contents may share a key, which only makes them wait for each other.
func lockContent(ctx context.Context, tx pgx.Tx, sum [32]byte, size int64) error {
	key := int32(binary.BigEndian.Uint32(sum[:4]) ^ uint32(size))
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::integer, $2::integer)`, int32(contentLockClass), key)
	return err
}

// lockObjects locks the documents and photos among ids against deletion
// until the transaction ends, and fails when one of them does not exist.
func lockObjects(ctx context.Context, tx pgx.Tx, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	found := make(map[int64]bool, len(ids))
	for _, q := range []string{
		`SELECT id FROM documents WHERE id = ANY($1) ORDER BY id FOR KEY SHARE`,
		`SELECT id FROM photos WHERE id = ANY($1) ORDER BY id FOR KEY SHARE`,
	} {
		rows, err := tx.Query(ctx, q, ids)
		if err != nil {
			return err
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, id := range got {
			found[id] = true
		}
	}
	for _, id := range ids {
		if !found[id] {
			return fmt.Errorf("postgres: message media %d: %w", id, store.ErrNotFound)
		}
	}
	return nil
}

// AddMessages implements store.Messages. Each owner's counter row hands out
// its ids and pts; the rows are locked in the order of owners, so that
// senders to each other do not deadlock.
func (s *Store) AddMessages(ctx context.Context, msgs []*store.Message) error {
	counts := map[int64]int{}
	var objects []int64
	index := make(map[*store.Message]int, len(msgs))
	for i, m := range msgs {
		counts[m.Owner]++
		objects = append(objects, m.Objects...)
		index[m] = i
	}
	owners := make([]int64, 0, len(counts))
	for o := range counts {
		owners = append(owners, o)
	}
	slices.Sort(owners)
	ids, pts, twins := make([]int, len(msgs)), make([]int, len(msgs)), make([]int, len(msgs))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockObjects(ctx, tx, objects); err != nil {
			return err
		}
		next := make(map[int64][2]int, len(owners)) // owner -> next id, next pts
		for _, o := range owners {
			n := counts[o]
			var last int
			err := tx.QueryRow(ctx, `INSERT INTO message_ids (owner, last) VALUES ($1, $2)
				ON CONFLICT (owner) DO UPDATE SET last = message_ids.last + $2
				RETURNING last`, o, n).Scan(&last)
			if err != nil {
				return err
			}
			p, err := addPts(ctx, tx, o, n)
			if err != nil {
				return err
			}
			if last > 1<<31-1-n || p > 1<<31-1-n {
				return fmt.Errorf("postgres: account %d has no message ids left", o)
			}
			next[o] = [2]int{last - n + 1, p - n + 1}
		}
		for i, m := range msgs {
			n := next[m.Owner]
			ids[i], pts[i] = n[0], n[1]
			next[m.Owner] = [2]int{n[0] + 1, n[1] + 1}
			twins[i] = m.Twin
		}
		for i, m := range msgs {
			if m.TwinOf == nil {
				continue
			}
			if j, ok := index[m.TwinOf]; ok {
				twins[i], twins[j] = ids[j], ids[i]
			} else {
				twins[i] = m.TwinOf.ID
			}
		}
		batch := &pgx.Batch{}
		for i, m := range msgs {
			objs := m.Objects
			if objs == nil {
				objs = []int64{}
			}
			batch.Queue(`INSERT INTO messages (owner, id, peer, sender, out, date, text, random_id, grouped_id, media, objects, twin, action)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
				m.Owner, ids[i], m.Peer, m.From, m.Out, unixNano(m.Date), m.Text, m.RandomID, m.GroupedID, m.Media, objs, twins[i], m.Action)
		}
		return tx.SendBatch(ctx, batch).Close()
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

const messageColumns = `owner, id, peer, sender, out, date, text, random_id, grouped_id, media, objects, twin, action`

func collectMessages(rows pgx.Rows, err error) ([]store.Message, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Message, error) {
		var m store.Message
		var date int64
		err := row.Scan(&m.Owner, &m.ID, &m.Peer, &m.From, &m.Out, &date, &m.Text, &m.RandomID, &m.GroupedID, &m.Media, &m.Objects, &m.Twin, &m.Action)
		m.Date = fromUnixNano(date)
		if len(m.Objects) == 0 {
			m.Objects = nil
		}
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
	return collectMessages(s.pool.Query(ctx, `SELECT m.owner, m.id, m.peer, m.sender, m.out, m.date, m.text, m.random_id, m.grouped_id, m.media, m.objects, m.twin, m.action
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

// DeleteMessages implements store.Messages: the deleted messages in the
// order of ids.
func (s *Store) DeleteMessages(ctx context.Context, owner int64, ids []int) ([]store.Message, int, error) {
	want := messageIDs(ids)
	var out []store.Message
	pts := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = collectMessages(tx.Query(ctx, `DELETE FROM messages WHERE owner = $1 AND id = ANY($2)
			RETURNING `+messageColumns, owner, want))
		if err != nil {
			return err
		}
		pts, err = addPts(ctx, tx, owner, len(out))
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	order := make(map[int]int, len(ids))
	for i, id := range ids {
		if _, seen := order[id]; !seen {
			order[id] = i
		}
	}
	slices.SortFunc(out, func(a, b store.Message) int { return order[a.ID] - order[b.ID] })
	return out, pts, nil
}

// Referenced implements store.Messages.
func (s *Store) Referenced(ctx context.Context, object int64) (bool, error) {
	return referenced(ctx, s.pool, object)
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func referenced(ctx context.Context, q querier, object int64) (bool, error) {
	var found bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE objects @> ARRAY[$1::bigint])`, object).Scan(&found)
	return found, err
}

// addPts moves an owner's event counter on by n and returns it.
func addPts(ctx context.Context, tx pgx.Tx, owner int64, n int) (int, error) {
	var pts int
	err := tx.QueryRow(ctx, `INSERT INTO pts (owner, pts) VALUES ($1, $2)
		ON CONFLICT (owner) DO UPDATE SET pts = pts.pts + $2 RETURNING pts`, owner, n).Scan(&pts)
	return pts, err
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

// PutDocument implements store.Documents, under the lock of its content.
func (s *Store) PutDocument(ctx context.Context, d store.Document) (store.Document, error) {
	var out store.Document
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		out = d
		var sum []byte
		if d.SHA256 != ([32]byte{}) {
			sum = d.SHA256[:]
			if err := lockContent(ctx, tx, d.SHA256, d.Size); err != nil {
				return err
			}
			same, err := scanDocument(tx.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents
				WHERE sha256 = $1 AND size = $2 AND mime = $3 AND id <> $4 AND owner = $5
					AND coalesce(attributes, '') = coalesce($6::bytea, '')
				ORDER BY seq DESC LIMIT 1`, sum, d.Size, d.Mime, d.ID, d.Owner, d.Attributes))
			if err == nil {
				out = same
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			peer, err := scanDocument(tx.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents
				WHERE sha256 = $1 AND size = $2 AND id <> $3 ORDER BY seq LIMIT 1`, sum, d.Size, d.ID))
			if err == nil {
				out.File, out.FileAccess = peer.File, peer.FileAccess
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		thumbs, err := json.Marshal(nonNil(out.Thumbs))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO documents (id, access_hash, file, mime, attributes, date, size, sha256, file_access, thumbs, stripped, outline, owner)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (id) DO UPDATE SET access_hash = $2, file = $3, mime = $4, attributes = $5, date = $6,
				size = $7, sha256 = $8, file_access = $9, thumbs = $10, stripped = $11, outline = $12, owner = $13,
				seq = nextval(pg_get_serial_sequence('documents', 'seq'))`,
			out.ID, out.AccessHash, out.File, out.Mime, out.Attributes, unixNano(out.Date), out.Size, sum,
			out.FileAccess, string(thumbs), out.Stripped, out.Outline, out.Owner)
		return err
	})
	if err != nil {
		return store.Document{}, err
	}
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

const documentColumns = `id, access_hash, file, mime, attributes, date, size, sha256, file_access, thumbs::text, stripped, outline, owner`

func scanDocument(row pgx.Row) (store.Document, error) {
	var d store.Document
	var date int64
	var sum, thumbs []byte
	if err := row.Scan(&d.ID, &d.AccessHash, &d.File, &d.Mime, &d.Attributes, &date, &d.Size, &sum,
		&d.FileAccess, &thumbs, &d.Stripped, &d.Outline, &d.Owner); err != nil {
		return d, notFound(err)
	}
	if err := json.Unmarshal(thumbs, &d.Thumbs); err != nil {
		return d, fmt.Errorf("postgres: document %d: %w", d.ID, err)
	}
	if len(d.Thumbs) == 0 {
		d.Thumbs = nil
	}
	if d.FileAccess == 0 {
		d.FileAccess = d.AccessHash
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
// that content, size and mime type, the owner's first.
func (s *Store) DocumentByHash(ctx context.Context, sum [32]byte, size int64, mime string, owner int64) (store.Document, error) {
	if sum == ([32]byte{}) {
		return store.Document{}, store.ErrNotFound
	}
	return scanDocument(s.pool.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE sha256 = $1 AND size = $2 AND mime = $3 ORDER BY owner = $4 DESC, seq DESC LIMIT 1`, sum[:], size, mime, owner))
}

// DocumentsByContent implements store.Documents, oldest first.
func (s *Store) DocumentsByContent(ctx context.Context, sum [32]byte, size int64) ([]store.Document, error) {
	if sum == ([32]byte{}) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE sha256 = $1 AND size = $2 ORDER BY seq`, sum[:], size)
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

// CollectDocument implements store.Documents: under the lock of its content
// and of its row, see the top of this file.
func (s *Store) CollectDocument(ctx context.Context, id int64) (store.Document, bool, bool, error) {
	var d store.Document
	deleted, free := false, false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		deleted, free = false, false
		var err error
		if d, err = scanDocument(tx.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents WHERE id = $1`, id)); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		if d.SHA256 != ([32]byte{}) {
			if err := lockContent(ctx, tx, d.SHA256, d.Size); err != nil {
				return err
			}
		}
		// Waits for sends holding the row; then their messages are seen.
		if d, err = scanDocument(tx.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents WHERE id = $1 FOR UPDATE`, id)); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		used, err := referenced(ctx, tx, id)
		if err != nil || used {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM documents WHERE id = $1`, id); err != nil {
			return err
		}
		deleted = true
		return tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM documents WHERE file = $1)`, d.File).Scan(&free)
	})
	if err != nil || !deleted {
		return store.Document{}, false, false, err
	}
	return d, true, free, nil
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
		video = new(string(v))
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO photos (id, access_hash, owner, date, sizes, stripped, video, video_start)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET access_hash = $2, owner = $3, date = $4, sizes = $5, stripped = $6,
			video = $7, video_start = $8`,
		p.ID, p.AccessHash, p.Owner, unixNano(p.Date), string(sizes), p.Stripped, video, p.VideoStart)
	return err
}

const photoColumns = `id, access_hash, owner, date, sizes::text, stripped, video::text, video_start`

func scanPhoto(row pgx.Row) (store.Photo, error) {
	var p store.Photo
	var date int64
	var sizes []byte
	var video *string
	err := row.Scan(&p.ID, &p.AccessHash, &p.Owner, &date, &sizes, &p.Stripped, &video, &p.VideoStart)
	if err != nil {
		return p, notFound(err)
	}
	if err := json.Unmarshal(sizes, &p.Sizes); err != nil {
		return p, fmt.Errorf("postgres: photo %d: %w", p.ID, err)
	}
	if video != nil {
		p.Video = new(store.PhotoSize)
		if err := json.Unmarshal([]byte(*video), p.Video); err != nil {
			return p, fmt.Errorf("postgres: photo %d: %w", p.ID, err)
		}
	}
	p.Date = fromUnixNano(date)
	return p, nil
}

// Photo implements store.Photos.
func (s *Store) Photo(ctx context.Context, id int64) (store.Photo, error) {
	return scanPhoto(s.pool.QueryRow(ctx, `SELECT `+photoColumns+` FROM photos WHERE id = $1`, id))
}

// DeletePhoto implements store.Photos.
func (s *Store) DeletePhoto(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM photos WHERE id = $1`, id)
	return err
}

// CollectPhoto implements store.Photos: under the lock of its row, see the
// top of this file.
func (s *Store) CollectPhoto(ctx context.Context, id int64) (store.Photo, bool, error) {
	var p store.Photo
	deleted := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		deleted = false
		var err error
		if p, err = scanPhoto(tx.QueryRow(ctx, `SELECT `+photoColumns+` FROM photos WHERE id = $1 FOR UPDATE`, id)); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		used, err := referenced(ctx, tx, id)
		if err != nil || used {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND $2 = ANY(photos))`, p.Owner, id).Scan(&used); err != nil || used {
			return err
		}
		// A chat's current photo stays (M8).
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM chats WHERE photo = $1)`, id).Scan(&used); err != nil || used {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM photos WHERE id = $1`, id); err != nil {
			return err
		}
		deleted = true
		return nil
	})
	if err != nil || !deleted {
		return store.Photo{}, false, err
	}
	return p, true, nil
}
