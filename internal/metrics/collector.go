package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// collector reads the engine's and the server's counters at scrape time.
type collector Monitor

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	descPartsSaved  = desc("filedc_parts_saved_total", "Parts saved (saveFilePart and saveBigFilePart), saves of a part again included.")
	descBytesSaved  = desc("filedc_bytes_saved_total", "Bytes of the parts saved.")
	descBytesServed = desc("filedc_bytes_served_total", "Bytes of stored files read for clients (upload.getFile and the CDN).")
	descSaving      = desc("filedc_parts_in_flight", "Parts being saved right now.")
	descTempParts   = desc("filedc_temp_parts", "Parts held in temporary storage for uploads not yet finalized.")
	descTempBytes   = desc("filedc_temp_bytes", "Bytes of temporary parts held.")
	descTempBudget  = desc("filedc_temp_budget_bytes", "The budget of temporary bytes (--temp-budget); past it the oldest uploads are evicted.")
	descUploads     = desc("filedc_uploads_open", "Uploads with parts in temporary storage, not yet finalized.")
	descEvictions   = desc("filedc_evictions_total", "Uploads removed from temporary storage before finalization, by reason: budget (evicted to keep within --temp-budget) or expired (past --temp-max-ttl).", "reason")
	descFinalized   = desc("filedc_finalizations_total", "Finalizations of uploads into stored files, by result (ok or error).", "result")
	descHashStates  = desc("filedc_hash_states_total", "States of uploads' hashes over their first parts: kept (written beside the parts, every --hash-state-every bytes) or loaded (gone on from at a start).", "op")
	descStoreErrors = desc("filedc_store_errors_total", "Failures of the stores the file engine uses, by store: temp (temporary parts), content (stored files) or records.", "store")
	descConns       = desc("filedc_connections", "MTProto connections open, by transport and whether obfuscated2 wraps it.", "transport", "obfuscated")
	descConnsTotal  = desc("filedc_connections_total", "MTProto connections accepted, by transport and whether obfuscated2 wraps it.", "transport", "obfuscated")
	descKeysCreated = desc("filedc_auth_keys_created_total", "Auth keys created by key exchanges.")
	descSessions    = desc("filedc_sessions", "MTProto sessions kept.")
	descLayers      = desc("filedc_sessions_by_layer", "MTProto sessions by the API layer their auth key declared (none: not declared).", "layer")
	descTrips       = desc("filedc_store_round_trips_total", "Round trips to the services behind the stores, by service (s3, redis, postgres) and kind (put, read, pipeline, query, begin, ...).", "service", "op")
	descLimited     = desc("filedc_limited_total", "Calls answered FLOOD_WAIT_X and connections answered transport error -429, by the flood limit that refused them.", "limit")
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPartsSaved, descBytesSaved, descBytesServed, descSaving, descTempParts,
		descTempBytes, descTempBudget, descUploads, descEvictions, descFinalized, descHashStates, descStoreErrors,
		descConns, descConnsTotal, descKeysCreated, descSessions, descLayers, descLimited, descTrips} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	m := (*Monitor)(c)
	metric := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		metric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		metric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	limited := make(map[string]int64, len(m.floods))
	for l, n := range m.floods {
		limited[l] = n.Load()
	}
	if e := m.engine.Load(); e != nil {
		st := e.Stats()
		counter(descPartsSaved, st.PartsSaved)
		counter(descBytesSaved, st.BytesSaved)
		counter(descBytesServed, st.BytesServed)
		gauge(descSaving, st.SavesRunning)
		gauge(descTempParts, int64(e.TempParts()))
		gauge(descTempBytes, e.TempBytes())
		gauge(descTempBudget, e.TempBudget())
		gauge(descUploads, int64(e.Uploads()))
		counter(descEvictions, st.Evicted, "budget")
		counter(descEvictions, st.Expired, "expired")
		counter(descFinalized, st.Finalized, "ok")
		counter(descFinalized, st.FinalizeErrs, "error")
		counter(descHashStates, st.HashStatesKept, "kept")
		counter(descHashStates, st.HashStatesLoaded, "loaded")
		counter(descStoreErrors, st.StoreErrors.Temp, "temp")
		counter(descStoreErrors, st.StoreErrors.Content, "content")
		counter(descStoreErrors, st.StoreErrors.Records, "records")
	}
	if s := m.server.Load(); s != nil {
		for _, cs := range s.Connections() {
			obf := strconv.FormatBool(cs.Obfuscated)
			gauge(descConns, cs.Open, cs.Transport, obf)
			counter(descConnsTotal, cs.Total, cs.Transport, obf)
		}
		counter(descKeysCreated, s.AuthKeysCreated())
		gauge(descSessions, int64(s.Sessions()))
		for layer, n := range s.Layers() {
			gauge(descLayers, int64(n), layer)
		}
		for l, n := range s.Refused() {
			limited[l] += n
		}
	}
	for l, n := range limited {
		counter(descLimited, n, l)
	}
	for k, n := range m.trips.Load().Snapshot() {
		counter(descTrips, n, k.Service, k.Op)
	}
}
