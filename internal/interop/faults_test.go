package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/backendtest"
	"github.com/filedc/filedc/internal/testenv"
)

// outcome is one cycle of the traffic: upload, finalize, download, compare.
type outcome struct {
	cycle   int
	err     error
	pending tg.InputFileClass // uploaded, but the finalization failed
	doc     *tg.Document      // stored and read back
	data    []byte
}

// cycleTimeout bounds one cycle: a cycle that takes longer hangs.
const cycleTimeout = time.Minute

// trafficCycle uploads a file of 1.5 MiB (3 parts) with 2 threads, turns it
// into a document and downloads it.
func trafficCycle(ctx context.Context, api *tg.Client, cycle int) outcome {
	ctx, cancel := context.WithTimeout(ctx, cycleTimeout)
	defer cancel()
	o := outcome{cycle: cycle, data: randomBytes(uint64(1000+cycle), 3<<19)}
	file, err := uploader.NewUploader(api).WithThreads(2).Upload(ctx,
		uploader.NewUpload(fmt.Sprintf("traffic-%d.bin", cycle), bytes.NewReader(o.data), int64(len(o.data))))
	if err != nil {
		o.err = fmt.Errorf("upload: %w", err)
		return o
	}
	if o.doc, err = uploadDoc(ctx, api, file); err != nil {
		o.pending, o.err = file, fmt.Errorf("uploadMedia: %w", err)
		return o
	}
	if err := checkDownload(ctx, api, o.doc, o.data); err != nil {
		o.doc, o.err = nil, err
	}
	return o
}

func checkDownload(ctx context.Context, api *tg.Client, doc *tg.Document, want []byte) error {
	got, err := download(ctx, api, doc)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("document %d: downloaded %d bytes that differ from the %d uploaded", doc.ID, len(got), len(want))
	}
	return nil
}

func ctl(t *testing.T, script, action string) {
	t.Helper()
	if out, err := exec.Command(script, action).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", script, action, err, out)
	}
}

// TestO2_RedisAndPostgresRestartDuringTraffic: a gotd client uploads and
// downloads without pause while first Redis, then PostgreSQL is stopped and
// started again under a real server process. During each outage every call
// that needs the stopped service answers 500 INTERNAL (no hang, no crash, no
// other error); files already stored still download while Redis is down.
// After each restart the traffic succeeds again on the same connection and
// login, finalizations refused during the outage succeed with the parts
// saved before it, and every file stored at any point reads back intact.
func TestO2_RedisAndPostgresRestartDuringTraffic(t *testing.T) {
	pgURL := testenv.Require(t, "FILEDC_TEST_FAULT_POSTGRES")
	pgCtl := testenv.Require(t, "FILEDC_TEST_FAULT_POSTGRES_CTL")
	redisURL := testenv.Require(t, "FILEDC_TEST_FAULT_REDIS")
	redisCtl := testenv.Require(t, "FILEDC_TEST_FAULT_REDIS_CTL")
	srv := startServer(t, "--s3", backendtest.S3(t), "--postgres", backendtest.PostgresOn(t, pgURL),
		"--redis", backendtest.RedisOn(t, redisURL))
	// Whatever happens, the services are up again for what follows.
	t.Cleanup(func() {
		exec.Command(redisCtl, "start").Run()
		exec.Command(pgCtl, "start").Run()
	})

	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		ctx, stopTraffic := context.WithCancel(ctx)
		defer stopTraffic()
		results := make(chan outcome)
		go func() {
			defer close(results)
			for cycle := 0; ctx.Err() == nil; cycle++ {
				o := trafficCycle(ctx, api, cycle)
				select {
				case results <- o:
				case <-ctx.Done():
					return // stopped: the last cycle's outcome means nothing
				}
			}
		}()

		var stored []outcome  // read back intact at some point
		var pending []outcome // finalization refused during an outage
		// await reads outcomes until want of them match ok, failing after
		// limit cycles. Every failure must be a clear 500 INTERNAL.
		await := func(phase string, want, limit int, ok func(outcome) bool) {
			t.Helper()
			got := 0
			for n := 0; got < want; n++ {
				if n == limit {
					t.Fatalf("%s: %d of %d cycles as expected after %d cycles", phase, got, want, limit)
				}
				o, more := <-results
				if !more {
					t.Fatalf("%s: the traffic stopped", phase)
				}
				switch {
				case o.err == nil:
					stored = append(stored, o)
				case errors.Is(o.err, context.DeadlineExceeded):
					t.Fatalf("%s: cycle %d hung: %v", phase, o.cycle, o.err)
				case rpcErr(o.err) != "500 INTERNAL":
					t.Fatalf("%s: cycle %d failed with %v, want rpc_error 500 INTERNAL", phase, o.cycle, o.err)
				case o.pending != nil:
					pending = append(pending, o)
				}
				t.Logf("%s: cycle %d: %s", phase, o.cycle, rpcErr(o.err))
				if ok(o) {
					got++
				} else {
					got = 0 // consecutive
				}
			}
		}
		succeeded := func(o outcome) bool { return o.err == nil }
		failed := func(o outcome) bool { return o.err != nil }

		await("before", 2, 10, succeeded)
		ctl(t, redisCtl, "stop")
		await("redis down", 2, 10, failed)
		// Stored files do not need Redis: their manifests name their objects.
		if err := checkDownload(ctx, api, stored[0].doc, stored[0].data); err != nil {
			t.Errorf("while Redis is down: %v", err)
		}
		ctl(t, redisCtl, "start")
		await("redis back", 2, 10, succeeded)

		ctl(t, pgCtl, "stop")
		await("postgres down", 2, 10, failed)
		ctl(t, pgCtl, "start")
		await("postgres back", 2, 10, succeeded)
		stopTraffic()
		for range results {
		}

		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		defer cancel()
		if len(pending) == 0 {
			t.Error("no finalization was refused during the PostgreSQL outage")
		}
		for _, o := range pending {
			doc, err := uploadDoc(ctx, api, o.pending)
			if err != nil {
				t.Errorf("finalizing cycle %d's upload again after the outage: %v", o.cycle, err)
				continue
			}
			if err := checkDownload(ctx, api, doc, o.data); err != nil {
				t.Errorf("cycle %d finalized after the outage: %v", o.cycle, err)
			}
		}
		for _, o := range stored {
			if err := checkDownload(ctx, api, o.doc, o.data); err != nil {
				t.Errorf("cycle %d at the end: %v", o.cycle, err)
			}
		}
		t.Logf("%d files stored, %d finalizations refused during the outage and done after it", len(stored), len(pending))
		return nil
	})
}
