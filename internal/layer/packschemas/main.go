// Command packschemas packs internal/layer/schema/*.tl into
// internal/layer/schemas.zst, the form filedc embeds (go generate in
// internal/layer).
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/filedc/filedc/internal/layer/schemapack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "packschemas:", err)
		os.Exit(1)
	}
}

func run() error {
	names, err := filepath.Glob("schema/*.tl")
	if err != nil {
		return err
	}
	var files [][]byte
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		files = append(files, data)
	}
	var out bytes.Buffer
	if err := schemapack.Pack(&out, files); err != nil {
		return err
	}
	fmt.Printf("packschemas: %d files into schemas.zst, %d bytes\n", len(files), out.Len())
	return os.WriteFile("schemas.zst", out.Bytes(), 0o644)
}
