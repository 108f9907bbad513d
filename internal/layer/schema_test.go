package layer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/layer/schemapack"
)

// schemaFilesOnDisk reads schema/*.tl, the files schemas.zst is packed
// from, by layer.
func schemaFilesOnDisk(t testing.TB) map[int][]byte {
	t.Helper()
	names, err := filepath.Glob("schema/*.tl")
	if err != nil || len(names) == 0 {
		t.Fatalf("schema files: %v", err)
	}
	out := make(map[int][]byte)
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		l, err := schemapack.LayerOf(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if filepath.Base(name) != strconv.Itoa(l)+".tl" {
			t.Errorf("%s holds layer %d", name, l)
		}
		out[l] = data
	}
	return out
}

// TestS5_SchemasDiscoveredFromFiles: the layers are the schema files, the
// built-in pack holds exactly their bytes (run go generate after changing
// one), and the server's layer is gotd's tg package exactly.
func TestS5_SchemasDiscoveredFromFiles(t *testing.T) {
	files := schemaFilesOnDisk(t)
	r := Default()
	want := slices.Sorted(maps.Keys(files))
	if got := r.Layers(); !slices.Equal(got, want) {
		t.Fatalf("packed layers %v, files %v: run go generate ./internal/layer", got, want)
	}
	p, err := schemapack.Open(packedSchemas)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range want {
		data, err := p.File(l)
		if err != nil || !bytes.Equal(data, files[l]) {
			t.Fatalf("layer %d: the packed file differs from schema/%d.tl (%v): run go generate ./internal/layer", l, l, err)
		}
	}
	server := r.Schema(ServerLayer)
	builtin := 0
	for id, text := range tg.TypesMap() {
		name, _, _ := strings.Cut(text, "#")
		if name == "int" || name == "long" || name == "double" || name == "string" {
			builtin++ // "int ? = Int": not a constructor
			continue
		}
		c := server.ByID(id)
		if c == nil || c.Name != name {
			t.Errorf("%s: schema has %v", text, c)
		}
	}
	if n, want := len(server.All()), len(tg.TypesMap())-builtin; n != want {
		t.Errorf("schema %d has %d definitions, tg %d", ServerLayer, n, want)
	}
}

// TestS5_SchemaSourcesRecorded: schema/README.md names every file's source
// and its SHA-256.
func TestS5_SchemaSourcesRecorded(t *testing.T) {
	readme, err := os.ReadFile("schema/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for l, data := range schemaFilesOnDisk(t) {
		sum := sha256.Sum256(data)
		row := regexp.MustCompile("(?m)^\\| `" + strconv.Itoa(l) + "\\.tl` \\| " + strconv.Itoa(l) + " \\| [^|]+\\| `" + hex.EncodeToString(sum[:]) + "` \\|$")
		if !row.Match(readme) {
			t.Errorf("schema/README.md has no row for %d.tl with its source and SHA-256 %x", l, sum)
		}
	}
}

// TestS5_GramJSSchemaIsTheShippedOne: schema/198.tl is the schema GramJS
// 2.26.22 encodes with (tl/apiTl.js) plus the line naming its layer.
func TestS5_GramJSSchemaIsTheShippedOne(t *testing.T) {
	data, err := os.ReadFile("schema/198.tl")
	if err != nil {
		t.Fatal(err)
	}
	shipped, ok := bytes.CutSuffix(data, []byte("// LAYER 198\n"))
	if !ok {
		t.Fatal("no LAYER line at the end")
	}
	sum := sha256.Sum256(shipped)
	if got := hex.EncodeToString(sum[:]); got != "21d90024d9db9e6f0ff3cf5be998fb47318e051b76014766cbef5cc1ecc54090" {
		t.Fatalf("sha256 %s", got)
	}
}

// TestS5_LayersParsedOnlyWhenAsked: opening the pack parses nothing; the
// first client of a layer parses that layer and the server's, no other.
func TestS5_LayersParsedOnlyWhenAsked(t *testing.T) {
	r, err := OpenPack(packedSchemas, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := r.Parsed(); len(p) != 0 {
		t.Fatalf("parsed at open: %v", p)
	}
	if r.For(ServerLayer) != nil || len(r.Parsed()) != 0 {
		t.Fatal("a client of the server's layer parsed something")
	}
	if br := r.For(144); br == nil || br.Client.Layer != 144 {
		t.Fatal("no bridge for 144")
	}
	if p := r.Parsed(); !slices.Equal(p, []int{144, ServerLayer}) {
		t.Fatalf("parsed %v, want 144 and %d", p, ServerLayer)
	}
}

// TestS5_EverySchemaFileParses: each built-in layer parses, and its bridge
// to the server's layer is built.
func TestS5_EverySchemaFileParses(t *testing.T) {
	r := Default()
	for _, l := range r.Layers() {
		if s := r.Schema(l); s == nil || s.Layer != l {
			t.Fatalf("layer %d does not parse", l)
		}
		if br := r.For(l); (br == nil) != (l == ServerLayer) {
			t.Fatalf("layer %d: bridge %v", l, br)
		}
	}
}

// TestS5_ParseSchemaRejectsBadFiles: a schema without its layer, with an
// undefined type or a flag of no flags field is refused.
func TestS5_ParseSchemaRejectsBadFiles(t *testing.T) {
	for _, text := range []string{
		"a#1 = A;\n",
		"a#1 b:B = A;\n// LAYER 5\n",
		"a#1 b:flags.0?int = A;\n// LAYER 5\n",
		"a#1 = A;\nb#1 = B;\n// LAYER 5\n",
	} {
		if _, err := ParseSchema([]byte(text)); err == nil {
			t.Errorf("%q parsed", text)
		}
	}
}

// TestS5_LayerWithoutFileLoggedOnce: a client declaring a layer without a
// file is served in the nearest one, and that is logged once per declared
// layer, at most maxLogged of them (the numbers come from clients).
func TestS5_LayerWithoutFileLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	r, err := OpenPack(packedSchemas, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if br := r.For(141); br == nil || br.Client.Layer != 140 {
			t.Fatal("141 not served as 140")
		}
		r.For(500)
		r.For(144)
	}
	if n := strings.Count(logs.String(), "declared=141 served=140"); n != 1 {
		t.Errorf("141 logged %d times:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "declared=500 served=229"); n != 1 {
		t.Errorf("500 logged %d times", n)
	}
	if strings.Contains(logs.String(), "declared=144") {
		t.Error("a layer with its own file was logged")
	}
	for l := 1000; l < 1000+2*maxLogged; l++ {
		r.For(l)
	}
	if n := strings.Count(logs.String(), "declared="); n != maxLogged {
		t.Errorf("%d declared layers logged, want the bound %d", n, maxLogged)
	}
}

// TestS5_TelethonSchemaIsTheShippedOne: schema/144.tl is Telethon's own
// telethon_generator/data/api.tl at tag v1.25.1, unchanged (it ends with its
// "// LAYER 144" line).
func TestS5_TelethonSchemaIsTheShippedOne(t *testing.T) {
	data, err := os.ReadFile("schema/144.tl")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != "4d4c5adf6d67cfb12d5b309020a3d05fef86758a03baf45bcf306fffe311cc4f" {
		t.Fatalf("sha256 %s", got)
	}
	if !bytes.HasSuffix(data, []byte("// LAYER 144\n")) {
		t.Fatal("no LAYER line at the end")
	}
}
