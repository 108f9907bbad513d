package gotdtest

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"testing"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"
)

// Roundtrip: the bot uploads a 1 MiB file (saveFilePart) and a big one of
// bigSize bytes (over 10 MiB: saveBigFilePart) with 4 threads, sends them to
// Saved Messages with messages.sendMedia, reads them back with
// messages.getMessages and downloads them with 4 threads, with and without
// verification.
func Roundtrip(t *testing.T, bigSize int) {
	srv := StartServer(t)
	files := []struct {
		name string
		data []byte
	}{
		{"small.bin", RandomBytes(1, 1<<20)},
		{"big.bin", RandomBytes(2, bigSize)},
	}
	WithBot(t, srv, func(ctx context.Context, api *tg.Client) error {
		var sent []*tg.Message
		for i, f := range files {
			file, err := Upload(ctx, api, f.name, f.data, 4)
			if err != nil {
				return fmt.Errorf("upload %s: %w", f.name, err)
			}
			if _, big := file.(*tg.InputFileBig); big != (len(f.data) > 10<<20) {
				return fmt.Errorf("upload %s: %T for %d bytes", f.name, file, len(f.data))
			}
			randomID := int64(1000 + i)
			res, err := api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{
				Peer: &tg.InputPeerSelf{},
				Media: &tg.InputMediaUploadedDocument{File: file, MimeType: "application/octet-stream",
					Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: f.name}}},
				Message:  f.name,
				RandomID: randomID,
			})
			if err != nil {
				return fmt.Errorf("sendMedia %s: %w", f.name, err)
			}
			msgs, err := SentMessages(res, randomID)
			if err != nil {
				return err
			}
			sent = append(sent, msgs[0])
		}
		got, err := api.MessagesGetMessages(ctx, []tg.InputMessageClass{
			&tg.InputMessageID{ID: sent[0].ID}, &tg.InputMessageID{ID: sent[1].ID}})
		if err != nil {
			return fmt.Errorf("getMessages: %w", err)
		}
		mm, ok := got.(*tg.MessagesMessages)
		if !ok || len(mm.Messages) != len(files) || len(mm.Users) == 0 {
			return fmt.Errorf("getMessages answered %T with %v", got, got)
		}
		for i, f := range files {
			m, ok := mm.Messages[i].(*tg.Message)
			if !ok || m.ID != sent[i].ID {
				return fmt.Errorf("getMessages: message %d is %v, want id %d", i, mm.Messages[i], sent[i].ID)
			}
			if p, ok := m.PeerID.(*tg.PeerUser); !ok || p.UserID != BotID || !m.Out || m.Message != f.name {
				t.Errorf("message %d: peer %v out %v caption %q", m.ID, m.PeerID, m.Out, m.Message)
			}
			d, err := DocOf(m)
			if err != nil {
				return err
			}
			if d.Size != int64(len(f.data)) || d.DCID != 2 || d.MimeType != "application/octet-stream" {
				t.Errorf("document %d: %d bytes, DC %d, %s", d.ID, d.Size, d.DCID, d.MimeType)
			}
			if err := Download(ctx, api, d, 4, f.data); err != nil {
				return err
			}
		}
		return nil
	})
}

// Album: three documents as one album through messages.sendMultiMedia,
// read back with getHistory and downloaded.
func Album(t *testing.T) {
	srv := StartServer(t)
	WithBot(t, srv, func(ctx context.Context, api *tg.Client) error {
		var items []tg.InputSingleMedia
		var datas [][]byte
		for i := 0; i < 3; i++ {
			data := RandomBytes(uint64(10+i), 100<<10*(i+1)+i)
			datas = append(datas, data)
			file, err := Upload(ctx, api, fmt.Sprintf("part%d.bin", i), data, 1)
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
			return fmt.Errorf("sendMultiMedia: %w", err)
		}
		msgs, err := SentMessages(res, 100, 101, 102)
		if err != nil {
			return err
		}
		for i, m := range msgs {
			if m.GroupedID == 0 || m.GroupedID != msgs[0].GroupedID {
				t.Errorf("message %d: grouped_id %d, want one shared non-zero id", m.ID, m.GroupedID)
			}
			if m.Message != fmt.Sprintf("caption %d", i) {
				t.Errorf("message %d: caption %q", m.ID, m.Message)
			}
		}
		// History lists the album newest first; each document downloads.
		hist, err := api.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: &tg.InputPeerSelf{}, Limit: 3})
		if err != nil {
			return fmt.Errorf("getHistory: %w", err)
		}
		h, ok := hist.(*tg.MessagesMessages)
		if !ok || len(h.Messages) != 3 {
			return fmt.Errorf("getHistory answered %T with %v", hist, hist)
		}
		for i, hm := range h.Messages {
			m, ok := hm.(*tg.Message)
			want := msgs[len(msgs)-1-i]
			if !ok || m.ID != want.ID || m.GroupedID != want.GroupedID {
				return fmt.Errorf("history %d: %v, want message %d", i, hm, want.ID)
			}
			d, err := DocOf(m)
			if err != nil {
				return err
			}
			if err := Download(ctx, api, d, 1, datas[len(datas)-1-i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// PhotoSizes: a 1000×600 photo through inputMediaUploadedPhoto; every size
// downloads through inputPhotoFileLocation and has the announced dimensions;
// the stripped size is there.
func PhotoSizes(t *testing.T) {
	srv := StartServer(t)
	WithBot(t, srv, func(ctx context.Context, api *tg.Client) error {
		file, err := Upload(ctx, api, "photo.jpg", GradientJPEG(t, 1000, 600), 1)
		if err != nil {
			return err
		}
		_, m, err := sendAndReadBack(ctx, api, &tg.InputMediaUploadedPhoto{File: file}, "a photo")
		if err != nil {
			return err
		}
		mp, ok := m.Media.(*tg.MessageMediaPhoto)
		if !ok {
			return fmt.Errorf("message media %T", m.Media)
		}
		photo, ok := mp.Photo.(*tg.Photo)
		if !ok {
			return fmt.Errorf("photo %T", mp.Photo)
		}
		want := map[string][2]int{"s": {100, 60}, "m": {320, 192}, "x": {800, 480}, "y": {1000, 600}}
		seen := map[string]bool{}
		for _, size := range photo.Sizes {
			switch s := size.(type) {
			case *tg.PhotoStrippedSize:
				// 0x01, height, width, then the JPEG body.
				if len(s.Bytes) < 4 || s.Bytes[0] != 1 || s.Bytes[1] > 40 || s.Bytes[2] > 40 || s.Bytes[2] < s.Bytes[1] {
					t.Errorf("stripped size %s: % x", s.Type, s.Bytes[:min(len(s.Bytes), 3)])
				}
				seen[s.Type] = true
			case *tg.PhotoSize:
				dims, ok := want[s.Type]
				if !ok || s.W != dims[0] || s.H != dims[1] {
					t.Errorf("size %s is %dx%d", s.Type, s.W, s.H)
					continue
				}
				var out bytes.Buffer
				_, err := downloader.NewDownloader().Download(api, &tg.InputPhotoFileLocation{
					ID: photo.ID, AccessHash: photo.AccessHash, FileReference: photo.FileReference, ThumbSize: s.Type,
				}).Stream(ctx, &out)
				if err != nil {
					return fmt.Errorf("download size %s: %w", s.Type, err)
				}
				if out.Len() != s.Size {
					t.Errorf("size %s announced %d bytes, downloaded %d", s.Type, s.Size, out.Len())
				}
				cfg, err := jpeg.DecodeConfig(&out)
				if err != nil || cfg.Width != s.W || cfg.Height != s.H {
					t.Errorf("downloaded size %s: %+v, %v", s.Type, cfg, err)
				}
				seen[s.Type] = true
			default:
				t.Errorf("unexpected size %T", size)
			}
		}
		for _, typ := range []string{"i", "s", "m", "x", "y"} {
			if !seen[typ] {
				t.Errorf("no %s size", typ)
			}
		}
		return nil
	})
}

// DeclaredAttributes: a 64 KiB document of mime type mime with the
// attributes the client declares, sent to Saved Messages and read back with
// getMessages; check sees the document of both answers, and it downloads.
func DeclaredAttributes(t *testing.T, mime string, attrs []tg.DocumentAttributeClass, check func(*tg.Document) error) {
	srv := StartServer(t)
	WithBot(t, srv, func(ctx context.Context, api *tg.Client) error {
		data := RandomBytes(5, 64<<10)
		file, err := Upload(ctx, api, "declared", data, 1)
		if err != nil {
			return err
		}
		sent, m, err := sendAndReadBack(ctx, api, &tg.InputMediaUploadedDocument{File: file, MimeType: mime, Attributes: attrs}, "")
		if err != nil {
			return err
		}
		for _, m := range []*tg.Message{sent, m} {
			d, err := DocOf(m)
			if err != nil {
				return err
			}
			if d.MimeType != mime {
				return fmt.Errorf("document %d: mime type %s, want %s", d.ID, d.MimeType, mime)
			}
			if err := check(d); err != nil {
				return fmt.Errorf("document %d: %w", d.ID, err)
			}
		}
		d, _ := DocOf(m)
		return Download(ctx, api, d, 1, data)
	})
}

// sendAndReadBack sends one media to Saved Messages and reads the message
// back with getMessages: the message as sent and as read.
func sendAndReadBack(ctx context.Context, api *tg.Client, media tg.InputMediaClass, caption string) (sent, read *tg.Message, err error) {
	res, err := api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{
		Peer: &tg.InputPeerSelf{}, Media: media, RandomID: 1, Message: caption})
	if err != nil {
		return nil, nil, fmt.Errorf("sendMedia: %w", err)
	}
	msgs, err := SentMessages(res, 1)
	if err != nil {
		return nil, nil, err
	}
	got, err := api.MessagesGetMessages(ctx, []tg.InputMessageClass{&tg.InputMessageID{ID: msgs[0].ID}})
	if err != nil {
		return nil, nil, fmt.Errorf("getMessages: %w", err)
	}
	mm, ok := got.(*tg.MessagesMessages)
	if !ok || len(mm.Messages) != 1 {
		return nil, nil, fmt.Errorf("getMessages answered %v", got)
	}
	m, ok := mm.Messages[0].(*tg.Message)
	if !ok {
		return nil, nil, fmt.Errorf("getMessages answered %T", mm.Messages[0])
	}
	return msgs[0], m, nil
}
