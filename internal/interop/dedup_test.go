package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"

	"github.com/gotd/td/tg"
)

// uploadNamedDocument uploads data under name and makes a document of it.
func uploadNamedDocument(ctx context.Context, api *tg.Client, name string, data []byte, mime string) (*tg.Document, error) {
	file, err := upload(ctx, api, name, data)
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

func TestM6_IdenticalContentStoredOnceAndFoundByHash(t *testing.T) {
	srv := startServer(t, "--bot-token", secondBot)
	data := randomBytes(66, 700<<10)
	sum := sha256.Sum256(data)
	uploadDocument := func(ctx context.Context, api *tg.Client, mime string) (*tg.Document, error) {
		return uploadNamedDocument(ctx, api, "same.gif", data, mime)
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
	// Another account finds it by hash and downloads it; its own upload of
	// the same content is its own document (S7e) over the same content.
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
		if mine.ID == first.ID {
			t.Error("another account's identical upload got the first account's document")
		}
		if n := storedFiles(t, srv); n != 1 {
			t.Errorf("%d stored files after another account's upload of the same content, want 1", n)
		}
		found, err = api.MessagesGetDocumentByHash(ctx, &tg.MessagesGetDocumentByHashRequest{SHA256: sum[:], Size: int64(len(data)), MimeType: "image/gif"})
		if err != nil {
			return err
		}
		if doc, ok := found.(*tg.Document); !ok || doc.ID != mine.ID {
			t.Errorf("getDocumentByHash once the account has its own: %T %+v, want its document %d", found, found, mine.ID)
		}
		return nil
	})
}

// TestS7e_DedupKeepsEachAccountsMetadata: two accounts upload identical
// bytes under different names. Each gets a document with its own name, both
// download the same bytes, and the content is stored once.
func TestS7e_DedupKeepsEachAccountsMetadata(t *testing.T) {
	srv := startServer(t, "--bot-token", secondBot)
	data := randomBytes(67, 300<<10)
	docs := map[string]*tg.Document{}
	for _, acc := range []struct{ token, name string }{{botToken, "first.bin"}, {secondBot, "second.bin"}} {
		withBot(t, srv, acc.token, func(ctx context.Context, api *tg.Client) error {
			d, err := uploadNamedDocument(ctx, api, acc.name, data, "application/x-same")
			if err != nil {
				return err
			}
			docs[acc.name] = d
			if got := documentName(d); got != acc.name {
				t.Errorf("the document is named %q, want the uploader's %q", got, acc.name)
			}
			back, err := download(ctx, api, d)
			if err != nil {
				return err
			}
			if !bytes.Equal(back, data) {
				t.Errorf("%s downloads %d bytes other than the %d uploaded", acc.name, len(back), len(data))
			}
			return nil
		})
	}
	if docs["first.bin"].ID == docs["second.bin"].ID {
		t.Error("both accounts got one document")
	}
	if n := storedFiles(t, srv); n != 1 {
		t.Errorf("%d stored files after two accounts uploaded one content, want 1", n)
	}
}

// documentName returns a document's file name attribute, "" for none.
func documentName(d *tg.Document) string {
	for _, a := range d.Attributes {
		if f, ok := a.(*tg.DocumentAttributeFilename); ok {
			return f.FileName
		}
	}
	return ""
}
