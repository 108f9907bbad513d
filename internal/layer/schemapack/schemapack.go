// Package schemapack is the form filedc's schema files are built in: one
// zstd stream, internal/layer/schemas.zst (go generate, from schema/*.tl).
// Neighbouring layers differ in a few lines, so 90 files of 250 KiB each
// pack into about 150 KiB. The stream
// starts with an index,
//
//	filedc-layers 1
//	<layer> <size> <sha256>     one line per file, layers ascending
//	(an empty line)
//
// followed by the files in the index's order. Reading the index costs only
// the stream's first block; a layer's file is unpacked, checked against its
// SHA-256 and parsed when the first client of that layer arrives.
package schemapack

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"

	"github.com/klauspost/compress/zstd"
)

const packMagic = "filedc-layers 1"

// packWindow is the zstd window: a little more than the largest file, so
// that each file is coded against the one before it.
const packWindow = 1 << 20

// maxSchemaFile bounds one file in a pack (the largest is under 300 KiB).
const maxSchemaFile = 4 << 20

// Entry is one file of a pack.
type Entry struct {
	Layer  int
	Size   int
	SHA256 [32]byte
}

var layerLine = regexp.MustCompile(`(?m)^// LAYER (\d+)\s*$`)

// LayerOf reads a schema file's "// LAYER N" line without parsing it.
func LayerOf(data []byte) (int, error) {
	m := layerLine.FindAllSubmatch(data, -1)
	if len(m) != 1 {
		return 0, fmt.Errorf("schemapack: want one \"// LAYER N\" line, have %d", len(m))
	}
	return strconv.Atoi(string(m[0][1]))
}

// Pack writes schema files (their layers read from their LAYER lines) as a
// pack.
func Pack(w io.Writer, files [][]byte) error {
	type file struct {
		layer int
		data  []byte
	}
	var fs []file
	seen := map[int]bool{}
	for _, data := range files {
		l, err := LayerOf(data)
		if err != nil {
			return err
		}
		if seen[l] {
			return fmt.Errorf("schemapack: layer %d packed twice", l)
		}
		if len(data) > maxSchemaFile {
			return fmt.Errorf("schemapack: layer %d's file is over %d bytes", l, maxSchemaFile)
		}
		seen[l] = true
		fs = append(fs, file{l, data})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].layer < fs[j].layer })
	enc, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedBestCompression),
		zstd.WithWindowSize(packWindow), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	var index bytes.Buffer
	index.WriteString(packMagic + "\n")
	for _, f := range fs {
		sum := sha256.Sum256(f.data)
		fmt.Fprintf(&index, "%d %d %x\n", f.layer, len(f.data), sum)
	}
	index.WriteString("\n")
	if _, err := enc.Write(index.Bytes()); err != nil {
		return err
	}
	for _, f := range fs {
		if _, err := enc.Write(f.data); err != nil {
			return err
		}
	}
	return enc.Close()
}

// Reader reads a pack.
type Reader struct {
	data  []byte
	index []Entry
}

// Index lists the pack's files, layers ascending.
func (p *Reader) Index() []Entry { return p.index }

func newDecoder(r io.Reader) (*zstd.Decoder, error) {
	return zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(packWindow))
}

// Open reads a pack's index.
func Open(data []byte) (*Reader, error) {
	dec, err := newDecoder(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	index, _, err := readIndex(bufio.NewReader(dec))
	if err != nil {
		return nil, err
	}
	return &Reader{data: data, index: index}, nil
}

func readIndex(r *bufio.Reader) ([]Entry, int, error) {
	line := func() (string, error) {
		s, err := r.ReadString('\n')
		if len(s) > 200 {
			return "", errors.New("schemapack: pack index line too long")
		}
		return s, err
	}
	first, err := line()
	if err != nil || first != packMagic+"\n" {
		return nil, 0, fmt.Errorf("schemapack: not a schema pack: %v", err)
	}
	n := len(first)
	var out []Entry
	for {
		s, err := line()
		if err != nil {
			return nil, 0, fmt.Errorf("schemapack: pack index: %w", err)
		}
		n += len(s)
		if s == "\n" {
			return out, n, nil
		}
		var e Entry
		var sum string
		if _, err := fmt.Sscanf(s, "%d %d %64s\n", &e.Layer, &e.Size, &sum); err != nil {
			return nil, 0, fmt.Errorf("schemapack: pack index line %q: %w", s, err)
		}
		b, err := hex.DecodeString(sum)
		if err != nil || len(b) != 32 || e.Size < 0 || e.Size > maxSchemaFile ||
			(len(out) > 0 && e.Layer <= out[len(out)-1].Layer) {
			return nil, 0, fmt.Errorf("schemapack: pack index line %q", s)
		}
		copy(e.SHA256[:], b)
		out = append(out, e)
	}
}

// File unpacks one layer's file and checks it against the index.
func (p *Reader) File(layer int) ([]byte, error) {
	dec, err := newDecoder(bytes.NewReader(p.data))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	r := bufio.NewReader(dec)
	if _, _, err := readIndex(r); err != nil {
		return nil, err
	}
	for _, e := range p.index {
		if e.Layer != layer {
			if _, err := r.Discard(e.Size); err != nil {
				return nil, fmt.Errorf("schemapack: pack cut short before layer %d: %w", layer, err)
			}
			continue
		}
		data := make([]byte, e.Size)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("schemapack: pack cut short in layer %d: %w", layer, err)
		}
		if sha256.Sum256(data) != e.SHA256 {
			return nil, fmt.Errorf("schemapack: layer %d's file does not match its SHA-256", layer)
		}
		return data, nil
	}
	return nil, fmt.Errorf("schemapack: no layer %d in the pack", layer)
}
