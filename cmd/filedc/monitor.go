package main

import (
	"context"
	"net/http"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/metrics"
	"github.com/filedc/filedc/internal/status"
)

// monitor is what serve shows on --http besides /healthz: the Prometheus
// metrics at /metrics and the status page at / (rule O3). Kept apart from
// serve.go so that serve only mounts it.
type monitor struct {
	*metrics.Monitor
	page  *status.Page
	token string
}

// newMonitor makes the monitor before the engine opens, so that the
// engine's finalizations reach it.
func newMonitor(o *serveOptions) *monitor {
	m := metrics.New(o.dc, status.Version())
	o.files.OnFinalize = m.Finalized
	return &monitor{Monitor: m, token: o.httpToken,
		page: status.New(status.Config{DC: o.dc, Backends: o.stores.Describe(), Monitor: m, Token: o.httpToken})}
}

// mount serves the metrics and the page on mux, --http-token required on
// both, and samples throughput until ctx ends.
func (mon *monitor) mount(ctx context.Context, mux *http.ServeMux, e *files.Engine) {
	mon.WatchEngine(e)
	mux.Handle("GET /metrics", status.Protect(mon.token, mon.Handler()))
	mon.page.Mount(mux)
	go mon.page.Run(ctx)
}
