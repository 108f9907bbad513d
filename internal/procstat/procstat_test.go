package procstat

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestCPUOfThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		if CPU(os.Getpid()) != -1 {
			t.Fatal("a CPU time without /proc")
		}
		return
	}
	// Spin until the kernel has counted 30 ms more (a few ticks), however
	// busy the machine; a reader that never sees it advance fails.
	before := CPU(os.Getpid())
	if before < 0 {
		t.Fatal("no CPU time for this process")
	}
	after := before
	for deadline := time.Now().Add(30 * time.Second); after < before+30*time.Millisecond && time.Now().Before(deadline); {
		after = CPU(os.Getpid())
	}
	if after < before+30*time.Millisecond {
		t.Fatalf("CPU stayed at %v (from %v) through 30 s of spinning", after, before)
	}
	if CPU(-5) != -1 {
		t.Fatal("a CPU time for no process")
	}
}

// TestSelfCPUCountsWork: this process's CPU time grows while it computes.
func TestSelfCPUCountsWork(t *testing.T) {
	before := SelfCPU()
	if before < 0 {
		t.Skip("no getrusage here")
	}
	x := uint64(1)
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		for i := range 1000 {
			x = x*6364136223846793005 + uint64(i)
		}
	}
	if after := SelfCPU(); after <= before || x == 0 {
		t.Fatalf("CPU went from %v to %v over 50 ms of work", before, after)
	}
}
