// Package interop holds tests that run real Telegram client libraries
// against a real filedc process.
package interop
