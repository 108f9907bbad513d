package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/store"
)

// TestOnce runs the conformance suite for store.Once; expiry is judged by
// the system clock.
func TestOnce(t *testing.T, open func(t *testing.T) store.Once) {
	ctx := context.Background()
	id := func(n byte) [16]byte { return [16]byte{n, 9, 8, 7} }
	t.Run("FirstUseOnly", func(t *testing.T) {
		s := open(t)
		exp := time.Now().Add(time.Hour)
		for i, want := range []bool{true, false, false} {
			ok, err := s.UseOnce(ctx, id(1), exp)
			if err != nil || ok != want {
				t.Fatalf("use %d: %v, %v; want %v", i, ok, err, want)
			}
		}
		if ok, err := s.UseOnce(ctx, id(2), exp); err != nil || !ok {
			t.Fatalf("another token: %v, %v", ok, err)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.UseOnce(ctx, id(3), time.Now().Add(time.Hour))
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d concurrent uses succeeded, want 1", wins.Load())
		}
	})
	t.Run("ExpiredIsForgotten", func(t *testing.T) {
		s := open(t)
		// A use whose expiry has passed no longer blocks the token.
		if ok, err := s.UseOnce(ctx, id(4), time.Now().Add(-time.Second)); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if ok, err := s.UseOnce(ctx, id(4), time.Now().Add(time.Hour)); err != nil || !ok {
			t.Fatalf("after expiry: %v, %v", ok, err)
		}
		if ok, err := s.UseOnce(ctx, id(4), time.Now().Add(time.Hour)); err != nil || ok {
			t.Fatalf("second use: %v, %v", ok, err)
		}
	})
}
