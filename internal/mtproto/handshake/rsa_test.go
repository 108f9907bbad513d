package handshake

import (
	"crypto/rsa"
	"errors"

	"crypto/rand"
	"crypto/sha1"
	"github.com/gotd/td/bin"
	"math/big"
	"testing"

	"github.com/gotd/td/crypto"
	"github.com/gotd/td/mt"
)

// innerVariants build each p_q_inner_data constructor from the right values.
var innerVariants = map[string]func(*mt.PQInnerDataDC) mt.PQInnerDataClass{
	"p_q_inner_data": func(d *mt.PQInnerDataDC) mt.PQInnerDataClass {
		return &mt.PQInnerData{Pq: d.Pq, P: d.P, Q: d.Q, Nonce: d.Nonce, ServerNonce: d.ServerNonce, NewNonce: d.NewNonce}
	},
	"p_q_inner_data_dc": func(d *mt.PQInnerDataDC) mt.PQInnerDataClass { return d },
	"p_q_inner_data_temp_dc": func(d *mt.PQInnerDataDC) mt.PQInnerDataClass {
		return &mt.PQInnerDataTempDC{Pq: d.Pq, P: d.P, Q: d.Q, Nonce: d.Nonce, ServerNonce: d.ServerNonce,
			NewNonce: d.NewNonce, DC: d.DC, ExpiresIn: 3600}
	},
}

// Rule S2: every inner data variant completes the exchange under both RSA
// schemes, and the result says which scheme the client used.
func TestS2_BothRSASchemesForEveryInnerData(t *testing.T) {
	s := &Server{Key: serverKey(t), DC: 2}
	for _, scheme := range []Scheme{SchemeRSAPad, SchemeHashed} {
		for name, variant := range innerVariants {
			t.Run(scheme.String()+"/"+name, func(t *testing.T) {
				m := newManual(t, s)
				err := m.reqDHWith(scheme, func(_ *mt.ReqDHParamsRequest, d *mt.PQInnerDataDC) mt.PQInnerDataClass {
					return variant(d)
				})
				if err != nil {
					t.Fatal(err)
				}
				_, res, key, err := m.clientDH(nil, 0)
				if err != nil || res == nil {
					t.Fatalf("set_client_DH_params: %v", err)
				}
				if res.Key.Value != key || res.Scheme != scheme {
					t.Fatalf("key matches: %v, scheme %v, want %v", res.Key.Value == key, res.Scheme, scheme)
				}
				wantExpires := 0
				if name == "p_q_inner_data_temp_dc" {
					wantExpires = 3600
				}
				if res.ExpiresIn != wantExpires {
					t.Fatalf("expires_in %d, want %d", res.ExpiresIn, wantExpires)
				}
			})
		}
	}
}

// Rule S2: a block that is valid under neither scheme is refused with -404:
// a hashed block whose SHA-1 does not cover the data, one whose SHA-1
// covers more than the data, an RSA_PAD block with a flipped byte, and a
// ciphertext not below the modulus.
func TestS2_RSABlocksValidUnderNeitherSchemeAreRefused(t *testing.T) {
	s := &Server{Key: serverKey(t), DC: 2}
	pub := &s.Key.PublicKey
	hashed := func(edit func(block []byte, n int)) func(*mt.ReqDHParamsRequest, []byte) {
		return func(r *mt.ReqDHParamsRequest, data []byte) {
			block := make([]byte, 255)
			rand.Read(block)
			h := sha1.Sum(data)
			copy(block, h[:])
			copy(block[20:], data)
			edit(block, len(data))
			enc := make([]byte, 256)
			new(big.Int).Exp(new(big.Int).SetBytes(block), big.NewInt(int64(pub.E)), pub.N).FillBytes(enc)
			r.EncryptedData = enc
		}
	}
	cases := map[string]func(*mt.ReqDHParamsRequest, []byte){
		"hashed, wrong sha1": hashed(func(b []byte, _ int) { b[3] ^= 1 }),
		"hashed, sha1 over data and padding": hashed(func(b []byte, n int) {
			h := sha1.Sum(b[20 : 20+n+4])
			copy(b, h[:])
		}),
		"rsa_pad, flipped byte": func(r *mt.ReqDHParamsRequest, data []byte) {
			enc, err := crypto.RSAPad(data, pub, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			// Flip a bit of the plaintext through RSA's malleability: c * 2^e.
			c := new(big.Int).SetBytes(enc)
			c.Mul(c, new(big.Int).Exp(big.NewInt(2), big.NewInt(int64(pub.E)), pub.N)).Mod(c, pub.N)
			c.FillBytes(enc)
			r.EncryptedData = enc
		},
		"not below the modulus": func(r *mt.ReqDHParamsRequest, _ []byte) {
			r.EncryptedData = make([]byte, 256)
			for i := range r.EncryptedData {
				r.EncryptedData[i] = 0xff
			}
		},
		"longer than a block": func(r *mt.ReqDHParamsRequest, _ []byte) { r.EncryptedData = make([]byte, 257) },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			m := newManual(t, s)
			p, q := m.pq()
			inner := mt.PQInnerData{Pq: m.res.Pq, P: p.Bytes(), Q: q.Bytes(), Nonce: m.nonce, ServerNonce: m.res.ServerNonce}
			var b = encode(t, &inner)
			req := mt.ReqDHParamsRequest{Nonce: m.nonce, ServerNonce: m.res.ServerNonce, P: p.Bytes(), Q: q.Bytes(),
				PublicKeyFingerprint: crypto.RSAFingerprint(pub)}
			edit(&req, b)
			_, _, err := m.send(&req)
			wantCode(t, err, -404)
		})
	}
}

func encode(t testing.TB, e interface{ Encode(*bin.Buffer) error }) []byte {
	var b bin.Buffer
	if err := e.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Buf
}

// FuzzInnerData reaches past RSA, which FuzzExchange's random bytes never
// do: it runs a real req_pq_multi, encodes one of the three inner data
// variants with the right values, changes its bytes by the fuzzer's mask
// and length, and encrypts the result under either scheme. The exchange
// must answer or fail with a handshake error, never panic; an unchanged
// inner data must be accepted.
func FuzzInnerData(f *testing.F) {
	for scheme := range 2 {
		for variant := range 3 {
			f.Add(byte(scheme), byte(variant), []byte{}, int8(0))
			f.Add(byte(scheme), byte(variant), []byte{0, 0, 0, 0, 1}, int8(0))
			f.Add(byte(scheme), byte(variant), []byte{}, int8(-8))
			f.Add(byte(scheme), byte(variant), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff}, int8(4))
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	s := &Server{Key: key, DC: 2}
	names := []string{"p_q_inner_data", "p_q_inner_data_dc", "p_q_inner_data_temp_dc"}
	f.Fuzz(func(t *testing.T, schemeSel, variantSel byte, mask []byte, grow int8) {
		scheme := []Scheme{SchemeRSAPad, SchemeHashed}[schemeSel%2]
		m := newManual(t, s)
		p, q := m.pq()
		rand.Read(m.newNonce[:])
		dc := mt.PQInnerDataDC{Pq: m.res.Pq, P: p.Bytes(), Q: q.Bytes(), Nonce: m.nonce,
			ServerNonce: m.res.ServerNonce, NewNonce: m.newNonce, DC: 2}
		data := encode(t, innerVariants[names[int(variantSel)%3]](&dc))
		for i, v := range mask {
			data[i%len(data)] ^= v
		}
		if n := len(data) + int(grow); n >= 0 && n < len(data) {
			data = data[:n]
		} else if n > len(data) {
			data = append(data, make([]byte, n-len(data))...)
		}
		limit := 144 // RSA_PAD's
		if scheme == SchemeHashed {
			limit = 235
		}
		if len(data) > limit {
			data = data[:limit]
		}
		req := mt.ReqDHParamsRequest{Nonce: m.nonce, ServerNonce: m.res.ServerNonce, P: p.Bytes(), Q: q.Bytes(),
			PublicKeyFingerprint: crypto.RSAFingerprint(&key.PublicKey), EncryptedData: encryptInner(t, scheme, data, &key.PublicKey)}
		ans, _, err := m.send(&req)
		if err != nil {
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("failed without a handshake error: %v", err)
			}
			// Bytes added after the inner data are padding under RSA_PAD;
			// under the hashed scheme SHA-1 covered them, so the hash of
			// the inner data's own bytes cannot match.
			if len(mask) == 0 && (grow == 0 || grow > 0 && scheme == SchemeRSAPad) {
				t.Fatalf("valid inner data refused: %v", err)
			}
			return
		}
		if _, ok := ans.(*mt.ServerDHParamsOk); !ok {
			t.Fatalf("answer %T", ans)
		}
	})
}
