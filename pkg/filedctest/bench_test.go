package filedctest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net"
	"testing"

	"github.com/gotd/td/exchange"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgtest"
	"github.com/gotd/td/tgtest/services/config"
	"github.com/gotd/td/tgtest/services/file"
	"github.com/gotd/td/transport"

	"github.com/filedc/filedc/internal/tgtestmem"
	"github.com/filedc/filedc/pkg/filedctest"
)

// BenchmarkRoundTrip10MiB uploads 10 MiB with gotd's uploader and
// downloads it again (4 threads, 512 KiB parts, intermediate transport),
// through a filedctest DC and through gotd's tgtest with its file service,
// both in this process, in the same run. filedctest also makes the upload
// a document (messages.uploadMedia: hashing, records); tgtest serves the
// upload's bytes as they were saved.
//
//	go test ./pkg/filedctest -run '^$' -bench RoundTrip10MiB
func BenchmarkRoundTrip10MiB(b *testing.B) {
	const threads = 4
	data := randomBytes(b, 10<<20)
	report := func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportMetric(float64(len(data))*float64(b.N)/(1<<20)/b.Elapsed().Seconds(), "MiB/s")
	}
	check := func(b *testing.B, got []byte) {
		if !bytes.Equal(got, data) {
			b.Fatalf("downloaded %d bytes that differ from the %d uploaded", len(got), len(data))
		}
	}

	b.Run("filedctest", func(b *testing.B) {
		client := filedctest.New(b).Bot(b)
		ctx := b.Context()
		for b.Loop() {
			check(b, roundTrip(b, ctx, client, data, threads))
		}
		report(b)
	})

	b.Run("tgtest", func(b *testing.B) {
		client := startTgtest(b)
		err := client.Run(b.Context(), func(ctx context.Context) error {
			for b.Loop() {
				check(b, transfer(b, ctx, client.API(), data, threads, func(f tg.InputFileClass) tg.InputFileLocationClass {
					// tgtest keeps an upload as "USER_FILEID"; without
					// accounts USER is 10.
					id := f.(interface{ GetID() int64 }).GetID()
					return &tg.InputFileLocation{VolumeID: id, LocalID: 10}
				}))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		report(b)
	})
}

// startTgtest runs tgtest's server with its config and file services on a
// loopback port until the end of the benchmark, and returns a client of it.
func startTgtest(b *testing.B) *telegram.Client {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	opt := tg.DCOption{ID: 2, IPAddress: addr.IP.String(), Port: addr.Port, Static: true}
	cfg := tg.Config{ThisDC: 2, DCOptions: []tg.DCOption{opt}}
	d := tgtest.NewDispatcher()
	config.NewService(&cfg, &tg.CDNConfig{}).Register(d)
	file.NewService(file.Config{Storage: tgtestmem.New()}).Register(d)
	srv := tgtest.NewServer(exchange.PrivateKey{RSA: priv}, tgtest.UnpackInvoke(d), tgtest.ServerOptions{DC: 2})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, transport.ListenCodec(transport.Intermediate.Codec, l)) }()
	b.Cleanup(func() { cancel(); <-done })
	return telegram.NewClient(filedctest.AppID, filedctest.AppHash, telegram.Options{
		PublicKeys:     []telegram.PublicKey{{RSA: &priv.PublicKey}},
		DC:             2,
		DCList:         dcs.List{Options: []tg.DCOption{opt}},
		SessionStorage: &session.StorageMemory{},
		NoUpdates:      true,
	})
}

// BenchmarkStart measures what a test pays for a DC: Start and Close of one
// with in-memory stores and the shipped key, no client.
func BenchmarkStart(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		srv, err := filedctest.Start()
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
