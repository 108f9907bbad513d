// Package cpuid tells what x86 extensions this CPU has beyond those
// golang.org/x/sys/cpu reports: the SHA extensions.
package cpuid
