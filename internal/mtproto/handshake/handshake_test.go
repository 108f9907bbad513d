package handshake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
	"github.com/gotd/td/exchange"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/proto"
	"github.com/gotd/td/transport"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func serverKey(t *testing.T) *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	})
	return testKey
}

// serveExchange answers unencrypted messages on conn until the exchange ends.
func serveExchange(ctx context.Context, conn transport.Conn, x *Exchange) (*Result, error) {
	ids := proto.NewMessageIDGen(time.Now)
	for {
		var b bin.Buffer
		if err := conn.Recv(ctx, &b); err != nil {
			return nil, err
		}
		var msg proto.UnencryptedMessage
		if err := msg.Decode(&b); err != nil {
			return nil, err
		}
		answer, res, err := x.Handle(msg.MessageData)
		if err != nil {
			return nil, err
		}
		var body, out bin.Buffer
		if err := answer.Encode(&body); err != nil {
			return nil, err
		}
		reply := proto.UnencryptedMessage{MessageID: ids.New(proto.MessageServerResponse), MessageData: body.Buf}
		if err := reply.Encode(&out); err != nil {
			return nil, err
		}
		if err := conn.Send(ctx, &out); err != nil {
			return nil, err
		}
		if res != nil {
			return res, nil
		}
	}
}

// gotdExchange runs gotd's client exchange against a server exchange.
func gotdExchange(t *testing.T, s *Server, dc int, tempFor int) (exchange.ClientExchangeResult, *Result, error, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, server := transport.Intermediate.Pipe()
	defer client.Close()
	defer server.Close()
	type out struct {
		res *Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := serveExchange(ctx, server, s.New())
		server.Close()
		done <- out{res, err}
	}()
	ex := exchange.NewExchanger(client, dc)
	if tempFor > 0 {
		ex = ex.WithTempMode(tempFor)
	}
	cres, cerr := ex.Client([]exchange.PublicKey{{RSA: &s.Key.PublicKey}}).Run(ctx)
	client.Close()
	o := <-done
	return cres, o.res, cerr, o.err
}

func TestS2_GotdClientCompletesExchange(t *testing.T) {
	s := &Server{Key: serverKey(t), DC: 2}
	for _, tc := range []struct {
		name string
		dc   int
		temp int
	}{
		{"permanent", 2, 0},
		{"media-only", -2, 0},
		{"test-mode", 10002, 0},
		{"temporary", 2, 3600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cres, sres, cerr, serr := gotdExchange(t, s, tc.dc, tc.temp)
			if cerr != nil || serr != nil {
				t.Fatalf("client: %v; server: %v", cerr, serr)
			}
			if cres.AuthKey.Value != sres.Key.Value || cres.AuthKey.ID != sres.Key.ID {
				t.Fatal("client and server derived different keys")
			}
			if cres.ServerSalt != sres.ServerSalt {
				t.Fatalf("salt %d vs %d", cres.ServerSalt, sres.ServerSalt)
			}
			if sres.DC != tc.dc || sres.ExpiresIn != tc.temp {
				t.Fatalf("result dc %d expires %d, want %d %d", sres.DC, sres.ExpiresIn, tc.dc, tc.temp)
			}
		})
	}
}

func TestS2_WrongDC(t *testing.T) {
	s := &Server{Key: serverKey(t), DC: 2}
	_, _, cerr, serr := gotdExchange(t, s, 3, 0)
	var he *Error
	if !errors.As(serr, &he) || he.Code != -444 {
		t.Fatalf("server: %v, want -444", serr)
	}
	if cerr == nil {
		t.Fatal("the client finished an exchange for the wrong DC")
	}
}

func TestS2_FreshPQAndNoncePerExchange(t *testing.T) {
	s := &Server{Key: serverKey(t), DC: 2}
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		var b bin.Buffer
		(&mt.ReqPqMultiRequest{Nonce: bin.Int128{byte(i)}}).Encode(&b)
		ans, _, err := s.New().Handle(b.Buf)
		if err != nil {
			t.Fatal(err)
		}
		res := ans.(*mt.ResPQ)
		pq := new(big.Int).SetBytes(res.Pq)
		if pq.BitLen() > 63 || seen[pq.String()] {
			t.Fatalf("pq %s repeated or too large", pq)
		}
		seen[pq.String()] = true
		if res.Nonce != (bin.Int128{byte(i)}) {
			t.Fatal("nonce not echoed")
		}
	}
}

// manual is a hand-rolled client that can send what gotd never would.
type manual struct {
	t        *testing.T
	x        *Exchange
	key      *rsa.PrivateKey
	nonce    bin.Int128
	newNonce bin.Int256
	res      *mt.ResPQ
	inner    mt.ServerDHInnerData
	aesKey   []byte
	aesIV    []byte
}

func (m *manual) send(e bin.Encoder) (bin.Encoder, *Result, error) {
	var b bin.Buffer
	if err := e.Encode(&b); err != nil {
		m.t.Fatal(err)
	}
	return m.x.Handle(b.Buf)
}

func (m *manual) reqPQ() {
	rand.Read(m.nonce[:])
	ans, _, err := m.send(&mt.ReqPqMultiRequest{Nonce: m.nonce})
	if err != nil {
		m.t.Fatal(err)
	}
	m.res = ans.(*mt.ResPQ)
}

func (m *manual) pq() (p, q *big.Int) {
	pq := new(big.Int).SetBytes(m.res.Pq)
	p, q, err := crypto.DecomposePQ(pq, rand.Reader)
	if err != nil {
		m.t.Fatal(err)
	}
	return p, q
}

// reqDH sends req_DH_params with p_q_inner_data_dc under RSA_PAD, letting
// edit change the request first.
func (m *manual) reqDH(edit func(*mt.ReqDHParamsRequest, *mt.PQInnerDataDC)) error {
	return m.reqDHWith(SchemeRSAPad, func(r *mt.ReqDHParamsRequest, i *mt.PQInnerDataDC) mt.PQInnerDataClass {
		if edit != nil {
			edit(r, i)
		}
		return i
	})
}

// reqDHWith sends req_DH_params whose inner data build chooses (from a
// p_q_inner_data_dc with the right values), encrypted with scheme.
func (m *manual) reqDHWith(scheme Scheme, build func(*mt.ReqDHParamsRequest, *mt.PQInnerDataDC) mt.PQInnerDataClass) error {
	p, q := m.pq()
	rand.Read(m.newNonce[:])
	dc := mt.PQInnerDataDC{Pq: m.res.Pq, P: p.Bytes(), Q: q.Bytes(), Nonce: m.nonce,
		ServerNonce: m.res.ServerNonce, NewNonce: m.newNonce, DC: 2}
	req := mt.ReqDHParamsRequest{Nonce: m.nonce, ServerNonce: m.res.ServerNonce, P: p.Bytes(), Q: q.Bytes(),
		PublicKeyFingerprint: crypto.RSAFingerprint(&m.key.PublicKey)}
	inner := build(&req, &dc)
	var b bin.Buffer
	inner.Encode(&b)
	req.EncryptedData = encryptInner(m.t, scheme, b.Buf, &m.key.PublicKey)
	ans, _, err := m.send(&req)
	if err != nil {
		return err
	}
	ok := ans.(*mt.ServerDHParamsOk)
	m.aesKey, m.aesIV = crypto.TempAESKeys(m.newNonce.BigInt(), m.res.ServerNonce.BigInt())
	plain, err := crypto.DecryptExchangeAnswer(ok.EncryptedAnswer, m.aesKey, m.aesIV)
	if err != nil {
		m.t.Fatal(err)
	}
	if err := m.inner.Decode(&bin.Buffer{Buf: plain}); err != nil {
		m.t.Fatal(err)
	}
	return nil
}

// encryptInner encrypts inner data as a client does under scheme.
func encryptInner(t testing.TB, scheme Scheme, data []byte, pub *rsa.PublicKey) []byte {
	var enc []byte
	var err error
	switch scheme {
	case SchemeRSAPad:
		enc, err = crypto.RSAPad(data, pub, rand.Reader)
	case SchemeHashed:
		enc, err = crypto.RSAEncryptHashed(data, pub, rand.Reader)
	default:
		t.Fatalf("scheme %d", scheme)
	}
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// clientDH sends set_client_DH_params with g_b, and returns the answer and the key.
func (m *manual) clientDH(gB *big.Int, retryID int64) (bin.Encoder, *Result, crypto.Key, error) {
	b, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 2048))
	prime := new(big.Int).SetBytes(m.inner.DhPrime)
	if gB == nil {
		gB = new(big.Int).Exp(big.NewInt(int64(m.inner.G)), b, prime)
	}
	var key crypto.Key
	crypto.FillBytes(new(big.Int).Exp(new(big.Int).SetBytes(m.inner.GA), b, prime), key[:])
	inner := mt.ClientDHInnerData{Nonce: m.nonce, ServerNonce: m.res.ServerNonce, RetryID: retryID, GB: gB.Bytes()}
	var buf bin.Buffer
	inner.Encode(&buf)
	enc, err := crypto.EncryptExchangeAnswer(rand.Reader, buf.Buf, m.aesKey, m.aesIV)
	if err != nil {
		m.t.Fatal(err)
	}
	ans, res, err := m.send(&mt.SetClientDHParamsRequest{Nonce: m.nonce, ServerNonce: m.res.ServerNonce, EncryptedData: enc})
	return ans, res, key, err
}

func newManual(t *testing.T, s *Server) *manual {
	m := &manual{t: t, x: s.New(), key: s.Key}
	m.reqPQ()
	return m
}

func wantCode(t *testing.T, err error, code int32) {
	t.Helper()
	var he *Error
	if !errors.As(err, &he) || he.Code != code {
		t.Fatalf("got %v, want a handshake error with code %d", err, code)
	}
}

func TestS2_ChecksNoncesPQAndFingerprint(t *testing.T) {
	s := &Server{Key: serverKey(t), DC: 2}
	edits := map[string]func(*mt.ReqDHParamsRequest, *mt.PQInnerDataDC){
		"outer nonce":        func(r *mt.ReqDHParamsRequest, _ *mt.PQInnerDataDC) { r.Nonce[0]++ },
		"outer server nonce": func(r *mt.ReqDHParamsRequest, _ *mt.PQInnerDataDC) { r.ServerNonce[0]++ },
		"inner nonce":        func(_ *mt.ReqDHParamsRequest, i *mt.PQInnerDataDC) { i.Nonce[0]++ },
		"inner server nonce": func(_ *mt.ReqDHParamsRequest, i *mt.PQInnerDataDC) { i.ServerNonce[0]++ },
		"p and q swapped":    func(r *mt.ReqDHParamsRequest, _ *mt.PQInnerDataDC) { r.P, r.Q = r.Q, r.P },
		"inner p":            func(_ *mt.ReqDHParamsRequest, i *mt.PQInnerDataDC) { i.P = []byte{3} },
		"fingerprint":        func(r *mt.ReqDHParamsRequest, _ *mt.PQInnerDataDC) { r.PublicKeyFingerprint++ },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			wantCode(t, newManual(t, s).reqDH(edit), -404)
		})
	}
	t.Run("valid", func(t *testing.T) {
		if err := newManual(t, s).reqDH(nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestS2_ChecksGB(t *testing.T) {
	s := &Server{Key: serverKey(t), DC: 2}
	prime := new(big.Int).Set(dhPrime)
	for name, gB := range map[string]*big.Int{
		"one":             big.NewInt(1),
		"two":             big.NewInt(2),
		"prime minus one": new(big.Int).Sub(prime, big.NewInt(1)),
		"below 2^1984":    new(big.Int).Lsh(big.NewInt(1), 1900),
		"above p-2^1984":  new(big.Int).Sub(prime, new(big.Int).Lsh(big.NewInt(1), 1900)),
	} {
		t.Run(name, func(t *testing.T) {
			m := newManual(t, s)
			if err := m.reqDH(nil); err != nil {
				t.Fatal(err)
			}
			_, _, _, err := m.clientDH(gB, 0)
			wantCode(t, err, -404)
		})
	}
}

func TestS2_RetryWhenKeyIDTaken(t *testing.T) {
	taken := 1
	s := &Server{Key: serverKey(t), DC: 2, KeyExists: func([8]byte) bool { taken--; return taken >= 0 }}
	m := newManual(t, s)
	if err := m.reqDH(nil); err != nil {
		t.Fatal(err)
	}
	ans, res, key, err := m.clientDH(nil, 0)
	if err != nil || res != nil {
		t.Fatalf("first attempt: %v %v", res, err)
	}
	retry, ok := ans.(*mt.DhGenRetry)
	aux := key.AuxHash()
	if !ok || retry.NewNonceHash2 != nonceHash(m.newNonce, 2, aux) {
		t.Fatalf("answer %T, want dh_gen_retry with new_nonce_hash2", ans)
	}
	// The retry must name the rejected attempt.
	_, _, _, err = m.clientDH(nil, 0)
	wantCode(t, err, -404)
	ans, res, key, err = m.clientDH(nil, int64(leUint64(aux[:])))
	if err != nil || res == nil {
		t.Fatalf("retry: %v", err)
	}
	okAns := ans.(*mt.DhGenOk)
	if res.Key.Value != key || okAns.NewNonceHash1 != crypto.NonceHash1(m.newNonce, key) {
		t.Fatal("retry produced a different key or a wrong new_nonce_hash1")
	}
	if _, _, err := m.send(&mt.ReqPqMultiRequest{Nonce: m.nonce}); err == nil {
		t.Fatal("a finished exchange accepted another message")
	}
}

// FuzzExchange throws arbitrary messages at an exchange: it must answer or
// fail, never panic.
func FuzzExchange(f *testing.F) {
	var b bin.Buffer
	(&mt.ReqPqMultiRequest{}).Encode(&b)
	f.Add(b.Buf, []byte{0xbe, 0xe4, 0x12, 0xd7, 1, 2, 3})
	b.Reset()
	(&mt.ReqDHParamsRequest{P: []byte{1}, Q: []byte{2}, EncryptedData: make([]byte, 256)}).Encode(&b)
	f.Add(b.Buf, b.Buf)
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	s := &Server{Key: key, DC: 2}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		x := s.New()
		if _, _, err := x.Handle(first); err != nil {
			return
		}
		x.Handle(second)
	})
}
