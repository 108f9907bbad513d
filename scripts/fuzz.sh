#!/usr/bin/env bash
# Runs every fuzz target of the module, one after the other, each for
# FUZZTIME (a duration like 30s, or a count of executions like 10000000x).
#   make fuzz                      # the campaign: 10,000,000 executions each
#   FUZZTIME=5s bash scripts/fuzz.sh   # the short form CI runs
# FUZZ_ONLY=regexp limits it to matching targets. Failing inputs are kept
# under each package's testdata/fuzz, as go test does.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10000000x}
status=0
while IFS=: read -r file name; do
  pkg=./$(dirname "$file")
  [[ -n "${FUZZ_ONLY:-}" && ! "$name" =~ $FUZZ_ONLY ]] && continue
  start=$(date +%s)
  run() { go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1; }
  # go test's fuzzer can end a short run with "context deadline exceeded"
  # and no failing input (a worker stopped mid-input); that run is repeated.
  if out=$(run) || { [[ "$out" == *"context deadline exceeded"* && "$out" != *"Failing input"* ]] && out=$(run); }; then
    execs=$(printf '%s\n' "$out" | grep -o 'execs: [0-9]*' | tail -n 1 || true)
    echo "fuzz: $name ($pkg) ok in $(( $(date +%s) - start ))s ${execs}"
  else
    echo "fuzz: $name ($pkg) FAILED"; printf '%s\n' "$out" | tail -n 30
    status=1
  fi
done < <(grep -rhoE --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)' -H . | sed -E 's#^\./##; s#:func #:#' | sort -u)
exit $status
