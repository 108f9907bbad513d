// Package layer answers every client in the API layer it declared: requests
// are translated from the client's layer to the server's (the layer of the
// pinned gotd/td tg package), answers back. Translation is driven by the TL
// schema files in schema/, one per layer, parsed with gotd/tl into tables
// for a generic decoder and encoder: supporting another layer means adding
// its schema file. Constructors identical in both layers, with everything
// they can contain, are not translated at all.
//
// The files are built in packed (schemapack), and a layer's file is unpacked
// and parsed when its first client arrives: memory grows only with the
// layers in use.
package layer

//go:generate go run ./packschemas

import (
	_ "embed"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/layer/schemapack"
)

//go:embed schemas.zst
var packedSchemas []byte

// ServerLayer is the layer the server's handlers speak.
const ServerLayer = tg.Layer

// Registry holds the known layers and, once asked for, their schemas and
// the bridges between them and the server's layer.
type Registry struct {
	layers []int // sorted
	load   func(layer int) ([]byte, error)
	log    *slog.Logger

	mu      sync.Mutex
	entries map[int]*entry
	// logged are the declared layers without a file of their own that
	// were logged (once each, at most maxLogged of them).
	logged map[int]bool
}

// maxLogged bounds the declared layers remembered for logging: the
// numbers come from clients.
const maxLogged = 256

// entry is one known layer, parsed at most once.
type entry struct {
	once   sync.Once
	schema *Schema
	bridge *Bridge
	err    error
}

// NewRegistry parses schema files (one per layer, each with its
// "// LAYER N" line) at once; one of them must be the server's layer.
func NewRegistry(files map[string][]byte) (*Registry, error) {
	byLayer := make(map[int][]byte)
	for name, data := range files {
		l, err := schemapack.LayerOf(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if _, dup := byLayer[l]; dup {
			return nil, fmt.Errorf("%s: layer %d defined twice", name, l)
		}
		byLayer[l] = data
	}
	r, err := newRegistry(keys(byLayer), func(l int) ([]byte, error) { return byLayer[l], nil }, nil)
	if err != nil {
		return nil, err
	}
	for _, l := range r.layers {
		if e := r.entry(l); e.err != nil {
			return nil, e.err
		}
	}
	return r, nil
}

func keys(m map[int][]byte) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func newRegistry(layers []int, load func(int) ([]byte, error), log *slog.Logger) (*Registry, error) {
	slices.Sort(layers)
	if _, ok := slices.BinarySearch(layers, ServerLayer); !ok {
		return nil, fmt.Errorf("layer: no schema for the server's layer %d", ServerLayer)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Registry{layers: layers, load: load, log: log, entries: make(map[int]*entry), logged: make(map[int]bool)}, nil
}

// OpenPack returns the registry of a pack (as Pack writes it); only its
// index is read now.
func OpenPack(data []byte, log *slog.Logger) (*Registry, error) {
	p, err := schemapack.Open(data)
	if err != nil {
		return nil, err
	}
	var layers []int
	for _, e := range p.Index() {
		layers = append(layers, e.Layer)
	}
	return newRegistry(layers, p.File, log)
}

var (
	defaultOnce sync.Once
	defaultReg  *Registry
	defaultErr  error
)

// Default returns the registry of the schema files built into filedc.
func Default() *Registry {
	defaultOnce.Do(func() { defaultReg, defaultErr = OpenPack(packedSchemas, nil) })
	if defaultErr != nil {
		panic(defaultErr) // the built-in pack is checked by the tests
	}
	return defaultReg
}

// Layers returns the known layers, ascending.
func (r *Registry) Layers() []int { return slices.Clone(r.layers) }

// Parsed returns the layers parsed so far, ascending.
func (r *Registry) Parsed() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for l, e := range r.entries {
		if e.schema != nil {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// entry parses a known layer the first time it is asked for, and its
// bridge to the server's layer.
func (r *Registry) entry(l int) *entry {
	r.mu.Lock()
	e := r.entries[l]
	if e == nil {
		e = &entry{}
		r.entries[l] = e
	}
	r.mu.Unlock()
	e.once.Do(func() {
		data, err := r.load(l)
		if err == nil {
			e.schema, err = ParseSchema(data)
		}
		if err == nil && e.schema.Layer != l {
			err = fmt.Errorf("layer: the file of layer %d says layer %d", l, e.schema.Layer)
		}
		if err != nil {
			e.err = fmt.Errorf("layer %d: %w", l, err)
			return
		}
		if l != ServerLayer {
			server := r.entry(ServerLayer)
			if server.err != nil {
				e.err = server.err
				return
			}
			e.bridge = NewBridge(e.schema, server.schema)
		}
	})
	return e
}

// Schema returns a known layer's schema, or nil.
func (r *Registry) Schema(layer int) *Schema {
	if _, ok := slices.BinarySearch(r.layers, layer); !ok {
		return nil
	}
	e := r.entry(layer)
	if e.err != nil {
		r.log.Error("layer schema", "layer", layer, "err", e.err)
	}
	return e.schema
}

// Resolve maps a declared layer to the known layer it is served in: the
// nearest known layer not above it, or the oldest known layer for a client
// older than all of them. 0 (nothing declared yet) is the server's layer.
func (r *Registry) Resolve(declared int) int {
	if declared == 0 {
		return ServerLayer
	}
	i, found := slices.BinarySearch(r.layers, declared)
	switch {
	case found:
		return declared
	case i == 0:
		return r.layers[0]
	}
	return r.layers[i-1]
}

// For returns the bridge for a client that declared layer declared, or nil
// when the client speaks the server's layer and nothing is translated. A
// declared layer without a file of its own is logged once.
func (r *Registry) For(declared int) *Bridge {
	served := r.Resolve(declared)
	if declared != 0 && served != declared {
		r.mu.Lock()
		first := !r.logged[declared] && len(r.logged) < maxLogged
		if first {
			r.logged[declared] = true
		}
		r.mu.Unlock()
		if first {
			r.log.Info("layer: a client declared a layer without a schema; served in the nearest",
				"declared", declared, "served", served)
		}
	}
	if served == ServerLayer {
		return nil
	}
	e := r.entry(served)
	if e.err != nil {
		r.log.Error("layer schema", "layer", served, "err", e.err)
		return nil
	}
	return e.bridge
}
