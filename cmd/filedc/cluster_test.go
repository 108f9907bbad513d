package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestO2_ServeRefusesABadClusterSetup: the mistakes an operator can make
// with several DCs fail at start with a message that says what to do.
func TestO2_ServeRefusesABadClusterSetup(t *testing.T) {
	base := serveOptions{listen: "127.0.0.1:0", http: "127.0.0.1:0", dc: 2}
	for _, tc := range []struct {
		name string
		edit func(o *serveOptions)
		want string
	}{
		{"other DCs without a cluster directory", func(o *serveOptions) { o.dcOptions = []string{"1=127.0.0.1:4430"} }, "--cluster"},
		{"cluster directory not made", func(o *serveOptions) { o.cluster = filepath.Join(t.TempDir(), "none") }, "filedc cluster init"},
		{"malformed option", func(o *serveOptions) { o.dcOptions = []string{"1=localhost:4430"} }, "IP address"},
		{"DC id out of range", func(o *serveOptions) { o.dc = 256 }, "1..255"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			o.data = t.TempDir()
			o.stores.Dir = o.data
			tc.edit(&o)
			err := serve(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("serve: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}
