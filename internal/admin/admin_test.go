package admin

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/filedc/filedc/internal/bots"
	"github.com/filedc/filedc/internal/store/bolt"
)

// TestO3_AdminAPIGuards: the admin API answers only this machine (unless
// allowed) and only with the token; its errors are JSON that says why.
func TestO3_AdminAPIGuards(t *testing.T) {
	meta, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	mux := http.NewServeMux()
	h := &Handler{Bots: &bots.Service{Accounts: meta, Keys: meta}, Token: "secret"}
	h.Register(mux)
	do := func(method, path, from, token, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.RemoteAddr = from
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	for _, tc := range []struct {
		method, path, from, token, body string
		status                          int
		says                            string
	}{
		{"GET", "/api/bots", "203.0.113.5:999", "secret", "", 403, "this machine only"},
		{"GET", "/api/bots", "127.0.0.1:999", "", "", 401, "admin token"},
		{"GET", "/api/bots", "[::1]:999", "wrong", "", 401, "admin token"},
		{"POST", "/api/bots", "127.0.0.1:999", "secret", `{"name": "a"}`, 400, "3 to 32"},
		{"POST", "/api/bots", "127.0.0.1:999", "secret", `name=a`, 400, "not {"},
		{"POST", "/api/bots/77/revoke", "127.0.0.1:999", "secret", "", 404, "no such bot"},
		{"POST", "/api/bots/x/revoke", "127.0.0.1:999", "secret", "", 400, "a number"},
		{"POST", "/api/bots", "127.0.0.1:999", "secret", `{"name": "good_bot"}`, 201, `"token":`},
		{"GET", "/api/bots", "127.0.0.1:999", "secret", "", 200, "good_bot"},
	} {
		w := do(tc.method, tc.path, tc.from, tc.token, tc.body)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.says) {
			t.Errorf("%s %s from %s: %d %s; want %d saying %q", tc.method, tc.path, tc.from, w.Code, w.Body, tc.status, tc.says)
		}
	}
	h.Remote = true
	if w := do("GET", "/api/bots", "203.0.113.5:999", "secret", ""); w.Code != 200 {
		t.Errorf("with remote requests allowed: %d %s", w.Code, w.Body)
	}
}

// TestProfilesThroughTheAdminAPI: the bench starts and stops CPU profiles
// and reads the allocation profile through the admin API, token and all; a
// second start, or a stop without one, is refused.
func TestProfilesThroughTheAdminAPI(t *testing.T) {
	c := testClient(t)
	ctx := t.Context()
	if _, err := c.StopCPUProfile(ctx); err == nil || !strings.Contains(err.Error(), "no CPU profile") {
		t.Errorf("stop without a start: %v", err)
	}
	if err := c.StartCPUProfile(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.StartCPUProfile(ctx); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("a second start: %v", err)
	}
	for i := 0; i < 1e6; i++ {
		_ = strings.Repeat("x", i%7)
	}
	for _, get := range []func(context.Context) ([]byte, error){c.StopCPUProfile, c.AllocsProfile} {
		data, err := get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := profile.Parse(bytes.NewReader(data)); err != nil {
			t.Errorf("the answer is not a profile: %v", err)
		}
	}
	wrong := &Client{Addr: c.Addr, Token: "wrong"}
	if err := wrong.StartCPUProfile(ctx); err == nil || !strings.Contains(err.Error(), "admin token") {
		t.Errorf("a start with the wrong token: %v", err)
	}
}

// TestMemoryCountsWhatIsHeld: GET /api/memory collects garbage first, so
// memory a server holds shows in heap_live and garbage does not.
func TestMemoryCountsWhatIsHeld(t *testing.T) {
	c := testClient(t)
	before, err := c.Memory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const held = 64 << 20
	keep := make([]byte, held)
	for range 16 {
		_ = make([]byte, held) // garbage
	}
	after, err := c.Memory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	grew := int64(after.HeapLive) - int64(before.HeapLive)
	if grew < held-held/16 || grew > held+held/4 {
		t.Errorf("heap_live grew by %d bytes while %d were held", grew, held)
	}
	if after.Stacks == 0 || after.Goroutines == 0 {
		t.Errorf("no stacks or goroutines: %+v", after)
	}
	runtime.KeepAlive(keep)
	if _, err := (&Client{Addr: c.Addr, Token: "wrong"}).Memory(t.Context()); err == nil {
		t.Error("memory answered the wrong token")
	}
}

// testClient serves the admin API with token "secret" for the test and
// returns a client holding that token.
func testClient(t *testing.T) *Client {
	t.Helper()
	mux := http.NewServeMux()
	(&Handler{Token: "secret"}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &Client{Addr: strings.TrimPrefix(srv.URL, "http://"), Token: "secret"}
}
