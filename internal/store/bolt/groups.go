package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/filedc/filedc/internal/store"
)

// bucketGroups holds chats and channels ("chats" names each owner's message
// index already).
var (
	bucketGroups      = []byte("groups")      // id -> JSON chat
	bucketGroupPhotos = []byte("groupphotos") // photo + chat -> nothing: the chats a photo is current in
)

var _ store.Chats = (*Meta)(nil)

type chatMember struct {
	User    int64 `json:"user"`
	Inviter int64 `json:"inviter,omitempty"`
	Admin   bool  `json:"admin,omitempty"`
	Date    int64 `json:"date"`
}

type chat struct {
	Channel    bool         `json:"channel,omitempty"`
	Megagroup  bool         `json:"megagroup,omitempty"`
	AccessHash int64        `json:"access_hash"`
	Title      string       `json:"title"`
	Creator    int64        `json:"creator"`
	Date       int64        `json:"date"`
	Version    int          `json:"version"`
	Photo      int64        `json:"photo,omitempty"`
	Members    []chatMember `json:"members"`
}

func encodeChat(c store.Chat) ([]byte, error) {
	r := chat{c.Channel, c.Megagroup, c.AccessHash, c.Title, c.Creator, unixNano(c.Date), c.Version, c.Photo, make([]chatMember, len(c.Members))}
	for i, m := range c.Members {
		r.Members[i] = chatMember{m.User, m.Inviter, m.Admin, unixNano(m.Date)}
	}
	return json.Marshal(r)
}

func decodeChat(id int64, v []byte) (store.Chat, error) {
	var r chat
	if err := json.Unmarshal(v, &r); err != nil {
		return store.Chat{}, err
	}
	c := store.Chat{ID: id, Channel: r.Channel, Megagroup: r.Megagroup, AccessHash: r.AccessHash, Title: r.Title,
		Creator: r.Creator, Date: fromUnixNano(r.Date), Version: r.Version, Photo: r.Photo, Members: make([]store.ChatMember, len(r.Members))}
	for i, m := range r.Members {
		c.Members[i] = store.ChatMember{User: m.User, Inviter: m.Inviter, Admin: m.Admin, Date: fromUnixNano(m.Date)}
	}
	return c, nil
}

// CreateChat implements store.Chats.
func (m *Meta) CreateChat(ctx context.Context, c store.Chat) error {
	v, err := encodeChat(c)
	if err != nil {
		return err
	}
	return m.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketGroups)
		if err != nil {
			return err
		}
		if b.Get(idKey(c.ID)) != nil {
			return store.ErrChatExists
		}
		return b.Put(idKey(c.ID), v)
	})
}

// Chat implements store.Chats.
func (m *Meta) Chat(ctx context.Context, id int64) (store.Chat, error) {
	var c store.Chat
	err := m.db.View(func(tx *bolt.Tx) error {
		var err error
		c, err = chatIn(tx, id)
		return err
	})
	return c, err
}

func chatIn(tx *bolt.Tx, id int64) (store.Chat, error) {
	b := tx.Bucket(bucketGroups)
	if b == nil {
		return store.Chat{}, store.ErrNotFound
	}
	v := b.Get(idKey(id))
	if v == nil {
		return store.Chat{}, store.ErrNotFound
	}
	return decodeChat(id, v)
}

// UpdateChat implements store.Chats: one bbolt transaction.
func (m *Meta) UpdateChat(ctx context.Context, id int64, fn func(*store.Chat) error) (store.Chat, error) {
	var c store.Chat
	err := m.db.Update(func(tx *bolt.Tx) error {
		var err error
		if c, err = chatIn(tx, id); err != nil {
			return err
		}
		before := c.Photo
		if err := fn(&c); err != nil {
			return err
		}
		c.ID = id
		if c.Photo != before {
			if err := moveGroupPhoto(tx, id, before, c.Photo); err != nil {
				return err
			}
		}
		v, err := encodeChat(c)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketGroups).Put(idKey(id), v)
	})
	if err != nil {
		return store.Chat{}, err
	}
	return c, nil
}

// moveGroupPhoto indexes chat's photo: from, then to (0: none), which must exist.
func moveGroupPhoto(tx *bolt.Tx, chat, from, to int64) error {
	idx, err := tx.CreateBucketIfNotExists(bucketGroupPhotos)
	if err != nil {
		return err
	}
	if from != 0 {
		if err := idx.Delete(append(idKey(from), idKey(chat)...)); err != nil {
			return err
		}
	}
	if to == 0 {
		return nil
	}
	if b := tx.Bucket(bucketPhotos); b == nil || b.Get(idKey(to)) == nil {
		return fmt.Errorf("bolt: chat photo %d: %w", to, store.ErrNotFound)
	}
	return idx.Put(append(idKey(to), idKey(chat)...), nil)
}

// chatPhoto reports whether photo is the current photo of a chat (M8).
func chatPhoto(tx *bolt.Tx, photo int64) bool {
	idx := tx.Bucket(bucketGroupPhotos)
	if idx == nil {
		return false
	}
	prefix := idKey(photo)
	k, _ := idx.Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}
