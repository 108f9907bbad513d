package rpc

import (
	"context"
	"path/filepath"
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
