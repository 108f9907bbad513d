// Package gotd158 runs gotd/td v0.80.0, a client of API layer 158, against a
// real filedc process. It is a module of its own so that the older gotd/td
// stays out of the main module; scripts/after.d/50-gotd.sh builds filedc,
// exports FILEDC_TEST_BIN and runs these tests.
package gotd158
