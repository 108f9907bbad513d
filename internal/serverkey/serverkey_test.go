package serverkey

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/gotd/td/crypto"
)

func TestS2_ServerKeyPersistsAndIsPublished(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || first.Private.N.BitLen() != 2048 {
		t.Fatalf("first start: created=%v, %d bits", first.Created, first.Private.N.BitLen())
	}
	st, err := os.Stat(filepath.Join(dir, "private.pem"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private.pem: %v, mode %v", err, st.Mode())
	}
	// public.pem is PKCS#1 "RSA PUBLIC KEY" and matches the fingerprint.
	raw, err := os.ReadFile(filepath.Join(dir, "public.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "RSA PUBLIC KEY" {
		t.Fatalf("public.pem block %v", block)
	}
	pub, err := x509.ParsePKCS1PublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if crypto.RSAFingerprint(pub) != first.Fingerprint || !pub.Equal(&first.Private.PublicKey) {
		t.Fatal("public.pem does not hold the server's key")
	}
	// A restart loads the same key and does not generate another.
	again, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Fingerprint != first.Fingerprint || !again.Private.Equal(first.Private) {
		t.Fatal("restart produced a different key")
	}
}

func TestS2_ServerKeyRejectsDamagedFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "private.pem"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir); err == nil {
		t.Fatal("a damaged key file was accepted (or silently replaced)")
	}
}

func TestS3_SaltSecretPersists(t *testing.T) {
	dir := t.TempDir()
	a, err := Secret(dir, "salt.secret")
	if err != nil || len(a) != 32 {
		t.Fatalf("%d bytes, %v", len(a), err)
	}
	b, err := Secret(dir, "salt.secret")
	if err != nil || string(a) != string(b) {
		t.Fatal("the secret changed across restarts")
	}
}
