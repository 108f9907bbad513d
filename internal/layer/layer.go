// Package layer answers every client in the API layer it declared: requests
// are translated from the client's layer to the server's (the layer of the
// pinned gotd/td tg package), answers back. Translation is driven by the TL
// schema files in schema/, one per layer, parsed with gotd/tl into tables
// for a generic decoder and encoder: supporting another layer means adding
// its schema file. Constructors identical in both layers, with everything
// they can contain, are not translated at all.
package layer

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"sync"

	"github.com/gotd/td/tg"
)

//go:embed schema/*.tl
var schemaFiles embed.FS

// ServerLayer is the layer the server's handlers speak.
const ServerLayer = tg.Layer

// Registry holds the known layers and the bridges between them and the
// server's layer.
type Registry struct {
	schemas map[int]*Schema
	layers  []int // sorted
	bridges map[int]*Bridge
}

// NewRegistry parses schema files (one per layer, each with its
// "// LAYER N" line); one of them must be the server's layer.
func NewRegistry(files map[string][]byte) (*Registry, error) {
	r := &Registry{schemas: make(map[int]*Schema), bridges: make(map[int]*Bridge)}
	for name, data := range files {
		s, err := ParseSchema(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if _, dup := r.schemas[s.Layer]; dup {
			return nil, fmt.Errorf("%s: layer %d defined twice", name, s.Layer)
		}
		r.schemas[s.Layer] = s
		r.layers = append(r.layers, s.Layer)
	}
	sort.Ints(r.layers)
	server := r.schemas[ServerLayer]
	if server == nil {
		return nil, fmt.Errorf("layer: no schema for the server's layer %d", ServerLayer)
	}
	for l, s := range r.schemas {
		if l != ServerLayer {
			r.bridges[l] = NewBridge(s, server)
		}
	}
	return r, nil
}

var (
	defaultOnce sync.Once
	defaultReg  *Registry
	defaultErr  error
)

// Default returns the registry of the schema files built into filedc.
func Default() *Registry {
	defaultOnce.Do(func() {
		files := make(map[string][]byte)
		defaultErr = fs.WalkDir(schemaFiles, "schema", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			files[path], err = schemaFiles.ReadFile(path)
			return err
		})
		if defaultErr == nil {
			defaultReg, defaultErr = NewRegistry(files)
		}
	})
	if defaultErr != nil {
		panic(defaultErr) // the built-in schemas are checked by the tests
	}
	return defaultReg
}

// Layers returns the known layers, ascending.
func (r *Registry) Layers() []int { return slices.Clone(r.layers) }

// Schema returns a known layer's schema, or nil.
func (r *Registry) Schema(layer int) *Schema { return r.schemas[layer] }

// Resolve maps a declared layer to the known layer it is served in: the
// nearest known layer not above it, or the oldest known layer for a client
// older than all of them. 0 (nothing declared yet) is the server's layer.
func (r *Registry) Resolve(declared int) int {
	if declared == 0 {
		return ServerLayer
	}
	best := r.layers[0]
	for _, l := range r.layers {
		if l <= declared {
			best = l
		}
	}
	return best
}

// For returns the bridge for a client that declared layer declared, or nil
// when the client speaks the server's layer and nothing is translated.
func (r *Registry) For(declared int) *Bridge {
	return r.bridges[r.Resolve(declared)]
}
