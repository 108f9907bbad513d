package layer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/gotd/td/tg"
)

// TestS5_SchemasDiscoveredFromFiles: the layers are the schema files, and
// the server's layer is gotd's tg package exactly.
func TestS5_SchemasDiscoveredFromFiles(t *testing.T) {
	r := Default()
	if got := r.Layers(); !slices.Equal(got, []int{144, 198, 227, 229}) {
		t.Fatalf("layers %v", got)
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

// TestS5_GramJSSchemaIsTheShippedOne: schema/198.tl is the schema GramJS
// 2.26.22 encodes with (tl/apiTl.js) plus the line naming its layer.
func TestS5_GramJSSchemaIsTheShippedOne(t *testing.T) {
	data, err := schemaFiles.ReadFile("schema/198.tl")
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

// TestS5_TelethonSchemaIsTheShippedOne: schema/144.tl is Telethon's own
// telethon_generator/data/api.tl at tag v1.25.1, unchanged (it ends with its
// "// LAYER 144" line).
func TestS5_TelethonSchemaIsTheShippedOne(t *testing.T) {
	data, err := schemaFiles.ReadFile("schema/144.tl")
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
