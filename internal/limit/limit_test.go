package limit

import (
	"testing"
	"time"
)

// TestS7c_BucketsPerKey: each key has its own burst and refill; a refused
// take costs nothing and says how long to wait.
func TestS7c_BucketsPerKey(t *testing.T) {
	now := time.Unix(1000, 0)
	k := New[string](2, 3, 100, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := k.Take("a", 1); !ok {
			t.Fatalf("take %d of a burst of 3 refused", i)
		}
	}
	ok, wait := k.Take("a", 1)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("fourth take: %v, wait %v; want refused, 500ms", ok, wait)
	}
	if ok, _ := k.Take("b", 1); !ok {
		t.Fatal("another key shares the bucket")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := k.Take("a", 1); !ok {
		t.Fatal("no refill after the wait")
	}
	if ok, _ := k.Check("a", 1); ok {
		t.Fatal("Check sees a token in an empty bucket")
	}
	if FloodWait(wait) != "FLOOD_WAIT_1" || FloodWait(2500*time.Millisecond) != "FLOOD_WAIT_3" {
		t.Fatal("FloodWait rounds up to whole seconds")
	}
}

// TestS7c_TableIsBounded: a flood of new keys keeps at most maxKeys
// buckets.
func TestS7c_TableIsBounded(t *testing.T) {
	k := New[int](1, 5, 1000, nil)
	for i := range 100_000 {
		k.Take(i, 1)
	}
	if n := k.Len(); n > 1000 {
		t.Fatalf("%d buckets for a bound of 1000", n)
	}
}
