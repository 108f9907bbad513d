package interop

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/gotd/td/tg"
)

func TestM6_IdenticalContentStoredOnceAndFoundByHash(t *testing.T) {
	srv := startServer(t, "--bot-token", secondBot)
	data := randomBytes(66, 700<<10)
	sum := sha256.Sum256(data)
	uploadDocument := func(ctx context.Context, api *tg.Client, mime string) (*tg.Document, error) {
		file, err := upload(ctx, api, "same.gif", data)
		if err != nil {
			return nil, err
		}
		res, err := api.MessagesUploadMedia(ctx, &tg.MessagesUploadMediaRequest{Peer: &tg.InputPeerSelf{},
			Media: &tg.InputMediaUploadedDocument{File: file, MimeType: mime}})
		if err != nil {
			return nil, err
		}
		return res.(*tg.MessageMediaDocument).Document.(*tg.Document), nil
	}
	var first *tg.Document
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		var err error
		if first, err = uploadDocument(ctx, api, "image/gif"); err != nil {
			return err
		}
		again, err := uploadDocument(ctx, api, "image/gif")
		if err != nil {
			return err
		}
		if again.ID != first.ID {
			t.Errorf("the same content uploaded twice made documents %d and %d", first.ID, again.ID)
		}
		// Another mime type is another document.
		other, err := uploadDocument(ctx, api, "application/octet-stream")
		if err != nil {
			return err
		}
		if other.ID == first.ID {
			t.Error("another mime type reused the document")
		}
		// Three uploads, two documents, one stored content.
		if n := storedFiles(t, srv); n != 1 {
			t.Errorf("%d stored files after three uploads of one content under two mime types, want 1", n)
		}
		return nil
	})
	// Another account finds it by hash, downloads it, and its own upload of
	// the same content lands on the same document.
	withBot(t, srv, secondBot, func(ctx context.Context, api *tg.Client) error {
		found, err := api.MessagesGetDocumentByHash(ctx, &tg.MessagesGetDocumentByHashRequest{SHA256: sum[:], Size: int64(len(data)), MimeType: "image/gif"})
		if err != nil {
			return err
		}
		doc, ok := found.(*tg.Document)
		if !ok || doc.ID != first.ID {
			t.Fatalf("getDocumentByHash: %T %+v", found, found)
		}
		back, err := download(ctx, api, doc)
		if err != nil {
			return err
		}
		if sha256.Sum256(back) != sum {
			t.Error("the document found by hash downloads other bytes")
		}
		for _, miss := range []*tg.MessagesGetDocumentByHashRequest{
			{SHA256: sum[:], Size: int64(len(data)) + 1, MimeType: "image/gif"},
			{SHA256: make([]byte, 32), Size: int64(len(data)), MimeType: "image/gif"},
		} {
			res, err := api.MessagesGetDocumentByHash(ctx, miss)
			if err != nil {
				return err
			}
			if _, empty := res.(*tg.DocumentEmpty); !empty {
				t.Errorf("a miss answered %T", res)
			}
		}
		mine, err := uploadDocument(ctx, api, "image/gif")
		if err != nil {
			return err
		}
		if mine.ID != first.ID {
			t.Error("another account's identical upload made a new document")
		}
		return nil
	})
}
