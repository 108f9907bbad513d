//go:build !unix

package procstat

import "time"

// SelfCPU is unknown here.
func SelfCPU() time.Duration { return -1 }
