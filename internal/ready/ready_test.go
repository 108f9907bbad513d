package ready

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestO3_ReadyFileWaitsAndRoundTrips(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ready.json")
	want := Info{Listen: "127.0.0.1:5000", DC: 2, Fingerprint: -7, PublicKey: "/x/public.pem", HTTP: "127.0.0.1:5001", Data: "/x", PID: 42}
	go func() {
		time.Sleep(30 * time.Millisecond)
		Write(path, want)
	}()
	got, err := Wait(context.Background(), path, nil)
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	exited := make(chan struct{})
	close(exited)
	if _, err := Wait(context.Background(), filepath.Join(t.TempDir(), "none"), exited); err == nil {
		t.Fatal("waited for a server that exited")
	}
}
