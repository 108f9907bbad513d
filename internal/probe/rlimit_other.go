//go:build !linux

package probe

import "time"

// limitTool sets no limits where prlimit does not exist; the timeout and
// the tools' own options still bound them.
func limitTool(pid int, cpu time.Duration) error { return nil }
