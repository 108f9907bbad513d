package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gotd/td/crypto"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/transport"
)

// gotdConnect is how docs/clients.md tells a gotd user to point a client at
// a local filedc: the doc quotes the lines between the markers, and
// TestO1_ClientsDocQuotesTheTestedCode checks that it still does.
func gotdConnect(dataDir, host string, port, dc int, botToken string, f func(ctx context.Context, api *tg.Client) error) error {
	ctx := context.Background()
	// --- begin connect
	// filedc writes its key on first start: DATA/public.pem (PKCS#1).
	pemData, err := os.ReadFile(filepath.Join(dataDir, "public.pem"))
	if err != nil {
		return err
	}
	keys, err := crypto.ParseRSAPublicKeys(pemData)
	if err != nil || len(keys) != 1 {
		return fmt.Errorf("public.pem: %v", err)
	}
	client := telegram.NewClient(1, "any-api-hash", telegram.Options{
		PublicKeys: []telegram.PublicKey{{RSA: keys[0]}},
		DC:         dc,
		DCList: dcs.List{Options: []tg.DCOption{
			{ID: dc, IPAddress: host, Port: port, Static: true},
		}},
		Resolver:       dcs.Plain(dcs.PlainOptions{Protocol: transport.Intermediate}),
		SessionStorage: &session.StorageMemory{},
	})
	return client.Run(ctx, func(ctx context.Context) error {
		if _, err := client.Auth().Bot(ctx, botToken); err != nil {
			return err
		}
		return f(ctx, client.API())
	})
	// --- end connect
}

// TestS2_GotdConnectsAsDocumented runs docs/clients.md's gotd snippet
// against a real filedc process.
func TestS2_GotdConnectsAsDocumented(t *testing.T) {
	srv := startServer(t)
	done := make(chan error, 1)
	go func() {
		done <- gotdConnect(srv.data, srv.addr.IP.String(), srv.addr.Port, 2, botToken, func(ctx context.Context, api *tg.Client) error {
			users, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
			if err != nil {
				return err
			}
			if u, ok := users[0].(*tg.User); !ok || !u.Bot || !u.Self {
				t.Errorf("self %+v", users[0])
			}
			return nil
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the documented gotd client did not finish")
	}
}
