package rpc

import (
	"bytes"
	"context"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/library"
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

// FuzzDecodeGetFile: upload.getFile read in place agrees with gotd's
// decoder on every body: the same fields for a document or a photo
// location, the same refusal of a malformed one, and other locations left
// to gotd untouched.
func FuzzDecodeGetFile(f *testing.F) {
	for _, req := range []*tg.UploadGetFileRequest{
		{Location: &tg.InputDocumentFileLocation{ID: 1, AccessHash: 2, FileReference: []byte("ref")}, Offset: 512 << 10, Limit: 512 << 10, Precise: true},
		{Location: &tg.InputPhotoFileLocation{ID: 3, AccessHash: 4, FileReference: make([]byte, 300), ThumbSize: "x"}, Limit: 4096, CDNSupported: true},
		{Location: &tg.InputPeerPhotoFileLocation{Peer: &tg.InputPeerSelf{}, PhotoID: 5}, Limit: 4096},
	} {
		var b bin.Buffer
		req.Encode(&b)
		f.Add(b.Buf)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in := &bin.Buffer{Buf: append([]byte(nil), body...)}
		loc, r, ok, err := decodeGetFile(in)
		var want tg.UploadGetFileRequest
		wantErr := want.Decode(&bin.Buffer{Buf: body})
		switch {
		case err != nil:
			if wantErr == nil && isNamedLocation(want.Location) {
				t.Fatalf("refused (%v) what gotd reads: %+v", err, want)
			}
		case !ok:
			if !bytes.Equal(in.Buf, body) {
				t.Fatal("a location left to gotd was consumed")
			}
			if wantErr == nil && isNamedLocation(want.Location) {
				t.Fatalf("left to gotd a document or photo location: %+v", want.Location)
			}
		default:
			if wantErr != nil {
				t.Fatalf("read what gotd refuses (%v)", wantErr)
			}
			var named library.Named
			var thumb string
			switch l := want.Location.(type) {
			case *tg.InputDocumentFileLocation:
				named, thumb = library.Named{ID: l.ID, AccessHash: l.AccessHash, FileReference: l.FileReference}, l.ThumbSize
			case *tg.InputPhotoFileLocation:
				named, thumb = library.Named{ID: l.ID, AccessHash: l.AccessHash, FileReference: l.FileReference}, l.ThumbSize
			}
			_, photo := want.Location.(*tg.InputPhotoFileLocation)
			if loc.photo != photo || loc.named.ID != named.ID || loc.named.AccessHash != named.AccessHash ||
				!bytes.Equal(loc.named.FileReference, named.FileReference) || loc.thumb != thumb ||
				r != (chunkRange{precise: want.Precise, cdnSupported: want.CDNSupported, offset: want.Offset, limit: want.Limit}) {
				t.Fatalf("read %+v %+v, gotd %+v", loc, r, want)
			}
		}
	})
}

func isNamedLocation(l tg.InputFileLocationClass) bool {
	switch l.(type) {
	case *tg.InputDocumentFileLocation, *tg.InputPhotoFileLocation:
		return true
	}
	return false
}
