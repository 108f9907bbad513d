package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

const secondBot = "7000002:second-secret"

func upload(ctx context.Context, api *tg.Client, name string, data []byte) (tg.InputFileClass, error) {
	return uploader.NewUploader(api).Upload(ctx, uploader.NewUpload(name, bytes.NewReader(data), int64(len(data))))
}

// sentMessages checks an Updates answer: updateMessageID for every random_id,
// then updateNewMessage for each, and returns the messages.
func sentMessages(t *testing.T, res tg.UpdatesClass, randomIDs ...int64) []*tg.Message {
	t.Helper()
	u, ok := res.(*tg.Updates)
	if !ok {
		t.Fatalf("answer %T, want updates", res)
	}
	ids := map[int64]int{}
	var msgs []*tg.Message
	for _, up := range u.Updates {
		switch up := up.(type) {
		case *tg.UpdateMessageID:
			ids[up.RandomID] = up.ID
		case *tg.UpdateNewMessage:
			if len(ids) != len(randomIDs) {
				t.Fatal("updateNewMessage came before every updateMessageID")
			}
			msgs = append(msgs, up.Message.(*tg.Message))
		}
	}
	for i, r := range randomIDs {
		if id, ok := ids[r]; !ok || i >= len(msgs) || msgs[i].ID != id {
			t.Fatalf("random_id %d: no matching updateMessageID/updateNewMessage", r)
		}
	}
	if len(u.Users) == 0 {
		t.Fatal("updates name no users")
	}
	return msgs
}

func docOf(t *testing.T, m *tg.Message) *tg.Document {
	t.Helper()
	md, ok := m.Media.(*tg.MessageMediaDocument)
	if !ok {
		t.Fatalf("message %d has media %T", m.ID, m.Media)
	}
	return md.Document.(*tg.Document)
}

func download(ctx context.Context, api *tg.Client, d *tg.Document) ([]byte, error) {
	var out bytes.Buffer
	_, err := downloader.NewDownloader().Download(api, &tg.InputDocumentFileLocation{
		ID: d.ID, AccessHash: d.AccessHash, FileReference: d.FileReference}).WithVerify(true).Stream(ctx, &out)
	return out.Bytes(), err
}

func TestM2_SendMediaToSavedMessagesAndAnotherAccount(t *testing.T) {
	srv := startServer(t, "--bot-token", secondBot)
	var second *tg.User
	withBot(t, srv, secondBot, func(ctx context.Context, api *tg.Client) error {
		users, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
		if err != nil {
			return err
		}
		second = users[0].(*tg.User)
		return nil
	})
	data := randomBytes(2, 300<<10)
	var first *tg.User
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		users, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
		if err != nil {
			return err
		}
		first = users[0].(*tg.User)
		file, err := upload(ctx, api, "notes.txt", data)
		if err != nil {
			return err
		}
		res, err := api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{
			Peer:     &tg.InputPeerSelf{},
			Media:    &tg.InputMediaUploadedDocument{File: file, MimeType: "text/plain"},
			Message:  "to myself",
			RandomID: 11,
		})
		if err != nil {
			return err
		}
		saved := sentMessages(t, res, 11)[0]
		if p, ok := saved.PeerID.(*tg.PeerUser); !ok || p.UserID != 7000001 || !saved.Out || saved.Message != "to myself" {
			t.Errorf("saved message %+v", saved)
		}
		// M4: send the same document to another account without re-upload.
		doc := docOf(t, saved)
		res, err = api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{
			Peer:     &tg.InputPeerUser{UserID: second.ID, AccessHash: second.AccessHash},
			Media:    &tg.InputMediaDocument{ID: &tg.InputDocument{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}},
			Message:  "for you",
			RandomID: 12,
		})
		if err != nil {
			return err
		}
		sent := sentMessages(t, res, 12)[0]
		if docOf(t, sent).ID != doc.ID {
			t.Error("the re-sent document is a different document")
		}
		// A stranger's access hash is refused.
		_, err = api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{
			Peer:     &tg.InputPeerUser{UserID: second.ID, AccessHash: second.AccessHash + 1},
			Media:    &tg.InputMediaDocument{ID: &tg.InputDocument{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}},
			RandomID: 13,
		})
		if !tgerr.Is(err, "PEER_ID_INVALID") {
			t.Errorf("wrong peer access hash: %v", err)
		}
		// getMessages returns the message with a fresh file reference that downloads.
		got, err := api.MessagesGetMessages(ctx, []tg.InputMessageClass{&tg.InputMessageID{ID: saved.ID}})
		if err != nil {
			return err
		}
		msgs := got.(*tg.MessagesMessages).Messages
		if len(msgs) != 1 {
			return fmt.Errorf("getMessages: %d messages", len(msgs))
		}
		back, err := download(ctx, api, docOf(t, msgs[0].(*tg.Message)))
		if err != nil {
			return err
		}
		if sha256.Sum256(back) != sha256.Sum256(data) {
			t.Error("downloaded content differs")
		}
		return nil
	})
	// The other account finds the message in its history, incoming.
	withBot(t, srv, secondBot, func(ctx context.Context, api *tg.Client) error {
		hist, err := api.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{
			Peer: &tg.InputPeerUser{UserID: first.ID, AccessHash: first.AccessHash}, Limit: 10})
		if err != nil {
			return err
		}
		msgs := hist.(*tg.MessagesMessages).Messages
		if len(msgs) != 1 {
			return fmt.Errorf("history: %d messages", len(msgs))
		}
		m := msgs[0].(*tg.Message)
		if m.Out || m.Message != "for you" {
			t.Errorf("incoming message %+v", m)
		}
		back, err := download(ctx, api, docOf(t, m))
		if err != nil {
			return err
		}
		if sha256.Sum256(back) != sha256.Sum256(data) {
			t.Error("the receiver downloaded different content")
		}
		return nil
	})
}

func TestM3_AlbumOfThreeWithCaptions(t *testing.T) {
	srv := startServer(t)
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		var items []tg.InputSingleMedia
		for i := 0; i < 3; i++ {
			file, err := upload(ctx, api, fmt.Sprintf("f%d.bin", i), randomBytes(uint64(i), 10<<10+i))
			if err != nil {
				return err
			}
			items = append(items, tg.InputSingleMedia{
				Media:    &tg.InputMediaUploadedDocument{File: file, MimeType: "application/octet-stream"},
				RandomID: int64(100 + i),
				Message:  fmt.Sprintf("caption %d", i),
			})
		}
		res, err := api.MessagesSendMultiMedia(ctx, &tg.MessagesSendMultiMediaRequest{Peer: &tg.InputPeerSelf{}, MultiMedia: items})
		if err != nil {
			return err
		}
		msgs := sentMessages(t, res, 100, 101, 102)
		for i, m := range msgs {
			if m.GroupedID == 0 || m.GroupedID != msgs[0].GroupedID {
				t.Errorf("message %d grouped_id %d, want one shared non-zero id", i, m.GroupedID)
			}
			if m.Message != fmt.Sprintf("caption %d", i) {
				t.Errorf("message %d caption %q", i, m.Message)
			}
		}
		// History lists the album newest first.
		hist, err := api.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: &tg.InputPeerSelf{}, Limit: 2})
		if err != nil {
			return err
		}
		h := hist.(*tg.MessagesMessages).Messages
		if len(h) != 2 || h[0].(*tg.Message).ID != msgs[2].ID || h[1].(*tg.Message).ID != msgs[1].ID {
			t.Errorf("history %v", h)
		}
		// More than ten is refused.
		var many []tg.InputSingleMedia
		doc := docOf(t, msgs[0])
		for i := 0; i < 11; i++ {
			many = append(many, tg.InputSingleMedia{
				Media:    &tg.InputMediaDocument{ID: &tg.InputDocument{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}},
				RandomID: int64(200 + i),
			})
		}
		_, err = api.MessagesSendMultiMedia(ctx, &tg.MessagesSendMultiMediaRequest{Peer: &tg.InputPeerSelf{}, MultiMedia: many})
		if !tgerr.Is(err, "MULTI_MEDIA_TOO_LONG") {
			t.Errorf("11 items: %v, want MULTI_MEDIA_TOO_LONG", err)
		}
		return nil
	})
}
