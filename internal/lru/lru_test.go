package lru

import "testing"

func TestCacheKeepsWithinItsBudget(t *testing.T) {
	c := New[int, string](10)
	c.Put(1, "a", 4)
	c.Put(2, "b", 4)
	if _, ok := c.Get(1); !ok { // 1 is now the most recently used
		t.Fatal("1 missing")
	}
	c.Put(3, "c", 4) // over 10: 2 goes
	if _, ok := c.Get(2); ok {
		t.Error("the least recently used value stayed past the budget")
	}
	if v, ok := c.Get(3); !ok || v != "c" {
		t.Errorf("3: %q, %v", v, ok)
	}
	c.Delete(1)
	c.Delete(99) // missing: nothing happens
	if _, ok := c.Get(1); ok {
		t.Error("1 still there after Delete")
	}
	c.Put(4, "d", 6) // fits beside 3 now that 1 went
	if _, ok := c.Get(3); !ok {
		t.Error("Delete did not give back its cost: 3 evicted")
	}
	c.Put(5, "e", 11)
	if _, ok := c.Get(5); ok {
		t.Error("a value over the whole budget was kept")
	}
	if st := c.Stats(); st.Evictions != 1 {
		t.Errorf("%d evictions, want 1", st.Evictions)
	}
}
