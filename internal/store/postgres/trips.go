package postgres

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/filedc/filedc/internal/store/trips"
)

// tripTracer counts the statements and batches sent to PostgreSQL, each a
// round trip: reads (SELECT), writes (anything else) and a transaction's
// begin, commit and rollback.
// It counts once on is set: the migrations at start are not the work
// being measured.
type tripTracer struct {
	c  *trips.Counter
	on *atomic.Bool
}

func (t tripTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !t.on.Load() {
		return ctx
	}
	op := "write"
	switch sql := strings.ToLower(strings.TrimSpace(data.SQL)); {
	case strings.HasPrefix(sql, "select"):
		op = "read"
	case strings.HasPrefix(sql, "begin"):
		op = "begin"
	case sql == "commit":
		op = "commit"
	case sql == "rollback":
		op = "rollback"
	}
	t.c.Add("postgres", op)
	return ctx
}

func (tripTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t tripTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	if t.on.Load() {
		t.c.Add("postgres", "batch")
	}
	return ctx
}

func (tripTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (tripTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}
