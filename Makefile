# The README's commands. `make test` is what CI runs.
GO ?= go

.PHONY: serve test bench fuzz vet crashloop

serve:
	$(GO) run ./cmd/filedc serve

test:
	bash scripts/test.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./internal/files/

# Every fuzz target for 10 million executions (FUZZTIME=30s for a shorter run,
# FUZZ_CAP=300 to give a slow target at most about 300 s).
fuzz:
	bash scripts/fuzz.sh

vet:
	$(GO) vet ./...

# The crash loop of rule S7f: 200 kill -9 iterations on the embedded stores and
# 200 on PostgreSQL + Redis + S3, which scripts/test.sh sets up as for the
# suite. CRASHLOOP=N for another count; FILEDC_CRASHLOOP_SEED replays a run.
CRASHLOOP ?= 200
crashloop:
	CI=true FILEDC_CRASHLOOP=$(CRASHLOOP) bash scripts/test.sh $(GO) test -run TestS7f -v -timeout 4h ./internal/interop/
