package memstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/filedc/filedc/internal/store"
)

var (
	_ store.Meta     = (*Store)(nil)
	_ store.AuthKeys = (*Store)(nil)
	_ store.Accounts = (*Store)(nil)
	_ store.Once     = (*Store)(nil)
)

// metaTables are the records of finalized files; records is held.
type metaTables struct {
	files    map[int64]store.FileRecord
	hashes   map[int64][]store.Hash
	consumed map[store.UploadID]time.Time // upload -> its record's Created
}

func newMetaTables() metaTables {
	return metaTables{
		files:    make(map[int64]store.FileRecord),
		hashes:   make(map[int64][]store.Hash),
		consumed: make(map[store.UploadID]time.Time),
	}
}

// CommitFile implements store.Meta.
func (s *Store) CommitFile(ctx context.Context, rec store.FileRecord, ranges []store.Hash) error {
	s.records.Lock()
	defer s.records.Unlock()
	if _, ok := s.meta.consumed[rec.Upload]; ok {
		return store.ErrConsumed
	}
	if _, ok := s.meta.files[rec.ID]; ok {
		return fmt.Errorf("memstore: file %d exists", rec.ID)
	}
	s.meta.consumed[rec.Upload] = rec.Created
	s.meta.files[rec.ID] = rec
	s.meta.hashes[rec.ID] = slices.Clone(ranges)
	return nil
}

// File implements store.Meta.
func (s *Store) File(ctx context.Context, id int64) (store.FileRecord, error) {
	s.records.Lock()
	defer s.records.Unlock()
	rec, ok := s.meta.files[id]
	if !ok {
		return store.FileRecord{}, store.ErrNotFound
	}
	return rec, nil
}

// RangeHashes implements store.Meta.
func (s *Store) RangeHashes(ctx context.Context, id int64, first, n int) ([]store.Hash, error) {
	if first < 0 || n < 0 {
		return nil, errNegativeRange
	}
	s.records.Lock()
	defer s.records.Unlock()
	hs, ok := s.meta.hashes[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	if first >= len(hs) {
		return nil, nil
	}
	return slices.Clone(hs[first:min(len(hs), first+n)]), nil
}

// Consumed implements store.Meta.
func (s *Store) Consumed(ctx context.Context, id store.UploadID) (bool, error) {
	s.records.Lock()
	defer s.records.Unlock()
	_, ok := s.meta.consumed[id]
	return ok, nil
}

// ForgetConsumed implements store.Meta.
func (s *Store) ForgetConsumed(ctx context.Context, before time.Time) error {
	s.records.Lock()
	defer s.records.Unlock()
	maps.DeleteFunc(s.meta.consumed, func(_ store.UploadID, at time.Time) bool { return at.Before(before) })
	return nil
}

// DeleteFile implements store.Meta.
func (s *Store) DeleteFile(ctx context.Context, id int64) error {
	s.records.Lock()
	defer s.records.Unlock()
	delete(s.meta.files, id)
	delete(s.meta.hashes, id)
	return nil
}

// Files implements store.Meta; fn runs outside the lock.
func (s *Store) Files(ctx context.Context, fn func(store.FileRecord) error) error {
	s.records.Lock()
	recs := slices.Collect(maps.Values(s.meta.files))
	s.records.Unlock()
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// PutAuthKey implements store.AuthKeys.
func (s *Store) PutAuthKey(ctx context.Context, k store.AuthKey) error {
	s.records.Lock()
	defer s.records.Unlock()
	s.keys[k.ID] = k
	return nil
}

// AuthKey implements store.AuthKeys.
func (s *Store) AuthKey(ctx context.Context, id [8]byte) (store.AuthKey, error) {
	s.records.Lock()
	defer s.records.Unlock()
	k, ok := s.keys[id]
	if !ok {
		return store.AuthKey{}, store.ErrNotFound
	}
	return k, nil
}

// DeleteAuthKey implements store.AuthKeys.
func (s *Store) DeleteAuthKey(ctx context.Context, id [8]byte) error {
	s.records.Lock()
	defer s.records.Unlock()
	delete(s.keys, id)
	return nil
}

// DeleteUnusedAuthKeys implements store.AuthKeys.
func (s *Store) DeleteUnusedAuthKeys(ctx context.Context, idleBefore, now time.Time, limit int) (int, error) {
	s.records.Lock()
	defer s.records.Unlock()
	n := 0
	for id, k := range s.keys {
		if n >= limit {
			break
		}
		if k.Unused(idleBefore, now) {
			delete(s.keys, id)
			n++
		}
	}
	return n, nil
}

// LogOut implements store.AuthKeys.
func (s *Store) LogOut(ctx context.Context, user int64) (int, error) {
	s.records.Lock()
	defer s.records.Unlock()
	n := 0
	for id, k := range s.keys {
		if k.UserID == user {
			k.UserID = 0
			s.keys[id] = k
			n++
		}
	}
	return n, nil
}

// Bots implements store.Accounts.
func (s *Store) Bots(ctx context.Context) ([]store.Account, error) {
	s.records.Lock()
	defer s.records.Unlock()
	var bots []store.Account
	for _, a := range s.accounts {
		if a.Bot {
			a.Photos = slices.Clone(a.Photos)
			bots = append(bots, a)
		}
	}
	slices.SortFunc(bots, func(a, b store.Account) int { return cmp.Compare(a.ID, b.ID) })
	return bots, nil
}

// PutAccount implements store.Accounts.
func (s *Store) PutAccount(ctx context.Context, a store.Account) error {
	a.Photos = slices.Clone(a.Photos)
	s.records.Lock()
	defer s.records.Unlock()
	if old, ok := s.accounts[a.ID]; ok && old.Phone != "" && s.phones[old.Phone] == a.ID {
		delete(s.phones, old.Phone)
	}
	if a.Phone != "" {
		s.phones[a.Phone] = a.ID
	}
	s.accounts[a.ID] = a
	return nil
}

// Account implements store.Accounts.
func (s *Store) Account(ctx context.Context, id int64) (store.Account, error) {
	s.records.Lock()
	defer s.records.Unlock()
	return s.accountLocked(id)
}

func (s *Store) accountLocked(id int64) (store.Account, error) {
	a, ok := s.accounts[id]
	if !ok {
		return store.Account{}, store.ErrNotFound
	}
	a.Photos = slices.Clone(a.Photos)
	return a, nil
}

// AccountByPhone implements store.Accounts.
func (s *Store) AccountByPhone(ctx context.Context, phone string) (store.Account, error) {
	s.records.Lock()
	defer s.records.Unlock()
	id, ok := s.phones[phone]
	if !ok {
		return store.Account{}, store.ErrNotFound
	}
	return s.accountLocked(id)
}

// UseOnce implements store.Once.
func (s *Store) UseOnce(ctx context.Context, id [16]byte, expires time.Time) (bool, error) {
	return s.once.UseOnce(ctx, id, expires)
}
