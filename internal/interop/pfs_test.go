package interop

import (
	"context"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/transport"
)

// TestS2_PerfectForwardSecrecy: gotd with EnablePFS creates a temporary key
// (p_q_inner_data_temp_dc), binds it with auth.bindTempAuthKey to its
// permanent key, logs in and moves a file over it. A second client with the
// same stored session binds a new temporary key to the same permanent key and
// finds the login there.
func TestS2_PerfectForwardSecrecy(t *testing.T) {
	srv := startServer(t)
	storage := &session.StorageMemory{}
	pfsClient := func() *telegram.Client {
		return telegram.NewClient(1, "interop", telegram.Options{
			PublicKeys:     []telegram.PublicKey{{RSA: srv.key}},
			DC:             2,
			DCList:         dcs.List{Options: []tg.DCOption{{ID: 2, IPAddress: srv.addr.IP.String(), Port: srv.addr.Port, Static: true}}},
			Resolver:       dcs.Plain(dcs.PlainOptions{Protocol: transport.Intermediate}),
			SessionStorage: storage,
			NoUpdates:      true,
			EnablePFS:      true,
			TempKeyTTL:     3600,
		})
	}
	for round := 0; round < 2; round++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		client := pfsClient()
		err := client.Run(ctx, func(ctx context.Context) error {
			if round == 0 {
				if _, err := client.Auth().Bot(ctx, botToken); err != nil {
					return err
				}
			}
			self, err := client.Self(ctx)
			if err != nil {
				return err
			}
			if self.ID != 7000001 {
				t.Errorf("round %d: logged in as %d", round, self.ID)
			}
			return roundtrip(ctx, t, client.API(), randomBytes(uint64(round), 700<<10), 1, true)
		})
		cancel()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}
