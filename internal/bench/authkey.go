package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"net"
	"sync"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/proto"
	"github.com/gotd/td/session"
	"github.com/gotd/td/transport"
)

// KeyMaker creates auth keys as a client does (mtproto/auth_key), over its
// own connection each, for a crowd of clients. It does what gotd's
// exchange does but the two things that make gotd's cost half a second of
// CPU a key: it factors pq with 64-bit arithmetic instead of big.Int, and
// it checks that dh_prime is a safe prime once per prime rather than once
// per key, as TDLib does. The server does all its usual work.
type KeyMaker struct {
	Addr string // the DC's HOST:PORT
	DC   int
	Key  *rsa.PublicKey

	mu     sync.Mutex
	primes map[string]bool // dh_prime bytes checked safe
}

// Make runs one key exchange on a new connection and returns the session
// a gotd client starts from.
func (k *KeyMaker) Make(ctx context.Context) (*session.Data, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", k.Addr)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Now()) })
	defer stop()
	conn, err := transport.Intermediate.Handshake(raw)
	if err != nil {
		return nil, err
	}
	x := plainConn{conn: conn}

	nonce, err := crypto.RandInt128(rand.Reader)
	if err != nil {
		return nil, err
	}
	var res mt.ResPQ
	if err := x.call(ctx, &mt.ReqPqMultiRequest{Nonce: nonce}, &res); err != nil {
		return nil, fmt.Errorf("req_pq_multi: %w", err)
	}
	if res.Nonce != nonce {
		return nil, errors.New("resPQ: nonce mismatch")
	}
	fingerprint := crypto.RSAFingerprint(k.Key)
	if !containsInt64(res.ServerPublicKeyFingerprints, fingerprint) {
		return nil, errors.New("resPQ: the server does not list our key")
	}
	if len(res.Pq) > 8 {
		return nil, errors.New("resPQ: pq over 64 bits")
	}
	p, q, err := factorPQ(new(big.Int).SetBytes(res.Pq).Uint64())
	if err != nil {
		return nil, err
	}
	newNonce, err := crypto.RandInt256(rand.Reader)
	if err != nil {
		return nil, err
	}
	pb, qb := big.NewInt(0).SetUint64(p).Bytes(), big.NewInt(0).SetUint64(q).Bytes()
	var inner bin.Buffer
	if err := (&mt.PQInnerDataDC{Pq: res.Pq, P: pb, Q: qb, Nonce: nonce, ServerNonce: res.ServerNonce, NewNonce: newNonce, DC: k.DC}).Encode(&inner); err != nil {
		return nil, err
	}
	encrypted, err := crypto.RSAPad(inner.Buf, k.Key, rand.Reader)
	if err != nil {
		return nil, err
	}
	answer, err := x.callRaw(ctx, &mt.ReqDHParamsRequest{Nonce: nonce, ServerNonce: res.ServerNonce, P: pb, Q: qb, PublicKeyFingerprint: fingerprint, EncryptedData: encrypted})
	if err != nil {
		return nil, fmt.Errorf("req_DH_params: %w", err)
	}
	params, err := mt.DecodeServerDHParams(answer)
	if err != nil {
		return nil, fmt.Errorf("server_DH_params: %w", err)
	}
	ok, isOK := params.(*mt.ServerDHParamsOk)
	if !isOK || ok.Nonce != nonce || ok.ServerNonce != res.ServerNonce {
		return nil, fmt.Errorf("server_DH_params: %T, or a nonce mismatch", params)
	}
	aesKey, iv := crypto.TempAESKeys(newNonce.BigInt(), res.ServerNonce.BigInt())
	plain, err := crypto.DecryptExchangeAnswer(ok.EncryptedAnswer, aesKey, iv)
	if err != nil {
		return nil, err
	}
	var dh mt.ServerDHInnerData
	if err := dh.Decode(&bin.Buffer{Buf: plain}); err != nil {
		return nil, err
	}
	if dh.Nonce != nonce || dh.ServerNonce != res.ServerNonce {
		return nil, errors.New("server_DH_inner_data: nonce mismatch")
	}
	prime := new(big.Int).SetBytes(dh.DhPrime)
	if err := k.checkPrime(dh.G, prime, dh.DhPrime); err != nil {
		return nil, err
	}
	g, gA := big.NewInt(int64(dh.G)), new(big.Int).SetBytes(dh.GA)
	b, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), crypto.RSAKeyBits))
	if err != nil {
		return nil, err
	}
	gB := new(big.Int).Exp(g, b, prime)
	if err := crypto.CheckDHParams(prime, g, gA, gB); err != nil {
		return nil, err
	}
	var clientInner bin.Buffer
	if err := (&mt.ClientDHInnerData{Nonce: nonce, ServerNonce: res.ServerNonce, GB: gB.Bytes()}).Encode(&clientInner); err != nil {
		return nil, err
	}
	sealed, err := crypto.EncryptExchangeAnswer(rand.Reader, clientInner.Buf, aesKey, iv)
	if err != nil {
		return nil, err
	}
	answer, err = x.callRaw(ctx, &mt.SetClientDHParamsRequest{Nonce: nonce, ServerNonce: res.ServerNonce, EncryptedData: sealed})
	if err != nil {
		return nil, fmt.Errorf("set_client_DH_params: %w", err)
	}
	gen, err := mt.DecodeSetClientDHParamsAnswer(answer)
	if err != nil {
		return nil, err
	}
	done, isDone := gen.(*mt.DhGenOk)
	if !isDone || done.Nonce != nonce || done.ServerNonce != res.ServerNonce {
		return nil, fmt.Errorf("set_client_DH_params answered %T, or a nonce mismatch", gen)
	}
	var key crypto.Key
	new(big.Int).Exp(gA, b, prime).FillBytes(key[:])
	if crypto.NonceHash1(newNonce, key) != done.NewNonceHash1 {
		return nil, errors.New("dh_gen_ok: new_nonce_hash1 mismatch")
	}
	id := key.ID()
	return &session.Data{
		DC: k.DC, Addr: k.Addr, AuthKey: key[:], AuthKeyID: id[:],
		Salt: crypto.ServerSalt(newNonce, res.ServerNonce),
	}, nil
}

// checkPrime checks g and dh_prime as the protocol asks, the costly
// primality tests once per prime.
func (k *KeyMaker) checkPrime(g int, p *big.Int, raw []byte) error {
	k.mu.Lock()
	known := k.primes[string(raw)]
	k.mu.Unlock()
	if known {
		return crypto.CheckGP(g, p)
	}
	if err := crypto.CheckDH(g, p); err != nil {
		return fmt.Errorf("dh_prime: %w", err)
	}
	k.mu.Lock()
	if k.primes == nil {
		k.primes = make(map[string]bool)
	}
	k.primes[string(raw)] = true
	k.mu.Unlock()
	return nil
}

// plainConn sends and receives the unencrypted messages of a key exchange.
type plainConn struct {
	conn transport.Conn
	buf  bin.Buffer
}

func (c *plainConn) callRaw(ctx context.Context, req bin.Encoder) (*bin.Buffer, error) {
	c.buf.Reset()
	if err := req.Encode(&c.buf); err != nil {
		return nil, err
	}
	msg := proto.UnencryptedMessage{
		MessageID:   int64(proto.NewMessageID(time.Now(), proto.MessageFromClient)),
		MessageData: bytes.Clone(c.buf.Buf),
	}
	c.buf.Reset()
	if err := msg.Encode(&c.buf); err != nil {
		return nil, err
	}
	if err := c.conn.Send(ctx, &c.buf); err != nil {
		return nil, err
	}
	c.buf.Reset()
	if err := c.conn.Recv(ctx, &c.buf); err != nil {
		return nil, err
	}
	var answer proto.UnencryptedMessage
	if err := answer.Decode(&c.buf); err != nil {
		return nil, err
	}
	return &bin.Buffer{Buf: answer.MessageData}, nil
}

func (c *plainConn) call(ctx context.Context, req bin.Encoder, out bin.Decoder) error {
	b, err := c.callRaw(ctx, req)
	if err != nil {
		return err
	}
	return out.Decode(b)
}

func containsInt64(list []int64, v int64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// factorPQ splits pq into its two prime factors, p < q, with Pollard's rho
// over 64-bit integers: the client's proof of work in a few milliseconds.
func factorPQ(pq uint64) (p, q uint64, err error) {
	if pq < 4 || pq >= 1<<63 {
		return 0, 0, fmt.Errorf("pq %d out of range", pq)
	}
	if pq%2 == 0 {
		return 2, pq / 2, nil
	}
	// A prime has no factor to find; any other pq below 2^63 has one below
	// 2^31.5, which the walk finds in about 2^16 steps, so a cap of 2^22
	// steps per try bounds what a hostile pq can cost.
	if new(big.Int).SetUint64(pq).ProbablyPrime(0) {
		return 0, 0, fmt.Errorf("pq %d is prime", pq)
	}
	mulMod := func(a, b uint64) uint64 {
		hi, lo := bits.Mul64(a, b)
		_, r := bits.Div64(hi, lo, pq) // hi < pq since a, b < pq
		return r
	}
	for c := uint64(1); c < 8; c++ {
		step := func(v uint64) uint64 {
			v = mulMod(v, v) + c
			if v >= pq {
				v -= pq
			}
			return v
		}
		x, y, d := uint64(2), uint64(2), uint64(1)
		for walked := 0; d == 1 && walked < 1<<22; walked += 128 {
			// The differences of a batch are multiplied together and one
			// gcd checks them all; a batch that overshoots is walked again.
			x0, y0 := x, y
			acc := uint64(1)
			for range 128 {
				x, y = step(x), step(step(y))
				acc = mulMod(acc, absDiff(x, y))
			}
			if d = gcd(acc, pq); d == pq {
				x, y, d = x0, y0, 1
				for d == 1 {
					x, y = step(x), step(step(y))
					d = gcd(absDiff(x, y), pq)
				}
			}
		}
		if d != 1 && d != pq {
			p, q = d, pq/d
			if p > q {
				p, q = q, p
			}
			return p, q, nil
		}
	}
	return 0, 0, fmt.Errorf("pq %d: no factor found", pq)
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
