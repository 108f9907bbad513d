package filedctest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gotd/td/crypto"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"

	"github.com/filedc/filedc/internal/store"
)

// AppID and AppHash are what clients of a test DC pass to
// telegram.NewClient: filedc accepts any.
const (
	AppID   = 1
	AppHash = "filedctest"
)

// ClientOptions returns gotd options pointing at the DC: its cluster's
// addresses, its public key, no updates, and a session in memory.
//
// The session already holds an auth key the DC knows, so the client skips
// the key exchange, which costs gotd about a second of CPU (factoring pq).
// Set SessionStorage to an empty session.StorageMemory to test the
// exchange itself. Each call makes a new key: give each client its own
// options.
func (s *Server) ClientOptions() telegram.Options {
	return telegram.Options{
		PublicKeys:     []telegram.PublicKey{{RSA: &s.key.PublicKey}},
		DC:             s.dc,
		DCList:         dcs.List{Options: s.cluster},
		SessionStorage: s.seededSession(),
		NoUpdates:      true,
	}
}

// seededSession stores a new auth key in the DC and returns a client
// session holding it.
func (s *Server) seededSession() *session.StorageMemory {
	var key crypto.AuthKey
	if _, err := rand.Read(key.Value[:]); err != nil {
		panic(err)
	}
	key.ID = key.Value.ID()
	now := time.Now()
	ctx := context.Background()
	if err := s.backend.Meta.PutAuthKey(ctx, store.AuthKey{ID: key.ID, Value: key.Value, Created: now, LastUsed: now}); err != nil {
		panic(fmt.Sprintf("filedctest: storing an auth key in memory: %v", err))
	}
	st := &session.StorageMemory{}
	err := (&session.Loader{Storage: st}).Save(ctx, &session.Data{DC: s.dc, Addr: s.addr.String(),
		AuthKey: key.Value[:], AuthKeyID: key.ID[:]})
	if err != nil {
		panic(fmt.Sprintf("filedctest: saving a session in memory: %v", err))
	}
	return st
}

// Client returns a new gotd client of the DC, not yet running or logged in.
func (s *Server) Client() *telegram.Client {
	return telegram.NewClient(AppID, AppHash, s.ClientOptions())
}

// RunBot runs f with a client logged in as the bot of BotToken. As with
// telegram.Client.Run, the client stops when f returns, and the error is
// f's or the client's.
func (s *Server) RunBot(ctx context.Context, f func(ctx context.Context, client *telegram.Client) error) error {
	client := s.Client()
	return client.Run(ctx, func(ctx context.Context) error {
		if _, err := client.Auth().Bot(ctx, s.token); err != nil {
			return fmt.Errorf("bot login: %w", err)
		}
		return f(ctx, client)
	})
}

// Bot returns a client logged in as the bot of BotToken, running until
// the end of the test. Use it from any goroutine; gotd's Run blocks, so
// the client runs in its own.
func (s *Server) Bot(tb testing.TB) *telegram.Client {
	tb.Helper()
	client := s.Client()
	ctx, cancel := context.WithCancel(context.Background())
	loggedIn := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		done <- client.Run(ctx, func(ctx context.Context) error {
			_, err := client.Auth().Bot(ctx, s.token)
			loggedIn <- err
			if err != nil {
				return err
			}
			<-ctx.Done()
			return nil
		})
	}()
	var err error
	select {
	case err = <-loggedIn:
	case err = <-done:
		if err == nil {
			err = errors.New("the client stopped before it logged in")
		}
	}
	if err != nil {
		cancel()
		<-done
		tb.Fatalf("filedctest: bot login: %v", err)
	}
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			tb.Errorf("filedctest: the bot's client: %v", err)
		}
	})
	return client
}
