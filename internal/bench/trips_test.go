package bench

import (
	"testing"

	"github.com/filedc/filedc/internal/store/trips"
)

// TestTripsPerOperation: the trips since a scrape, per operation, and the
// counts the goals speak of.
func TestTripsPerOperation(t *testing.T) {
	put := trips.Key{Service: "s3", Op: "put"}
	begin := trips.Key{Service: "postgres", Op: "begin"}
	write := trips.Key{Service: "postgres", Op: "write"}
	before := TripCounts{put: 10, begin: 1}
	after := TripCounts{put: 18, begin: 1, write: 4}
	per := after.Since(before, "part saved", 8)
	if per.ObjectWrites() != 1 || per.DatabaseWrites() != 0.5 || per.Transactions() != 0 {
		t.Errorf("per part: %v object writes, %v database writes, %v transactions", per.ObjectWrites(), per.DatabaseWrites(), per.Transactions())
	}
	if got := per.String(); got != "postgres write 0.50, s3 put 1.00" && got != "s3 put 1.00, postgres write 0.50" {
		t.Errorf("String = %q", got)
	}
	if got := after.Since(after, "nothing", 1).String(); got != "none" {
		t.Errorf("no trips: %q", got)
	}
}
