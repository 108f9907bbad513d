package cdn

import (
	"crypto/hmac"
	"encoding/binary"
	"time"
)

// A file token (upload.fileCdnRedirect.file_token) names a stored file on
// the master, the CDN it was sent to, and when it expires. It carries two
// MACs: the master's, which only the master can make or check, and the
// shared one, which the CDN checks.
//
//	version(1) file_id(8) access_hash(8) cdn_dc(4) expires(8) | master_mac(16) shared_mac(16)
type FileToken struct {
	FileID     int64
	AccessHash int64
	CDN        int
	Expires    time.Time
}

const (
	tokenVersion   = 1
	fileTokenBody  = 1 + 8 + 8 + 4 + 8
	macSize        = 16
	fileTokenSize  = fileTokenBody + 2*macSize
	requestBody    = 1 + 8 + 4 + 4 + 8
	requestTokSize = requestBody + macSize
)

func (t FileToken) body() []byte {
	b := make([]byte, fileTokenBody, fileTokenSize)
	b[0] = tokenVersion
	binary.BigEndian.PutUint64(b[1:], uint64(t.FileID))
	binary.BigEndian.PutUint64(b[9:], uint64(t.AccessHash))
	binary.BigEndian.PutUint32(b[17:], uint32(t.CDN))
	binary.BigEndian.PutUint64(b[21:], uint64(t.Expires.Unix()))
	return b
}

func parseFileTokenBody(b []byte) (FileToken, bool) {
	if len(b) != fileTokenSize || b[0] != tokenVersion {
		return FileToken{}, false
	}
	return FileToken{
		FileID:     int64(binary.BigEndian.Uint64(b[1:])),
		AccessHash: int64(binary.BigEndian.Uint64(b[9:])),
		CDN:        int(binary.BigEndian.Uint32(b[17:])),
		Expires:    time.Unix(int64(binary.BigEndian.Uint64(b[21:])), 0),
	}, true
}

// ParseFileToken reads a file token without checking it, for tools and
// tests that need the file it names.
func ParseFileToken(b []byte) (FileToken, bool) { return parseFileTokenBody(b) }

// issueFileToken signs t with both keys.
func issueFileToken(master, shared []byte, t FileToken) []byte {
	b := t.body()
	b = append(b, mac(master, "file token", b)[:macSize]...)
	return append(b, mac(shared, "file token", b[:fileTokenBody])[:macSize]...)
}

// checkFileToken reads a token the master issued, checking the shared MAC
// (what a CDN can check), the master's MAC when master is given, and the
// expiry.
func checkFileToken(master, shared, b []byte, now time.Time) (FileToken, error) {
	t, ok := parseFileTokenBody(b)
	if !ok {
		return FileToken{}, ErrFileToken
	}
	body := b[:fileTokenBody]
	if !hmac.Equal(b[fileTokenBody+macSize:], mac(shared, "file token", body)[:macSize]) ||
		(master != nil && !hmac.Equal(b[fileTokenBody:fileTokenBody+macSize], mac(master, "file token", body)[:macSize])) ||
		!now.Before(t.Expires) {
		return FileToken{}, ErrFileToken
	}
	return t, nil
}

// A request token (upload.cdnFileReuploadNeeded.request_token) is the CDN's
// statement that it lacks one block of a file; the master checks it before
// pushing that block.
//
//	version(1) file_id(8) block(4) cdn_dc(4) expires(8) | shared_mac(16)
type RequestToken struct {
	FileID  int64
	Block   int
	CDN     int
	Expires time.Time
}

func issueRequestToken(shared []byte, t RequestToken) []byte {
	b := make([]byte, requestBody, requestTokSize)
	b[0] = tokenVersion
	binary.BigEndian.PutUint64(b[1:], uint64(t.FileID))
	binary.BigEndian.PutUint32(b[9:], uint32(t.Block))
	binary.BigEndian.PutUint32(b[13:], uint32(t.CDN))
	binary.BigEndian.PutUint64(b[17:], uint64(t.Expires.Unix()))
	return append(b, mac(shared, "request token", b)[:macSize]...)
}

func checkRequestToken(shared, b []byte, now time.Time) (RequestToken, error) {
	if len(b) != requestTokSize || b[0] != tokenVersion ||
		!hmac.Equal(b[requestBody:], mac(shared, "request token", b[:requestBody])[:macSize]) {
		return RequestToken{}, ErrRequestToken
	}
	t := RequestToken{
		FileID:  int64(binary.BigEndian.Uint64(b[1:])),
		Block:   int(binary.BigEndian.Uint32(b[9:])),
		CDN:     int(binary.BigEndian.Uint32(b[13:])),
		Expires: time.Unix(int64(binary.BigEndian.Uint64(b[17:])), 0),
	}
	if !now.Before(t.Expires) {
		return RequestToken{}, ErrRequestToken
	}
	return t, nil
}
