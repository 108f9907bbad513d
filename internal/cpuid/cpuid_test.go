package cpuid

import (
	"os"
	"strings"
	"testing"
)

// TestSHAAgreesWithTheKernel: where /proc/cpuinfo lists the CPU's flags,
// SHA is set exactly when they include sha_ni.
func TestSHAAgreesWithTheKernel(t *testing.T) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil || !strings.Contains(string(b), "\nflags") {
		t.Skip("no x86 /proc/cpuinfo here")
	}
	if want := strings.Contains(string(b), " sha_ni"); SHA != want {
		t.Fatalf("SHA = %v, /proc/cpuinfo says %v", SHA, want)
	}
}
