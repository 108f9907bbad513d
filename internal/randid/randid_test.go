package randid

import "testing"

func TestInDC(t *testing.T) {
	for _, dc := range []int{1, 2, 5, 203, 255} {
		for range 100 {
			id := InDC(dc)
			if id <= 0 || DC(id) != dc {
				t.Fatalf("InDC(%d) = %#x, DC = %d", dc, id, DC(id))
			}
		}
	}
	for _, dc := range []int{0, -1, 256} {
		if id := InDC(dc); id <= 0 {
			t.Fatalf("InDC(%d) = %d, want a positive id", dc, id)
		}
	}
	if DC(0) != 0 || DC(-5) != 0 {
		t.Fatal("DC of a non-positive id must be 0")
	}
}
