package metrics

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/filedc/filedc/internal/mtproto/server"
)

func TestO3_Normalize(t *testing.T) {
	for in, want := range map[string]string{
		"FLOOD_WAIT_5":           "FLOOD_WAIT_X",
		"FILE_PART_3_MISSING":    "FILE_PART_X_MISSING",
		"FILE_MIGRATE_12":        "FILE_MIGRATE_X",
		"FILE_PART_SIZE_INVALID": "FILE_PART_SIZE_INVALID",
		"":                       "",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestO3_ObserveCall: calls are counted by method and normalized error,
// methods outside the route table as "unknown", FLOOD_WAIT by its limit,
// the error labels are bounded, and a successful call allocates nothing.
func TestO3_ObserveCall(t *testing.T) {
	m := New(2, "test")
	m.ObserveCall("upload.saveFilePart", time.Millisecond, nil)
	m.ObserveCall("upload.saveFilePart", time.Millisecond, &server.RPCError{Code: 400, Message: "FILE_PART_3_MISSING"})
	m.ObserveCall("upload.saveFilePart", time.Millisecond, &server.RPCError{Code: 400, Message: "FILE_PART_4_MISSING"})
	m.ObserveCall("upload.getFile", time.Millisecond, &server.RPCError{Code: 420, Message: "FLOOD_WAIT_7", Limit: "account_requests"})
	m.ObserveCall("user 12345 made this up", time.Millisecond, fmt.Errorf("disk on fire at /var/x"))
	for i := range 2 * maxErrorLabels {
		m.ObserveCall("help.getConfig", 0, &server.RPCError{Code: 400, Message: fmt.Sprintf("E%c%c", 'A'+i%26, 'A'+i/26)})
	}
	for series, want := range map[string]float64{
		`method="upload.saveFilePart",code="200",error="OK"`:                  1,
		`method="upload.saveFilePart",code="400",error="FILE_PART_X_MISSING"`: 2,
		`method="upload.getFile",code="420",error="FLOOD_WAIT_X"`:             1,
		`method="unknown",code="500",error="INTERNAL"`:                        1,
	} {
		var labels []string
		for _, kv := range strings.Split(series, ",") {
			_, v, _ := strings.Cut(kv, "=")
			labels = append(labels, strings.Trim(v, `"`))
		}
		if got := testutil.ToFloat64(m.calls.WithLabelValues(labels...)); got != want {
			t.Errorf("filedc_rpc_calls_total{%s} = %v, want %v", series, got, want)
		}
	}
	if n := len(m.errLabels); n != maxErrorLabels {
		t.Errorf("%d error labels, want at most %d", n, maxErrorLabels)
	}
	if got := m.floods["account_requests"].Load(); got != 1 {
		t.Errorf("FLOOD_WAIT by account_requests = %d", got)
	}
	recent := m.Recent()
	if len(recent) != recentErrors || recent[0].Message != fmt.Sprintf("E%c%c", 'A'+(2*maxErrorLabels-1)%26, 'A'+(2*maxErrorLabels-1)/26) {
		t.Errorf("recent errors: %d, newest %+v", len(recent), recent[0])
	}
	if allocs := testing.AllocsPerRun(1000, func() { m.ObserveCall("upload.saveFilePart", time.Millisecond, nil) }); allocs != 0 {
		t.Errorf("a successful call allocates %v times", allocs)
	}
	if problems, err := testutil.GatherAndLint(m.Registry()); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}
