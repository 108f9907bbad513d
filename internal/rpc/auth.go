package rpc

import (
	"context"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/limit"
	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/store"
)

// importBotAuthorization logs a bot in with a token "<ID>:<SECRET>" the
// operator created, binding the account to the auth key.
func (h *Handler) importBotAuthorization(ctx context.Context, c *call, req *tg.AuthImportBotAuthorizationRequest) (bin.Encoder, error) {
	idText, secret, ok := strings.Cut(req.BotAuthToken, ":")
	id, err := strconv.ParseInt(idText, 10, 64)
	// Guessing is limited by address and by bot (S7c): past the limit the
	// token is not even looked at.
	for _, chk := range []func() (bool, time.Duration){
		func() (bool, time.Duration) { return h.botFailsByAddr.Check(c.Remote, 1) },
		func() (bool, time.Duration) { return h.botFailsByBot.Check(id, 1) },
	} {
		if ok, wait := chk(); !ok {
			return nil, &server.RPCError{Code: 420, Message: limit.FloodWait(wait), Limit: "bot_login_failures"}
		}
	}
	invalid := func() error {
		h.botFailsByAddr.Take(c.Remote, 1)
		h.botFailsByBot.Take(id, 1)
		return badRequest("ACCESS_TOKEN_INVALID")
	}
	if !ok || err != nil || id <= 0 || secret == "" {
		return nil, invalid()
	}
	acc, err := h.cfg.Accounts.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid()
	}
	if err != nil {
		return nil, err
	}
	if !acc.Bot || subtle.ConstantTimeCompare([]byte(acc.Secret), []byte(secret)) != 1 {
		return nil, invalid()
	}
	return h.logIn(ctx, c, acc)
}

// userOf describes an account with its current profile photo; self marks
// the caller's own account.
func (h *Handler) userOf(ctx context.Context, a store.Account, self bool) (*tg.User, error) {
	u := userOf(a, self)
	if len(a.Photos) > 0 && h.cfg.Photos != nil {
		p, err := h.cfg.Photos.Photo(ctx, a.Photos[0])
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if err == nil {
			u.Photo = &tg.UserProfilePhoto{PhotoID: p.ID, StrippedThumb: p.Stripped, DCID: h.fileDC(p.ID), HasVideo: p.Video != nil}
			u.SetFlags()
		}
	}
	return u, nil
}

// userOf describes an account without its photo.
func userOf(a store.Account, self bool) *tg.User {
	u := &tg.User{
		ID:         a.ID,
		AccessHash: a.AccessKey,
		FirstName:  a.Name,
		Username:   a.Username,
		Self:       self,
		Bot:        a.Bot,
		Premium:    a.Premium,
	}
	if a.Bot {
		u.BotInfoVersion = 1
	}
	if a.Phone != "" {
		u.Phone = a.Phone
	}
	u.SetFlags()
	return u
}

func (h *Handler) getUsers(ctx context.Context, c *call, req *tg.UsersGetUsersRequest) (bin.Encoder, error) {
	out := &tg.UserClassVector{}
	for _, in := range req.ID {
		switch u := in.(type) {
		case *tg.InputUserSelf:
			acc, err := h.cfg.Accounts.Account(ctx, c.user)
			if err != nil {
				return nil, err
			}
			user, err := h.userOf(ctx, acc, true)
			if err != nil {
				return nil, err
			}
			out.Elems = append(out.Elems, user)
		case *tg.InputUser:
			acc, err := h.cfg.Accounts.Account(ctx, u.UserID)
			switch {
			case errors.Is(err, store.ErrNotFound) || (err == nil && acc.AccessKey != u.AccessHash):
				out.Elems = append(out.Elems, &tg.UserEmpty{ID: u.UserID})
			case err != nil:
				return nil, err
			default:
				user, err := h.userOf(ctx, acc, acc.ID == c.user)
				if err != nil {
					return nil, err
				}
				out.Elems = append(out.Elems, user)
			}
		default:
			return nil, badRequest("USER_ID_INVALID")
		}
	}
	return out, nil
}
