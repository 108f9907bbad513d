// Package gotdtest is what the old-gotd test modules (interop/gotd158,
// interop/gotd178, interop/gotd227) share: starting a real filedc process,
// a gotd client logged in as a bot, and the scenarios every release runs.
//
// It is compiled in each of those modules against the gotd/td release that
// module pins (its go.mod requires the oldest, v0.80.0, and minimal version
// selection picks the module's own), so it uses only what every one of those
// releases offers. What differs by release lives in the module's own tests.
package gotdtest
