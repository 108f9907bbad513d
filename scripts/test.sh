#!/usr/bin/env bash
# The whole test suite: formatting, vet, the services the tests need, and every
# test with the race detector.
#
# Each scripts/setup.d/*.sh is sourced in order before the tests. A setup script
# installs what it needs (apt_install, npm), starts its service on loopback,
# exports the variables the tests read (FILEDC_TEST_*), and registers its stop
# command with on_exit. Tests that need a service skip only outside CI; with
# CI set they fail when the variable is missing.
#
# With arguments, the services are set up and the arguments run instead of
# the suite: `bash scripts/test.sh go test -run TestS7f ./internal/interop/`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export FILEDC_TEST_TMP=${FILEDC_TEST_TMP:-$(mktemp -d /tmp/filedc-test.XXXXXX)}
# What tests keep for a person to look at (the status page's screenshot).
export FILEDC_TEST_ARTIFACTS=${FILEDC_TEST_ARTIFACTS:-$ROOT/test-artifacts}
mkdir -p "$FILEDC_TEST_ARTIFACTS"

exit_cmds=()
on_exit() { exit_cmds+=("$1"); }
run_exit_cmds() {
  local i
  for ((i = ${#exit_cmds[@]} - 1; i >= 0; i--)); do eval "${exit_cmds[i]}" || true; done
}
trap run_exit_cmds EXIT

apt_updated=
# apt_install PKG...: installs the Debian packages that are missing.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -o DPkg::Lock::Timeout=600 -qq >/dev/null
    apt_updated=1
  fi
  echo "setup: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
}

if [ $# -gt 0 ]; then
  for s in scripts/setup.d/*.sh; do
    [ -e "$s" ] || continue
    echo "setup: $s"
    # shellcheck disable=SC1090
    source "$s"
  done
  "$@"
  exit
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

for s in scripts/setup.d/*.sh; do
  [ -e "$s" ] || continue
  echo "setup: $s"
  # shellcheck disable=SC1090
  source "$s"
done

go test -race -count=1 -timeout 30m ./...

# Every fuzz target briefly (make fuzz runs the campaign).
FUZZTIME=${CI_FUZZTIME:-5s} bash scripts/fuzz.sh

# Test modules of their own (older client libraries) run after the main module.
for s in scripts/after.d/*.sh; do
  [ -e "$s" ] || continue
  echo "after: $s"
  # shellcheck disable=SC1090
  source "$s"
done
