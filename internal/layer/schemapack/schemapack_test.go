package schemapack

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func files(n int) [][]byte {
	var out [][]byte
	base := strings.Repeat("someConstructor#1 a:int b:string = Some;\n", 2000)
	for l := 140; l < 140+n; l++ {
		out = append(out, fmt.Appendf(nil, "%sextra%d#%x = Extra;\n// LAYER %d\n", base, l, l, l))
	}
	return out
}

// Rule S5: a pack gives back every file it was made of, byte for byte,
// finds it by its LAYER line, and codes neighbours against each other.
func TestS5_PackRoundTrip(t *testing.T) {
	in := files(5)
	var buf bytes.Buffer
	if err := Pack(&buf, [][]byte{in[3], in[0], in[4], in[1], in[2]}); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, f := range in {
		total += len(f)
	}
	if buf.Len() > total/20 {
		t.Errorf("%d bytes packed into %d", total, buf.Len())
	}
	r, err := Open(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Index()) != 5 || r.Index()[0].Layer != 140 || r.Index()[4].Layer != 144 {
		t.Fatalf("index %+v", r.Index())
	}
	for i, f := range in {
		got, err := r.File(140 + i)
		if err != nil || !bytes.Equal(got, f) {
			t.Fatalf("layer %d: %v", 140+i, err)
		}
	}
	if _, err := r.File(139); err == nil {
		t.Fatal("a layer not in the pack")
	}
	// Two files of one layer, or one without its line, are refused.
	if err := Pack(&buf, [][]byte{in[0], in[0]}); err == nil {
		t.Error("a layer packed twice")
	}
	if err := Pack(&buf, [][]byte{[]byte("a#1 = A;\n")}); err == nil {
		t.Error("a file without its LAYER line")
	}
}

// Rule S5: a file that does not match the SHA-256 in the index is refused.
func TestS5_PackChecksItsFiles(t *testing.T) {
	var buf bytes.Buffer
	if err := Pack(&buf, files(2)); err != nil {
		t.Fatal(err)
	}
	r, err := Open(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	r.index[1].SHA256[0] ^= 1
	if _, err := r.File(141); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("a file that does not match: %v", err)
	}
}

// FuzzOpen: any bytes open as a pack or fail; a pack that opens gives
// each listed file or an error, never a panic or an allocation beyond the
// index's bound.
func FuzzOpen(f *testing.F) {
	var buf bytes.Buffer
	if err := Pack(&buf, files(2)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("filedc-layers 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Open(data)
		if err != nil {
			return
		}
		for _, e := range r.Index() {
			if e.Size > maxSchemaFile {
				t.Fatalf("size %d over the bound", e.Size)
			}
			r.File(e.Layer)
		}
	})
}
