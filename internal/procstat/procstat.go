// Package procstat reads another process's CPU time and memory from /proc
// (and this process's CPU time from getrusage), for the benchmarks and tests
// that run a server in its own process. It is the one /proc reader of the
// project.
package procstat

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPU is the user+sys CPU time of process pid from /proc/PID/stat, in clock
// ticks of 10 ms (the USER_HZ of every Linux architecture Go supports but
// alpha); -1 where there is no /proc.
func CPU(pid int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	i := bytes.LastIndexByte(raw, ')') // the command name may hold spaces
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// RSS is the resident memory of process pid from /proc/PID/status, in
// bytes; -1 where there is no /proc.
func RSS(pid int) int64 { return statusKB(pid, "VmRSS:") }

// PeakRSS is the peak resident memory (VmHWM) of process pid since it
// started or since ResetPeakRSS, in bytes; -1 where there is no /proc.
func PeakRSS(pid int) int64 { return statusKB(pid, "VmHWM:") }

// ResetPeakRSS resets the peak of process pid to its current resident
// memory (Linux: clear_refs 5), and reports whether it could.
func ResetPeakRSS(pid int) bool {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0) == nil
}

// LoadAverage is the machine's 1-minute load average, or "n/a".
func LoadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(raw)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "n/a"
}

// statusKB reads a "NAME: N kB" field of /proc/PID/status, in bytes.
func statusKB(pid int, name string) int64 {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return -1
}
