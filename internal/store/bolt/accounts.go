package bolt

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/filedc/filedc/internal/store"
)

var (
	bucketAccounts = []byte("accounts") // id -> JSON account
	bucketPhones   = []byte("phones")   // phone -> id
)

var _ store.Accounts = (*Meta)(nil)

type account struct {
	ID        int64   `json:"id"`
	Bot       bool    `json:"bot,omitempty"`
	Name      string  `json:"name,omitempty"`
	Username  string  `json:"username,omitempty"`
	Phone     string  `json:"phone,omitempty"`
	Secret    string  `json:"secret,omitempty"`
	AccessKey int64   `json:"access_key"`
	Premium   bool    `json:"premium,omitempty"`
	Created   int64   `json:"created"`
	Photos    []int64 `json:"photos,omitempty"`
}

// PutAccount implements store.Accounts.
func (m *Meta) PutAccount(ctx context.Context, a store.Account) error {
	v, err := json.Marshal(account{a.ID, a.Bot, a.Name, a.Username, a.Phone, a.Secret, a.AccessKey, a.Premium, unixNano(a.Created), a.Photos})
	if err != nil {
		return err
	}
	return m.db.Update(func(tx *bolt.Tx) error {
		accounts, err := tx.CreateBucketIfNotExists(bucketAccounts)
		if err != nil {
			return err
		}
		phones, err := tx.CreateBucketIfNotExists(bucketPhones)
		if err != nil {
			return err
		}
		if old := accounts.Get(idKey(a.ID)); old != nil {
			var prev account
			if json.Unmarshal(old, &prev) == nil && prev.Phone != "" {
				if err := phones.Delete([]byte(prev.Phone)); err != nil {
					return err
				}
			}
		}
		if a.Phone != "" {
			if err := phones.Put([]byte(a.Phone), idKey(a.ID)); err != nil {
				return err
			}
		}
		return accounts.Put(idKey(a.ID), v)
	})
}

// Account implements store.Accounts.
func (m *Meta) Account(ctx context.Context, id int64) (store.Account, error) {
	var a account
	err := m.getJSON(bucketAccounts, idKey(id), &a)
	if err != nil {
		return store.Account{}, err
	}
	return a.record(), nil
}

func (a account) record() store.Account {
	return store.Account{ID: a.ID, Bot: a.Bot, Name: a.Name, Username: a.Username, Phone: a.Phone,
		Secret: a.Secret, AccessKey: a.AccessKey, Premium: a.Premium, Created: fromUnixNano(a.Created), Photos: a.Photos}
}

// Bots implements store.Accounts. Accounts are few (bots and test users),
// so a scan is the index.
func (m *Meta) Bots(ctx context.Context) ([]store.Account, error) {
	var bots []store.Account
	err := m.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var a account
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if a.Bot {
				bots = append(bots, a.record())
			}
			return nil
		})
	})
	slices.SortFunc(bots, func(a, b store.Account) int { return cmp.Compare(a.ID, b.ID) })
	return bots, err
}

// AccountByPhone implements store.Accounts.
func (m *Meta) AccountByPhone(ctx context.Context, phone string) (store.Account, error) {
	var id int64
	err := m.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPhones)
		if b == nil {
			return store.ErrNotFound
		}
		v := b.Get([]byte(phone))
		if len(v) != 8 {
			return store.ErrNotFound
		}
		id = int64(beUint64(v))
		return nil
	})
	if err != nil {
		return store.Account{}, err
	}
	return m.Account(ctx, id)
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}
