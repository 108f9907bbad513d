package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/filedc/filedc/internal/store"
)

var _ store.Chats = (*Store)(nil)

type chatMember struct {
	User    int64 `json:"user"`
	Inviter int64 `json:"inviter,omitempty"`
	Admin   bool  `json:"admin,omitempty"`
	Date    int64 `json:"date"`
}

func chatMembers(c store.Chat) (string, error) {
	ms := make([]chatMember, len(c.Members))
	for i, m := range c.Members {
		ms[i] = chatMember{m.User, m.Inviter, m.Admin, unixNano(m.Date)}
	}
	b, err := json.Marshal(ms)
	return string(b), err
}

const chatColumns = `id, channel, megagroup, access_hash, title, creator, date, version, photo, members::text`

func scanChat(row pgx.Row) (store.Chat, error) {
	var c store.Chat
	var date int64
	var members []byte
	if err := row.Scan(&c.ID, &c.Channel, &c.Megagroup, &c.AccessHash, &c.Title, &c.Creator, &date, &c.Version, &c.Photo, &members); err != nil {
		return c, notFound(err)
	}
	var ms []chatMember
	if err := json.Unmarshal(members, &ms); err != nil {
		return c, fmt.Errorf("postgres: chat %d: %w", c.ID, err)
	}
	c.Date = fromUnixNano(date)
	c.Members = make([]store.ChatMember, len(ms))
	for i, m := range ms {
		c.Members[i] = store.ChatMember{User: m.User, Inviter: m.Inviter, Admin: m.Admin, Date: fromUnixNano(m.Date)}
	}
	return c, nil
}

// CreateChat implements store.Chats.
func (s *Store) CreateChat(ctx context.Context, c store.Chat) error {
	members, err := chatMembers(c)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO chats (id, channel, megagroup, access_hash, title, creator, date, version, photo, members)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.ID, c.Channel, c.Megagroup, c.AccessHash, c.Title, c.Creator, unixNano(c.Date), c.Version, c.Photo, members)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		return store.ErrChatExists
	}
	return err
}

// Chat implements store.Chats.
func (s *Store) Chat(ctx context.Context, id int64) (store.Chat, error) {
	return scanChat(s.pool.QueryRow(ctx, `SELECT `+chatColumns+` FROM chats WHERE id = $1`, id))
}

// UpdateChat implements store.Chats: the chat's row is locked FOR UPDATE
// while fn runs; a new photo's row is locked against CollectPhoto as a
// message's media is (lockObjects).
func (s *Store) UpdateChat(ctx context.Context, id int64, fn func(*store.Chat) error) (store.Chat, error) {
	var c store.Chat
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if c, err = scanChat(tx.QueryRow(ctx, `SELECT `+chatColumns+` FROM chats WHERE id = $1 FOR UPDATE`, id)); err != nil {
			return err
		}
		before := c.Photo
		if err := fn(&c); err != nil {
			return err
		}
		c.ID = id
		if c.Photo != before && c.Photo != 0 {
			if err := lockObjects(ctx, tx, []int64{c.Photo}); err != nil {
				return err
			}
		}
		members, err := chatMembers(c)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE chats SET channel = $2, megagroup = $3, access_hash = $4, title = $5, creator = $6,
			date = $7, version = $8, photo = $9, members = $10 WHERE id = $1`,
			id, c.Channel, c.Megagroup, c.AccessHash, c.Title, c.Creator, unixNano(c.Date), c.Version, c.Photo, members)
		return err
	})
	if err != nil {
		return store.Chat{}, err
	}
	return c, nil
}
