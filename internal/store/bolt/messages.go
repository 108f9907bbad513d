package bolt

import (
	"bytes"
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
	bucketMessages  = []byte("messages")  // owner -> (id -> JSON message)
	bucketChats     = []byte("chats")     // owner -> peer -> (id -> nothing): each chat's ids
	bucketMediaRefs = []byte("mediarefs") // object + owner + id -> nothing: which messages name an object
	bucketPts       = []byte("pts")       // owner -> event counter
)

var _ store.Messages = (*Meta)(nil)

type message struct {
	Peer      int64   `json:"peer"`
	From      int64   `json:"from"`
	Out       bool    `json:"out,omitempty"`
	Date      int64   `json:"date"`
	Text      string  `json:"text,omitempty"`
	RandomID  int64   `json:"random_id,omitempty"`
	GroupedID int64   `json:"grouped_id,omitempty"`
	Media     []byte  `json:"media,omitempty"`
	Objects   []int64 `json:"objects,omitempty"`
	Twin      int     `json:"twin,omitempty"`
	Action    []byte  `json:"action,omitempty"`
}

func msgKey(id int) []byte {
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], uint32(id))
	return k[:]
}

func mediaRefKey(object, owner int64, id int) []byte {
	k := make([]byte, 0, 20)
	k = binary.BigEndian.AppendUint64(k, uint64(object))
	k = binary.BigEndian.AppendUint64(k, uint64(owner))
	return binary.BigEndian.AppendUint32(k, uint32(id))
}

// addPts moves an owner's event counter on by n and returns it.
func addPts(tx *bolt.Tx, owner int64, n int) (int, error) {
	b, err := tx.CreateBucketIfNotExists(bucketPts)
	if err != nil {
		return 0, err
	}
	pts := 0
	if v := b.Get(idKey(owner)); len(v) == 4 {
		pts = int(binary.BigEndian.Uint32(v))
	}
	pts += n
	if pts > 1<<31-1 {
		return 0, fmt.Errorf("bolt: account %d has no pts left", owner)
	}
	return pts, b.Put(idKey(owner), msgKey(pts))
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
		refs, err := tx.CreateBucketIfNotExists(bucketMediaRefs)
		if err != nil {
			return err
		}
		// The media they name must still exist (M6): a deletion that won
		// the race leaves the send to fail rather than name something gone.
		for _, msg := range msgs {
			for _, obj := range msg.Objects {
				if !objectExists(tx, obj) {
					return fmt.Errorf("bolt: message media %d: %w", obj, store.ErrNotFound)
				}
			}
		}
		// Ids first, so that twins can name each other.
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
			msg.ID = int(seq)
			if msg.Pts, err = addPts(tx, msg.Owner, 1); err != nil {
				return err
			}
		}
		for _, msg := range msgs {
			if msg.TwinOf != nil {
				msg.Twin, msg.TwinOf.Twin = msg.TwinOf.ID, msg.ID
			}
		}
		for _, msg := range msgs {
			v, err := json.Marshal(message{msg.Peer, msg.From, msg.Out, unixNano(msg.Date), msg.Text,
				msg.RandomID, msg.GroupedID, msg.Media, msg.Objects, msg.Twin, msg.Action})
			if err != nil {
				return err
			}
			if err := root.Bucket(idKey(msg.Owner)).Put(msgKey(msg.ID), v); err != nil {
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
			if err := chat.Put(msgKey(msg.ID), nil); err != nil {
				return err
			}
			for _, obj := range msg.Objects {
				if err := refs.Put(mediaRefKey(obj, msg.Owner, msg.ID), nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// DeleteMessages implements store.Messages.
func (m *Meta) DeleteMessages(ctx context.Context, owner int64, ids []int) ([]store.Message, int, error) {
	var out []store.Message
	pts := 0
	err := m.db.Update(func(tx *bolt.Tx) error {
		out = out[:0]
		b := ownerBucket(tx, owner)
		if b != nil {
			for _, id := range ids {
				if id <= 0 {
					continue
				}
				k := msgKey(id)
				v := b.Get(k)
				if v == nil {
					continue
				}
				msg, err := decodeMessage(owner, k, v)
				if err != nil {
					return err
				}
				if err := b.Delete(k); err != nil {
					return err
				}
				if chat := tx.Bucket(bucketChats).Bucket(idKey(owner)).Bucket(idKey(msg.Peer)); chat != nil {
					if err := chat.Delete(k); err != nil {
						return err
					}
				}
				for _, obj := range msg.Objects {
					if err := tx.Bucket(bucketMediaRefs).Delete(mediaRefKey(obj, owner, id)); err != nil {
						return err
					}
				}
				out = append(out, msg)
			}
		}
		var err error
		pts, err = addPts(tx, owner, len(out))
		return err
	})
	return out, pts, err
}

// Referenced implements store.Messages.
func (m *Meta) Referenced(ctx context.Context, object int64) (bool, error) {
	found := false
	err := m.db.View(func(tx *bolt.Tx) error {
		found = referenced(tx, object)
		return nil
	})
	return found, err
}

// referenced reports whether a message names object.
func referenced(tx *bolt.Tx, object int64) bool {
	refs := tx.Bucket(bucketMediaRefs)
	if refs == nil {
		return false
	}
	prefix := idKey(object)
	k, _ := refs.Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

// objectExists reports whether id is a document or a photo.
func objectExists(tx *bolt.Tx, id int64) bool {
	for _, name := range [][]byte{bucketDocuments, bucketPhotos} {
		if b := tx.Bucket(name); b != nil && b.Get(idKey(id)) != nil {
			return true
		}
	}
	return false
}

// Pts implements store.Messages.
func (m *Meta) Pts(ctx context.Context, owner int64) (int, error) {
	pts := 0
	err := m.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketPts); b != nil {
			if v := b.Get(idKey(owner)); len(v) == 4 {
				pts = int(binary.BigEndian.Uint32(v))
			}
		}
		return nil
	})
	return pts, err
}

func decodeMessage(owner int64, k, v []byte) (store.Message, error) {
	var r message
	if err := json.Unmarshal(v, &r); err != nil {
		return store.Message{}, err
	}
	return store.Message{Owner: owner, ID: int(binary.BigEndian.Uint32(k)), Peer: r.Peer, From: r.From,
		Out: r.Out, Date: fromUnixNano(r.Date), Text: r.Text, RandomID: r.RandomID,
		GroupedID: r.GroupedID, Media: r.Media, Action: r.Action, Objects: r.Objects, Twin: r.Twin}, nil
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
