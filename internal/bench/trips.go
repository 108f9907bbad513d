package bench

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/filedc/filedc/internal/store/trips"
)

// TripCounts are the servers' round trips to their stores so far, summed
// over the processes, as their /metrics say.
type TripCounts map[trips.Key]float64

// ScrapeTrips reads filedc_store_round_trips_total from each server's
// admin address.
func ScrapeTrips(ctx context.Context, srvs []*Server) (TripCounts, error) {
	sum := TripCounts{}
	for _, srv := range srvs {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+srv.Admin.Addr+"/metrics", nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("reading the server's metrics: %w", err)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := parser.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the server's metrics: %w", err)
		}
		mf := mfs["filedc_store_round_trips_total"]
		if mf == nil {
			continue
		}
		for _, m := range mf.Metric {
			var k trips.Key
			for _, l := range m.Label {
				switch l.GetName() {
				case "service":
					k.Service = l.GetValue()
				case "op":
					k.Op = l.GetValue()
				}
			}
			sum[k] += m.GetCounter().GetValue()
		}
	}
	return sum, nil
}

// TripsPer is what one kind of operation cost in round trips, per operation.
type TripsPer struct {
	What string
	N    int // operations
	Per  map[trips.Key]float64
}

// Since returns the trips made since before, per one of n operations.
func (after TripCounts) Since(before TripCounts, what string, n int) TripsPer {
	t := TripsPer{What: what, N: n, Per: map[trips.Key]float64{}}
	for k, v := range after {
		if d := v - before[k]; d > 0 && n > 0 {
			t.Per[k] = d / float64(n)
		}
	}
	return t
}

// ObjectWrites, DatabaseWrites and Transactions count what the goals of a
// part save and a finalization speak of.
func (t TripsPer) ObjectWrites() float64 { return t.Per[trips.Key{Service: "s3", Op: "put"}] }

// DatabaseWrites: see ObjectWrites.
func (t TripsPer) DatabaseWrites() float64 {
	return t.Per[trips.Key{Service: "postgres", Op: "write"}] + t.Per[trips.Key{Service: "postgres", Op: "batch"}]
}

// Transactions: see ObjectWrites.
func (t TripsPer) Transactions() float64 { return t.Per[trips.Key{Service: "postgres", Op: "begin"}] }

// String lists the trips per operation by store and kind, "none" for none.
func (t TripsPer) String() string {
	if len(t.Per) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range trips.Keys(t.Per) {
		parts = append(parts, fmt.Sprintf("%s %s %.2f", k.Service, k.Op, t.Per[k]))
	}
	return strings.Join(parts, ", ")
}
