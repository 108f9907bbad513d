package main

import (
	"os"
	"testing"
)

// TestGeneratedAssemblyIsCurrent: the assembly in the packages is what
// the generator prints (run go generate after changing it).
func TestGeneratedAssemblyIsCurrent(t *testing.T) {
	for path, want := range map[string]string{
		"../filehash/block_amd64.s": filehashAsm(),
		"../aesige/ige_amd64.s":     igeAsm(),
		"../aesige/fused_amd64.s":   fusedAsm(),
	} {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s is not what internal/asmgen prints: go generate ./internal/filehash ./internal/aesige", path)
		}
	}
}
