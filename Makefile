# The README's commands. `make test` is what CI runs.
GO ?= go

.PHONY: serve test bench fuzz vet

serve:
	$(GO) run ./cmd/filedc serve

test:
	bash scripts/test.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./internal/files/

# Every fuzz target for 10 million executions (FUZZTIME=30s for a shorter run).
fuzz:
	bash scripts/fuzz.sh

vet:
	$(GO) vet ./...
