// Package cdn serves downloads through CDN data centers (rules C1–C4, D8).
//
// A master DC redirects upload.getFile to a CDN DC for the files its policy
// picks. The CDN never holds plain content: the master encrypts each 1 MiB
// block of a file with AES-256-CTR under a key only the master can derive
// and pushes it to the CDN over HTTP, authenticated with the secret the
// master and its CDNs share (cdn.secret). The CDN keeps encrypted blocks in
// a bounded LRU cache in memory and answers upload.getCdnFile from it, or
// upload.cdnFileReuploadNeeded when it does not hold the block; the client
// then asks the master (upload.reuploadCdnFile) to push it again.
//
// Key material, all derived from the DC's secret on the master:
//   - the shared secret (cdn.secret, given to each CDN): file tokens carry a
//     MAC under it that the CDN checks, request tokens are signed with it,
//     and pushes are authenticated with it;
//   - the master's own key: file tokens carry a second MAC under it, so a
//     CDN cannot forge tokens the master accepts, and each file's
//     encryption key and IV derive from it.
package cdn

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"

	"github.com/filedc/filedc/internal/cluster"
	"github.com/filedc/filedc/internal/mtproto/server"
)

// BlockSize is the unit the master pushes and the CDN caches: a getCdnFile
// request never crosses a 1 MiB boundary (D4), so each is served from one
// block.
const BlockSize = 1 << 20

// SecretFile is the name of the shared secret a master writes beside its
// data and a CDN is given with --cdn-secret.
const SecretFile = "cdn.secret"

// Errors as Telegram names them.
var (
	ErrFileToken    = &server.RPCError{Code: 400, Message: "FILE_TOKEN_INVALID"}
	ErrRequestToken = &server.RPCError{Code: 400, Message: "REQUEST_TOKEN_INVALID"}
	ErrMethod       = &server.RPCError{Code: 400, Message: "CDN_METHOD_INVALID"}
)

// SharedSecret derives the secret a master shares with its CDNs from the
// DC's secret.
func SharedSecret(dcSecret []byte) []byte { return cluster.Derive(dcSecret, "cdn shared") }

// masterKey derives the key only the master holds.
func masterKey(dcSecret []byte) []byte { return cluster.Derive(dcSecret, "cdn master") }

// mac returns HMAC-SHA256 of the parts under key.
func mac(key []byte, purpose string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	for _, p := range parts {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		m.Write(n[:])
		m.Write(p)
	}
	return m.Sum(nil)
}

// FileKey is the AES-256-CTR key and IV a file is encrypted with on its
// way through a CDN. They depend on the file alone, so the blocks a CDN
// caches serve every client of the file.
type FileKey struct {
	Key [32]byte
	IV  [16]byte
}

func fileKey(master []byte, fileID int64) FileKey {
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(fileID))
	var k FileKey
	copy(k.Key[:], mac(master, "file key", id[:]))
	copy(k.IV[:], mac(master, "file iv", id[:]))
	return k
}

// XORAt encrypts (or decrypts) src into dst as the bytes at offset of the
// file (offset a multiple of 16): AES-256-CTR whose IV is the file's IV with
// its last 4 bytes replaced by offset/16 big-endian (C2).
func (k FileKey) XORAt(dst, src []byte, offset int64) {
	block, err := aes.NewCipher(k.Key[:])
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	iv := k.IV
	binary.BigEndian.PutUint32(iv[12:], uint32(offset/16))
	cipher.NewCTR(block, iv[:]).XORKeyStream(dst, src)
}
