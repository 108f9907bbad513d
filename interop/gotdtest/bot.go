package gotdtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// WithBot runs f with a gotd client that logged in as the bot. Before login,
// updates.getState must be refused. Every call must be one the server
// knows and translates (Calls).
func WithBot(t *testing.T, srv *Server, f func(ctx context.Context, api *tg.Client) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var calls Calls
	defer calls.Check(t)
	client := srv.Client(&calls)
	err := client.Run(ctx, func(ctx context.Context) error {
		if _, err := client.API().UpdatesGetState(ctx); !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") {
			return fmt.Errorf("updates.getState before login: %v, want AUTH_KEY_UNREGISTERED", err)
		}
		if _, err := client.Auth().Bot(ctx, BotToken); err != nil {
			return fmt.Errorf("bot login: %w", err)
		}
		self, err := client.Self(ctx)
		if err != nil {
			return fmt.Errorf("self: %w", err)
		}
		if self.ID != BotID || !self.Bot {
			return fmt.Errorf("self is %d (bot %v), want bot %d", self.ID, self.Bot, BotID)
		}
		return f(ctx, client.API())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// SentMessages checks an Updates answer: updateMessageID for every
// random_id, then updateNewMessage for each, and returns the messages.
func SentMessages(res tg.UpdatesClass, randomIDs ...int64) ([]*tg.Message, error) {
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

// DocOf is the document of a message.
func DocOf(m *tg.Message) (*tg.Document, error) {
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

// Upload sends data with gotd's uploader: saveFilePart up to 10 MiB,
// saveBigFilePart above, threads parallel parts for big files.
func Upload(ctx context.Context, api *tg.Client, name string, data []byte, threads int) (tg.InputFileClass, error) {
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

// Download fetches a document with gotd's downloader, with and without
// verification through upload.getFileHashes, and compares its SHA-256 with
// want's. The hashes upload.getFileHashes gives from offset 0 are checked
// against want's 128 KiB ranges too.
func Download(ctx context.Context, api *tg.Client, d *tg.Document, threads int, want []byte) error {
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
	hashes, err := api.UploadGetFileHashes(ctx, &tg.UploadGetFileHashesRequest{Location: loc})
	if err != nil {
		return fmt.Errorf("getFileHashes %d: %w", d.ID, err)
	}
	if len(hashes) == 0 {
		return fmt.Errorf("getFileHashes %d: no hashes", d.ID)
	}
	for i, h := range hashes {
		// Consecutive 128 KiB ranges from 0 (D9); the last one's hash
		// covers the bytes there are, its limit the whole range.
		start, end := int64(i)<<17, min(int64(i+1)<<17, int64(len(want)))
		if h.Offset != start || h.Limit != 128<<10 || start >= end {
			return fmt.Errorf("getFileHashes %d: hash %d covers %d+%d of %d bytes", d.ID, i, h.Offset, h.Limit, len(want))
		}
		if sum := sha256.Sum256(want[start:end]); !bytes.Equal(h.Hash, sum[:]) {
			return fmt.Errorf("getFileHashes %d: hash %d (offset %d) is not the range's SHA-256", d.ID, i, h.Offset)
		}
	}
	return nil
}

// RandomBytes returns n deterministic pseudo-random bytes.
func RandomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 227))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// GradientJPEG is a w×h gradient photo.
func GradientJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
