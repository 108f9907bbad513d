package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/filedc/filedc/internal/store"
)

// TestAccounts runs the conformance suite for store.Accounts.
func TestAccounts(t *testing.T, open func(t *testing.T) store.Accounts) {
	ctx := context.Background()
	same := func(a, b store.Account) bool {
		return a.ID == b.ID && a.Bot == b.Bot && a.Name == b.Name && a.Username == b.Username &&
			a.Phone == b.Phone && a.Secret == b.Secret && a.AccessKey == b.AccessKey &&
			a.Premium == b.Premium && a.Created.Equal(b.Created) && fmt.Sprint(a.Photos) == fmt.Sprint(b.Photos)
	}
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		for _, a := range []store.Account{
			{ID: 7000001, Bot: true, Name: "uploader", Username: "uploader_bot", Secret: "s3cr3t", AccessKey: -9, Created: savedAt(1)},
			{ID: 7000002, Name: "Ann", Phone: "9996621234", AccessKey: 5, Premium: true, Created: savedAt(2), Photos: []int64{9, -3}},
		} {
			if err := s.PutAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
			got, err := s.Account(ctx, a.ID)
			if err != nil || !same(got, a) {
				t.Fatalf("got %+v, %v; want %+v", got, err, a)
			}
		}
		got, err := s.AccountByPhone(ctx, "9996621234")
		if err != nil || got.ID != 7000002 {
			t.Fatalf("by phone: %+v, %v", got, err)
		}
	})
	t.Run("Bots", func(t *testing.T) {
		s := open(t)
		for _, a := range []store.Account{
			{ID: 7000009, Bot: true, Name: "second", Secret: "b", Created: savedAt(3)},
			{ID: 7000001, Bot: true, Name: "first", Secret: "a", Created: savedAt(1)},
			{ID: 7000005, Name: "Ann", Phone: "9996620000", Created: savedAt(2)},
		} {
			if err := s.PutAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		bots, err := s.Bots(ctx)
		if err != nil || len(bots) != 2 || bots[0].Name != "first" || bots[1].Name != "second" || bots[1].Secret != "b" {
			t.Fatalf("bots: %+v, %v; want first and second, by id", bots, err)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		if _, err := s.Account(ctx, 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown id: %v", err)
		}
		if _, err := s.AccountByPhone(ctx, "123"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown phone: %v", err)
		}
	})
	t.Run("PhoneMoves", func(t *testing.T) {
		s := open(t)
		a := store.Account{ID: 3, Phone: "111", Created: savedAt(3)}
		if err := s.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		a.Phone = "222"
		if err := s.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AccountByPhone(ctx, "111"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("old phone still finds the account: %v", err)
		}
		if got, err := s.AccountByPhone(ctx, "222"); err != nil || got.ID != 3 {
			t.Fatalf("new phone: %+v, %v", got, err)
		}
	})
}
