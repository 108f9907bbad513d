package rpc

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/bolt"
)

func wantCode(t *testing.T, what string, err error, code int, msg string) {
	t.Helper()
	var re *server.RPCError
	if !errors.As(err, &re) || re.Code != code || re.Message != msg {
		t.Fatalf("%s: %v, want %d %s", what, err, code, msg)
	}
}

// TestS7c_CallsBeforeLoginPerKey: an auth key without an account has a
// bucket of calls of its own.
func TestS7c_CallsBeforeLoginPerKey(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	h := New(Config{DC: 2, Limits: Limits{AnonRate: 1, AnonBurst: 3}, Now: func() time.Time { return now }})
	a, b := &server.Key{}, &server.Key{}
	a.Update(func(k *store.AuthKey) { k.ID = [8]byte{1} })
	b.Update(func(k *store.AuthKey) { k.ID = [8]byte{2} })
	for i := range 3 {
		if _, err := invoke(t, h, a, &tg.HelpGetNearestDCRequest{}); err != nil {
			t.Fatalf("call %d within the burst: %v", i, err)
		}
	}
	_, err := invoke(t, h, a, &tg.HelpGetNearestDCRequest{})
	wantCode(t, "a fourth call", err, 420, "FLOOD_WAIT_1")
	if _, err := invoke(t, h, b, &tg.HelpGetNearestDCRequest{}); err != nil {
		t.Fatalf("another key: %v", err)
	}
	now = now.Add(time.Second)
	if _, err := invoke(t, h, a, &tg.HelpGetNearestDCRequest{}); err != nil {
		t.Fatalf("after waiting: %v", err)
	}
}

// TestS7c_BotTokenGuessing: wrong bot tokens are limited by address and by
// bot; past the limit even the right token waits, and is not looked at.
func TestS7c_BotTokenGuessing(t *testing.T) {
	ctx := context.Background()
	meta, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	for _, id := range []int64{7000001, 7000002} {
		if err := meta.PutAccount(ctx, store.Account{ID: id, Bot: true, Secret: "right", AccessKey: 1}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Unix(1_800_000_000, 0)
	h := New(Config{DC: 2, Accounts: meta, Keys: meta, Limits: Limits{BotLoginFailRate: 0.1, BotLoginFailBurst: 3},
		Now: func() time.Time { return now }})
	login := func(remote, token string) error {
		k := &server.Key{}
		var b bin.Buffer
		(&tg.AuthImportBotAuthorizationRequest{APIID: 1, APIHash: "x", BotAuthToken: token}).Encode(&b)
		_, err := h.ServeRPC(ctx, &server.Request{Key: k, Remote: remote, Body: &b})
		return err
	}
	for i := range 3 {
		wantCode(t, "a wrong token", login("192.0.2.1", "7000001:wrong"), 400, "ACCESS_TOKEN_INVALID")
		_ = i
	}
	wantCode(t, "the right token after 3 wrong ones from the address", login("192.0.2.1", "7000002:right"), 420, "FLOOD_WAIT_10")
	wantCode(t, "the bot guessed at from another address", login("192.0.2.2", "7000001:right"), 420, "FLOOD_WAIT_10")
	// Another address, another bot: no wait.
	if err := login("192.0.2.3", "7000002:right"); err != nil {
		t.Fatalf("another address and bot: %v", err)
	}
	now = now.Add(10 * time.Second)
	if err := login("192.0.2.1", "7000001:right"); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
}
