package webfetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeDNS resolves the names of a test to the addresses it says.
type fakeDNS map[string][]netip.Addr

func (d fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := d[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

// server counts its hits and serves handler.
func server(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); h(w, r) }))
	t.Cleanup(s.Close)
	return s, &hits
}

func fetcher(t *testing.T, cfg Config) *Fetcher {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Rule M10: loopback is refused unless the operator allows it; an allowed
// fetch sniffs the content type from the bytes.
func TestM10_LoopbackOnlyByAllowList(t *testing.T) {
	s, hits := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(pngHeader)
	})
	if _, err := fetcher(t, Config{}).Get(context.Background(), s.URL+"/a.png"); !errors.Is(err, ErrAddress) {
		t.Fatalf("loopback by default: %v", err)
	}
	if hits.Load() != 0 {
		t.Fatal("a refused address was connected to")
	}
	res, err := fetcher(t, Config{Allow: []string{"127.0.0.1/32"}}).Get(context.Background(), s.URL+"/a.png")
	if err != nil || res.ContentType != "image/png" || string(res.Body) != string(pngHeader) {
		t.Fatalf("allowed: %+v %v", res, err)
	}
	// Deny wins over Allow.
	if _, err := fetcher(t, Config{Allow: []string{"127.0.0.0/8"}, Deny: []string{"127.0.0.1"}}).Get(context.Background(), s.URL); !errors.Is(err, ErrAddress) {
		t.Fatalf("denied: %v", err)
	}
}

// Rule M10: names are checked after resolution, each address the name has;
// the connection goes to the address that passed. A redirect to a name
// that is not allowed is refused.
func TestM10_NamesCheckedAfterResolutionAndRedirects(t *testing.T) {
	var target string
	s, hits := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/away" {
			http.Redirect(w, r, target, http.StatusFound)
			return
		}
		w.Write([]byte("%PDF-1.4 hello"))
	})
	port := s.Listener.Addr().(*net.TCPAddr).Port
	lo := netip.MustParseAddr("127.0.0.1")
	dns := fakeDNS{
		"files.test":  {lo},
		"mixed.test":  {netip.MustParseAddr("10.0.0.7"), lo},
		"inside.test": {lo},
		"rebind.test": {netip.MustParseAddr("192.168.1.1")},
	}
	f := fetcher(t, Config{Allow: []string{"files.test"}, Resolver: dns})
	res, err := f.Get(context.Background(), fmt.Sprintf("http://files.test:%d/doc.pdf", port))
	if err != nil || res.ContentType != "application/pdf" {
		t.Fatalf("an allowed name: %+v %v", res, err)
	}
	for _, host := range []string{"inside.test", "rebind.test"} {
		n := hits.Load()
		if _, err := f.Get(context.Background(), fmt.Sprintf("http://%s:%d/", host, port)); !errors.Is(err, ErrAddress) {
			t.Errorf("%s: %v", host, err)
		}
		if hits.Load() != n {
			t.Errorf("%s was connected to", host)
		}
	}
	target = fmt.Sprintf("http://inside.test:%d/x", port)
	if _, err := f.Get(context.Background(), fmt.Sprintf("http://files.test:%d/away", port)); !errors.Is(err, ErrAddress) {
		t.Errorf("redirect to a name not allowed: %v", err)
	}
	target = "file:///etc/passwd"
	if _, err := f.Get(context.Background(), fmt.Sprintf("http://files.test:%d/away", port)); err == nil {
		t.Error("a redirect to file:// was followed")
	}
	// Of a name's addresses, the first allowed one is dialled.
	f3 := fetcher(t, Config{Allow: []string{"127.0.0.1/32"}, Resolver: dns})
	if _, err := f3.Get(context.Background(), fmt.Sprintf("http://mixed.test:%d/doc", port)); err != nil {
		t.Errorf("mixed.test: %v", err)
	}
	f2 := fetcher(t, Config{Allow: []string{"*.test"}, Resolver: dns})
	if _, err := f2.Get(context.Background(), fmt.Sprintf("http://inside.test:%d/doc", port)); err != nil {
		t.Errorf("*.test allows inside.test: %v", err)
	}
}

// Rule M10: at most 5 redirects; size and time caps; http and https only.
func TestM10_RedirectsSizeTimeAndSchemes(t *testing.T) {
	s, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/hop/%d", &n)
		switch {
		case n > 0:
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
		case r.URL.Path == "/big":
			w.Write(make([]byte, 5000))
		case r.URL.Path == "/big-chunked":
			for range 5 {
				w.Write(make([]byte, 1000))
				w.(http.Flusher).Flush()
			}
		case r.URL.Path == "/slow":
			time.Sleep(500 * time.Millisecond)
			w.Write([]byte("late"))
		case r.URL.Path == "/empty":
		case r.URL.Path == "/missing":
			http.NotFound(w, r)
		default:
			w.Write([]byte("ok"))
		}
	})
	f := fetcher(t, Config{Allow: []string{"127.0.0.1"}, MaxBytes: 4000, Timeout: 200 * time.Millisecond})
	ctx := context.Background()
	if _, err := f.Get(ctx, s.URL+"/hop/5"); err != nil {
		t.Errorf("5 redirects: %v", err)
	}
	if _, err := f.Get(ctx, s.URL+"/hop/6"); !errors.Is(err, ErrRedirects) {
		t.Errorf("6 redirects: %v", err)
	}
	for _, p := range []string{"/big", "/big-chunked"} {
		if _, err := f.Get(ctx, s.URL+p); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := f.Get(ctx, s.URL+"/slow"); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("slow: %v", err)
	}
	if _, err := f.Get(ctx, s.URL+"/empty"); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if _, err := f.Get(ctx, s.URL+"/missing"); !errors.Is(err, ErrStatus) {
		t.Errorf("404: %v", err)
	}
	for _, u := range []string{"ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1/", "http:///nohost", "javascript:alert(1)"} {
		if _, err := f.Get(ctx, u); err == nil {
			t.Errorf("%s fetched", u)
		}
	}
	if _, err := New(Config{Allow: []string{"10.0.0.0/99"}}); err == nil {
		t.Error("a malformed CIDR passed")
	}
}

// Rule M10: only ordinary public unicast addresses are reachable by
// default.
func TestM10_OnlyPublicAddressesByDefault(t *testing.T) {
	f := fetcher(t, Config{})
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "1.1.1.1": true, "2606:4700:4700::1111": true,
		"127.0.0.1": false, "127.8.9.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.0.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "0.1.2.3": false, "224.0.0.1": false,
		"255.255.255.255": false, "192.0.2.1": false, "198.18.0.1": false, "240.0.0.1": false,
		"::1": false, "::": false, "fe80::1": false, "fc00::1": false, "fd12::1": false, "ff02::1": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "64:ff9b::a00:1": false, "2002:a00:1::": false, "2001:db8::1": false,
	} {
		if got := f.Allowed("", netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: allowed %v, want %v", addr, got, want)
		}
	}
}
