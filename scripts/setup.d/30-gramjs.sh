# GramJS (npm "telegram", pinned in interop/gramjs/package-lock.json) for the
# interop tests that run the real Node client against filedc.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || apt_install nodejs npm
(cd "$ROOT/interop/gramjs" && npm ci --no-audit --no-fund --loglevel=error)
export FILEDC_TEST_GRAMJS="$ROOT/interop/gramjs"
