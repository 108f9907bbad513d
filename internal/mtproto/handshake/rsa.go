package handshake

import (
	"bytes"
	"crypto/aes"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"math/big"

	"github.com/go-faster/xor"
	"github.com/gotd/ige"
	"github.com/gotd/td/bin"
	"github.com/gotd/td/mt"
)

// Scheme is how a client encrypted its p_q_inner_data for req_DH_params.
type Scheme int

const (
	// SchemeRSAPad is RSA_PAD, the scheme Telegram documents today (gotd,
	// GramJS, TDLib).
	SchemeRSAPad Scheme = iota + 1
	// SchemeHashed is the scheme before it, RSA(SHA1(data) + data +
	// padding to 255 bytes), which Telethon and Pyrogram still send.
	SchemeHashed
)

func (s Scheme) String() string {
	switch s {
	case SchemeRSAPad:
		return "RSA_PAD"
	case SchemeHashed:
		return "SHA1+data"
	}
	return "unknown"
}

// RSA_PAD layout (mtproto/auth_key): temp_key_xor (32) then
// aes_encrypted (224) = AES-IGE(reversed data_with_padding (192) + SHA256).
const (
	rsaBlock        = 256
	padTempKey      = 32
	padDataLen      = 192
	hashedBlock     = 255 // SHA1 (20) + data + padding
	hashedHeaderLen = sha1.Size
)

var errInnerData = errors.New("encrypted_data decodes under neither RSA scheme")

// decryptInner decrypts encrypted_data once with the server's key and
// decodes it under either scheme: RSA_PAD when its SHA-256 matches, else the
// hashed scheme when the block fits 255 bytes and SHA-1 of exactly the
// inner data's bytes matches. A block valid under neither is refused.
func decryptInner(enc []byte, key *rsa.PrivateKey) (mt.PQInnerDataClass, Scheme, error) {
	if len(enc) == 0 || len(enc) > rsaBlock {
		return nil, 0, errors.New("encrypted_data is not one RSA block")
	}
	c := new(big.Int).SetBytes(enc)
	if c.Cmp(key.N) >= 0 {
		return nil, 0, errors.New("encrypted_data is not below the modulus")
	}
	var block [rsaBlock]byte
	rsaDecryptRaw(c, key).FillBytes(block[:])
	if inner, err := decodeRSAPad(block[:]); err == nil {
		return inner, SchemeRSAPad, nil
	}
	if block[0] == 0 {
		if inner, err := decodeHashed(block[1:]); err == nil {
			return inner, SchemeHashed, nil
		}
	}
	return nil, 0, errInnerData
}

// rsaDecryptRaw is textbook RSA decryption, with the CRT when the key has
// its precomputed values (about 3 times faster than c^d mod n).
func rsaDecryptRaw(c *big.Int, key *rsa.PrivateKey) *big.Int {
	pc := key.Precomputed
	if len(key.Primes) != 2 || pc.Dp == nil || pc.Dq == nil || pc.Qinv == nil {
		return new(big.Int).Exp(c, key.D, key.N)
	}
	p, q := key.Primes[0], key.Primes[1]
	m1 := new(big.Int).Exp(c, pc.Dp, p)
	m2 := new(big.Int).Exp(c, pc.Dq, q)
	h := m1.Sub(m1, m2)
	h.Mul(h, pc.Qinv).Mod(h, p)
	return h.Mul(h, q).Add(h, m2)
}

func decodeRSAPad(block []byte) (mt.PQInnerDataClass, error) {
	aesEncrypted := block[padTempKey:]
	sum := sha256.Sum256(aesEncrypted)
	var tempKey [padTempKey]byte
	xor.Bytes(tempKey[:], block[:padTempKey], sum[:])
	cipher, err := aes.NewCipher(tempKey[:])
	if err != nil {
		return nil, err
	}
	var zeroIV [32]byte
	dataWithHash := make([]byte, len(aesEncrypted))
	ige.DecryptBlocks(cipher, zeroIV[:], dataWithHash, aesEncrypted)
	data, hash := dataWithHash[:padDataLen], dataWithHash[padDataLen:]
	for i, j := 0, len(data)-1; i < j; i, j = i+1, j-1 {
		data[i], data[j] = data[j], data[i]
	}
	h := sha256.New()
	h.Write(tempKey[:])
	h.Write(data)
	if !bytes.Equal(hash, h.Sum(nil)) {
		return nil, errors.New("RSA_PAD: hash mismatch")
	}
	return mt.DecodePQInnerData(&bin.Buffer{Buf: data})
}

// decodeHashed reads SHA1(data) + data + padding: the inner data's own
// encoding says where it ends, and the hash must cover exactly those bytes.
func decodeHashed(block []byte) (mt.PQInnerDataClass, error) {
	hash, rest := block[:hashedHeaderLen], block[hashedHeaderLen:]
	b := &bin.Buffer{Buf: rest}
	inner, err := mt.DecodePQInnerData(b)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(rest[:len(rest)-b.Len()])
	if !bytes.Equal(sum[:], hash) {
		return nil, errors.New("SHA1+data: hash mismatch")
	}
	return inner, nil
}
