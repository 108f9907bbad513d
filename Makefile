# The README's commands. `make test` is what CI runs.
GO ?= go

.PHONY: serve test bench fuzz vet crashloop

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

# The crash loop of rule S7f, 200 kill -9 iterations on the embedded stores and
# 200 on PostgreSQL + Redis + S3 (FILEDC_TEST_* set as scripts/test.sh does;
# without them the distributed half skips). FILEDC_CRASHLOOP_SEED replays a run.
crashloop:
	FILEDC_CRASHLOOP=200 $(GO) test -run TestS7f -v -timeout 3h ./internal/interop/
