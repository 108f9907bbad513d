package trips

import (
	"sync"
	"testing"
)

// TestCounterCountsByServiceAndOp: concurrent adds all count, a snapshot
// is a copy, keys come in order, and a nil counter counts nothing.
func TestCounterCountsByServiceAndOp(t *testing.T) {
	c := New()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c.Add("s3", "put")
				c.Add("postgres", "begin")
			}
		})
	}
	wg.Wait()
	c.Add("redis", "pipeline")
	s := c.Snapshot()
	if s[Key{"s3", "put"}] != 8000 || s[Key{"postgres", "begin"}] != 8000 || s[Key{"redis", "pipeline"}] != 1 {
		t.Fatalf("snapshot %v", s)
	}
	c.Add("s3", "put")
	if s[Key{"s3", "put"}] != 8000 {
		t.Error("a snapshot changed after it was taken")
	}
	keys := Keys(s)
	if len(keys) != 3 || keys[0] != (Key{"postgres", "begin"}) || keys[1] != (Key{"redis", "pipeline"}) || keys[2] != (Key{"s3", "put"}) {
		t.Errorf("keys %v", keys)
	}
	var none *Counter
	none.Add("s3", "put")
	if none.Snapshot() != nil {
		t.Error("a nil counter counted")
	}
}
