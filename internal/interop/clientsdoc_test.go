package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// quoteDirective marks a code block of docs/clients.md as a quote of the
// region "--- begin NAME" ... "--- end NAME" of a file the tests run.
var quoteDirective = regexp.MustCompile("(?m)^<!-- quote ([^ ]+) ([a-z-]+) -->\n```[a-z]*\n((?s:.*?))```\n")

// region returns the lines between a file's markers, without the common
// indentation.
func region(t *testing.T, path, name string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasSuffix(trimmed, "--- begin "+name):
			in = true
			continue
		case strings.HasSuffix(trimmed, "--- end "+name):
			in = false
			continue
		}
		if in {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		t.Fatalf("%s: no region %q", path, name)
	}
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if n := len(l) - len(strings.TrimLeft(l, " \t")); indent < 0 || n < indent {
			indent = n
		}
	}
	for i, l := range lines {
		if len(l) >= indent {
			lines[i] = l[indent:]
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestO1_ClientsDocQuotesTheTestedCode: every snippet of docs/clients.md for
// a client that CI runs (gotd, GramJS, Telethon, mtcute) is, character for
// character, the code the interop tests run, so the two cannot drift.
func TestO1_ClientsDocQuotesTheTestedCode(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "clients.md"))
	if err != nil {
		t.Fatal(err)
	}
	quotes := quoteDirective.FindAllStringSubmatch(string(doc), -1)
	files := map[string]bool{}
	for _, q := range quotes {
		path, name, block := q[1], q[2], q[3]
		files[path] = true
		if want := region(t, filepath.Join(root, path), name); block != want {
			t.Errorf("docs/clients.md quotes %s %q, which now reads:\n%s", path, name, want)
		}
	}
	for _, f := range []string{"internal/interop/connect_test.go", "interop/gramjs/filedc.js", "interop/telethon/filedc.py", "interop/mtcute/filedc.mjs"} {
		if !files[f] {
			t.Errorf("docs/clients.md quotes nothing of %s", f)
		}
	}
}
