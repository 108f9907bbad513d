package gotd227

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"image/jpeg"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// withBot runs f with a gotd client that logged in as the bot. Before login,
// updates.getState must be refused.
func withBot(t *testing.T, srv *dc, f func(ctx context.Context, api *tg.Client) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	client := srv.client()
	err := client.Run(ctx, func(ctx context.Context) error {
		if _, err := client.API().UpdatesGetState(ctx); !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") {
			return fmt.Errorf("updates.getState before login: %v, want AUTH_KEY_UNREGISTERED", err)
		}
		if _, err := client.Auth().Bot(ctx, botToken); err != nil {
			return fmt.Errorf("bot login: %w", err)
		}
		self, err := client.Self(ctx)
		if err != nil {
			return fmt.Errorf("self: %w", err)
		}
		if self.ID != botID || !self.Bot {
			return fmt.Errorf("self is %d (bot %v), want bot %d", self.ID, self.Bot, botID)
		}
		return f(ctx, client.API())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sentMessages checks an Updates answer: updateMessageID for every random_id,
// then updateNewMessage for each, and returns the messages.
func sentMessages(res tg.UpdatesClass, randomIDs ...int64) ([]*tg.Message, error) {
	u, ok := res.(*tg.Updates)
	if !ok {
		return nil, fmt.Errorf("answer %T, want updates", res)
	}
	ids := map[int64]int{}
	var msgs []*tg.Message
	for _, up := range u.Updates {
		switch up := up.(type) {
		case *tg.UpdateMessageID:
			ids[up.RandomID] = up.ID
		case *tg.UpdateNewMessage:
			if len(ids) != len(randomIDs) {
				return nil, fmt.Errorf("updateNewMessage came before every updateMessageID")
			}
			m, ok := up.Message.(*tg.Message)
			if !ok {
				return nil, fmt.Errorf("updateNewMessage holds %T", up.Message)
			}
			msgs = append(msgs, m)
		}
	}
	for i, r := range randomIDs {
		if id, ok := ids[r]; !ok || i >= len(msgs) || msgs[i].ID != id {
			return nil, fmt.Errorf("random_id %d: no matching updateMessageID/updateNewMessage", r)
		}
	}
	if len(u.Users) == 0 {
		return nil, fmt.Errorf("updates name no users")
	}
	return msgs, nil
}

func docOf(m *tg.Message) (*tg.Document, error) {
	md, ok := m.Media.(*tg.MessageMediaDocument)
	if !ok {
		return nil, fmt.Errorf("message %d has media %T", m.ID, m.Media)
	}
	d, ok := md.Document.(*tg.Document)
	if !ok {
		return nil, fmt.Errorf("message %d has document %T", m.ID, md.Document)
	}
	return d, nil
}

func upload(ctx context.Context, api *tg.Client, name string, data []byte, threads int) (tg.InputFileClass, error) {
	return uploader.NewUploader(api).WithThreads(threads).
		Upload(ctx, uploader.NewUpload(name, bytes.NewReader(data), int64(len(data))))
}

// writerAt collects a parallel download.
type writerAt struct {
	mu  sync.Mutex
	buf []byte
}

func (w *writerAt) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if end := int(off) + len(p); end > len(w.buf) {
		w.buf = append(w.buf, make([]byte, end-len(w.buf))...)
	}
	copy(w.buf[off:], p)
	return len(p), nil
}

// download fetches a document with gotd's downloader, with and without
// verification through upload.getFileHashes, and compares it with want.
func download(ctx context.Context, api *tg.Client, d *tg.Document, threads int, want []byte) error {
	loc := &tg.InputDocumentFileLocation{ID: d.ID, AccessHash: d.AccessHash, FileReference: d.FileReference}
	for _, verify := range []bool{false, true} {
		out := &writerAt{}
		_, err := downloader.NewDownloader().Download(api, loc).WithThreads(threads).WithVerify(verify).Parallel(ctx, out)
		if err != nil {
			return fmt.Errorf("download document %d (verify=%v): %w", d.ID, verify, err)
		}
		if sha256.Sum256(out.buf) != sha256.Sum256(want) {
			return fmt.Errorf("document %d (verify=%v): downloaded %d bytes that differ from the %d sent", d.ID, verify, len(out.buf), len(want))
		}
	}
	return nil
}

// TestS5_Gotd227Roundtrip: gotd/td v0.150.0 (layer 227) logs in as a bot,
// uploads a 1 MiB file (small path) and a 30 MiB file (big path) with 4
// threads, sends them to Saved Messages, reads them back with getMessages and
// downloads them with 4 threads, with and without verification.
func TestS5_Gotd227Roundtrip(t *testing.T) {
	if tg.Layer != 227 {
		t.Fatalf("gotd/td of this module speaks layer %d, want 227", tg.Layer)
	}
	srv := startServer(t)
	files := []struct {
		name string
		data []byte
	}{
		{"small.bin", randomBytes(1, 1<<20)},
		{"big.bin", randomBytes(2, 30<<20)},
	}
	withBot(t, srv, func(ctx context.Context, api *tg.Client) error {
		var sent []*tg.Message
		for i, f := range files {
			file, err := upload(ctx, api, f.name, f.data, 4)
			if err != nil {
				return fmt.Errorf("upload %s: %w", f.name, err)
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
			msgs, err := sentMessages(res, randomID)
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
			if p, ok := m.PeerID.(*tg.PeerUser); !ok || p.UserID != botID || !m.Out || m.Message != f.name {
				t.Errorf("message %d: peer %v out %v caption %q", m.ID, m.PeerID, m.Out, m.Message)
			}
			d, err := docOf(m)
			if err != nil {
				return err
			}
			if d.Size != int64(len(f.data)) || d.DCID != 2 || d.MimeType != "application/octet-stream" {
				t.Errorf("document %d: %d bytes, DC %d, %s", d.ID, d.Size, d.DCID, d.MimeType)
			}
			if err := download(ctx, api, d, 4, f.data); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestM3_Gotd227Album: three documents as one album through
// messages.sendMultiMedia, read back with getHistory and downloaded.
func TestM3_Gotd227Album(t *testing.T) {
	srv := startServer(t)
	withBot(t, srv, func(ctx context.Context, api *tg.Client) error {
		var items []tg.InputSingleMedia
		var datas [][]byte
		for i := 0; i < 3; i++ {
			data := randomBytes(uint64(10+i), 100<<10*(i+1)+i)
			datas = append(datas, data)
			file, err := upload(ctx, api, fmt.Sprintf("part%d.bin", i), data, 1)
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
		msgs, err := sentMessages(res, 100, 101, 102)
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
			d, err := docOf(m)
			if err != nil {
				return err
			}
			if err := download(ctx, api, d, 1, datas[len(datas)-1-i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestM5_Gotd227PhotoSizes: a photo through inputMediaUploadedPhoto; every
// size downloads through inputPhotoFileLocation and has the announced
// dimensions; the stripped size is there.
func TestM5_Gotd227PhotoSizes(t *testing.T) {
	srv := startServer(t)
	withBot(t, srv, func(ctx context.Context, api *tg.Client) error {
		file, err := upload(ctx, api, "photo.jpg", testJPEG(t, 1000, 600), 1)
		if err != nil {
			return err
		}
		res, err := api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{
			Peer: &tg.InputPeerSelf{}, Media: &tg.InputMediaUploadedPhoto{File: file}, RandomID: 1, Message: "a photo"})
		if err != nil {
			return fmt.Errorf("sendMedia: %w", err)
		}
		msgs, err := sentMessages(res, 1)
		if err != nil {
			return err
		}
		got, err := api.MessagesGetMessages(ctx, []tg.InputMessageClass{&tg.InputMessageID{ID: msgs[0].ID}})
		if err != nil {
			return fmt.Errorf("getMessages: %w", err)
		}
		mm, ok := got.(*tg.MessagesMessages)
		if !ok || len(mm.Messages) != 1 {
			return fmt.Errorf("getMessages answered %v", got)
		}
		m, ok := mm.Messages[0].(*tg.Message)
		if !ok {
			return fmt.Errorf("getMessages answered %T", mm.Messages[0])
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
