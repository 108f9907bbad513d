package rpc

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/bolt"
)

// BenchmarkGetHistory10k: messages.getHistory pages of 100 over a chat of
// 10,000 messages with documents, each answer encoded as a client receives
// it (file references issued fresh). Reports ms per page and µs per message.
func BenchmarkGetHistory10k(b *testing.B) {
	ctx := context.Background()
	meta, err := bolt.Open(filepath.Join(b.TempDir(), "meta.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer meta.Close()
	me := store.Account{ID: 1, Name: "me", AccessKey: 5, Created: time.Now()}
	if err := meta.PutAccount(ctx, me); err != nil {
		b.Fatal(err)
	}
	h := New(Config{DC: 2, Accounts: meta, Keys: meta, Messages: meta, Documents: meta, Secret: []byte("bench")})
	var media bin.Buffer
	doc := &tg.Document{ID: 7, AccessHash: 8, FileReference: []byte{1}, MimeType: "image/jpeg", Size: 123456, DCID: 2,
		Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: "photo.jpg"}}}
	if err := (&tg.MessageMediaDocument{Document: doc}).Encode(&media); err != nil {
		b.Fatal(err)
	}
	const total = 10000
	for i := 0; i < total; i += 1000 {
		batch := make([]*store.Message, 1000)
		for j := range batch {
			batch[j] = &store.Message{Owner: 1, Peer: 1, From: 1, Out: true, Date: time.Now(), Text: "caption", Media: media.Buf}
		}
		if err := meta.AddMessages(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	key := &server.Key{}
	key.Update(func(k *store.AuthKey) { k.UserID = 1 })
	b.ResetTimer()
	messages := 0
	for i := 0; i < b.N; i++ {
		offset := 0
		for page := 0; page < total/100; page++ {
			var req bin.Buffer
			(&tg.MessagesGetHistoryRequest{Peer: &tg.InputPeerSelf{}, OffsetID: offset, Limit: 100}).Encode(&req)
			res, err := h.ServeRPC(ctx, &server.Request{Key: key, Body: &req})
			if err != nil {
				b.Fatal(err)
			}
			var out bin.Buffer
			if err := res.Encode(&out); err != nil {
				b.Fatal(err)
			}
			msgs := res.(*tg.MessagesMessages).Messages
			messages += len(msgs)
			offset = msgs[len(msgs)-1].(*tg.Message).ID
		}
	}
	elapsed := b.Elapsed()
	b.ReportMetric(float64(elapsed.Milliseconds())/float64(b.N*total/100), "ms/page")
	b.ReportMetric(float64(elapsed.Microseconds())/float64(messages), "µs/message")
}

// BenchmarkHotPath: upload.saveBigFilePart (512 KiB parts, each a new
// part of a 128 MiB upload, finalized between the timed saves) and
// upload.getFile (512 KiB of a stored document) through ServeRPC, bare,
// under one no-op interceptor and with an Observer: the allocations of the
// save path and of a getFile answer (-benchmem), the harness's own left out
// (it reuses its request).
func BenchmarkHotPath(b *testing.B) {
	noop := func(ctx context.Context, method string, next func(context.Context) (bin.Encoder, error)) (bin.Encoder, error) {
		return next(ctx)
	}
	const partSize, fileParts = 512 << 10, 256
	for _, bc := range []struct {
		name string
		edit func(*Config)
	}{
		{"bare", func(*Config) {}},
		{"interceptor", func(c *Config) { c.Interceptors = []Interceptor{noop} }},
		{"observer", func(c *Config) { c.Observer = &countCalls{} }},
	} {
		d := newTestDC(b, 2, "bench", bc.edit, func(c *Config) { c.RequestRate, c.RequestBurst = 1e12, 1<<30 })
		ctx := context.Background()
		if err := d.meta.PutAccount(ctx, store.Account{ID: 7000001, Bot: true, Name: "bot", AccessKey: 9}); err != nil {
			b.Fatal(err)
		}
		key := loggedIn(7000001)
		part := make([]byte, partSize)
		for i := range part {
			part[i] = byte(i * 7)
		}
		body := &bin.Buffer{}
		req := &server.Request{Key: key, Body: body}
		var scratch []byte // a call consumes its body: each gets a fresh copy
		serve := func(enc []byte) (bin.Encoder, error) {
			scratch = append(scratch[:0], enc...)
			body.ResetTo(scratch)
			*req = server.Request{Key: key, Body: body}
			res, err := d.h.ServeRPC(ctx, req)
			if r, ok := res.(server.Releaser); ok {
				r.Release()
			}
			return res, err
		}
		encode := func(e bin.Encoder) []byte {
			var buf bin.Buffer
			if err := e.Encode(&buf); err != nil {
				b.Fatal(err)
			}
			return buf.Buf
		}
		finalize := func(fileID int64) *tg.Document {
			res, err := serve(encode(&tg.MessagesUploadMediaRequest{Peer: &tg.InputPeerSelf{},
				Media: &tg.InputMediaUploadedDocument{File: &tg.InputFileBig{ID: fileID, Parts: fileParts, Name: "a.bin"}, MimeType: "application/x-bench"}}))
			if err != nil {
				b.Fatal(err)
			}
			return res.(*tg.MessageMediaDocument).Document.(*tg.Document)
		}

		b.Run(bc.name+"/saveBigFilePart", func(b *testing.B) {
			// file_id and file_part are patched in place: bytes 4-11 and 12-15.
			enc := encode(&tg.UploadSaveBigFilePartRequest{FileTotalParts: fileParts, Bytes: part})
			fileID, i := int64(1), 0
			b.SetBytes(partSize)
			b.ReportAllocs()
			for b.Loop() {
				binary.LittleEndian.PutUint64(enc[4:], uint64(fileID))
				binary.LittleEndian.PutUint32(enc[12:], uint32(i))
				if _, err := serve(enc); err != nil {
					b.Fatal(err)
				}
				if i++; i == fileParts {
					b.StopTimer()
					finalize(fileID)
					fileID, i = fileID+1, 0
					b.StartTimer()
				}
			}
		})

		for i := range fileParts {
			if _, err := serve(encode(&tg.UploadSaveBigFilePartRequest{FileID: 1 << 40, FilePart: i, FileTotalParts: fileParts, Bytes: part})); err != nil {
				b.Fatal(err)
			}
		}
		doc := finalize(1 << 40)
		b.Run(bc.name+"/getFile", func(b *testing.B) {
			enc := encode(&tg.UploadGetFileRequest{Location: &tg.InputDocumentFileLocation{
				ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}, Offset: partSize, Limit: partSize})
			b.SetBytes(partSize)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := serve(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// countCalls is an Observer that counts.
type countCalls struct{ n atomic.Int64 }

func (c *countCalls) ObserveCall(string, time.Duration, error) { c.n.Add(1) }
