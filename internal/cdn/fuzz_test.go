package cdn

import (
	"bytes"
	"testing"
	"time"
)

// FuzzTokens: any bytes a client sends as a file or request token are
// refused unless the master or the CDN issued them, and never panic.
func FuzzTokens(f *testing.F) {
	master, shared := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	exp := time.Unix(2_000_000_000, 0)
	now := exp.Add(-time.Hour)
	ft := issueFileToken(master, shared, FileToken{FileID: 5, AccessHash: 6, CDN: 201, Expires: exp})
	rt := issueRequestToken(shared, RequestToken{FileID: 5, Block: 3, CDN: 201, Expires: exp})
	f.Add(ft)
	f.Add(rt)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := checkFileToken(master, shared, b, now); err == nil && !bytes.Equal(b, ft) {
			t.Fatalf("the master accepted a file token it did not issue: %x", b)
		}
		if _, err := checkFileToken(nil, shared, b, now); err == nil && !bytes.Equal(b[:fileTokenBody], ft[:fileTokenBody]) {
			t.Fatalf("the CDN accepted a file token body nobody issued: %x", b)
		}
		if _, err := checkRequestToken(shared, b, now); err == nil && !bytes.Equal(b, rt) {
			t.Fatalf("a request token nobody issued was accepted: %x", b)
		}
	})
}
