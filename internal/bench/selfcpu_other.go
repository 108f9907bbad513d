//go:build !unix

package bench

import "time"

// SelfCPU is unknown here.
func SelfCPU() time.Duration { return -1 }
