package rpc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/webfetch"
)

// Rule M10: media sent by URL is fetched before the call holds media, so a
// slow remote server never holds up deletions (and, behind a waiting
// deletion, every other send).
func TestM10_FetchHoldsNoMediaLock(t *testing.T) {
	web, err := webfetch.New(webfetch.Config{Allow: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	d := newTestDC(t, 2, "external test secret", func(c *Config) { c.Web = web })
	ctx := context.Background()
	if err := d.meta.PutAccount(ctx, store.Account{ID: 7000001, Bot: true, Name: "bot", AccessKey: 9}); err != nil {
		t.Fatal(err)
	}
	inFetch, release := make(chan struct{}), make(chan struct{})
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inFetch)
		<-release
		w.Write([]byte("%PDF-1.4 a document"))
	}))
	defer site.Close()
	done := make(chan error, 1)
	go func() {
		_, err := invoke(t, d.h, loggedIn(7000001), &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{},
			Media: &tg.InputMediaDocumentExternal{URL: site.URL + "/a.pdf"}, RandomID: 1})
		done <- err
	}()
	<-inFetch
	// A deletion, which collects media alone, goes through during the fetch.
	deleted := make(chan error, 1)
	go func() {
		_, err := invoke(t, d.h, loggedIn(7000001), &tg.MessagesDeleteMessagesRequest{ID: []int{1}, Revoke: true})
		deleted <- err
	}()
	select {
	case err := <-deleted:
		if err != nil {
			t.Fatalf("deleteMessages during the fetch: %v", err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("a deletion waits while a URL is fetched: media is held during the fetch")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("sendMedia by URL: %v", err)
	}
}
