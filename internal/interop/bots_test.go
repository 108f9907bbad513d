package interop

import (
	"context"
	"testing"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/transport"

	"github.com/filedc/filedc/internal/admin"
)

// TestO3_BotRevokedWhileServerRuns: a bot added through the admin API of a
// running server logs in at once; revoking its token logs out the client
// still connected (its next call is AUTH_KEY_UNREGISTERED), the old token
// logs in no more, and the new one does.
func TestO3_BotRevokedWhileServerRuns(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	api := &admin.Client{Addr: srv.http, Token: admin.ReadToken(srv.data)}
	bot, token, err := api.Add(ctx, "live_bot")
	if err != nil {
		t.Fatal(err)
	}
	self := func(ctx context.Context, client *tg.Client) error {
		_, err := client.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
		return err
	}
	var newToken string
	withBot(t, srv, token, func(ctx context.Context, client *tg.Client) error {
		if err := self(ctx, client); err != nil {
			return err
		}
		var n int
		if newToken, n, err = api.Revoke(ctx, bot.ID); err != nil {
			return err
		}
		if n != 1 {
			t.Errorf("the revocation logged out %d keys, want the one this client logged in", n)
		}
		if err := self(ctx, client); !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") {
			t.Errorf("a call after the revocation: %v, want AUTH_KEY_UNREGISTERED", err)
		}
		return nil
	})
	client := srv.client(transport.Intermediate)
	err = client.Run(ctx, func(ctx context.Context) error {
		_, err := client.Auth().Bot(ctx, token)
		return err
	})
	if !tgerr.Is(err, "ACCESS_TOKEN_INVALID") {
		t.Errorf("the revoked token: %v, want ACCESS_TOKEN_INVALID", err)
	}
	withBot(t, srv, newToken, self)
	list, err := api.List(ctx)
	if err != nil || len(list) < 2 {
		t.Fatalf("bots: %+v, %v; want the one added and the server's own", list, err)
	}
}
