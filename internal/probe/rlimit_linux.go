package probe

import (
	"time"

	"golang.org/x/sys/unix"
)

// Resource limits of a tool's process (S7c): CPU seconds for its timeout,
// 2 GiB of address space (frames of 8K video fit; -max_alloc bounds each
// allocation), no file it may write, a few descriptors. They are set right
// after the process starts, as Go cannot set them between fork and exec.
const (
	toolAddressSpace = 2 << 30
	toolOpenFiles    = 64
)

func limitTool(pid int, cpu time.Duration) error {
	secs := uint64(cpu/time.Second) + 1
	for _, l := range []struct {
		res int
		max uint64
	}{
		{unix.RLIMIT_CPU, secs},
		{unix.RLIMIT_AS, toolAddressSpace},
		{unix.RLIMIT_FSIZE, 0},
		{unix.RLIMIT_NOFILE, toolOpenFiles},
		{unix.RLIMIT_CORE, 0},
	} {
		lim := unix.Rlimit{Cur: l.max, Max: l.max}
		if err := unix.Prlimit(pid, l.res, &lim, nil); err != nil {
			return err
		}
	}
	return nil
}
