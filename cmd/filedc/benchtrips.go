package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/filedc/filedc/internal/store/trips"
)

// tripCounts are the servers' round trips to their stores so far, summed
// over the processes, as their /metrics say.
type tripCounts map[trips.Key]float64

// scrapeTrips reads filedc_store_round_trips_total from each server.
func scrapeTrips(ctx context.Context, srvs []*benchServer) (tripCounts, error) {
	sum := tripCounts{}
	for _, srv := range srvs {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+srv.admin.Addr+"/metrics", nil)
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

// tripsPer is what one kind of operation cost in round trips, per operation.
type tripsPer struct {
	what string
	n    int // operations
	per  map[trips.Key]float64
}

// since returns the trips made since before, per one of n operations.
func (after tripCounts) since(before tripCounts, what string, n int) tripsPer {
	t := tripsPer{what: what, n: n, per: map[trips.Key]float64{}}
	for k, v := range after {
		if d := v - before[k]; d > 0 && n > 0 {
			t.per[k] = d / float64(n)
		}
	}
	return t
}

// objectWrites and databaseWrites count what the goals of a part save and a
// finalization speak of.
func (t tripsPer) objectWrites() float64 { return t.per[trips.Key{Service: "s3", Op: "put"}] }
func (t tripsPer) transactions() float64 { return t.per[trips.Key{Service: "postgres", Op: "begin"}] }
func (t tripsPer) databaseWrites() float64 {
	return t.per[trips.Key{Service: "postgres", Op: "write"}] + t.per[trips.Key{Service: "postgres", Op: "batch"}]
}

func (t tripsPer) String() string {
	if len(t.per) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range trips.Keys(t.per) {
		parts = append(parts, fmt.Sprintf("%s %s %.2f", k.Service, k.Op, t.per[k]))
	}
	return strings.Join(parts, ", ")
}

// printTrips prints the round trips per operation, for each size, and the
// goals they are held to.
func printTrips(w io.Writer, results []benchResult) {
	if len(results) == 0 || results[0].trips == nil {
		return
	}
	fmt.Fprintln(w, "\nround trips to the stores per operation (filedc_store_round_trips_total; redis hello: a new connection):")
	for _, r := range results {
		for _, t := range r.trips {
			fmt.Fprintf(w, "  %s %s (%d): %s\n", formatSize(r.size), t.what, t.n, t)
		}
	}
	for _, r := range results {
		save, final := r.trips[0], r.trips[1]
		fmt.Fprintf(w, "  %s: a part saved made %.2f object writes (goal at most 1) and %.2f database writes (goal 0); a finalization made %.0f transactions (goal at most 1)\n",
			formatSize(r.size), save.objectWrites(), save.databaseWrites(), final.transactions())
	}
}
