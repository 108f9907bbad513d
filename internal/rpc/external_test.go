package rpc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/webfetch"
)

// Rule M10: media sent by URL is fetched before the call takes the media
// lock, so a slow remote server never holds up deletions (and, behind a
// waiting deletion, every other send).
func TestM10_FetchHoldsNoMediaLock(t *testing.T) {
	d := newTestDC(t, 2, "external test secret")
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
	var err error
	if d.h.cfg.Web, err = webfetch.New(webfetch.Config{Allow: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := invoke(t, d.h, loggedIn(7000001), &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{},
			Media: &tg.InputMediaDocumentExternal{URL: site.URL + "/a.pdf"}, RandomID: 1})
		done <- err
	}()
	<-inFetch
	if !d.h.mediaMu.TryLock() {
		t.Fatal("the media lock is held while a URL is fetched")
	}
	d.h.mediaMu.Unlock()
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("sendMedia by URL: %v", err)
	}
}
