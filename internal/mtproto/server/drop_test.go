package server_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/session"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/transport"

	"github.com/filedc/filedc/internal/mtproto/server"
)

// TestErrDropConnection: a handler answering ErrDropConnection closes the
// client's connection without an answer or an ack, so gotd reconnects and
// sends the call again, which then runs.
func TestErrDropConnection(t *testing.T) {
	var nearest, conns atomic.Int32
	var port atomic.Int32
	handler := server.HandlerFunc(func(ctx context.Context, r *server.Request) (bin.Encoder, error) {
		id, err := r.Body.PeekID()
		if err != nil {
			return nil, err
		}
		switch id {
		case tg.HelpGetConfigRequestTypeID:
			conns.Add(1) // gotd asks for the config on every new connection
			return &tg.Config{ThisDC: 2, Expires: int(time.Now().Add(time.Hour).Unix()),
				DCOptions: []tg.DCOption{{ID: 2, IPAddress: "127.0.0.1", Port: int(port.Load()), Static: true}}}, nil
		case tg.HelpGetNearestDCRequestTypeID:
			if nearest.Add(1) <= 2 {
				return nil, server.ErrDropConnection
			}
			return &tg.NearestDC{Country: "XX", ThisDC: 2, NearestDC: 2}, nil
		}
		return nil, &server.RPCError{Code: 400, Message: "METHOD_INVALID"}
	})
	addr, _ := serveTest(t, t.TempDir(), "127.0.0.1:0", server.Config{Handler: handler})
	port.Store(int32(addr.Port))
	dc := &testDC{addr: addr, key: rsaKey}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := dc.client(transport.Intermediate, &session.StorageMemory{})
	err := client.Run(ctx, func(ctx context.Context) error {
		got, err := client.API().HelpGetNearestDC(ctx)
		if err == nil && got.Country != "XX" {
			t.Errorf("nearest dc %+v", got)
		}
		return err
	})
	if err != nil {
		t.Fatalf("a call dropped twice, then answered: %v", err)
	}
	if n := nearest.Load(); n != 3 {
		t.Fatalf("help.getNearestDc ran %d times, want 3 (two drops, then the answer)", n)
	}
	if n := conns.Load(); n < 3 {
		t.Fatalf("the client made %d connections, want one per drop and the first", n)
	}
}
