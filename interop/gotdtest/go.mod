module github.com/filedc/filedc/interop/gotdtest

go 1.26.8

// The oldest gotd/td a client module pins: each module that uses this one
// requires its own, newer or equal, and minimal version selection builds
// this code against that one.
require github.com/gotd/td v0.80.0

require (
	github.com/cenkalti/backoff/v4 v4.2.1 // indirect
	github.com/go-faster/errors v0.6.1 // indirect
	github.com/go-faster/jx v1.0.0 // indirect
	github.com/go-faster/xor v1.0.0 // indirect
	github.com/gotd/ige v0.2.2 // indirect
	github.com/gotd/neo v0.1.5 // indirect
	github.com/klauspost/compress v1.16.5 // indirect
	github.com/segmentio/asm v1.2.0 // indirect
	go.opentelemetry.io/otel v1.14.0 // indirect
	go.opentelemetry.io/otel/trace v1.14.0 // indirect
	go.uber.org/atomic v1.10.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap v1.24.0 // indirect
	golang.org/x/crypto v0.8.0 // indirect
	golang.org/x/net v0.9.0 // indirect
	golang.org/x/sync v0.1.0 // indirect
	golang.org/x/sys v0.7.0 // indirect
	nhooyr.io/websocket v1.8.7 // indirect
	rsc.io/qr v0.2.0 // indirect
)
