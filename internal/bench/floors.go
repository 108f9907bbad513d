package bench

import (
	"crypto/sha256"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/filedc/filedc/internal/aesige"
)

// Floors are the machine's rates of the work every MTProto file server
// must do per byte, in MiB/s, measured over 512 KiB buffers (the largest
// part and chunk). A server's CPU per MiB is held against them, so they are
// measured in the same run as the server, on the same machine, with the
// fastest code filedc has for that work (internal/aesige, which the server
// runs): a receiver decrypts and hashes for msg_key in one loop, a sender
// hashes the next message for its msg_key while it encrypts this one.
// gotd's client, with gotd/ige and hashing apart, does the same work at
// about a third to a half of that rate.
type Floors struct {
	// BothEnds: one goroutine sends (AES-256-IGE encrypt + SHA-256
	// msg_key), another receives the same buffers (decrypt + SHA-256), at
	// once. Every byte a client and a server on this machine move costs
	// exactly this, whatever else they do.
	BothEnds float64
	// Send and Receive: one end alone on one core.
	Send, Receive float64
	// SHA256: one SHA-256 pass over the content, one core.
	SHA256 float64
}

// UploadFloor is the least CPU, in ms per MiB, a server spends on an
// upload: it decrypts every part, checks its msg_key and hashes the
// content once.
func (f Floors) UploadFloor() float64 { return 1000/f.Receive + 1000/f.SHA256 }

// DownloadFloor is the least CPU, in ms per MiB, a server spends on a
// download: it encrypts every chunk and computes its msg_key.
func (f Floors) DownloadFloor() float64 { return 1000 / f.Send }

// The goals the server's CPU per MiB is held to, as multiples of the floors.
const (
	UploadGoalOverFloor   = 1.15
	DownloadGoalOverFloor = 1.25
)

// MeasureFloors measures the floors in about d: an eighth of it for each
// end alone and for SHA-256, a quarter for both ends at once. Each figure
// is the best of three rounds, since a shared machine only ever slows it.
func MeasureFloors(d time.Duration) Floors {
	const size = PartSize
	var key, iv, authKey [32]byte
	for i := range iv {
		key[i], iv[i], authKey[i] = byte(7*i), byte(i), byte(3*i)
	}
	// A message as msg_key hashes it: 32 bytes of the auth key, then the
	// plaintext.
	prefixed := make([]byte, aesige.HashedPrefix+size)
	copy(prefixed, authKey[:])
	plain := prefixed[aesige.HashedPrefix:]
	rand.NewChaCha8(key).Read(plain)
	var sink byte
	// A sender with messages queued hashes each while it encrypts the one
	// before, as the server's sealer does: here the next message is this
	// one again.
	send := func(dst []byte) {
		sum := aesige.EncryptHashing(&key, &iv, dst, plain, prefixed)
		sink ^= sum[8]
	}
	receive := func(buf, src []byte) byte {
		sum := aesige.DecryptHashed(&key, &iv, buf, src)
		return sum[8]
	}

	// f runs until the time given; it returns the bytes it moved.
	rate := func(round time.Duration, f func(until time.Time) int) float64 {
		best := 0.0
		for range 3 {
			start := time.Now()
			n := f(start.Add(round))
			best = max(best, float64(n)/MiB/time.Since(start).Seconds())
		}
		return best
	}
	// repeat does f, a buffer's worth of work, at least once and until the
	// time given.
	repeat := func(f func()) func(until time.Time) int {
		return func(until time.Time) int {
			n := 0
			for ; n == 0 || time.Now().Before(until); n += size {
				f()
			}
			return n
		}
	}
	sealed := make([]byte, size)
	send(sealed)
	out, opened := make([]byte, size), make([]byte, aesige.HashedPrefix+size)
	var fl Floors
	fl.Send = rate(d/8, repeat(func() { send(out) }))
	fl.Receive = rate(d/8, repeat(func() { sink ^= receive(opened, sealed) }))
	fl.SHA256 = rate(d/8, repeat(func() { s := sha256.Sum256(plain); sink ^= s[0] }))
	// Both ends: a sender and a receiver with inFlight buffers between them.
	const inFlight = 8
	fl.BothEnds = rate(d/4, func(until time.Time) int {
		full, free := make(chan []byte, inFlight), make(chan []byte, inFlight)
		for range inFlight {
			free <- make([]byte, size)
		}
		done := make(chan int)
		go func() {
			dst, n, s := make([]byte, aesige.HashedPrefix+size), 0, byte(0)
			for b := range full {
				s ^= receive(dst, b)
				n += size
				free <- b
			}
			sink ^= s
			done <- n
		}()
		for first := true; first || time.Now().Before(until); first = false {
			b := <-free
			send(b)
			full <- b
		}
		close(full)
		return <-done
	})
	runtime.KeepAlive(sink)
	return fl
}
