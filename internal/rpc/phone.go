package rpc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/randid"
	"github.com/filedc/filedc/internal/store"
)

// Test phones follow Telegram's convention: 99966XYYYY signs in on DC X with
// the code X repeated five times. Nothing is sent anywhere; the server only
// offers them when the operator turns them on (serve --test-phones).

const testCodeLength = 5

// testPhone returns the DC a test phone belongs to, or false.
func testPhone(phone string) (int, bool) {
	phone = strings.TrimPrefix(phone, "+")
	if len(phone) != 10 || !strings.HasPrefix(phone, "99966") {
		return 0, false
	}
	for _, c := range phone {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	return int(phone[5] - '0'), true
}

// phoneCodeHash is the phone_code_hash of a phone: stateless, so that any
// process of the DC accepts it.
func (h *Handler) phoneCodeHash(phone string) string {
	m := hmac.New(sha256.New, h.phoneKey)
	m.Write([]byte("phone code hash:" + strings.TrimPrefix(phone, "+")))
	return hex.EncodeToString(m.Sum(nil)[:10])
}

// phoneKey is the key phone_code_hash values are signed with. It is derived
// from the DC's secret as the key of file references is (internal/library),
// as it always has been, so a hash handed out before an upgrade still works.
func phoneKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("filedc file reference"))
	return m.Sum(nil)
}

// checkPhone validates a test phone and its code hash for signIn and signUp.
func (h *Handler) checkPhone(phone, hash string) (int, error) {
	dc, ok := testPhone(phone)
	if !h.cfg.TestPhones || !ok {
		return 0, badRequest("PHONE_NUMBER_INVALID")
	}
	if hash == "" {
		return 0, badRequest("PHONE_CODE_EMPTY")
	}
	if !hmac.Equal([]byte(hash), []byte(h.phoneCodeHash(phone))) {
		return 0, badRequest("PHONE_CODE_EXPIRED")
	}
	return dc, nil
}

func (h *Handler) sendCode(ctx context.Context, c *call, req *tg.AuthSendCodeRequest) (bin.Encoder, error) {
	dc, ok := testPhone(req.PhoneNumber)
	if !h.cfg.TestPhones || !ok {
		return nil, badRequest("PHONE_NUMBER_INVALID")
	}
	if dc != h.cfg.DC {
		return nil, &rpcMigrate{"PHONE_MIGRATE_", dc}
	}
	return &tg.AuthSentCode{
		Type:          &tg.AuthSentCodeTypeApp{Length: testCodeLength},
		PhoneCodeHash: h.phoneCodeHash(req.PhoneNumber),
	}, nil
}

func (h *Handler) signIn(ctx context.Context, c *call, req *tg.AuthSignInRequest) (bin.Encoder, error) {
	dc, err := h.checkPhone(req.PhoneNumber, req.PhoneCodeHash)
	if err != nil {
		return nil, err
	}
	if req.PhoneCode != strings.Repeat(strconv.Itoa(dc), testCodeLength) {
		return nil, badRequest("PHONE_CODE_INVALID")
	}
	acc, err := h.cfg.Accounts.AccountByPhone(ctx, strings.TrimPrefix(req.PhoneNumber, "+"))
	if errors.Is(err, store.ErrNotFound) {
		return &tg.AuthAuthorizationSignUpRequired{}, nil
	}
	if err != nil {
		return nil, err
	}
	return h.logIn(ctx, c, acc)
}

func (h *Handler) signUp(ctx context.Context, c *call, req *tg.AuthSignUpRequest) (bin.Encoder, error) {
	if _, err := h.checkPhone(req.PhoneNumber, req.PhoneCodeHash); err != nil {
		return nil, err
	}
	phone := strings.TrimPrefix(req.PhoneNumber, "+")
	if _, err := h.cfg.Accounts.AccountByPhone(ctx, phone); err == nil {
		return nil, badRequest("PHONE_NUMBER_OCCUPIED")
	}
	name := strings.TrimSpace(req.FirstName)
	if name == "" {
		return nil, badRequest("FIRSTNAME_INVALID")
	}
	id, err := store.NewAccountID(ctx, h.cfg.Accounts, 100_000_000, randid.Int63)
	if err != nil {
		return nil, err
	}
	acc := store.Account{ID: id, Name: name, Phone: phone, AccessKey: randid.Int63(), Created: h.cfg.Now()}
	if err := h.cfg.Accounts.PutAccount(ctx, acc); err != nil {
		return nil, err
	}
	return h.logIn(ctx, c, acc)
}

// logIn binds an account to the caller's auth key, and to the permanent key
// behind it when the call came on a bound temporary key.
func (h *Handler) logIn(ctx context.Context, c *call, acc store.Account) (bin.Encoder, error) {
	login := func(k *store.AuthKey) { k.UserID = acc.ID }
	rec, err := c.UpdateKey(ctx, c.Key.Record().ID, login)
	if err != nil {
		return nil, err
	}
	if rec.PermID != ([8]byte{}) {
		if _, err := c.UpdateKey(ctx, rec.PermID, login); err != nil {
			return nil, err
		}
	}
	u, err := h.userOf(ctx, acc, true)
	if err != nil {
		return nil, err
	}
	return &tg.AuthAuthorization{User: u}, nil
}
