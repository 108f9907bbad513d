package cluster

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Grant is an exported authorization: DC From lets account User log in on
// DC To until Expires, once (Nonce names the use). It carries the account's
// public profile, so a DC that has no record of the account yet (each DC of
// the embedded default keeps its own) can create it.
type Grant struct {
	From, To  int
	User      int64
	Expires   time.Time // second precision
	Nonce     [16]byte
	Bot       bool
	Premium   bool
	AccessKey int64
	Name      string
	Username  string
	Phone     string
}

// Layout of the sealed bytes: version(1) from(1) to(1) flags(1) expires(8)
// nonce(16) user(8) access_key(8), then name, username and phone each as a
// 2-byte length and its bytes, then HMAC-SHA256 of everything before it.
const (
	grantVersion  = 1
	grantFixed    = 4 + 8 + 16 + 8 + 8
	grantMAC      = sha256.Size
	maxGrantField = 1024
	// MaxGrantSize bounds sealed grants; longer bytes are rejected unread.
	MaxGrantSize = grantFixed + 3*(2+maxGrantField) + grantMAC
)

const (
	flagBot = 1 << iota
	flagPremium
)

// ErrGrantInvalid is every reason sealed bytes are refused: forged, damaged,
// for another DC, or expired. The API answers AUTH_BYTES_INVALID for all.
var ErrGrantInvalid = errors.New("cluster: invalid authorization grant")

// NewNonce returns a random grant nonce.
func NewNonce() [16]byte {
	var n [16]byte
	rand.Read(n[:]) // never fails on supported systems (Go 1.24+)
	return n
}

// Seal signs g with key (Derive(secret, "export-authorization")).
func Seal(key []byte, g Grant) ([]byte, error) {
	if g.From < 1 || g.From > MaxDC || g.To < 1 || g.To > MaxDC {
		return nil, fmt.Errorf("cluster: grant from DC %d to DC %d", g.From, g.To)
	}
	b := make([]byte, 0, 128)
	var flags byte
	if g.Bot {
		flags |= flagBot
	}
	if g.Premium {
		flags |= flagPremium
	}
	b = append(b, grantVersion, byte(g.From), byte(g.To), flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(g.Expires.Unix()))
	b = append(b, g.Nonce[:]...)
	b = binary.LittleEndian.AppendUint64(b, uint64(g.User))
	b = binary.LittleEndian.AppendUint64(b, uint64(g.AccessKey))
	for _, s := range []string{g.Name, g.Username, g.Phone} {
		if len(s) > maxGrantField {
			return nil, fmt.Errorf("cluster: grant field of %d bytes", len(s))
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return append(b, mac(key, b)...), nil
}

func mac(key, b []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return m.Sum(nil)
}

// Open checks sealed bytes and returns the grant if key signed it, it is
// meant for DC to and it has not expired at now.
func Open(key, sealed []byte, to int, now time.Time) (Grant, error) {
	if len(sealed) < grantFixed+3*2+grantMAC || len(sealed) > MaxGrantSize {
		return Grant{}, ErrGrantInvalid
	}
	body, sum := sealed[:len(sealed)-grantMAC], sealed[len(sealed)-grantMAC:]
	if !hmac.Equal(mac(key, body), sum) {
		return Grant{}, ErrGrantInvalid
	}
	if body[0] != grantVersion {
		return Grant{}, ErrGrantInvalid
	}
	g := Grant{From: int(body[1]), To: int(body[2])}
	flags := body[3]
	g.Bot, g.Premium = flags&flagBot != 0, flags&flagPremium != 0
	g.Expires = time.Unix(int64(binary.LittleEndian.Uint64(body[4:])), 0)
	copy(g.Nonce[:], body[12:28])
	g.User = int64(binary.LittleEndian.Uint64(body[28:]))
	g.AccessKey = int64(binary.LittleEndian.Uint64(body[36:]))
	rest := body[grantFixed:]
	var fields [3]string
	for i := range fields {
		if len(rest) < 2 {
			return Grant{}, ErrGrantInvalid
		}
		n := int(binary.LittleEndian.Uint16(rest))
		if n > maxGrantField || len(rest) < 2+n {
			return Grant{}, ErrGrantInvalid
		}
		fields[i], rest = string(rest[2:2+n]), rest[2+n:]
	}
	if len(rest) != 0 {
		return Grant{}, ErrGrantInvalid
	}
	g.Name, g.Username, g.Phone = fields[0], fields[1], fields[2]
	if g.To != to || g.User <= 0 || !now.Before(g.Expires) {
		return Grant{}, ErrGrantInvalid
	}
	return g, nil
}
