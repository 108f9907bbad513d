//go:build unix

package procstat

import (
	"syscall"
	"time"
)

// SelfCPU is this process's user+sys CPU time, to the microsecond (getrusage,
// finer than /proc's 10 ms ticks); -1 when unknown. A benchmark's load
// generator runs in its own process, so this is the client's CPU.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
