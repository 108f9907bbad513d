package rpc

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/cluster"
	"github.com/filedc/filedc/internal/randid"
	"github.com/filedc/filedc/internal/store"
)

// Several DCs (O2, S6). A file lives on the DC that stored it, and its ids
// say which (randid.InDC); a download asked of another DC is sent there with
// 303 FILE_MIGRATE_X. A login moves between DCs as Telegram's does: the home
// DC exports a grant signed under the cluster secret, bound to the account
// and the target DC, short-lived and single-use; the target DC imports it.

// exportTTL is how long an exported authorization may wait to be imported.
// Clients import it at once; the margin covers clock skew between machines.
const exportTTL = 2 * time.Minute

var (
	errDCInvalid        = badRequest("DC_ID_INVALID")
	errAuthBytesInvalid = badRequest("AUTH_BYTES_INVALID")
)

// initDCs sets up the cluster as configured, or this DC alone.
func (h *Handler) initDCs() {
	h.grantKey = cluster.Derive(h.cfg.Secret, "export-authorization")
	h.once = h.cfg.Once
	if h.once == nil {
		h.once = &store.MemOnce{Now: h.cfg.Now}
	}
	h.cluster = h.cfg.Cluster
	if len(h.cluster.Options) > 0 {
		return
	}
	listen := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 443)
	if h.cfg.Addr != nil {
		listen = h.cfg.Addr.AddrPort()
	}
	m, err := cluster.NewMap(h.cfg.DC, listen, nil)
	if err != nil { // a DC id beyond 255: still list it for clients
		m = cluster.Map{Self: h.cfg.DC, Options: []cluster.Option{{DC: h.cfg.DC, Addr: listen}}}
	}
	h.cluster = m
}

// fileDC is the DC a file, document or photo id lives on: the DC its id
// names when that is a DC of the cluster, else this one (ids made before
// DCs were tagged, or by a single DC).
func (h *Handler) fileDC(id int64) int {
	if dc := randid.DC(id); dc != h.cfg.DC && h.cluster.Has(dc) {
		return dc
	}
	return h.cfg.DC
}

// migrate answers 303 FILE_MIGRATE_X when id lives on another DC (D5).
func (h *Handler) migrate(id int64) error {
	if dc := h.fileDC(id); dc != h.cfg.DC {
		return &rpcMigrate{prefix: "FILE_MIGRATE_", dc: dc}
	}
	return nil
}

func (h *Handler) exportAuthorization(ctx context.Context, c *call, req *tg.AuthExportAuthorizationRequest) (bin.Encoder, error) {
	if req.DCID == h.cfg.DC || !h.cluster.Has(req.DCID) {
		return nil, errDCInvalid
	}
	acc, err := h.cfg.Accounts.Account(ctx, c.user)
	if err != nil {
		return nil, err
	}
	g := cluster.Grant{From: h.cfg.DC, To: req.DCID, User: acc.ID, Expires: h.cfg.Now().Add(exportTTL),
		Nonce: cluster.NewNonce(), Bot: acc.Bot, Premium: acc.Premium, AccessKey: acc.AccessKey,
		Name: acc.Name, Username: acc.Username, Phone: acc.Phone}
	sealed, err := cluster.Seal(h.grantKey, g)
	if err != nil {
		return nil, err
	}
	return &tg.AuthExportedAuthorization{ID: acc.ID, Bytes: sealed}, nil
}

func (h *Handler) importAuthorization(ctx context.Context, c *call, req *tg.AuthImportAuthorizationRequest) (bin.Encoder, error) {
	g, err := cluster.Open(h.grantKey, req.Bytes, h.cfg.DC, h.cfg.Now())
	if err != nil || g.User != req.ID || !h.cluster.Has(g.From) {
		return nil, errAuthBytesInvalid
	}
	fresh, err := h.once.UseOnce(ctx, g.Nonce, g.Expires)
	if err != nil {
		return nil, err
	}
	if !fresh {
		return nil, errAuthBytesInvalid
	}
	acc, err := h.cfg.Accounts.Account(ctx, g.User)
	if errors.Is(err, store.ErrNotFound) {
		// Each DC of the embedded default keeps its own accounts: the signed
		// grant vouches for this one. Bots imported so keep no token secret
		// here; they log in on this DC by import only.
		acc = store.Account{ID: g.User, Bot: g.Bot, Premium: g.Premium, AccessKey: g.AccessKey,
			Name: g.Name, Username: g.Username, Phone: g.Phone, Created: h.cfg.Now()}
		if err := h.cfg.Accounts.PutAccount(ctx, acc); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return h.logIn(ctx, c, acc)
}
