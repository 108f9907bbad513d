package main

import (
	"fmt"
	"io"
)

// printTrips prints the round trips per operation, for each size, and the
// goals they are held to.
func printTrips(w io.Writer, results []benchResult) {
	if len(results) == 0 || results[0].Trips == nil {
		return
	}
	fmt.Fprintln(w, "\nround trips to the stores per operation (filedc_store_round_trips_total; redis hello: a new connection):")
	for _, r := range results {
		for _, t := range r.Trips {
			fmt.Fprintf(w, "  %s %s (%d): %s\n", formatSize(r.Size), t.What, t.N, t)
		}
	}
	for _, r := range results {
		save, final := r.Trips[0], r.Trips[1]
		fmt.Fprintf(w, "  %s: a part saved made %.2f object writes (goal at most 1) and %.2f database writes (goal 0); a finalization made %.0f transactions (goal at most 1)\n",
			formatSize(r.Size), save.ObjectWrites(), save.DatabaseWrites(), final.Transactions())
	}
}
