// Package handshake is the server side of MTProto's auth key exchange
// (mtproto/auth_key): req_pq_multi, req_DH_params and set_client_DH_params,
// for permanent and temporary (PFS) keys.
//
// gotd's exchange.ServerExchange is a test fixture: a fixed pq, no check of
// nonces, p and q or g_b, no dh_gen_retry. This one checks everything a
// client sends against what this exchange issued, generates a fresh pq and a
// per-exchange secret, and retries when a new key's id is already taken.
package handshake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
	"github.com/gotd/td/mt"
)

// dhPrime is the 2048-bit safe prime Telegram's servers use, with g = 3.
var dhPrime, _ = new(big.Int).SetString(""+
	"C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F"+
	"48198A0AA7C14058229493D22530F4DBFA336F6E0AC925139543AED44CCE7C37"+
	"20FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F64"+
	"2477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4"+
	"A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754"+
	"FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4"+
	"E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F"+
	"0D8115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5B", 16)

const dhG = 3

// safetyMin is 2^(2048-64): g_a and g_b must lie in (safetyMin, dh_prime - safetyMin).
var safetyMin = new(big.Int).Lsh(big.NewInt(1), 2048-64)

// Error is a failed exchange. Code, when non-zero, is the transport error the
// connection should send before closing (-404: unknown key or bad data, -444:
// wrong DC).
type Error struct {
	Code int32
	Err  error
}

func (e *Error) Error() string { return "handshake: " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func fail(code int32, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// Server holds what every exchange of a DC shares.
type Server struct {
	Key *rsa.PrivateKey
	// DC is this data center's id. Clients may name it as DC, -DC (media-only
	// connection), DC+10000 or -(DC+10000) (test servers).
	DC int
	// KeyExists reports whether an auth key id is already in use; a new key
	// with such an id is refused with dh_gen_retry. Nil means never.
	KeyExists func(id [8]byte) bool
	Rand      io.Reader        // default crypto/rand
	Now       func() time.Time // default time.Now
}

// Fingerprint returns the fingerprint clients know the server's key by.
func (s *Server) Fingerprint() int64 {
	return crypto.RSAFingerprint(&s.Key.PublicKey)
}

// Result is a completed exchange.
type Result struct {
	Key        crypto.AuthKey
	ServerSalt int64
	// ExpiresIn is the lifetime of a temporary (PFS) key in seconds, 0 for a
	// permanent key.
	ExpiresIn int
	DC        int // as the client sent it; 0 for p_q_inner_data without dc
	// Scheme is how the client encrypted its p_q_inner_data.
	Scheme Scheme
}

// Exchange is one exchange in progress on a connection.
type Exchange struct {
	s     *Server
	state int

	nonce       bin.Int128
	serverNonce bin.Int128
	p, q        uint64
	newNonce    bin.Int256
	expiresIn   int
	dc          int
	scheme      Scheme
	a           *big.Int
	gA          *big.Int
	retryID     int64 // expected retry_id of the next set_client_DH_params
	aesKey      []byte
	aesIV       []byte
}

const (
	wantReqPQ = iota
	wantReqDH
	wantClientDH
	done
)

// New starts an exchange.
func (s *Server) New() *Exchange { return &Exchange{s: s} }

func (s *Server) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Handle takes the body of one unencrypted client message and returns the
// answer to send. When the exchange completes, it also returns the result.
func (x *Exchange) Handle(body []byte) (bin.Encoder, *Result, error) {
	if x.state == done {
		return nil, nil, &Error{Code: -404, Err: ErrDone}
	}
	b := &bin.Buffer{Buf: body}
	id, err := b.PeekID()
	if err != nil {
		return nil, nil, fail(-404, "message too short")
	}
	switch id {
	case mt.ReqPqMultiRequestTypeID, mt.ReqPqRequestTypeID:
		// A client may repeat req_pq before req_DH_params; it starts afresh.
		if x.state > wantReqDH {
			return nil, nil, fail(-404, "req_pq after req_DH_params")
		}
		return x.reqPQ(b, id)
	case mt.ReqDHParamsRequestTypeID:
		if x.state != wantReqDH {
			return nil, nil, fail(-404, "unexpected req_DH_params")
		}
		return x.reqDH(b)
	case mt.SetClientDHParamsRequestTypeID:
		if x.state != wantClientDH {
			return nil, nil, fail(-404, "unexpected set_client_DH_params")
		}
		return x.clientDH(b)
	}
	return nil, nil, fail(-404, "unexpected message %#x", id)
}

func (x *Exchange) reqPQ(b *bin.Buffer, id uint32) (bin.Encoder, *Result, error) {
	var nonce bin.Int128
	if id == mt.ReqPqMultiRequestTypeID {
		var req mt.ReqPqMultiRequest
		if err := req.Decode(b); err != nil {
			return nil, nil, fail(-404, "decode req_pq_multi: %w", err)
		}
		nonce = req.Nonce
	} else {
		var req mt.ReqPqRequest
		if err := req.Decode(b); err != nil {
			return nil, nil, fail(-404, "decode req_pq: %w", err)
		}
		nonce = req.Nonce
	}
	*x = Exchange{s: x.s, nonce: nonce, state: wantReqDH}
	if _, err := io.ReadFull(x.s.rand(), x.serverNonce[:]); err != nil {
		return nil, nil, err
	}
	// pq: the product of two distinct random 31-bit primes, below 2^63.
	for x.p == x.q {
		p, err := rand.Prime(x.s.rand(), 31)
		if err != nil {
			return nil, nil, err
		}
		q, err := rand.Prime(x.s.rand(), 31)
		if err != nil {
			return nil, nil, err
		}
		x.p, x.q = min(p.Uint64(), q.Uint64()), max(p.Uint64(), q.Uint64())
	}
	pq := new(big.Int).SetUint64(x.p * x.q)
	return &mt.ResPQ{
		Nonce:                       x.nonce,
		ServerNonce:                 x.serverNonce,
		Pq:                          pq.Bytes(),
		ServerPublicKeyFingerprints: []int64{x.s.Fingerprint()},
	}, nil, nil
}

func bytesUint(b []byte) (uint64, bool) {
	v := new(big.Int).SetBytes(b)
	return v.Uint64(), v.IsUint64()
}

func (x *Exchange) validDC(dc int) bool {
	abs := dc
	if abs < 0 {
		abs = -abs
	}
	return abs == x.s.DC || abs == x.s.DC+10000
}

func (x *Exchange) reqDH(b *bin.Buffer) (bin.Encoder, *Result, error) {
	var req mt.ReqDHParamsRequest
	if err := req.Decode(b); err != nil {
		return nil, nil, fail(-404, "decode req_DH_params: %w", err)
	}
	if req.Nonce != x.nonce || req.ServerNonce != x.serverNonce {
		return nil, nil, fail(-404, "req_DH_params: nonce mismatch")
	}
	if p, ok := bytesUint(req.P); !ok || p != x.p {
		return nil, nil, fail(-404, "req_DH_params: wrong p")
	}
	if q, ok := bytesUint(req.Q); !ok || q != x.q {
		return nil, nil, fail(-404, "req_DH_params: wrong q")
	}
	if req.PublicKeyFingerprint != x.s.Fingerprint() {
		return nil, nil, fail(-404, "req_DH_params: unknown key fingerprint %d", req.PublicKeyFingerprint)
	}
	inner, scheme, err := decryptInner(req.EncryptedData, x.s.Key)
	if err != nil {
		return nil, nil, fail(-404, "req_DH_params: %w", err)
	}
	x.scheme = scheme
	switch d := inner.(type) {
	case *mt.PQInnerDataDC:
		x.dc = d.DC
	case *mt.PQInnerDataTempDC:
		x.dc = d.DC
		if d.ExpiresIn <= 0 {
			return nil, nil, fail(-404, "temporary key with expires_in %d", d.ExpiresIn)
		}
		x.expiresIn = d.ExpiresIn
	}
	if _, plainInner := inner.(*mt.PQInnerData); !plainInner && !x.validDC(x.dc) {
		return nil, nil, fail(-444, "key for DC %d asked of DC %d", x.dc, x.s.DC)
	}
	if inner.GetNonce() != x.nonce || inner.GetServerNonce() != x.serverNonce {
		return nil, nil, fail(-404, "inner data: nonce mismatch")
	}
	p, okP := bytesUint(inner.GetP())
	q, okQ := bytesUint(inner.GetQ())
	pq, okPQ := bytesUint(inner.GetPq())
	if !okP || !okQ || !okPQ || p != x.p || q != x.q || pq != x.p*x.q {
		return nil, nil, fail(-404, "inner data: p, q or pq mismatch")
	}
	x.newNonce = inner.GetNewNonce()

	// a is this exchange's secret; g_a must fall in the safe range.
	limit := new(big.Int).Lsh(big.NewInt(1), 2048)
	upper := new(big.Int).Sub(dhPrime, safetyMin)
	for {
		a, err := rand.Int(x.s.rand(), limit)
		if err != nil {
			return nil, nil, err
		}
		gA := new(big.Int).Exp(big.NewInt(dhG), a, dhPrime)
		if crypto.InRange(gA, safetyMin, upper) {
			x.a, x.gA = a, gA
			break
		}
	}
	inner2 := mt.ServerDHInnerData{
		Nonce:       x.nonce,
		ServerNonce: x.serverNonce,
		G:           dhG,
		DhPrime:     dhPrime.Bytes(),
		GA:          x.gA.Bytes(),
		ServerTime:  int(x.s.now().Unix()),
	}
	var out bin.Buffer
	if err := inner2.Encode(&out); err != nil {
		return nil, nil, err
	}
	x.aesKey, x.aesIV = crypto.TempAESKeys(x.newNonce.BigInt(), x.serverNonce.BigInt())
	answer, err := crypto.EncryptExchangeAnswer(x.s.rand(), out.Raw(), x.aesKey, x.aesIV)
	if err != nil {
		return nil, nil, err
	}
	x.state = wantClientDH
	return &mt.ServerDHParamsOk{Nonce: x.nonce, ServerNonce: x.serverNonce, EncryptedAnswer: answer}, nil, nil
}

func (x *Exchange) clientDH(b *bin.Buffer) (bin.Encoder, *Result, error) {
	var req mt.SetClientDHParamsRequest
	if err := req.Decode(b); err != nil {
		return nil, nil, fail(-404, "decode set_client_DH_params: %w", err)
	}
	if req.Nonce != x.nonce || req.ServerNonce != x.serverNonce {
		return nil, nil, fail(-404, "set_client_DH_params: nonce mismatch")
	}
	plain, err := crypto.DecryptExchangeAnswer(req.EncryptedData, x.aesKey, x.aesIV)
	if err != nil {
		return nil, nil, fail(-404, "set_client_DH_params: %w", err)
	}
	var inner mt.ClientDHInnerData
	if err := inner.Decode(&bin.Buffer{Buf: plain}); err != nil {
		return nil, nil, fail(-404, "client_DH_inner_data: %w", err)
	}
	if inner.Nonce != x.nonce || inner.ServerNonce != x.serverNonce {
		return nil, nil, fail(-404, "client_DH_inner_data: nonce mismatch")
	}
	if inner.RetryID != x.retryID {
		return nil, nil, fail(-404, "client_DH_inner_data: retry_id %d, want %d", inner.RetryID, x.retryID)
	}
	gB := new(big.Int).SetBytes(inner.GB)
	if err := crypto.CheckDHParams(dhPrime, big.NewInt(dhG), x.gA, gB); err != nil {
		return nil, nil, fail(-404, "g_b: %w", err)
	}
	var key crypto.Key
	if !crypto.FillBytes(new(big.Int).Exp(gB, x.a, dhPrime), key[:]) {
		return nil, nil, fail(-404, "auth key too long")
	}
	aux := key.AuxHash()
	if x.s.KeyExists != nil && x.s.KeyExists(key.ID()) {
		// The client must try again with a new g_b, naming this attempt.
		x.retryID = int64(leUint64(aux[:]))
		return &mt.DhGenRetry{Nonce: x.nonce, ServerNonce: x.serverNonce,
			NewNonceHash2: nonceHash(x.newNonce, 2, aux)}, nil, nil
	}
	x.state = done
	res := &Result{
		Key:        key.WithID(),
		ServerSalt: crypto.ServerSalt(x.newNonce, x.serverNonce),
		ExpiresIn:  x.expiresIn,
		DC:         x.dc,
		Scheme:     x.scheme,
	}
	return &mt.DhGenOk{Nonce: x.nonce, ServerNonce: x.serverNonce,
		NewNonceHash1: nonceHash(x.newNonce, 1, aux)}, res, nil
}

// nonceHash is new_nonce_hash{n}: the low 128 bits of
// SHA1(new_nonce + byte(n) + auth_key_aux_hash).
func nonceHash(newNonce bin.Int256, n byte, aux [8]byte) (r bin.Int128) {
	h := sha1.New()
	h.Write(newNonce[:])
	h.Write([]byte{n})
	h.Write(aux[:])
	copy(r[:], h.Sum(nil)[4:20])
	return r
}

func leUint64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// ErrDone is returned for messages after the exchange completed.
var ErrDone = errors.New("handshake: exchange already complete")
