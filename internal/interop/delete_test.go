package interop

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// storedFiles counts the files in a server's content store.
func storedFiles(t *testing.T, srv *dc) int {
	t.Helper()
	keys, err := storedFileKeys(context.Background(), srv)
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

func self(ctx context.Context, t *testing.T, api *tg.Client) *tg.User {
	t.Helper()
	users, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
	if err != nil {
		t.Fatal(err)
	}
	return users[0].(*tg.User)
}

// deleteMessages deletes ids, of which want exist.
func deleteMessages(ctx context.Context, t *testing.T, api *tg.Client, revoke bool, want int, ids ...int) *tg.MessagesAffectedMessages {
	t.Helper()
	res, err := api.MessagesDeleteMessages(ctx, &tg.MessagesDeleteMessagesRequest{Revoke: revoke, ID: ids})
	if err != nil {
		t.Fatalf("deleteMessages %v: %v", ids, err)
	}
	if res.PtsCount != want {
		t.Errorf("deleteMessages %v: pts_count %d", ids, res.PtsCount)
	}
	return res
}

func history(ctx context.Context, t *testing.T, api *tg.Client, peer tg.InputPeerClass) []*tg.Message {
	t.Helper()
	res, err := api.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: peer, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []*tg.Message
	for _, m := range res.(*tg.MessagesMessages).Messages {
		out = append(out, m.(*tg.Message))
	}
	return out
}

func TestM6_SharedContentDeletedWithItsLastReference(t *testing.T) {
	srv := startServer(t, "--bot-token", secondBot)
	var second, first *tg.User
	withBot(t, srv, secondBot, func(ctx context.Context, api *tg.Client) error {
		second = self(ctx, t, api)
		return nil
	})
	data := randomBytes(61, 400<<10)
	sum := sha256.Sum256(data)
	var saved, sent *tg.Message
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		first = self(ctx, t, api)
		// The same content twice, under two mime types: two documents, one file.
		var err error
		d1, err := sendDocument(ctx, t, api, "a.bin", data, &tg.InputMediaUploadedDocument{MimeType: "application/x-one"})
		if err != nil {
			return err
		}
		saved = history(ctx, t, api, &tg.InputPeerSelf{})[0]
		file, err := upload(ctx, api, "b.bin", data)
		if err != nil {
			return err
		}
		res, err := api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{RandomID: 2,
			Peer:  &tg.InputPeerUser{UserID: second.ID, AccessHash: second.AccessHash},
			Media: &tg.InputMediaUploadedDocument{File: file, MimeType: "application/x-two"}})
		if err != nil {
			return err
		}
		sent = sentMessages(t, res, 2)[0]
		if d2 := docOf(t, sent); d2.ID == d1.ID {
			t.Fatal("two mime types made one document")
		}
		if n := storedFiles(t, srv); n != 1 {
			t.Fatalf("%d stored files for one content, want 1", n)
		}
		// Deleting the Saved Messages copy leaves the other document and
		// the shared content.
		oldRef := docOf(t, saved)
		deleteMessages(ctx, t, api, true, 1, saved.ID)
		if n := storedFiles(t, srv); n != 1 {
			t.Errorf("%d stored files after deleting one of two documents, want 1", n)
		}
		if _, err := download(ctx, api, oldRef); !tgerr.Is(err, "FILE_ID_INVALID") {
			t.Errorf("the deleted document: %v, want FILE_ID_INVALID", err)
		}
		// Deleting my copy without revoke leaves the peer's.
		deleteMessages(ctx, t, api, false, 1, sent.ID)
		if len(history(ctx, t, api, &tg.InputPeerUser{UserID: second.ID, AccessHash: second.AccessHash})) != 0 {
			t.Error("a deleted message is still in the history")
		}
		return nil
	})
	withBot(t, srv, secondBot, func(ctx context.Context, api *tg.Client) error {
		peer := &tg.InputPeerUser{UserID: first.ID, AccessHash: first.AccessHash}
		msgs := history(ctx, t, api, peer)
		if len(msgs) != 1 {
			t.Fatalf("the peer's history has %d messages, want its own copy", len(msgs))
		}
		back, err := download(ctx, api, docOf(t, msgs[0]))
		if err != nil || sha256.Sum256(back) != sum {
			t.Fatalf("the peer's copy: %v", err)
		}
		// Its last reference gone, the content leaves the store.
		deleteMessages(ctx, t, api, false, 1, msgs[0].ID)
		if n := storedFiles(t, srv); n != 0 {
			t.Errorf("%d stored files after every reference was deleted", n)
		}
		res, err := api.MessagesGetDocumentByHash(ctx, &tg.MessagesGetDocumentByHashRequest{SHA256: sum[:], Size: int64(len(data)), MimeType: "application/x-two"})
		if err != nil {
			return err
		}
		if _, empty := res.(*tg.DocumentEmpty); !empty {
			t.Errorf("a deleted document is found by hash: %T", res)
		}
		return nil
	})
}

func TestM6_DeleteMessagesRevokesAndDropsThumbsAndPhotos(t *testing.T) {
	srv := startServer(t, "--bot-token", secondBot)
	var second *tg.User
	withBot(t, srv, secondBot, func(ctx context.Context, api *tg.Client) error {
		second = self(ctx, t, api)
		return nil
	})
	var first *tg.User
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		first = self(ctx, t, api)
		peer := &tg.InputPeerUser{UserID: second.ID, AccessHash: second.AccessHash}
		// An image document (content and thumbnail) and a photo (four
		// sizes), sent to the peer.
		file, err := upload(ctx, api, "d.jpg", testJPEG(t, 900, 600))
		if err != nil {
			return err
		}
		photo, err := upload(ctx, api, "p.jpg", testJPEG(t, 1000, 600))
		if err != nil {
			return err
		}
		res, err := api.MessagesSendMultiMedia(ctx, &tg.MessagesSendMultiMediaRequest{Peer: peer, MultiMedia: []tg.InputSingleMedia{
			{Media: &tg.InputMediaUploadedDocument{File: file}, RandomID: 1},
			{Media: &tg.InputMediaUploadedPhoto{File: photo}, RandomID: 2},
		}})
		if err != nil {
			return err
		}
		msgs := sentMessages(t, res, 1, 2)
		if n := storedFiles(t, srv); n != 2+4 {
			t.Fatalf("%d stored files, want 2 for the document and 4 for the photo", n)
		}
		// Revoked: gone from both histories, and so are their files.
		affected := deleteMessages(ctx, t, api, true, 2, msgs[0].ID, msgs[1].ID, 9999)
		if affected.Pts <= msgs[1].ID {
			t.Errorf("pts %d after deletion", affected.Pts)
		}
		state, err := api.UpdatesGetState(ctx)
		if err != nil || state.Pts != affected.Pts {
			t.Errorf("updates.getState pts %d, %v; want %d", state.Pts, err, affected.Pts)
		}
		if n := storedFiles(t, srv); n != 0 {
			t.Errorf("%d stored files after deleting every message", n)
		}
		// The Saved Messages of another photo: a profile photo shown in a
		// message stays until both are gone.
		pf, err := upload(ctx, api, "me.jpg", testJPEG(t, 300, 300))
		if err != nil {
			return err
		}
		pp, err := api.PhotosUploadProfilePhoto(ctx, &tg.PhotosUploadProfilePhotoRequest{File: pf})
		if err != nil {
			return err
		}
		p := pp.Photo.(*tg.Photo)
		res, err = api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{}, RandomID: 3,
			Media: &tg.InputMediaPhoto{ID: &tg.InputPhoto{ID: p.ID, AccessHash: p.AccessHash, FileReference: p.FileReference}}})
		if err != nil {
			return err
		}
		shown := sentMessages(t, res, 3)[0]
		before := storedFiles(t, srv)
		if _, err := api.PhotosDeletePhotos(ctx, []tg.InputPhotoClass{&tg.InputPhoto{ID: p.ID, AccessHash: p.AccessHash}}); err != nil {
			return err
		}
		if n := storedFiles(t, srv); n != before {
			t.Errorf("a profile photo still shown in a message lost files: %d, want %d", n, before)
		}
		// The message's reference still works; the profile's is invalid now.
		mp := shown.Media.(*tg.MessageMediaPhoto).Photo.(*tg.Photo)
		getSize := func(ref []byte) error {
			_, err := api.UploadGetFile(ctx, &tg.UploadGetFileRequest{Limit: 4096, Location: &tg.InputPhotoFileLocation{
				ID: p.ID, AccessHash: p.AccessHash, FileReference: ref, ThumbSize: "a"}})
			return err
		}
		if err := getSize(mp.FileReference); err != nil {
			t.Errorf("the message's reference: %v", err)
		}
		if err := getSize(p.FileReference); !tgerr.Is(err, "FILE_REFERENCE_INVALID") {
			t.Errorf("the deleted profile photo's reference: %v", err)
		}
		deleteMessages(ctx, t, api, false, 1, shown.ID)
		if n := storedFiles(t, srv); n != 0 {
			t.Errorf("%d stored files after the photo left the profile and the message", n)
		}
		if _, err := api.MessagesDeleteMessages(ctx, &tg.MessagesDeleteMessagesRequest{ID: make([]int, 101)}); !tgerr.Is(err, "LIMIT_INVALID") {
			t.Errorf("101 ids: %v", err)
		}
		return nil
	})
	withBot(t, srv, secondBot, func(ctx context.Context, api *tg.Client) error {
		if h := history(ctx, t, api, &tg.InputPeerUser{UserID: first.ID, AccessHash: first.AccessHash}); len(h) != 0 {
			t.Errorf("revoked messages are still in the peer's history: %d", len(h))
		}
		return nil
	})
}
