package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/filedc/filedc/internal/store"
)

// Messages live in one bucket per owner, keyed by big-endian id so that a
// cursor walks them in order; the bucket's sequence assigns the ids.
var (
	bucketMessages = []byte("messages") // owner -> (id -> JSON message)
	bucketChats    = []byte("chats")    // owner -> peer -> (id -> nothing): each chat's ids
)

var _ store.Messages = (*Meta)(nil)

type message struct {
	Peer      int64  `json:"peer"`
	From      int64  `json:"from"`
	Out       bool   `json:"out,omitempty"`
	Date      int64  `json:"date"`
	Text      string `json:"text,omitempty"`
	RandomID  int64  `json:"random_id,omitempty"`
	GroupedID int64  `json:"grouped_id,omitempty"`
	Media     []byte `json:"media,omitempty"`
}

func msgKey(id int) []byte {
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], uint32(id))
	return k[:]
}

// AddMessages implements store.Messages.
func (m *Meta) AddMessages(ctx context.Context, msgs []*store.Message) error {
	return m.db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketMessages)
		if err != nil {
			return err
		}
		chats, err := tx.CreateBucketIfNotExists(bucketChats)
		if err != nil {
			return err
		}
		for _, msg := range msgs {
			b, err := root.CreateBucketIfNotExists(idKey(msg.Owner))
			if err != nil {
				return err
			}
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			if seq > 1<<31-1 {
				return fmt.Errorf("bolt: account %d has no message ids left", msg.Owner)
			}
			v, err := json.Marshal(message{msg.Peer, msg.From, msg.Out, unixNano(msg.Date), msg.Text,
				msg.RandomID, msg.GroupedID, msg.Media})
			if err != nil {
				return err
			}
			if err := b.Put(msgKey(int(seq)), v); err != nil {
				return err
			}
			owner, err := chats.CreateBucketIfNotExists(idKey(msg.Owner))
			if err != nil {
				return err
			}
			chat, err := owner.CreateBucketIfNotExists(idKey(msg.Peer))
			if err != nil {
				return err
			}
			if err := chat.Put(msgKey(int(seq)), nil); err != nil {
				return err
			}
			msg.ID = int(seq)
		}
		return nil
	})
}

func decodeMessage(owner int64, k, v []byte) (store.Message, error) {
	var r message
	if err := json.Unmarshal(v, &r); err != nil {
		return store.Message{}, err
	}
	return store.Message{Owner: owner, ID: int(binary.BigEndian.Uint32(k)), Peer: r.Peer, From: r.From,
		Out: r.Out, Date: fromUnixNano(r.Date), Text: r.Text, RandomID: r.RandomID,
		GroupedID: r.GroupedID, Media: r.Media}, nil
}

// appendMessage appends the message stored under k in b, if there is one.
func appendMessage(out []store.Message, b *bolt.Bucket, owner int64, k []byte) ([]store.Message, error) {
	v := b.Get(k)
	if v == nil {
		return out, nil
	}
	msg, err := decodeMessage(owner, k, v)
	if err != nil {
		return out, err
	}
	return append(out, msg), nil
}

func ownerBucket(tx *bolt.Tx, owner int64) *bolt.Bucket {
	root := tx.Bucket(bucketMessages)
	if root == nil {
		return nil
	}
	return root.Bucket(idKey(owner))
}

// Messages implements store.Messages.
func (m *Meta) Messages(ctx context.Context, owner int64, ids []int) ([]store.Message, error) {
	var out []store.Message
	err := m.db.View(func(tx *bolt.Tx) error {
		b := ownerBucket(tx, owner)
		if b == nil {
			return nil
		}
		for _, id := range ids {
			if id <= 0 {
				continue
			}
			var err error
			if out, err = appendMessage(out, b, owner, msgKey(id)); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// History implements store.Messages, walking the chat's index from the
// newest message down.
func (m *Meta) History(ctx context.Context, owner, peer int64, before, limit int) ([]store.Message, error) {
	var out []store.Message
	err := m.db.View(func(tx *bolt.Tx) error {
		msgs := ownerBucket(tx, owner)
		chats := tx.Bucket(bucketChats)
		if msgs == nil || chats == nil || limit <= 0 {
			return nil
		}
		ob := chats.Bucket(idKey(owner))
		if ob == nil {
			return nil
		}
		chat := ob.Bucket(idKey(peer))
		if chat == nil {
			return nil
		}
		c := chat.Cursor()
		var k []byte
		if before > 0 {
			if k, _ = c.Seek(msgKey(before)); k == nil {
				k, _ = c.Last() // everything is below before
			} else {
				k, _ = c.Prev()
			}
		} else {
			k, _ = c.Last()
		}
		for ; k != nil && len(out) < limit; k, _ = c.Prev() {
			var err error
			if out, err = appendMessage(out, msgs, owner, k); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
