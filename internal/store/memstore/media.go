package memstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/filedc/filedc/internal/store"
)

var (
	_ store.Messages  = (*Store)(nil)
	_ store.Documents = (*Store)(nil)
	_ store.Photos    = (*Store)(nil)
	_ store.Chats     = (*Store)(nil)
)

// history is one owner's messages.
type history struct {
	last   int // the last id given out
	byID   map[int]store.Message
	byPeer map[int64][]int // each chat's ids, ascending
}

func copyMessage(m store.Message) store.Message {
	m.Media, m.Action, m.Objects = slices.Clone(m.Media), slices.Clone(m.Action), slices.Clone(m.Objects)
	m.TwinOf = nil
	return m
}

// AddMessages implements store.Messages: one critical section checks the
// media and stores every message, so collection never sees half a send.
func (s *Store) AddMessages(ctx context.Context, msgs []*store.Message) error {
	s.records.Lock()
	defer s.records.Unlock()
	for _, msg := range msgs {
		for _, obj := range msg.Objects {
			_, doc := s.documents[obj]
			_, photo := s.photos[obj]
			if !doc && !photo {
				return fmt.Errorf("memstore: message media %d: %w", obj, store.ErrNotFound)
			}
		}
	}
	for _, msg := range msgs {
		h := s.histories[msg.Owner]
		if h == nil {
			h = &history{byID: make(map[int]store.Message), byPeer: make(map[int64][]int)}
			s.histories[msg.Owner] = h
		}
		h.last++
		msg.ID = h.last
		s.pts[msg.Owner]++
		msg.Pts = s.pts[msg.Owner]
	}
	for _, msg := range msgs {
		if msg.TwinOf != nil {
			msg.Twin, msg.TwinOf.Twin = msg.TwinOf.ID, msg.ID
		}
	}
	for _, msg := range msgs {
		h := s.histories[msg.Owner]
		h.byID[msg.ID] = copyMessage(*msg)
		h.byPeer[msg.Peer] = append(h.byPeer[msg.Peer], msg.ID)
		for _, obj := range msg.Objects {
			s.refs[obj]++
		}
	}
	return nil
}

// Messages implements store.Messages.
func (s *Store) Messages(ctx context.Context, owner int64, ids []int) ([]store.Message, error) {
	s.records.Lock()
	defer s.records.Unlock()
	h := s.histories[owner]
	if h == nil {
		return nil, nil
	}
	var out []store.Message
	for _, id := range ids {
		if m, ok := h.byID[id]; ok {
			out = append(out, copyMessage(m))
		}
	}
	return out, nil
}

// History implements store.Messages.
func (s *Store) History(ctx context.Context, owner, peer int64, before, limit int) ([]store.Message, error) {
	s.records.Lock()
	defer s.records.Unlock()
	h := s.histories[owner]
	if h == nil || limit <= 0 {
		return nil, nil
	}
	ids := h.byPeer[peer]
	end := len(ids)
	if before > 0 {
		end, _ = slices.BinarySearch(ids, before)
	}
	var out []store.Message
	for i := end - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, copyMessage(h.byID[ids[i]]))
	}
	return out, nil
}

// DeleteMessages implements store.Messages.
func (s *Store) DeleteMessages(ctx context.Context, owner int64, ids []int) ([]store.Message, int, error) {
	s.records.Lock()
	defer s.records.Unlock()
	var out []store.Message
	if h := s.histories[owner]; h != nil {
		for _, id := range ids {
			m, ok := h.byID[id]
			if !ok {
				continue
			}
			delete(h.byID, id)
			chat := h.byPeer[m.Peer]
			if i, found := slices.BinarySearch(chat, id); found {
				h.byPeer[m.Peer] = slices.Delete(chat, i, i+1)
			}
			for _, obj := range m.Objects {
				if s.refs[obj]--; s.refs[obj] <= 0 {
					delete(s.refs, obj)
				}
			}
			out = append(out, copyMessage(m))
		}
	}
	s.pts[owner] += len(out)
	return out, s.pts[owner], nil
}

// Referenced implements store.Messages.
func (s *Store) Referenced(ctx context.Context, object int64) (bool, error) {
	s.records.Lock()
	defer s.records.Unlock()
	return s.refs[object] > 0, nil
}

// Pts implements store.Messages.
func (s *Store) Pts(ctx context.Context, owner int64) (int, error) {
	s.records.Lock()
	defer s.records.Unlock()
	return s.pts[owner], nil
}

// contentKey names a content: documents with the same one share a file.
type contentKey struct {
	sum  [32]byte
	size int64
}

func copyDocument(d store.Document) store.Document {
	d.Attributes, d.Stripped, d.Outline = slices.Clone(d.Attributes), slices.Clone(d.Stripped), slices.Clone(d.Outline)
	d.Thumbs = slices.Clone(d.Thumbs)
	return d
}

// indexed reports whether a document is found by its content: only one
// with a content hash is.
func indexed(d store.Document) bool { return d.SHA256 != [32]byte{} }

// byContentLocked returns the documents of one content, by id.
func (s *Store) byContentLocked(sum [32]byte, size int64) []store.Document {
	ids := s.contents[contentKey{sum, size}]
	out := make([]store.Document, 0, len(ids))
	for id := range ids {
		out = append(out, s.documents[id])
	}
	slices.SortFunc(out, func(a, b store.Document) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// PutDocument implements store.Documents.
func (s *Store) PutDocument(ctx context.Context, d store.Document) (store.Document, error) {
	d = copyDocument(d)
	s.records.Lock()
	defer s.records.Unlock()
	if indexed(d) {
		peers := s.byContentLocked(d.SHA256, d.Size)
		for _, p := range peers {
			if p.ID != d.ID && p.Owner == d.Owner && p.Mime == d.Mime && bytes.Equal(p.Attributes, d.Attributes) {
				return copyDocument(p), nil
			}
		}
		for _, p := range peers {
			if p.ID != d.ID {
				d.File, d.FileAccess = p.File, p.FileAccess
				break
			}
		}
	}
	if d.FileAccess == 0 {
		d.FileAccess = d.AccessHash // as the other stores read it back
	}
	s.deleteDocumentLocked(d.ID) // a document put again may change its content
	s.documents[d.ID] = d
	if indexed(d) {
		k := contentKey{d.SHA256, d.Size}
		if s.contents[k] == nil {
			s.contents[k] = make(map[int64]bool)
		}
		s.contents[k][d.ID] = true
	}
	return copyDocument(d), nil
}

// Document implements store.Documents.
func (s *Store) Document(ctx context.Context, id int64) (store.Document, error) {
	s.records.Lock()
	defer s.records.Unlock()
	d, ok := s.documents[id]
	if !ok {
		return store.Document{}, store.ErrNotFound
	}
	return copyDocument(d), nil
}

// DocumentByHash implements store.Documents.
func (s *Store) DocumentByHash(ctx context.Context, sum [32]byte, size int64, mime string, owner int64) (store.Document, error) {
	s.records.Lock()
	defer s.records.Unlock()
	var found *store.Document
	for _, d := range s.byContentLocked(sum, size) {
		if d.Mime != mime {
			continue
		}
		if d.Owner == owner {
			return copyDocument(d), nil
		}
		if found == nil {
			found = &d
		}
	}
	if found == nil {
		return store.Document{}, store.ErrNotFound
	}
	return copyDocument(*found), nil
}

// DocumentsByContent implements store.Documents.
func (s *Store) DocumentsByContent(ctx context.Context, sum [32]byte, size int64) ([]store.Document, error) {
	s.records.Lock()
	defer s.records.Unlock()
	docs := s.byContentLocked(sum, size)
	for i := range docs {
		docs[i] = copyDocument(docs[i])
	}
	return docs, nil
}

// DeleteDocument implements store.Documents.
func (s *Store) DeleteDocument(ctx context.Context, id int64) error {
	s.records.Lock()
	defer s.records.Unlock()
	s.deleteDocumentLocked(id)
	return nil
}

func (s *Store) deleteDocumentLocked(id int64) (store.Document, bool) {
	d, ok := s.documents[id]
	if !ok {
		return store.Document{}, false
	}
	delete(s.documents, id)
	k := contentKey{d.SHA256, d.Size}
	if ids := s.contents[k]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(s.contents, k)
		}
	}
	return d, true
}

// CollectDocument implements store.Documents.
func (s *Store) CollectDocument(ctx context.Context, id int64) (store.Document, bool, bool, error) {
	s.records.Lock()
	defer s.records.Unlock()
	if s.refs[id] > 0 {
		return store.Document{}, false, false, nil
	}
	d, ok := s.deleteDocumentLocked(id)
	if !ok {
		return store.Document{}, false, false, nil
	}
	free := true
	if indexed(d) {
		free = !slices.ContainsFunc(s.byContentLocked(d.SHA256, d.Size), func(p store.Document) bool { return p.File == d.File })
	}
	return d, true, free, nil
}

func copyPhoto(p store.Photo) store.Photo {
	p.Sizes, p.Stripped = slices.Clone(p.Sizes), slices.Clone(p.Stripped)
	if p.Video != nil {
		v := *p.Video
		p.Video = &v
	}
	return p
}

// PutPhoto implements store.Photos.
func (s *Store) PutPhoto(ctx context.Context, p store.Photo) error {
	p = copyPhoto(p)
	s.records.Lock()
	defer s.records.Unlock()
	s.photos[p.ID] = p
	return nil
}

// Photo implements store.Photos.
func (s *Store) Photo(ctx context.Context, id int64) (store.Photo, error) {
	s.records.Lock()
	defer s.records.Unlock()
	p, ok := s.photos[id]
	if !ok {
		return store.Photo{}, store.ErrNotFound
	}
	return copyPhoto(p), nil
}

// DeletePhoto implements store.Photos.
func (s *Store) DeletePhoto(ctx context.Context, id int64) error {
	s.records.Lock()
	defer s.records.Unlock()
	delete(s.photos, id)
	return nil
}

// CollectPhoto implements store.Photos: a photo named by a message, among
// its owner's profile photos or a chat's current photo stays.
func (s *Store) CollectPhoto(ctx context.Context, id int64) (store.Photo, bool, error) {
	s.records.Lock()
	defer s.records.Unlock()
	p, ok := s.photos[id]
	if !ok || s.refs[id] > 0 || s.chatPhoto[id] > 0 {
		return store.Photo{}, false, nil
	}
	if a, ok := s.accounts[p.Owner]; ok && slices.Contains(a.Photos, id) {
		return store.Photo{}, false, nil
	}
	delete(s.photos, id)
	return p, true, nil
}

func copyChat(c store.Chat) store.Chat {
	c.Members = slices.Clone(c.Members)
	return c
}

// CreateChat implements store.Chats.
func (s *Store) CreateChat(ctx context.Context, c store.Chat) error {
	s.records.Lock()
	defer s.records.Unlock()
	if _, ok := s.chats[c.ID]; ok {
		return store.ErrChatExists
	}
	if c.Photo != 0 {
		s.chatPhoto[c.Photo]++
	}
	s.chats[c.ID] = copyChat(c)
	return nil
}

// Chat implements store.Chats.
func (s *Store) Chat(ctx context.Context, id int64) (store.Chat, error) {
	s.records.Lock()
	defer s.records.Unlock()
	c, ok := s.chats[id]
	if !ok {
		return store.Chat{}, store.ErrNotFound
	}
	return copyChat(c), nil
}

// UpdateChat implements store.Chats. fn runs under the lock, as it runs in
// the other stores' transactions: it must not call the store.
func (s *Store) UpdateChat(ctx context.Context, id int64, fn func(*store.Chat) error) (store.Chat, error) {
	s.records.Lock()
	defer s.records.Unlock()
	old, ok := s.chats[id]
	if !ok {
		return store.Chat{}, store.ErrNotFound
	}
	c := copyChat(old)
	if err := fn(&c); err != nil {
		return store.Chat{}, err
	}
	c.ID = id
	if c.Photo != old.Photo {
		if _, ok := s.photos[c.Photo]; c.Photo != 0 && !ok {
			return store.Chat{}, fmt.Errorf("memstore: chat photo %d: %w", c.Photo, store.ErrNotFound)
		}
		if old.Photo != 0 {
			if s.chatPhoto[old.Photo]--; s.chatPhoto[old.Photo] <= 0 {
				delete(s.chatPhoto, old.Photo)
			}
		}
		if c.Photo != 0 {
			s.chatPhoto[c.Photo]++
		}
	}
	s.chats[id] = copyChat(c)
	return copyChat(c), nil
}
