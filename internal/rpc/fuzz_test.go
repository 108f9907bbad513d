package rpc

import (
	"context"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/store"
)

// FuzzServeRPC: any call body, as the server hands it over after the
// wrappers, is answered or refused without a panic, logged in and not.
func FuzzServeRPC(f *testing.F) {
	for _, e := range []bin.Encoder{
		&tg.HelpGetConfigRequest{},
		&tg.UploadGetFileRequest{Location: &tg.InputDocumentFileLocation{ID: 1}, Limit: 4096},
		&tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{}, Media: &tg.InputMediaUploadedDocument{File: &tg.InputFile{ID: 1, Parts: 1}}},
		&tg.MessagesCreateChatRequest{Title: "t", Users: []tg.InputUserClass{&tg.InputUserSelf{}}},
		&tg.UploadSaveFilePartRequest{FileID: 1, Bytes: []byte{1}},
		&tg.AuthImportBotAuthorizationRequest{BotAuthToken: "1:x"},
	} {
		var b bin.Buffer
		e.Encode(&b)
		f.Add(b.Buf, true)
	}
	d := newTestDC(f, 2, "fuzz secret")
	ctx := context.Background()
	if err := d.meta.PutAccount(ctx, store.Account{ID: 7000001, Bot: true, Name: "bot", AccessKey: 5}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, login bool) {
		k := &server.Key{}
		if login {
			k = loggedIn(7000001)
		}
		d.h.ServeRPC(ctx, &server.Request{Key: k, Remote: "127.0.0.1", Body: &bin.Buffer{Buf: append([]byte(nil), body...)}})
	})
}

// FuzzBindMessage: the encrypted message of auth.bindTempAuthKey, any
// bytes, is refused or opened without a panic.
func FuzzBindMessage(f *testing.F) {
	perm := store.AuthKey{ID: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}}
	copy(perm.Value[:], "a permanent key for the bind fuzz")
	f.Add(append(perm.ID[:], make([]byte, 16+48)...), int64(4))
	f.Fuzz(func(t *testing.T, raw []byte, msgID int64) {
		openBindMessage(perm, raw, msgID)
	})
}
