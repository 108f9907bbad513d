package aesige

import (
	"bytes"
	"crypto/aes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gotd/ige"
)

// withAndWithout runs f with the assembly (where this CPU has AES-NI) and
// with gotd/ige.
func withAndWithout(t *testing.T, f func(t *testing.T)) {
	saved := hasAESNI
	defer func() { hasAESNI = saved }()
	for _, asm := range []bool{true, false} {
		if asm && !saved {
			t.Log("no AES-NI here: only the fallback is tested")
			continue
		}
		hasAESNI = asm
		name := "gotd"
		if asm {
			name = "aesni"
		}
		t.Run(name, f)
	}
}

func gotdEncrypt(key, iv *[32]byte, src []byte) []byte {
	block, _ := aes.NewCipher(key[:])
	dst := make([]byte, len(src))
	ige.EncryptBlocks(block, iv[:], dst, src)
	return dst
}

// TestIGEMatchesGotd: encryption and decryption give gotd/ige's bytes
// for random keys, ivs and lengths (0 to 64 KiB), and
// decryption undoes encryption.
func TestIGEMatchesGotd(t *testing.T) {
	withAndWithout(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for round := range 200 {
			var key, iv [32]byte
			for i := range key {
				key[i], iv[i] = byte(rng.Uint32()), byte(rng.Uint32())
			}
			n := 16 * rng.IntN(64)
			if round%50 == 0 {
				n = 64 << 10
			}
			plain := make([]byte, n)
			for i := range plain {
				plain[i] = byte(rng.Uint32())
			}
			want := gotdEncrypt(&key, &iv, plain)
			got := make([]byte, n)
			Encrypt(&key, &iv, got, plain)
			if !bytes.Equal(got, want) {
				t.Fatalf("round %d, %d bytes: Encrypt differs from gotd/ige", round, n)
			}
			back := make([]byte, n)
			Decrypt(&key, &iv, back, got)
			if !bytes.Equal(back, plain) {
				t.Fatalf("round %d, %d bytes: Decrypt does not undo Encrypt", round, n)
			}
		}
	})
}

// fusedRounds runs round 300 times with random keys and ivs, with the
// fused loops (where this CPU has them) and with the fallback.
func fusedRounds(t *testing.T, seed uint64, round func(t *testing.T, rng *rand.Rand, i int, key, iv *[32]byte)) {
	saved := hasFused
	defer func() { hasFused = saved }()
	for _, fused := range []bool{true, false} {
		if fused && !saved {
			t.Log("no AES-NI and SHA extensions here: only the fallback is tested")
			continue
		}
		hasFused = fused
		t.Run(fmt.Sprintf("fused=%v", fused), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed+1))
			for i := range 300 {
				var key, iv [32]byte
				fill(rng, key[:])
				fill(rng, iv[:])
				round(t, rng, i, &key, &iv)
			}
		})
	}
}

func fill(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// TestDecryptHashedIsDecryptThenSHA256: for random keys, ivs, prefixes and
// lengths around every 64-byte phase, DecryptHashed gives Decrypt's
// plaintext and the SHA-256 of prefix and plaintext, and leaves iv alone.
func TestDecryptHashedIsDecryptThenSHA256(t *testing.T) {
	fusedRounds(t, 7, func(t *testing.T, rng *rand.Rand, round int, key, iv *[32]byte) {
		n := 16 * rng.IntN(40)
		if round%60 == 0 {
			n = 512 << 10
		}
		cipher, buf := make([]byte, n), make([]byte, HashedPrefix+n)
		fill(rng, cipher)
		fill(rng, buf[:HashedPrefix])
		ivBefore := *iv
		sum := DecryptHashed(key, iv, buf, cipher)
		want := make([]byte, n)
		ige.DecryptAES256Blocks(key[:], iv[:], want, cipher)
		switch {
		case *iv != ivBefore:
			t.Fatalf("round %d: iv changed", round)
		case !bytes.Equal(buf[HashedPrefix:], want):
			t.Fatalf("round %d, %d bytes: plaintext differs from gotd/ige's", round, n)
		case sum != sha256.Sum256(buf):
			t.Fatalf("round %d, %d bytes: sum differs from crypto/sha256's", round, n)
		}
	})
}

// TestEncryptHashingIsEncryptAndSHA256: for random keys, ivs and lengths of
// both messages (either the longer, at every 64-byte phase), EncryptHashing
// gives Encrypt's ciphertext and the SHA-256 of the other message.
func TestEncryptHashingIsEncryptAndSHA256(t *testing.T) {
	fusedRounds(t, 9, func(t *testing.T, rng *rand.Rand, round int, key, iv *[32]byte) {
		n, m := 16*rng.IntN(40), rng.IntN(700)
		if round%60 == 0 {
			n, m = 512<<10, 512<<10+32+rng.IntN(200)
		}
		plain, next := make([]byte, n), make([]byte, m)
		fill(rng, plain)
		fill(rng, next)
		ivBefore := *iv
		got := make([]byte, n)
		sum := EncryptHashing(key, iv, got, plain, next)
		switch {
		case *iv != ivBefore:
			t.Fatalf("round %d: iv changed", round)
		case !bytes.Equal(got, gotdEncrypt(key, iv, plain)):
			t.Fatalf("round %d, %d bytes: ciphertext differs from gotd/ige's", round, n)
		case sum != sha256.Sum256(next):
			t.Fatalf("round %d, %d bytes: sum of %d bytes differs from crypto/sha256's", round, n, m)
		}
	})
}

func TestIGERefusesPartialBlocks(t *testing.T) {
	for name, f := range map[string]func(){
		"partial block": func() { var k, iv [32]byte; Decrypt(&k, &iv, make([]byte, 32), make([]byte, 17)) },
		"short dst":     func() { var k, iv [32]byte; Encrypt(&k, &iv, make([]byte, 16), make([]byte, 32)) },
		"hashed, short buf": func() {
			var k, iv [32]byte
			DecryptHashed(&k, &iv, make([]byte, 32+16), make([]byte, 32))
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// FuzzIGE checks any key, iv and bytes against gotd/ige.
func FuzzIGE(f *testing.F) {
	f.Add(make([]byte, 64), make([]byte, 48))
	f.Fuzz(func(t *testing.T, keys, data []byte) {
		var key, iv [32]byte
		copy(key[:], keys)
		if len(keys) > 32 {
			copy(iv[:], keys[32:])
		}
		data = data[:len(data)&^15]
		buf := make([]byte, HashedPrefix+len(data))
		copy(buf, keys)
		sum := DecryptHashed(&key, &iv, buf, data)
		plain := make([]byte, len(data))
		ige.DecryptAES256Blocks(key[:], iv[:], plain, data)
		if !bytes.Equal(buf[HashedPrefix:], plain) || sum != sha256.Sum256(buf) {
			t.Fatal("DecryptHashed differs from gotd/ige and crypto/sha256")
		}
		want := gotdEncrypt(&key, &iv, data)
		if got := make([]byte, len(data)); EncryptHashing(&key, &iv, got, data, keys) != sha256.Sum256(keys) || !bytes.Equal(got, want) {
			t.Fatal("EncryptHashing differs from gotd/ige and crypto/sha256")
		}
		got := make([]byte, len(data))
		Encrypt(&key, &iv, got, data)
		if !bytes.Equal(got, want) {
			t.Fatal("Encrypt differs from gotd/ige")
		}
		back := make([]byte, len(data))
		Decrypt(&key, &iv, back, got)
		if !bytes.Equal(back, data) {
			t.Fatal("Decrypt does not undo Encrypt")
		}
	})
}

// BenchmarkIGE compares the assembly with gotd/ige on 512 KiB messages.
func BenchmarkIGE(b *testing.B) {
	var key, iv [32]byte
	src, dst := make([]byte, 512<<10), make([]byte, 512<<10)
	block, _ := aes.NewCipher(key[:])
	hashed := make([]byte, HashedPrefix+len(src))
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"decrypt", func() { Decrypt(&key, &iv, dst, src) }},
		{"encrypt", func() { Encrypt(&key, &iv, dst, src) }},
		{"decrypt-hashed", func() { DecryptHashed(&key, &iv, hashed, src) }},
		{"encrypt-hashing", func() { EncryptHashing(&key, &iv, dst, src, hashed) }},
		{"sha256-then-encrypt", func() { sha256.Sum256(hashed); Encrypt(&key, &iv, dst, src) }},
		{"decrypt-then-sha256", func() { Decrypt(&key, &iv, dst, src); sha256.Sum256(hashed) }},
		{"gotd-decrypt", func() { ige.DecryptAES256Blocks(key[:], iv[:], dst, src) }},
		{"gotd-encrypt", func() { ige.EncryptBlocks(block, iv[:], dst, src) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				c.f()
			}
		})
	}
}
