// Package status serves filedc's status page on the --http address: the
// DC, its backends and version, connections and layers, uploads in flight
// with their part maps, temporary space, the last errors and a throughput
// chart. The page is server-rendered HTML with a little JS that polls
// /api/status; everything it needs is embedded, nothing comes from outside.
package status

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/filedc/filedc/internal/metrics"
)

//go:embed page.html static
var assets embed.FS

var page = template.Must(template.ParseFS(assets, "page.html"))

// Bounds of what one answer of /api/status carries.
const (
	maxUploads = 50   // uploads in flight shown, the most recently touched
	maxParts   = 8000 // parts of one upload's map: the premium limit
	samples    = 300  // throughput samples, one a second: five minutes
)

// Config is what the page shows.
type Config struct {
	DC       int
	Backends string // stores.Describe()
	Version  string // default: Version()
	Monitor  *metrics.Monitor
	// Token, when set, is required on every path the page serves: as
	// "Authorization: Bearer TOKEN", "?token=TOKEN" (the page then keeps it
	// in a cookie for its own requests) or that cookie.
	Token string
}

// Page is the status page and the throughput samples behind its chart.
type Page struct {
	cfg     Config
	started time.Time

	mu             sync.Mutex
	saved, served  [samples]int64 // bytes per second, a ring
	n              int            // samples taken
	lastSaved      int64
	lastServed     int64
	lastSampleTime time.Time
}

// New returns the page; Run takes its samples.
func New(cfg Config) *Page {
	if cfg.Version == "" {
		cfg.Version = Version()
	}
	return &Page{cfg: cfg, started: time.Now()}
}

// Version names the build: the module's version and its VCS revision.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " " + rev + modified
	}
	return v
}

// Run samples the bytes saved and served every second until ctx ends.
func (p *Page) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	p.sample()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.sample()
		}
	}
}

func (p *Page) sample() {
	e := p.cfg.Monitor.Engine()
	if e == nil {
		return
	}
	st := e.Stats()
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.lastSampleTime.IsZero() {
		i := p.n % samples
		p.saved[i], p.served[i] = st.BytesSaved-p.lastSaved, st.BytesServed-p.lastServed
		p.n++
	}
	p.lastSaved, p.lastServed, p.lastSampleTime = st.BytesSaved, st.BytesServed, time.Now()
}

// Mount adds the page's paths to mux: GET / (the page), GET /api/status
// (what it polls) and GET /static/ (its script and style).
func (p *Page) Mount(mux *http.ServeMux) {
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /{$}", Protect(p.cfg.Token, http.HandlerFunc(p.serveHTML)))
	mux.Handle("GET /api/status", Protect(p.cfg.Token, http.HandlerFunc(p.serveJSON)))
	mux.Handle("GET /static/", Protect(p.cfg.Token, http.StripPrefix("/static/", http.FileServerFS(static))))
}

// cookie keeps the token for the page's own requests after ?token=.
const cookie = "filedc_token"

// Protect requires token on h, when token is set: a bearer token, a
// ?token= parameter (which also sets a cookie for the page's own
// requests) or that cookie. Comparisons take constant time.
func Protect(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	want := []byte(token)
	ok := func(got string) bool { return got != "" && subtle.ConstantTimeCompare([]byte(got), want) == 1 }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query().Get("token"); ok(q) {
			http.SetCookie(w, &http.Cookie{Name: cookie, Value: q, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			h.ServeHTTP(w, r)
			return
		}
		if auth, found := cutPrefix(r.Header.Get("Authorization"), "Bearer "); found && ok(auth) {
			h.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(cookie); err == nil && ok(c.Value) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="filedc"`)
		http.Error(w, "401 unauthorized: this filedc needs its --http-token (Authorization: Bearer TOKEN or ?token=TOKEN)", http.StatusUnauthorized)
	})
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

func (p *Page) serveHTML(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
	w.Header().Set("Cache-Control", "no-store")
	page.Execute(w, map[string]any{"DC": p.cfg.DC, "Backends": p.cfg.Backends, "Version": p.cfg.Version})
}

// Status is the JSON of /api/status.
type Status struct {
	DC       int       `json:"dc"`
	Version  string    `json:"version"`
	Backends string    `json:"backends"`
	Started  time.Time `json:"started"`
	Now      time.Time `json:"now"`

	Connections []Conn         `json:"connections"`
	Sessions    int            `json:"sessions"`
	Layers      map[string]int `json:"layers"`
	AuthKeys    int64          `json:"auth_keys_created"`

	TempBytes   int64    `json:"temp_bytes"`
	TempBudget  int64    `json:"temp_budget"`
	TempParts   int      `json:"temp_parts"`
	UploadsOpen int      `json:"uploads_open"`
	Uploads     []Upload `json:"uploads"`
	BytesSaved  int64    `json:"bytes_saved"`
	BytesServed int64    `json:"bytes_served"`
	Finalized   int64    `json:"finalized"`

	Errors []Error `json:"errors"`
	// Saved and Served are bytes per second over the last minutes, the
	// oldest first.
	Saved  []int64 `json:"saved_per_second"`
	Served []int64 `json:"served_per_second"`
}

// Conn counts one transport's connections.
type Conn struct {
	Transport  string `json:"transport"`
	Obfuscated bool   `json:"obfuscated"`
	Open       int64  `json:"open"`
	Total      int64  `json:"total"`
}

// Upload is one upload in flight. Map is its part map, one bit per part
// (part i is bit i%8 of byte i/8), base64; MapParts is how many bits it holds.
type Upload struct {
	ID       string    `json:"id"`
	Big      bool      `json:"big"`
	Total    int       `json:"total"`
	Parts    int       `json:"parts"`
	Bytes    int64     `json:"bytes"`
	Touched  time.Time `json:"touched"`
	Map      string    `json:"map"`
	MapParts int       `json:"map_parts"`
}

// Error is one of the last errors.
type Error struct {
	Time    time.Time `json:"time"`
	Method  string    `json:"method"`
	Code    int       `json:"code"`
	Message string    `json:"message"`
}

// Snapshot returns what the page shows now.
func (p *Page) Snapshot() Status {
	st := Status{DC: p.cfg.DC, Version: p.cfg.Version, Backends: p.cfg.Backends, Started: p.started, Now: time.Now(),
		Layers: map[string]int{}, Connections: []Conn{}, Uploads: []Upload{}, Errors: []Error{}}
	m := p.cfg.Monitor
	if s := m.Server(); s != nil {
		for _, c := range s.Connections() {
			st.Connections = append(st.Connections, Conn(c))
		}
		st.Sessions, st.Layers, st.AuthKeys = s.Sessions(), s.Layers(), s.AuthKeysCreated()
	}
	if e := m.Engine(); e != nil {
		es := e.Stats()
		st.TempBytes, st.TempBudget, st.TempParts, st.UploadsOpen = e.TempBytes(), e.TempBudget(), e.TempParts(), e.Uploads()
		st.BytesSaved, st.BytesServed, st.Finalized = es.BytesSaved, es.BytesServed, es.Finalized
		for _, u := range e.InFlight(maxUploads, maxParts) {
			bits := make([]byte, (len(u.Map)+7)/8)
			for i, present := range u.Map {
				if present != 0 {
					bits[i/8] |= 1 << (i % 8)
				}
			}
			st.Uploads = append(st.Uploads, Upload{ID: u.ID, Big: u.Big, Total: u.Total, Parts: u.Parts, Bytes: u.Bytes,
				Touched: u.Touched, Map: base64.StdEncoding.EncodeToString(bits), MapParts: len(u.Map)})
		}
	}
	for _, e := range m.Recent() {
		st.Errors = append(st.Errors, Error(e))
	}
	p.mu.Lock()
	n := min(p.n, samples)
	st.Saved, st.Served = make([]int64, n), make([]int64, n)
	for i := range n {
		j := (p.n - n + i) % samples
		st.Saved[i], st.Served[i] = p.saved[j], p.served[j]
	}
	p.mu.Unlock()
	return st
}

func (p *Page) serveJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(p.Snapshot())
}
