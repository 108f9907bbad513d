//go:build !amd64 || purego

package cpuid

// SHA is false off amd64 (and with purego).
var SHA = false
