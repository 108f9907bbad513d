#!/usr/bin/env bash
# Runs every fuzz target of the module, one after the other, each for
# FUZZTIME (a duration like 30s, or a count of executions like 10000000x).
#   make fuzz                          # the campaign: 10,000,000 executions each
#   FUZZ_CAP=300 make fuzz             # ... but at most about 300 s a target
#   FUZZTIME=5s bash scripts/fuzz.sh   # the short form CI runs
# With FUZZ_CAP (seconds) and a count, each target first runs 10 s to measure
# its rate; a target too slow to reach the count within the cap runs for the
# cap instead, and its line says so. FUZZ_ONLY=regexp limits it to matching
# targets. Failing inputs are kept under each package's testdata/fuzz, as go
# test does.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10000000x}
status=0
execs_of() { printf '%s\n' "$1" | grep -o 'execs: [0-9]*' | tail -n 1 | grep -o '[0-9]*' || echo 0; }
while IFS=: read -r file name; do
  pkg=./$(dirname "$file")
  [[ -n "${FUZZ_ONLY:-}" && ! "$name" =~ $FUZZ_ONLY ]] && continue
  start=$(date +%s)
  # go test's fuzzer can end a short run with "context deadline exceeded"
  # and no failing input (a worker stopped mid-input); that run is repeated.
  run() {
    out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$1" "$pkg" 2>&1) && return 0
    [[ "$out" == *"context deadline exceeded"* && "$out" != *"Failing input"* ]] || return 1
    out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$1" "$pkg" 2>&1)
  }
  budget=$FUZZTIME note= probed=0
  if [[ -n "${FUZZ_CAP:-}" && "$FUZZTIME" == *x ]]; then
    want=${FUZZTIME%x}
    if run 10s; then
      probed=$(execs_of "$out")
      rate=$(( probed / 10 ))
      if (( probed >= want )); then
        budget=
      elif (( rate * FUZZ_CAP < want - probed )); then
        budget=${FUZZ_CAP}s note=" (capped at ${FUZZ_CAP}s: about $rate executions a second)"
      else
        budget=$(( want - probed ))x
      fi
    else
      budget=failed
    fi
  fi
  if [[ -z "$budget" ]]; then
    echo "fuzz: $name ($pkg) ok in $(( $(date +%s) - start ))s execs: $probed"
  elif [[ "$budget" != failed ]] && run "$budget"; then
    echo "fuzz: $name ($pkg) ok in $(( $(date +%s) - start ))s execs: $(( probed + $(execs_of "$out") ))$note"
  else
    echo "fuzz: $name ($pkg) FAILED"; printf '%s\n' "$out" | tail -n 30
    status=1
  fi
done < <(grep -rhoE --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)' -H . | sed -E 's#^\./##; s#:func #:#' | sort -u)
exit $status
