package bench

import (
	"math"
	"slices"
	"testing"
	"time"
)

// TestPercentile: nearest rank, on no values, one value and the edges of
// p, without reordering what it is given.
func TestPercentile(t *testing.T) {
	if got := Percentile(nil, 0.5); got != -1 {
		t.Errorf("Percentile(nil) = %v, want -1", got)
	}
	if got := Percentile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("Percentile of one value = %v, want it", got)
	}
	ds := []time.Duration{50, 10, 40, 20, 30, 100, 90, 80, 70, 60}
	before := slices.Clone(ds)
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0, 10}, {0.1, 10}, {0.5, 50}, {0.51, 60}, {0.99, 100}, {1, 100}} {
		if got := Percentile(ds, tc.p); got != tc.want {
			t.Errorf("Percentile(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if !slices.Equal(ds, before) {
		t.Errorf("Percentile reordered its input: %v", ds)
	}
}

func TestRatesAndCosts(t *testing.T) {
	if got := MiBps(10*MiB, 2*time.Second); got != 5 {
		t.Errorf("MiBps = %v, want 5", got)
	}
	if got := MiBps(MiB, 0); got != 0 {
		t.Errorf("MiBps over no time = %v, want 0", got)
	}
	if got := MsPerMiB(30*time.Millisecond, 10*MiB); math.Abs(got-3) > 1e-9 {
		t.Errorf("MsPerMiB = %v, want 3", got)
	}
	if got := SumKnown([]int64{1, 2, 3}); got != 6 {
		t.Errorf("SumKnown = %d, want 6", got)
	}
	if got := SumKnown([]time.Duration{1, -1, 3}); got != -1 {
		t.Errorf("SumKnown with an unknown = %d, want -1", got)
	}
}

// TestClientBound: a client spending 4 ms per MiB beside a server that
// only does its crypto at 250 MiB/s (4 ms per MiB) leaves 2 cores 250 MiB/s;
// too little client CPU to tell gives no bound.
func TestClientBound(t *testing.T) {
	bound, clientMs := ClientBound(100*MiB, 400*time.Millisecond, 250, 2)
	if math.Abs(clientMs-4) > 1e-9 || math.Abs(bound-250) > 1e-9 {
		t.Errorf("ClientBound = %v MiB/s, client %v ms/MiB; want 250, 4", bound, clientMs)
	}
	for _, cpu := range []time.Duration{-1, minBoundCPU - 1} {
		if bound, _ := ClientBound(100*MiB, cpu, 250, 2); bound != 0 {
			t.Errorf("ClientBound with client CPU %v = %v, want 0", cpu, bound)
		}
	}
}

// TestMeasureFloors: even a short measure gives every rate, and the
// floors per MiB are what the rates say.
func TestMeasureFloors(t *testing.T) {
	f := MeasureFloors(40 * time.Millisecond)
	for name, rate := range map[string]float64{"both ends": f.BothEnds, "send": f.Send, "receive": f.Receive, "SHA-256": f.SHA256} {
		if !(rate > 0) || math.IsInf(rate, 0) {
			t.Errorf("%s: %v MiB/s", name, rate)
		}
	}
	if got, want := f.UploadFloor(), 1000/f.Receive+1000/f.SHA256; got != want || got <= 0 {
		t.Errorf("UploadFloor = %v, want %v", got, want)
	}
	if got, want := f.DownloadFloor(), 1000/f.Send; got != want || got <= 0 {
		t.Errorf("DownloadFloor = %v, want %v", got, want)
	}
}

// TestProfileFilesOfARepeatedSize: a size measured twice keeps both
// profiles, under names of their own.
func TestProfileFilesOfARepeatedSize(t *testing.T) {
	p := &Profiles{Servers: []*Server{nil}}
	got := []string{p.file("1GiB-upload", 0, "cpu"), p.file("1GiB-upload", 0, "cpu"), p.file("1GiB", 0, "allocs"), p.file("1GiB-upload", 0, "cpu")}
	want := []string{"1GiB-upload.cpu.pprof", "1GiB-upload-2.cpu.pprof", "1GiB.allocs.pprof", "1GiB-upload-3.cpu.pprof"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	p = &Profiles{Servers: []*Server{nil, nil}}
	if got := []string{p.file("5MiB", 1, "cpu"), p.file("5MiB", 1, "cpu")}; !slices.Equal(got, []string{"5MiB.process2.cpu.pprof", "5MiB-2.process2.cpu.pprof"}) {
		t.Fatalf("several processes: got %q", got)
	}
}
