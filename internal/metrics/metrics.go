// Package metrics exposes filedc's Prometheus metrics (rule O3) on a
// registry of the server's own: calls by method and error, the file
// engine's traffic and temporary space, connections, sessions and layers,
// flood limits, store errors, and the Go runtime and process.
//
// The engine and the MTProto server keep plain atomic counters; a
// Collector reads them at scrape time, so neither imports this package or
// a metrics library. Calls come in through rpc.Observer, which costs the
// upload and download paths no allocation.
package metrics

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/rpc"
	"github.com/filedc/filedc/internal/store/trips"
)

// maxErrorLabels bounds the distinct error messages counted by name; past
// it new ones are counted as "OTHER". Messages are the server's own
// constants with numbers replaced by X, so this is a safety net.
const maxErrorLabels = 256

// recentErrors is how many of the last errors Recent keeps.
const recentErrors = 50

// The limits a FLOOD_WAIT_X or a -429 names (rpc, files, library, server).
var limits = []string{
	"account_requests", "anon_calls", "bot_login_failures", "probe",
	files.LimitTempUploads, files.LimitTempBytes, files.LimitTempBudget,
	server.LimitKeyExchanges, server.LimitNewKeys, server.LimitConnsPerIP,
}

// Monitor holds the metrics of one filedc process.
type Monitor struct {
	reg    *prometheus.Registry
	engine atomic.Pointer[files.Engine]
	server atomic.Pointer[server.Server]
	trips  atomic.Pointer[trips.Counter]

	methods   map[string]*method // by route name, "unknown" included; read-only
	calls     *prometheus.CounterVec
	durations *prometheus.HistogramVec
	finalize  prometheus.Histogram
	floods    map[string]*atomic.Int64 // FLOOD_WAIT answers by limit; read-only map

	errMu     sync.Mutex
	errLabels map[string]bool // normalized messages counted by name
	recent    [recentErrors]CallError
	nRecent   int // errors ever recorded
}

// method caches one method's series, made on its first call so that
// methods never called export nothing.
type method struct {
	name string
	mu   sync.Mutex
	s    atomic.Pointer[methodSeries]
}

type methodSeries struct {
	ok  prometheus.Counter
	dur prometheus.Observer
}

// CallError is one call that failed, as the status page lists it.
type CallError struct {
	Time    time.Time
	Method  string
	Code    int
	Message string
}

// New returns a monitor with the Go runtime and process collectors; dc and
// version label filedc_info.
func New(dc int, version string) *Monitor {
	m := &Monitor{
		reg:       prometheus.NewRegistry(),
		methods:   make(map[string]*method),
		errLabels: make(map[string]bool),
		floods:    make(map[string]*atomic.Int64),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "filedc_rpc_calls_total",
			Help: "API calls answered, by method, code (200 for a result) and error (numbers replaced by X, OK for a result).",
		}, []string{"method", "code", "error"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "filedc_rpc_call_duration_seconds",
			Help:    "Time to answer an API call, by method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method"}),
		finalize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "filedc_finalization_duration_seconds",
			Help:    "Time to finalize an upload into a stored file (hashing and sealing), failures included.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
	}
	for _, name := range append(rpc.MethodNames(), "unknown") {
		m.methods[name] = &method{name: name}
	}
	for _, l := range limits {
		m.floods[l] = new(atomic.Int64)
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "filedc_info", Help: "Always 1: this DC's id and filedc's version.",
		ConstLabels: prometheus.Labels{"dc": strconv.Itoa(dc), "version": version}})
	info.Set(1)
	m.reg.MustRegister(m.calls, m.durations, m.finalize, info, (*collector)(m),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the monitor's registry.
func (m *Monitor) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus' text or OpenMetrics format.
func (m *Monitor) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// WatchEngine makes the engine's counters part of the metrics.
func (m *Monitor) WatchEngine(e *files.Engine) { m.engine.Store(e) }

// WatchServer makes the MTProto server's counters part of the metrics.
func (m *Monitor) WatchServer(s *server.Server) { m.server.Store(s) }

// WatchTrips makes the stores' round trips part of the metrics.
func (m *Monitor) WatchTrips(c *trips.Counter) { m.trips.Store(c) }

// Engine and Server return what is watched, or nil.
func (m *Monitor) Engine() *files.Engine  { return m.engine.Load() }
func (m *Monitor) Server() *server.Server { return m.server.Load() }

// Finalized observes a finalization (files.Config.OnFinalize).
func (m *Monitor) Finalized(d time.Duration, _ error) { m.finalize.Observe(d.Seconds()) }

var _ rpc.Observer = (*Monitor)(nil)

// ObserveCall implements rpc.Observer. A call that succeeds allocates
// nothing once its method has been seen.
func (m *Monitor) ObserveCall(name string, d time.Duration, err error) {
	me := m.methods[name]
	if me == nil {
		me = m.methods["unknown"]
	}
	s := me.s.Load()
	if s == nil {
		s = me.series(m)
	}
	s.dur.Observe(d.Seconds())
	if err == nil {
		s.ok.Inc()
		return
	}
	code, msg, limit := 500, "INTERNAL", ""
	var re *server.RPCError
	if errors.As(err, &re) {
		code, msg, limit = re.Code, re.Message, re.Limit
	}
	if code == 420 && limit != "" {
		if n := m.floods[limit]; n != nil {
			n.Add(1)
		}
	}
	label := Normalize(msg)
	m.errMu.Lock()
	if !m.errLabels[label] {
		if len(m.errLabels) < maxErrorLabels {
			m.errLabels[label] = true
		} else {
			label = "OTHER"
		}
	}
	m.recent[m.nRecent%recentErrors] = CallError{Time: time.Now(), Method: me.name, Code: code, Message: msg}
	m.nRecent++
	m.errMu.Unlock()
	m.calls.WithLabelValues(me.name, strconv.Itoa(code), label).Inc()
}

func (me *method) series(m *Monitor) *methodSeries {
	me.mu.Lock()
	defer me.mu.Unlock()
	if s := me.s.Load(); s != nil {
		return s
	}
	s := &methodSeries{ok: m.calls.WithLabelValues(me.name, "200", "OK"), dur: m.durations.WithLabelValues(me.name)}
	me.s.Store(s)
	return s
}

// Recent returns the last errors, the newest first.
func (m *Monitor) Recent() []CallError {
	m.errMu.Lock()
	defer m.errMu.Unlock()
	n := min(m.nRecent, recentErrors)
	out := make([]CallError, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, m.recent[(m.nRecent-i)%recentErrors])
	}
	return out
}

// Normalize replaces each run of digits in an error message with X, as
// Telegram's documentation names them: FLOOD_WAIT_5 is FLOOD_WAIT_X,
// FILE_PART_3_MISSING is FILE_PART_X_MISSING.
func Normalize(msg string) string {
	i := 0
	for i < len(msg) && (msg[i] < '0' || msg[i] > '9') {
		i++
	}
	if i == len(msg) {
		return msg // no digits: no copy
	}
	b := make([]byte, 0, len(msg))
	digits := false
	for j := 0; j < len(msg); j++ {
		if c := msg[j]; c >= '0' && c <= '9' {
			if !digits {
				b = append(b, 'X')
			}
			digits = true
			continue
		}
		digits = false
		b = append(b, msg[j])
	}
	return string(b)
}
