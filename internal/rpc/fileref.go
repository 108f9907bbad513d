package rpc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/filedc/filedc/internal/files"
)

// File references (D7) are opaque to clients and stateless here: a version
// byte, the issue time, and an HMAC over the file and that time under a key
// derived from the DC's secret. Every process of a DC checks them alike, and
// nothing is stored per reference. Fetching the origin again issues a fresh one.
const (
	fileRefVersion = 1
	fileRefLen     = 1 + 4 + 16
)

var (
	errFileRefInvalid = badRequest("FILE_REFERENCE_INVALID")
	errFileRefExpired = badRequest("FILE_REFERENCE_EXPIRED")
)

type fileRefs struct {
	key []byte
	ttl time.Duration
}

func newFileRefs(secret []byte, ttl time.Duration) fileRefs {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("filedc file reference"))
	return fileRefs{key: m.Sum(nil), ttl: ttl}
}

func (r fileRefs) tag(ref files.FileRef, issued uint32) []byte {
	m := hmac.New(sha256.New, r.key)
	var b [20]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(ref.ID))
	binary.LittleEndian.PutUint64(b[8:], uint64(ref.AccessHash))
	binary.LittleEndian.PutUint32(b[16:], issued)
	m.Write(b[:])
	return m.Sum(nil)[:16]
}

// issue returns a reference to a file valid from now.
func (r fileRefs) issue(ref files.FileRef, now time.Time) []byte {
	out := make([]byte, 0, fileRefLen)
	out = append(out, fileRefVersion)
	out = binary.LittleEndian.AppendUint32(out, uint32(now.Unix()))
	return append(out, r.tag(ref, uint32(now.Unix()))...)
}

// check accepts a reference this DC issued for the file and that has not expired.
func (r fileRefs) check(ref files.FileRef, b []byte, now time.Time) error {
	if len(b) != fileRefLen || b[0] != fileRefVersion {
		return errFileRefInvalid
	}
	issued := binary.LittleEndian.Uint32(b[1:5])
	if !hmac.Equal(b[5:], r.tag(ref, issued)) {
		return errFileRefInvalid
	}
	if now.Sub(time.Unix(int64(issued), 0)) > r.ttl {
		return errFileRefExpired
	}
	return nil
}
