// Package bots decides what the operator may do with bot accounts: create
// them, list them, and revoke their tokens (which logs their keys out). The
// admin endpoint of a running server and `filedc bot` on a stopped one's
// data directory both go through it.
package bots

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/filedc/filedc/internal/randid"
	"github.com/filedc/filedc/internal/store"
)

// Bot is a bot account as the operator sees it; its secret stays inside.
type Bot struct {
	ID       int64     `json:"id"`
	Name     string    `json:"name"`
	Username string    `json:"username"`
	Created  time.Time `json:"created"`
}

// Service manages bots over the stores.
type Service struct {
	Accounts store.Accounts
	Keys     store.AuthKeys
	// LoggedOut, when set, is told of an account whose keys were logged
	// out, so that a running server forgets the logins it has cached.
	LoggedOut func(user int64)
	Now       func() time.Time
}

// ErrInvalidName is the error for a name that is not a Telegram username.
var ErrInvalidName = errors.New("a bot name is 3 to 32 letters, digits and underscores, starting with a letter")

// ErrNotFound is the error for an id that names no bot.
var ErrNotFound = errors.New("no such bot")

var validName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{2,31}$`)

const firstBotID = 1_000_000_000 // below are test users and older bots

// Add creates a bot named name and returns it with its token (ID:SECRET).
func (s *Service) Add(ctx context.Context, name string) (Bot, string, error) {
	if !validName.MatchString(name) {
		return Bot{}, "", ErrInvalidName
	}
	secret, err := newSecret()
	if err != nil {
		return Bot{}, "", err
	}
	id, err := store.NewAccountID(ctx, s.Accounts, firstBotID, randid.Int63)
	if err != nil {
		return Bot{}, "", err
	}
	acc := store.Account{ID: id, Bot: true, Name: name, Username: name, Secret: secret,
		AccessKey: randid.Int63(), Created: s.now()}
	if err := s.Accounts.PutAccount(ctx, acc); err != nil {
		return Bot{}, "", err
	}
	return botOf(acc), token(acc), nil
}

// List returns every bot, by id.
func (s *Service) List(ctx context.Context) ([]Bot, error) {
	accs, err := s.Accounts.Bots(ctx)
	if err != nil {
		return nil, err
	}
	bots := make([]Bot, 0, len(accs))
	for _, a := range accs {
		bots = append(bots, botOf(a))
	}
	return bots, nil
}

// Revoke gives bot id a new secret, so its old token logs in no more, and
// logs out every key logged in as it. It returns the new token and how many
// keys were logged out.
func (s *Service) Revoke(ctx context.Context, id int64) (string, int, error) {
	acc, err := s.Accounts.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !acc.Bot) {
		return "", 0, fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	if err != nil {
		return "", 0, err
	}
	if acc.Secret, err = newSecret(); err != nil {
		return "", 0, err
	}
	if err := s.Accounts.PutAccount(ctx, acc); err != nil {
		return "", 0, err
	}
	// After the new secret: a login racing the revocation either used the
	// old secret before it and is logged out here, or fails.
	n, err := s.Keys.LogOut(ctx, id)
	if err != nil {
		return "", 0, err
	}
	if s.LoggedOut != nil {
		s.LoggedOut(id)
	}
	return token(acc), n, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func botOf(a store.Account) Bot {
	return Bot{ID: a.ID, Name: a.Name, Username: a.Username, Created: a.Created}
}

func token(a store.Account) string { return strconv.FormatInt(a.ID, 10) + ":" + a.Secret }

func newSecret() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
