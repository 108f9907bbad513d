package bench

import (
	"slices"
	"time"
)

// MiB is the unit every rate and cost of the benchmarks is given in.
const MiB = 1 << 20

// MiBps is n bytes moved in d, in MiB/s; 0 when d is not positive.
func MiBps(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / MiB / d.Seconds()
}

// MsPerMiB is a CPU time spent on n bytes, in ms per MiB.
func MsPerMiB(d time.Duration, n int64) float64 {
	return float64(d) / float64(time.Millisecond) / (float64(n) / MiB)
}

// Percentile returns the p-quantile (nearest rank) of ds, or -1 for none.
// ds is left as it is.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return -1
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// SumKnown sums vs, or returns -1 when one of them is unknown (negative),
// as a CPU time or a size read from /proc is where there is none.
func SumKnown[T int64 | time.Duration](vs []T) T {
	var sum T
	for _, v := range vs {
		if v < 0 {
			return -1
		}
		sum += v
	}
	return sum
}

// minBoundCPU is the least client CPU time a bound is computed from; less
// says more about timer resolution and start-up than about the client.
const minBoundCPU = 50 * time.Millisecond

// ClientBound is the most a direction could reach with this client: the
// client's measured CPU per MiB plus a server that does nothing but its
// crypto (serverRate MiB/s on one core), spread perfectly over every core.
// The client and the server share the machine, so a heavy client caps any
// server. It is 0 when the client's CPU time is unknown or too short to
// tell.
func ClientBound(size int64, clientCPU time.Duration, serverRate float64, cores int) (bound, clientMsPerMiB float64) {
	if clientCPU < minBoundCPU || size <= 0 || serverRate <= 0 {
		return 0, 0
	}
	clientMsPerMiB = MsPerMiB(clientCPU, size)
	return float64(cores) * 1000 / (clientMsPerMiB + 1000/serverRate), clientMsPerMiB
}
