package rpc

import (
	"context"
	"crypto/aes"
	"encoding/binary"

	"github.com/gotd/ige"
	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/store"
)

var (
	errBindInvalid  = badRequest("ENCRYPTED_MESSAGE_INVALID")
	errTempKeyEmpty = badRequest("TEMP_AUTH_KEY_EMPTY")
	errTempBound    = badRequest("TEMP_AUTH_KEY_ALREADY_BOUND")
)

// bindTempAuthKey binds the temporary key the call came on to a permanent
// key (perfect forward secrecy, api/pfs). The binding message is encrypted
// with the permanent key in MTProto 1.0 form and must name this very call,
// key and session, so it cannot be replayed elsewhere.
func (h *Handler) bindTempAuthKey(ctx context.Context, c *call, req *tg.AuthBindTempAuthKeyRequest) (bin.Encoder, error) {
	temp := c.Key.Record()
	if temp.ExpiresAt.IsZero() {
		return nil, errTempKeyEmpty // a permanent key cannot be bound
	}
	var permID [8]byte
	binary.LittleEndian.PutUint64(permID[:], uint64(req.PermAuthKeyID))
	perm, err := h.cfg.Keys.AuthKey(ctx, permID)
	if err != nil || !perm.ExpiresAt.IsZero() {
		return nil, errBindInvalid
	}
	inner, err := openBindMessage(perm, req.EncryptedMessage, c.MsgID)
	if err != nil {
		return nil, errBindInvalid
	}
	if inner.Nonce != req.Nonce || inner.ExpiresAt != req.ExpiresAt ||
		inner.PermAuthKeyID != req.PermAuthKeyID ||
		inner.TempAuthKeyID != int64(binary.LittleEndian.Uint64(temp.ID[:])) ||
		inner.TempSessionID != c.Session {
		return nil, errBindInvalid
	}
	if temp.PermID != ([8]byte{}) && temp.PermID != permID {
		return nil, errTempBound
	}
	_, err = c.UpdateKey(ctx, temp.ID, func(k *store.AuthKey) {
		k.PermID = permID
		k.UserID = perm.UserID // the login lives on the permanent key
	})
	if err != nil {
		return nil, err
	}
	return &tg.BoolTrue{}, nil
}

// openBindMessage decrypts the binding message: perm_auth_key_id, msg_key,
// then AES-IGE under the MTProto 1.0 key derivation of
// random(16) msg_id(8) seq_no(4) length(4) bind_auth_key_inner padding,
// where msg_key is SHA-1 of everything before the padding.
func openBindMessage(perm store.AuthKey, raw []byte, msgID int64) (*crypto.BindAuthKeyInner, error) {
	var msg crypto.EncryptedMessage
	if err := msg.Decode(&bin.Buffer{Buf: raw}); err != nil {
		return nil, err
	}
	if msg.AuthKeyID != perm.ID || len(msg.EncryptedData) < 48 || len(msg.EncryptedData)%aes.BlockSize != 0 {
		return nil, errBindInvalid
	}
	key, iv := crypto.KeysV1(perm.Value, msg.MsgKey)
	plain := make([]byte, len(msg.EncryptedData))
	ige.DecryptAES256Blocks(key[:], iv[:], plain, msg.EncryptedData)
	length := int(binary.LittleEndian.Uint32(plain[28:32]))
	if length < 0 || 32+length > len(plain) || len(plain)-(32+length) >= aes.BlockSize {
		return nil, errBindInvalid
	}
	if crypto.MessageKeyV1(plain[:32+length]) != msg.MsgKey {
		return nil, errBindInvalid
	}
	if int64(binary.LittleEndian.Uint64(plain[16:24])) != msgID || binary.LittleEndian.Uint32(plain[24:28]) != 0 {
		return nil, errBindInvalid
	}
	var inner crypto.BindAuthKeyInner
	if err := inner.Decode(&bin.Buffer{Buf: plain[32 : 32+length]}); err != nil {
		return nil, err
	}
	return &inner, nil
}
