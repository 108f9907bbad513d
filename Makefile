# The README's commands. `make test` is what CI runs.
GO ?= go

.PHONY: serve test bench fuzz vet

serve:
	$(GO) run ./cmd/filedc serve

test:
	bash scripts/test.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./internal/files/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzUploadSequence -fuzztime 60s ./internal/files/

vet:
	$(GO) vet ./...
