package server

import (
	"strconv"
	"sync/atomic"

	"github.com/filedc/filedc/internal/mtproto/transport"
)

// The server's counters for monitoring, kept in atomics so that package
// metrics reads them at scrape time and the server imports no metrics
// library.

// The limits that refuse a connection with transport error -429, as
// metrics name them.
const (
	LimitKeyExchanges = "key_exchanges"
	LimitNewKeys      = "new_keys"
	LimitConnsPerIP   = "connections_per_ip"
)

// maxKind bounds transport.Kind values for the connection counters.
const maxKind = int(transport.Full) + 1

type serverStats struct {
	connsOpen, connsTotal                    [maxKind][2]atomic.Int64 // by kind, then obfuscated
	keysCreated                              atomic.Int64
	refusedExchange, refusedKey, refusedConn atomic.Int64
}

func (st *serverStats) conn(t *transport.Conn) (open, total *atomic.Int64) {
	k, o := int(t.Kind()), 0
	if k < 0 || k >= maxKind {
		k = 0
	}
	if t.Obfuscated() {
		o = 1
	}
	return &st.connsOpen[k][o], &st.connsTotal[k][o]
}

// ConnStat counts the connections of one transport.
type ConnStat struct {
	Transport  string // abridged, intermediate, padded-intermediate, full
	Obfuscated bool   // obfuscated2 around it
	Open       int64  // open now
	Total      int64  // accepted since start
}

// Connections returns the connections by transport, those never used left out.
func (s *Server) Connections() []ConnStat {
	var out []ConnStat
	for k := 1; k < maxKind; k++ {
		for o := range 2 {
			total := s.stats.connsTotal[k][o].Load()
			if total == 0 {
				continue
			}
			out = append(out, ConnStat{Transport: transport.Kind(k).String(), Obfuscated: o == 1,
				Open: s.stats.connsOpen[k][o].Load(), Total: total})
		}
	}
	return out
}

// AuthKeysCreated returns how many auth keys key exchanges created.
func (s *Server) AuthKeysCreated() int64 { return s.stats.keysCreated.Load() }

// Refused returns the connections answered -429, by the limit that
// refused them.
func (s *Server) Refused() map[string]int64 {
	return map[string]int64{
		LimitKeyExchanges: s.stats.refusedExchange.Load(),
		LimitNewKeys:      s.stats.refusedKey.Load(),
		LimitConnsPerIP:   s.stats.refusedConn.Load(),
	}
}

// Layers returns the sessions by the API layer their auth key declared
// ("none" for keys that declared none).
func (s *Server) Layers() map[string]int {
	s.sessMu.Lock()
	keys := make([]*Key, 0, len(s.sessions))
	counts := make([]int, 0, len(s.sessions))
	for _, ks := range s.sessions {
		for _, sess := range ks.byID {
			keys = append(keys, sess.key)
			counts = append(counts, len(ks.byID))
			break
		}
	}
	s.sessMu.Unlock()
	out := make(map[string]int)
	for i, k := range keys {
		name := "none"
		if l := k.Record().Layer; l > 0 {
			name = strconv.Itoa(l)
		}
		out[name] += counts[i]
	}
	return out
}
