package rpc

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"sync"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/mtproto/server"
)

// Takeout sessions: account.initTakeoutSession opens one per account,
// invokeWithTakeout must name it (else TAKEOUT_INVALID), and
// account.finishTakeoutSession closes it. Bots have none, as on Telegram.
// They are kept in this process's memory, one per account: a DC of several
// processes knows a takeout only on the process that opened it.
var (
	errTakeoutInvalid = &server.RPCError{Code: 400, Message: "TAKEOUT_INVALID"}
	errBotMethod      = &server.RPCError{Code: 400, Message: "BOT_METHOD_INVALID"}
)

type takeouts struct {
	mu     sync.Mutex
	active map[int64]int64 // account -> takeout id
}

func newTakeouts() *takeouts { return &takeouts{active: make(map[int64]int64)} }

func (t *takeouts) open(user int64) int64 {
	var b [8]byte
	rand.Read(b[:])
	id := int64(binary.LittleEndian.Uint64(b[:]) &^ (1 << 63))
	t.mu.Lock()
	t.active[user] = id
	t.mu.Unlock()
	return id
}

func (t *takeouts) valid(user, id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, ok := t.active[user]
	return ok && cur == id
}

func (t *takeouts) close(user int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.active[user]
	delete(t.active, user)
	return ok
}

func (h *Handler) notBot(ctx context.Context, c *call) error {
	acc, err := h.cfg.Accounts.Account(ctx, c.user)
	if err != nil {
		return err
	}
	if acc.Bot {
		return errBotMethod
	}
	return nil
}

func (h *Handler) initTakeoutSession(ctx context.Context, c *call, _ *tg.AccountInitTakeoutSessionRequest) (bin.Encoder, error) {
	if err := h.notBot(ctx, c); err != nil {
		return nil, err
	}
	return &tg.AccountTakeout{ID: h.takeouts.open(c.user)}, nil
}

func (h *Handler) finishTakeoutSession(ctx context.Context, c *call, _ *tg.AccountFinishTakeoutSessionRequest) (bin.Encoder, error) {
	if err := h.notBot(ctx, c); err != nil {
		return nil, err
	}
	if !h.takeouts.close(c.user) {
		return nil, errTakeoutInvalid
	}
	return &tg.BoolTrue{}, nil
}
