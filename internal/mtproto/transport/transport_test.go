package transport

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/mtproxy"
	"github.com/gotd/td/mtproxy/obfuscated2"
	"github.com/gotd/td/proto/codec"
)

// clientCodecs are gotd's client-side codecs, the reference for the wire format.
var clientCodecs = []struct {
	kind  Kind
	codec func() codec.Codec
}{
	{Abridged, func() codec.Codec { return codec.Abridged{} }},
	{Intermediate, func() codec.Codec { return codec.Intermediate{} }},
	{PaddedIntermediate, func() codec.Codec { return codec.PaddedIntermediate{} }},
	{Full, func() codec.Codec { return &codec.Full{} }},
}

// pair connects a gotd client codec to Accept over loopback TCP.
func pair(t *testing.T, c codec.Codec, obfuscated bool, opt Options) (client io.ReadWriter, server *Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan *Conn, 1)
	errc := make(chan error, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		conn, err := Accept(raw, opt)
		if err != nil {
			raw.Close()
			errc <- err
			return
		}
		accepted <- conn
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	client = raw
	if obfuscated {
		obf := obfuscated2.NewObfuscated2(rand.Reader, raw)
		if err := obf.Handshake(c.(codec.TaggedCodec).ObfuscatedTag(), 2, mtproxy.Secret{}); err != nil {
			t.Fatal(err)
		}
		client = obf
	} else if err := c.WriteHeader(raw); err != nil {
		t.Fatal(err)
	}
	// The header alone does not complete detection for full: send a frame
	// first. No short timeout here: detection is immediate for the others,
	// and a loaded machine must not fail the test.
	_, isFull := c.(*codec.Full)
	if isFull {
		if err := c.Write(client, &bin.Buffer{Buf: []byte{1, 2, 3, 4}}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case server = <-accepted:
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(time.Minute):
		t.Fatal("no connection accepted")
	}
	if isFull {
		got, err := server.ReadFrame(nil)
		if err != nil || !bytes.Equal(got, []byte{1, 2, 3, 4}) {
			t.Fatalf("first full frame: %x, %v", got, err)
		}
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}

func TestS1_TransportsRoundTrip(t *testing.T) {
	sizes := []int{8, 124, 128, 504, 508, 512, 4096, 128 << 10, 512<<10 + 64}
	for _, tc := range clientCodecs {
		for _, obfuscated := range []bool{false, true} {
			if obfuscated && tc.kind == Full {
				continue // obfuscated2 carries abridged and intermediate only
			}
			name := tc.kind.String()
			if obfuscated {
				name += "/obfuscated"
			}
			t.Run(name, func(t *testing.T) {
				c := tc.codec()
				client, server := pair(t, c, obfuscated, Options{})
				if server.Kind() != tc.kind || server.Obfuscated() != obfuscated {
					t.Fatalf("detected %s obfuscated=%v", server.Kind(), server.Obfuscated())
				}
				var buf []byte
				for _, n := range sizes {
					payload := make([]byte, n)
					rand.Read(payload)
					go func() { c.Write(client, &bin.Buffer{Buf: append([]byte(nil), payload...)}) }()
					got, err := server.ReadFrame(buf)
					if err != nil {
						t.Fatalf("server read of %d bytes: %v", n, err)
					}
					if !bytes.Equal(got, payload) {
						t.Fatalf("server read %d bytes, want the %d sent", len(got), n)
					}
					buf = got
					errc := make(chan error, 1)
					go func() { errc <- server.WriteFrame(payload) }()
					var b bin.Buffer
					if err := c.Read(client, &b); err != nil {
						t.Fatalf("client read of %d bytes: %v", n, err)
					}
					if err := <-errc; err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(b.Buf, payload) {
						t.Fatalf("client read %d bytes, want the %d sent", len(b.Buf), n)
					}
				}
			})
		}
	}
}

func TestS1_TransportErrorCode(t *testing.T) {
	c := codec.Intermediate{}
	client, server := pair(t, c, false, Options{})
	go server.WriteError(-404)
	var b bin.Buffer
	err := c.Read(client, &b)
	var pe *codec.ProtocolErr
	if !errors.As(err, &pe) || pe.Code != 404 {
		t.Fatalf("client read %v, want protocol error 404", err)
	}
}

func TestS1_SilentSocketTimesOut(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	start := time.Now()
	_, err := Accept(a, Options{DetectTimeout: 50 * time.Millisecond})
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Accept on a silent socket: %v, want a timeout", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("Accept ignored its deadline")
	}
}

func TestS7_FrameSizeLimit(t *testing.T) {
	for _, tc := range clientCodecs {
		t.Run(tc.kind.String(), func(t *testing.T) {
			c := tc.codec()
			client, server := pair(t, c, false, Options{MaxFrame: 1024})
			go c.Write(client, &bin.Buffer{Buf: make([]byte, 1028)})
			if _, err := server.ReadFrame(nil); !errors.Is(err, ErrFrameTooBig) {
				t.Fatalf("frame over the limit: %v, want ErrFrameTooBig", err)
			}
		})
	}
}

func TestS1_RejectsHTTPAndGarbage(t *testing.T) {
	for _, head := range []string{"GET / HTTP/1.1\r\n", "POST /api HTTP/1.1\r\n"} {
		a, b := net.Pipe()
		go b.Write([]byte(head))
		if _, err := Accept(a, Options{DetectTimeout: time.Second}); !errors.Is(err, ErrUnknownHeader) {
			t.Fatalf("%q: %v", head, err)
		}
		a.Close()
		b.Close()
	}
}
