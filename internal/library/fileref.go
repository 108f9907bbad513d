package library

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"slices"
	"sync"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

// File references (D7) are opaque to clients and stateless here. Each names
// the origin the object was fetched from (a message, a profile photo list,
// or the object itself for messages.uploadMedia and getDocumentByHash
// answers), its issue time, and an HMAC over the object, the origin and that
// time under a key derived from the DC's secret: with --cluster, the secret
// every DC and process shares, so all of them check a reference alike (a
// client may fetch a document through one DC and download it from another).
// Nothing is stored per reference.
//
// A reference is accepted while it is younger than the TTL and its origin
// still holds the object: once the message is deleted or the photo leaves
// the profile, it is FILE_REFERENCE_INVALID; once it is old,
// FILE_REFERENCE_EXPIRED. Fetching the origin again (getMessages,
// getHistory, getUserPhotos) issues a fresh one.
//
//	version(1) kind(1) owner(8) message(4) issued(4) tag(16)
const (
	fileRefVersion = 2
	fileRefLen     = 1 + 1 + 8 + 4 + 4 + 16
)

var (
	errFileRefInvalid = badRequest("FILE_REFERENCE_INVALID")
	errFileRefExpired = badRequest("FILE_REFERENCE_EXPIRED")
)

// originKind says where an object was fetched from.
type originKind byte

const (
	originObject  originKind = 1 // the object itself: valid while it exists
	originMessage originKind = 2 // message msg of owner's history
	originProfile originKind = 3 // owner's profile photos
	originChat    originKind = 4 // the photo of chat owner (a chat's peer id)
)

// Origin is where a reference is issued: where the client fetched the
// object from.
type Origin struct {
	kind  originKind
	owner int64
	msg   int
}

// ObjectOrigin is the object itself (messages.uploadMedia,
// getDocumentByHash): its references are valid while it exists.
var ObjectOrigin = Origin{kind: originObject}

// MessageOrigin is message msg of owner's history (a user's, or a
// channel's peer id).
func MessageOrigin(owner int64, msg int) Origin { return Origin{originMessage, owner, msg} }

// ProfileOrigin is the list of an account's profile photos.
func ProfileOrigin(account int64) Origin { return Origin{kind: originProfile, owner: account} }

// ChatOrigin is the photo of a chat, by its peer id.
func ChatOrigin(peer int64) Origin { return Origin{kind: originChat, owner: peer} }

type fileRefs struct {
	key  []byte
	ttl  time.Duration
	macs *sync.Pool // of *refMAC
}

// refMAC is an HMAC-SHA-256 under the references' key with room for what
// it takes and gives, so that checking a reference allocates nothing.
type refMAC struct {
	h   hash.Hash
	obj [16]byte
	sum [sha256.Size]byte
}

func newFileRefs(secret []byte, ttl time.Duration) fileRefs {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("filedc file reference"))
	key := m.Sum(nil)
	// Every getFile checks a reference: the MACs are kept, not made anew.
	macs := &sync.Pool{New: func() any { return &refMAC{h: hmac.New(sha256.New, key)} }}
	return fileRefs{key: key, ttl: ttl, macs: macs}
}

// body is a reference without its tag.
func body(o Origin, issued uint32) []byte {
	b := make([]byte, 0, fileRefLen)
	b = append(b, fileRefVersion, byte(o.kind))
	b = binary.LittleEndian.AppendUint64(b, uint64(o.owner))
	b = binary.LittleEndian.AppendUint32(b, uint32(o.msg))
	return binary.LittleEndian.AppendUint32(b, issued)
}

// tag is the 16-byte MAC of a reference's body for obj.
func (r fileRefs) tag(obj files.FileRef, body []byte) (tag [16]byte) {
	m := r.macs.Get().(*refMAC)
	defer r.macs.Put(m)
	m.h.Reset()
	binary.LittleEndian.PutUint64(m.obj[0:], uint64(obj.ID))
	binary.LittleEndian.PutUint64(m.obj[8:], uint64(obj.AccessHash))
	m.h.Write(m.obj[:])
	m.h.Write(body)
	copy(tag[:], m.h.Sum(m.sum[:0]))
	return tag
}

// issue returns a reference to an object fetched from o, valid from now.
func (r fileRefs) issue(obj files.FileRef, o Origin, now time.Time) []byte {
	b := body(o, uint32(now.Unix()))
	tag := r.tag(obj, b)
	return append(b, tag[:]...)
}

// check accepts a reference this DC issued for the object and that has not
// expired, and returns its origin.
func (r fileRefs) check(obj files.FileRef, b []byte, now time.Time) (Origin, error) {
	if len(b) != fileRefLen || b[0] != fileRefVersion {
		return Origin{}, errFileRefInvalid
	}
	n := fileRefLen - 16
	if tag := r.tag(obj, b[:n]); !hmac.Equal(b[n:], tag[:]) {
		return Origin{}, errFileRefInvalid
	}
	o := Origin{kind: originKind(b[1]), owner: int64(binary.LittleEndian.Uint64(b[2:])), msg: int(binary.LittleEndian.Uint32(b[10:]))}
	issued := binary.LittleEndian.Uint32(b[14:])
	if now.Sub(time.Unix(int64(issued), 0)) > r.ttl {
		return Origin{}, errFileRefExpired
	}
	return o, nil
}

// Ref issues a reference to an object fetched from o, valid from now (D7).
func (s *Service) Ref(obj files.FileRef, o Origin) []byte {
	return s.refs.issue(obj, o, s.cfg.Now())
}

// CheckRef accepts a reference to an existing object when it is fresh and
// its origin still holds the object.
func (s *Service) CheckRef(ctx context.Context, obj files.FileRef, ref []byte) error {
	o, err := s.refs.check(obj, ref, s.cfg.Now())
	if err != nil {
		return err
	}
	switch o.kind {
	case originObject:
		return nil
	case originMessage:
		msgs, err := s.cfg.Messages.Messages(ctx, o.owner, []int{o.msg})
		if err != nil {
			return err
		}
		if len(msgs) == 1 {
			if slices.Contains(msgs[0].Objects, obj.ID) {
				return nil
			}
			ids, err := MediaObjects(msgs[0].Media)
			if err != nil {
				return err
			}
			if slices.Contains(ids, obj.ID) {
				return nil
			}
		}
	case originProfile:
		acc, err := s.cfg.Accounts.Account(ctx, o.owner)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && slices.Contains(acc.Photos, obj.ID) {
			return nil
		}
	case originChat:
		if id, _, ok := store.PeerChat(o.owner); ok {
			chat, err := s.cfg.Chats.Chat(ctx, id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err == nil && chat.Photo == obj.ID {
				return nil
			}
		}
	}
	return errFileRefInvalid
}

// MediaObjects returns the ids of the documents and photos a stored
// MessageMedia names.
func MediaObjects(raw []byte) ([]int64, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	media, err := tg.DecodeMessageMedia(&bin.Buffer{Buf: raw})
	if err != nil {
		return nil, err
	}
	switch m := media.(type) {
	case *tg.MessageMediaDocument:
		if d, ok := m.Document.(*tg.Document); ok {
			return []int64{d.ID}, nil
		}
	case *tg.MessageMediaPhoto:
		if p, ok := m.Photo.(*tg.Photo); ok {
			return []int64{p.ID}, nil
		}
	}
	return nil, nil
}
