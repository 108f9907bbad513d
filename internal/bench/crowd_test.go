package bench

import (
	"context"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"

	"github.com/filedc/filedc/pkg/filedctest"
)

// TestCrowdLoadsARealDC runs a small crowd against an in-process DC: every
// client makes its own auth key over the wire and logs in; the active ones
// upload, finalize and download files (each chunk checked), the idle ones
// ping; and the result counts what they did.
func TestCrowdLoadsARealDC(t *testing.T) {
	const token = "4242:crowd"
	srv := filedctest.New(t, filedctest.WithBotToken(token))
	opts := srv.ClientOptions()
	keys := &KeyMaker{Addr: srv.Addr().String(), DC: srv.DC(), Key: opts.PublicKeys[0].RSA}
	var (
		mu     sync.Mutex
		keyIDs = make(map[string]bool)
		ready  int
	)
	c := Crowd{
		Clients: 5, Active: 2, Traffic: 1500 * time.Millisecond, PingEvery: 100 * time.Millisecond,
		FileParts: 3, Streams: 2, Dialers: 2, Token: token,
		NewClient: func(ctx context.Context) (*telegram.Client, error) {
			data, err := keys.Make(ctx)
			if err != nil {
				return nil, err
			}
			mu.Lock()
			keyIDs[string(data.AuthKeyID)] = true
			mu.Unlock()
			storage := &session.StorageMemory{}
			if err := (&session.Loader{Storage: storage}).Save(ctx, data); err != nil {
				return nil, err
			}
			o := srv.ClientOptions()
			o.SessionStorage = storage
			return telegram.NewClient(filedctest.AppID, filedctest.AppHash, o), nil
		},
		Ready: func(ctx context.Context) error { ready++; return nil },
	}
	res, err := c.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(keyIDs) != c.Clients || ready != 1 {
		t.Errorf("%d distinct auth keys for %d clients, Ready called %d times", len(keyIDs), c.Clients, ready)
	}
	if res.Files < c.Active || len(res.Save) < c.Active*c.FileParts || len(res.Get) == 0 {
		t.Errorf("%d files finalized, %d parts saved, %d chunks downloaded by %d active clients", res.Files, len(res.Save), len(res.Get), c.Active)
	}
	if res.Bytes != int64(len(res.Save)+len(res.Get))*PartSize {
		t.Errorf("%d bytes counted for %d saves and %d downloads", res.Bytes, len(res.Save), len(res.Get))
	}
	// Three idle clients pinging every 100 ms for 1.5 s.
	if res.Pings < 3 || res.LoggedIn <= 0 || res.Traffic < c.Traffic {
		t.Errorf("%d pings, logged in after %v, traffic %v", res.Pings, res.LoggedIn, res.Traffic)
	}
	if got := srv.Calls("auth.importBotAuthorization"); got != c.Clients {
		t.Errorf("%d bot logins for %d clients", got, c.Clients)
	}
}

// TestCrowdReportsAFailingClient: a call that fails ends the crowd with
// its error instead of a figure.
func TestCrowdReportsAFailingClient(t *testing.T) {
	const token = "4242:crowd"
	srv := filedctest.New(t, filedctest.WithBotToken(token))
	srv.Fail("upload.getFile", errTest)
	c := Crowd{
		Clients: 1, Active: 1, Traffic: 5 * time.Second, PingEvery: time.Second, FileParts: 1, Dialers: 1, Token: token,
		NewClient: func(ctx context.Context) (*telegram.Client, error) {
			return telegram.NewClient(filedctest.AppID, filedctest.AppHash, srv.ClientOptions()), nil
		},
	}
	start := time.Now()
	if _, err := c.Run(t.Context()); err == nil {
		t.Fatal("a crowd whose downloads fail reported no error")
	}
	if time.Since(start) > 4*time.Second {
		t.Error("the crowd ran its traffic time out despite the failure")
	}
}

var errTest = &testError{}

type testError struct{}

func (*testError) Error() string { return "INJECTED_FAILURE" }

// TestFactorPQ: the proof of work of a key exchange, on Telegram's example
// from mtproto/auth_key and on products of random 31-bit primes.
func TestFactorPQ(t *testing.T) {
	p, q, err := factorPQ(0x17ED48941A08F981)
	if err != nil || p != 0x494C553B || q != 0x53911073 {
		t.Errorf("factorPQ(0x17ED48941A08F981) = %#x, %#x, %v", p, q, err)
	}
	for i := range 50 {
		a := randomPrime(t, 31, int64(i))
		b := randomPrime(t, 31, int64(i+1000))
		if a == b {
			continue
		}
		p, q, err := factorPQ(a * b)
		if err != nil || p != min(a, b) || q != max(a, b) {
			t.Errorf("factorPQ(%d*%d) = %d, %d, %v", a, b, p, q, err)
		}
	}
	for _, bad := range []uint64{0, 1, 3, 1 << 63, 1000000007} {
		if _, _, err := factorPQ(bad); err == nil {
			t.Errorf("factorPQ(%d) found factors", bad)
		}
	}
}

func randomPrime(t *testing.T, bits int, seed int64) uint64 {
	t.Helper()
	n := new(big.Int).SetInt64(seed*7919 + 1<<(bits-1))
	for !n.ProbablyPrime(0) {
		n.Add(n, big.NewInt(1))
	}
	return n.Uint64()
}

// FuzzFactorPQ: whatever pq a server sends, factorPQ ends quickly and
// either refuses it or returns two factors of it.
func FuzzFactorPQ(f *testing.F) {
	f.Add(uint64(0x17ED48941A08F981))
	f.Add(uint64(1000000007))
	f.Add(uint64(1<<62 + 1))
	f.Fuzz(func(t *testing.T, pq uint64) {
		p, q, err := factorPQ(pq)
		if err == nil && (p <= 1 || p > q || p*q != pq) {
			t.Fatalf("factorPQ(%d) = %d, %d", pq, p, q)
		}
	})
}
